import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { usageError } from '../errors.js';
import { buildConfig, DEFAULT_CONFIG } from './build-config.js';
import { buildJourney } from './build-journey.js';
import { buildRule } from './build-rule.js';
import { loadTemplateFiles } from '../content/templates.js';
import { capPerKind } from './cap-diagnostics.js';
import { checkConfig } from './checks/config-checks.js';
import { checkEnvRefs } from './checks/env-refs.js';
import { checkTemplates } from './checks/template-checks.js';
import { checkEntryTiming } from './checks/entry-checks.js';
import { checkJourneys } from './checks/journey-checks.js';
import { checkTestMode } from './checks/test-mode.js';
import { checkSegments } from './checks/segment-checks.js';
import { checkTriggerKeys } from './checks/trigger-keys.js';
import { checkFolders } from './checks/folders.js';
import type { CheckContext, ConfigSection, Finding } from './checks/types.js';
import { compareDiagnostics, error, type Diagnostic, type PendingDiagnostic, type YamlPath } from './diagnostic.js';
import type { Config, Journey, Project, Segment } from './model.js';
import { CONFIG_FILE } from './paths.js';
import { pruneInvalid, startsWith, valueAt, type Pruned } from './prune.js';
import { SchemaSet, type FileKind } from './schema-validator.js';
import { readYamlSource, resolve, type YamlSource } from './yaml-source.js';
import { byName } from './by-name.js';
import { withoutSecrets } from '../secrets.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- schema-checked YAML data

let schemaSet: SchemaSet | undefined;
const schemas = (): SchemaSet => (schemaSet ??= new SchemaSet());

export interface ValidationResult {
  /** Every problem in the files checked, in file and line order. */
  diagnostics: Diagnostic[];
  /** The files checked, as displayed. */
  files: string[];
  /** Things worth saying that are not problems of a file (what could not be checked). */
  notes: string[];
}

export interface LoadedProject {
  project: Project;
  diagnostics: Diagnostic[];
}

const isYaml = (f: string) => /\.ya?ml$/i.test(f);
const isConfigName = (f: string) => path.basename(f) === CONFIG_FILE || /\.config\.ya?ml$/i.test(f);

/** Walks up from a folder to the nearest one holding journey.config.yaml. */
export function findProjectRoot(start: string): string | null {
  let dir = path.resolve(start);
  for (;;) {
    if (existsSync(path.join(dir, CONFIG_FILE))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

function yamlFilesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...yamlFilesUnder(full));
    else if (isYaml(entry.name)) out.push(full);
  }
  return out.sort();
}

/** The folders a project keeps journeys and segments in, read leniently from its config. */
function projectDirs(root: string): { journeys: string; segments: string } {
  let raw: Obj = {};
  try {
    const source = readYamlSource(path.join(root, CONFIG_FILE));
    if (source.data && typeof source.data === 'object') raw = source.data as Obj;
  } catch {
    // an unreadable config is reported when it is validated
  }
  return {
    journeys: path.resolve(root, typeof raw.journeys === 'string' ? raw.journeys : 'journeys'),
    segments: path.resolve(root, typeof raw.segments_dir === 'string' ? raw.segments_dir : 'segments'),
  };
}

export function projectFiles(root: string): string[] {
  const dirs = projectDirs(root);
  const config = path.join(root, CONFIG_FILE);
  return [...(existsSync(config) ? [config] : []), ...yamlFilesUnder(dirs.segments), ...yamlFilesUnder(dirs.journeys)];
}

/** One set of files checked together: a project (or a lone config, or loose files). */
interface Context {
  root: string | null;
  /** Where the project keeps journeys and segments (null outside a project). */
  dirs: { journeys: string; segments: string } | null;
  configFile: string | null;
  files: string[];
  targets: Set<string>;
}

export interface ValidateOptions {
  /**
   * The text of every version a project's store recorded, per journey id (null: no
   * store), for checks against what was deployed.
   */
  recordedVersions?: (projectRoot: string) => Map<string, string[]> | null;
  /**
   * The project the command runs in (-C, else the working folder): a file with no
   * config above it is checked in that project when it is one of its files (a
   * journeys folder kept outside the project: journeys: ../../journeys).
   */
  project?: string;
}

/** A diagnostic whose words repeat nothing that may be a secret (a pasted key as a key or a value). */
function secretFree(d: Diagnostic): Diagnostic {
  const message = withoutSecrets(d.message);
  const hint = d.hint === undefined ? undefined : withoutSecrets(d.hint);
  return message === d.message && hint === d.hint ? d : { ...d, message, ...(hint !== undefined ? { hint } : {}) };
}

export function validatePaths(paths: string[], cwd: string, options: ValidateOptions = {}): ValidationResult {
  // A project's journeys may live outside its folder (journeys: ../library), so files
  // found by expanding a project folder keep that project as their context.
  const rootOf = new Map<string, string | null>();
  let ownFiles: Set<string> | undefined;
  const inProject = (file: string): boolean => {
    if (!options.project || !existsSync(path.join(options.project, CONFIG_FILE))) return false;
    ownFiles ??= new Set(projectFiles(path.resolve(options.project)));
    return ownFiles.has(file);
  };
  for (const p of paths) {
    const abs = path.resolve(cwd, p);
    if (!existsSync(abs)) throw usageError(`no such file or folder: ${p}`);
    if (statSync(abs).isDirectory()) {
      const isProject = existsSync(path.join(abs, CONFIG_FILE));
      for (const f of isProject ? projectFiles(abs) : yamlFilesUnder(abs)) {
        if (!rootOf.has(f)) rootOf.set(f, isProject ? abs : findProjectRoot(path.dirname(f)));
      }
    } else if (!rootOf.has(abs)) {
      rootOf.set(abs, findProjectRoot(path.dirname(abs)) ?? (inProject(abs) ? path.resolve(options.project!) : null));
    }
  }
  const contexts = new Map<string, Context>();
  for (const [file, root] of rootOf) {
    const ownConfig = isConfigName(file) && (root === null || path.join(root, CONFIG_FILE) !== file);
    const key = ownConfig ? `config:${file}` : root ? `root:${root}` : 'loose';
    let ctx = contexts.get(key);
    if (!ctx) {
      ctx = ownConfig
        ? { root: path.dirname(file), dirs: null, configFile: file, files: [file], targets: new Set() }
        : root
          ? { root, dirs: projectDirs(root), configFile: path.join(root, CONFIG_FILE), files: projectFiles(root), targets: new Set() }
          : { root: null, dirs: null, configFile: null, files: [], targets: new Set() };
      contexts.set(key, ctx);
    }
    ctx.targets.add(file);
    if (!ctx.files.includes(file)) ctx.files.push(file);
  }
  const targets = [...rootOf.keys()];
  const diagnostics: Diagnostic[] = [];
  const notes: string[] = [];
  const loose = contexts.get('loose');
  if (loose) {
    notes.push(`no ${CONFIG_FILE} above ${loose.targets.size === 1 ? display([...loose.targets][0]!, cwd) : `${loose.targets.size} of the files`}: references to segments, channels, templates, providers and coupons were not checked (validate the project folder, or use -C)`);
  }
  for (const ctx of contexts.values()) {
    // Only a project has a store; a lone config or loose files do not.
    const isProject = ctx.root !== null && ctx.configFile === path.join(ctx.root, CONFIG_FILE);
    const recorded = options.recordedVersions && isProject ? recordedSteps(options.recordedVersions(ctx.root!)) : undefined;
    const loaded = loadContext(ctx, cwd, recorded);
    const shown = new Set([...ctx.targets].map((f) => display(f, cwd)));
    // the project's template files are checked with its config
    if (ctx.configFile && ctx.targets.has(ctx.configFile)) for (const f of loaded.templateFiles) shown.add(f);
    diagnostics.push(...loaded.diagnostics.filter((d) => shown.has(d.file)));
    if (ctx.configFile && !ctx.targets.has(ctx.configFile) && (!loaded.configUsable || loaded.configHasErrors)) {
      const what = loaded.configUsable ? 'references to its entries that have errors were not checked' : 'references to channels, templates, providers and coupons were not checked';
      diagnostics.push({ severity: 'warning', code: 'config-invalid', file: display(ctx.configFile, cwd), line: 0, col: 0, message: `the project config has errors, so ${what}`, hint: `run journey validate ${display(ctx.configFile, cwd)}` });
    }
  }
  return { diagnostics: capPerKind(diagnostics.sort(compareDiagnostics)).map(secretFree), files: targets.map((f) => display(f, cwd)), notes };
}

/** Loads a whole project for the commands that use it (plan, run); problems come back as diagnostics. */
export function loadProject(root: string, cwd = process.cwd()): LoadedProject & { configUsable: boolean } {
  // (validate lists a template file's problems when it checks the project; so does every other command)
  const files = projectFiles(root);
  const configFile = path.join(root, CONFIG_FILE);
  const loaded = loadContext({ root, dirs: projectDirs(root), configFile: existsSync(configFile) ? configFile : null, files, targets: new Set(files) }, cwd);
  return { project: loaded.project, diagnostics: loaded.diagnostics.sort(compareDiagnostics).map(secretFree), configUsable: loaded.configUsable };
}

function display(file: string, cwd: string): string {
  const rel = path.relative(cwd, file);
  return rel === '' ? file : rel;
}

function classify(file: string, source: YamlSource, ctx: Context): FileKind {
  if (file === ctx.configFile || isConfigName(file)) return 'config';
  if (ctx.dirs) {
    if (file.startsWith(ctx.dirs.segments + path.sep)) return 'segments';
    if (file.startsWith(ctx.dirs.journeys + path.sep)) return 'journey';
  }
  const data = source.data as Obj | null;
  return data && typeof data === 'object' && 'segments' in data && !('steps' in data) ? 'segments' : 'journey';
}

const CONFIG_SECTIONS: readonly ConfigSection[] = ['channels', 'providers', 'templates', 'coupons'];

/**
 * A config with the entries that have schema errors left out, and their names: the
 * rest of the project is still checked against what is sound, in the same run.
 */
function prunedConfig(original: Obj, pruned: Pruned): { data: Obj; broken: NonNullable<CheckContext['brokenConfig']> } {
  const data = { ...pruned.data! };
  const broken: NonNullable<CheckContext['brokenConfig']> = {};
  const touched = new Map<string, Set<string>>();
  for (const at of pruned.cut) {
    const [top, entry] = at;
    if (typeof top !== 'string') continue;
    if ((CONFIG_SECTIONS as readonly string[]).includes(top) && typeof entry === 'string') {
      touched.set(top, (touched.get(top) ?? new Set()).add(entry));
    } else {
      // A fault elsewhere (policies, test_recipients, a whole section): the key falls back to its default.
      delete data[top];
      touched.set(top, new Set(['*']));
    }
  }
  for (const section of CONFIG_SECTIONS) {
    const names = touched.get(section);
    if (!names) continue;
    if (names.has('*')) {
      broken[section] = original[section] && typeof original[section] === 'object' ? new Set(Object.keys(original[section] as Obj)) : 'all';
      continue;
    }
    const kept = { ...(data[section] as Obj | undefined) };
    for (const name of names) delete kept[name];
    data[section] = kept;
    broken[section] = names;
  }
  return { data, broken };
}

/** Whether a finding about a pruned journey could be an effect of what was cut rather than a mistake of its own. */
function causedByCut(d: PendingDiagnostic, original: Obj, cut: YamlPath[]): boolean {
  if (cut.some((c) => startsWith(c, d.path))) return true;
  const stepsCut = cut.some((c) => c[0] === 'steps' || c[0] === 'removed_steps');
  if (stepsCut && (d.code === 'unreachable-step' || d.code === 'loop-without-wait')) return true;
  if (d.code === 'unknown-step') {
    // A step cut with the list that held it is still a step the author wrote.
    const named = valueAt(original, d.path);
    return typeof named === 'string' && stepIdsIn(original).has(named);
  }
  return false;
}

function stepIdsIn(data: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(data)) for (const item of data) stepIdsIn(item, out);
  else if (data && typeof data === 'object') {
    const o = data as Obj;
    if (typeof o.id === 'string') out.add(o.id);
    for (const v of Object.values(o)) stepIdsIn(v, out);
  }
  return out;
}

/** Step ids per journey id, read from the recorded versions' text (an old version need not pass today's language). */
function recordedSteps(versions: Map<string, string[]> | null): Map<string, Set<string>> | null {
  if (versions === null) return null;
  const out = new Map<string, Set<string>>();
  for (const [id, sources] of versions) {
    const ids = new Set<string>();
    for (const text of sources) {
      try {
        stepIdsIn((parseYaml(text) as Obj | null)?.steps, ids);
      } catch {
        // a version whose text no longer parses names no step we can read
      }
    }
    out.set(id, ids);
  }
  return out;
}

function loadContext(ctx: Context, cwd: string, recorded?: Map<string, Set<string>> | null): LoadedProject & { configUsable: boolean; configHasErrors: boolean; templateFiles: string[] } {
  const diagnostics: Diagnostic[] = [];
  const sources = new Map<string, YamlSource>();
  let config: Config = DEFAULT_CONFIG;
  let configUsable = ctx.configFile !== null;
  let configHasErrors = false;
  let brokenConfig: CheckContext['brokenConfig'] = {};
  const segments = new Map<string, Segment>();
  const segmentNames = new Set<string>();
  const journeys: Journey[] = [];
  /** Segment maps as written (their names), and as pruned (the segments that can be built). */
  const segmentMaps: { file: string; map: Obj; path: string[]; usable: Obj; cut: Set<string> }[] = [];
  /** Journeys built from pruned data: their findings are filtered. */
  const prunedJourneys = new Map<string, { original: Obj; cut: YamlPath[] }>();

  for (const file of ctx.files) {
    const shown = display(file, cwd);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      diagnostics.push({ severity: 'error', code: 'unreadable', file: shown, line: 0, col: 0, message: `cannot read the file: ${(e as Error).message}` });
      if (file === ctx.configFile) configUsable = false;
      continue;
    }
    const source = readYamlSource(shown, text);
    sources.set(shown, source);
    diagnostics.push(...source.syntaxErrors);
    const kind = classify(file, source, ctx);
    if (source.syntaxErrors.length > 0) {
      if (kind === 'config') configUsable = false;
      continue;
    }
    if (source.data === null || source.data === undefined) {
      diagnostics.push({ severity: 'error', code: 'empty-file', file: shown, line: 1, col: 1, message: 'the file is empty', hint: kind === 'journey' ? 'a journey needs id, trigger and steps' : undefined });
      if (kind === 'config' && file === ctx.configFile) configUsable = false;
      continue;
    }
    const problems = schemas().validate(kind, source.data);
    diagnostics.push(...problems.map((p) => resolve(source, p)));
    const data = source.data as Obj;
    const pruned: Pruned = problems.length === 0 ? { data, cut: [] } : pruneInvalid(data, (d) => schemas().validate(kind, d));
    switch (kind) {
      case 'config':
        if (data && typeof data === 'object') {
          diagnostics.push(...checkFolders(data, path.dirname(file)).map((p) => resolve(source, p)));
        }
        if (file !== ctx.configFile) break;
        configHasErrors = problems.length > 0;
        if (pruned.data) {
          const usable = prunedConfig(data, pruned);
          config = buildConfig(usable.data, shown);
          brokenConfig = usable.broken;
        } else {
          configUsable = false;
        }
        if (data && typeof data === 'object' && data.segments && typeof data.segments === 'object') {
          segmentMaps.push(segmentMap(shown, data, pruned));
        }
        break;
      case 'segments':
        if (data && typeof data === 'object' && data.segments && typeof data.segments === 'object') {
          segmentMaps.push(segmentMap(shown, data, pruned));
        }
        break;
      case 'journey': {
        if (!pruned.data) break;
        const keyProblems = checkTriggerKeys(pruned.data.trigger as Obj);
        // With part of the trigger cut away its kind is a guess: its keys are judged only when it is whole.
        if (!pruned.cut.some((c) => c[0] === 'trigger')) diagnostics.push(...keyProblems.map((p) => resolve(source, p)));
        if (keyProblems.length > 0) break;
        journeys.push(buildJourney(pruned.data, shown, text));
        if (pruned.cut.length > 0) prunedJourneys.set(shown, { original: data, cut: pruned.cut });
        break;
      }
      default: {
        const never: never = kind;
        throw new Error(`unknown file kind ${String(never)}`);
      }
    }
  }

  const firstFile = new Map<string, string>();
  for (const { file, map, path: at, usable, cut } of segmentMaps) {
    for (const name of Object.keys(map)) {
      const earlier = firstFile.get(name);
      if (earlier !== undefined) {
        const source = sources.get(file)!;
        diagnostics.push(resolve(source, error('duplicate-segment', [...at, name], `segment '${name}' is already declared in ${earlier}`, 'segment names are unique across the project; rename one', 'key')));
        continue;
      }
      firstFile.set(name, file);
      segmentNames.add(name);
      // A segment with a schema error is not built: a rule with a part cut away would mean something else.
      const def = usable[name] as Obj | undefined;
      if (def && !cut.has(name)) {
        segments.set(name, { name, description: def.description ?? null, rule: buildRule(def.rule, [...at, name, 'rule']), definition: def, file, path: [...at, name] });
      }
    }
  }

  const templateFiles: string[] = [];
  if (configUsable && ctx.root) {
    // templates/NAME.liquid files join the templates written in the config
    const loaded = loadTemplateFiles(path.resolve(ctx.root, config.templatesDir), (f) => display(f, cwd));
    diagnostics.push(...loaded.diagnostics);
    const templates = byName(Object.entries(config.templates));
    for (const t of loaded.templates) {
      templateFiles.push(t.file);
      if (templates[t.name]) {
        diagnostics.push({ severity: 'error', code: 'duplicate-template', file: t.file, line: 1, col: 1, message: `template '${t.name}' is also written in ${config.file ?? 'the config'}`, hint: 'keep one of the two' });
        continue;
      }
      templates[t.name] = {
        channel: t.channel,
        providerTemplate: t.providerTemplate,
        providerVariables: t.providerVariables ? Object.fromEntries(t.providerVariables.map((v) => [v.name, v.value.text])) : null,
        subject: t.subject?.text ?? null,
        body: t.body.text,
        source: t,
      };
    }
    for (const d of loaded.diagnostics) if (!templateFiles.includes(d.file)) templateFiles.push(d.file);
    config = { ...config, templates };
  }

  const project: Project = { root: ctx.root ?? cwd, config, segments, journeys };
  const checkCtx: CheckContext = { project, configUsable, segmentNames: ctx.root || ctx.configFile ? segmentNames : null, brokenConfig, ...(recorded !== undefined ? { recordedSteps: recorded } : {}) };
  const templateChecks = checkTemplates(checkCtx);
  diagnostics.push(...templateChecks.diagnostics);
  const findings: Finding[] = [...checkConfig(checkCtx), ...checkEnvRefs(checkCtx), ...checkSegments(checkCtx), ...checkJourneys(checkCtx), ...templateChecks.findings, ...checkTestMode(checkCtx), ...checkEntryTiming(checkCtx)];
  for (const f of findings) {
    const source = sources.get(f.file);
    const pruned = prunedJourneys.get(f.file);
    if (pruned && causedByCut(f.diagnostic, pruned.original, pruned.cut)) continue;
    if (source) diagnostics.push(resolve(source, f.diagnostic));
  }
  return { project, diagnostics, configUsable, configHasErrors, templateFiles };
}

function segmentMap(file: string, data: Obj, pruned: Pruned): { file: string; map: Obj; path: string[]; usable: Obj; cut: Set<string> } {
  const usable = (pruned.data?.segments ?? {}) as Obj;
  const cut = new Set<string>();
  for (const at of pruned.cut) {
    if (at[0] !== 'segments') continue;
    if (typeof at[1] === 'string') cut.add(at[1]);
    else for (const name of Object.keys(data.segments as Obj)) cut.add(name);
  }
  return { file, map: data.segments as Obj, path: ['segments'], usable, cut };
}

/**
 * A journey from its text alone, as the store keeps deployed versions: null when the
 * text no longer passes the language (a version written by an older journey).
 */
export function parseJourneyText(text: string, file: string): Journey | null {
  const source = readYamlSource(file, text);
  if (source.syntaxErrors.length > 0 || !source.data || typeof source.data !== 'object') return null;
  if (schemas().validate('journey', source.data).length > 0) return null;
  const data = source.data as Obj;
  if (checkTriggerKeys(data.trigger).length > 0) return null;
  return buildJourney(data, file, text);
}

/**
 * A segment from its recorded definition alone, as the store keeps segment versions:
 * null when the definition no longer passes the language (written by an older journey).
 */
export function parseSegmentDefinition(name: string, definition: unknown, file: string): Segment | null {
  if (!definition || typeof definition !== 'object') return null;
  if (schemas().validate('segments', { segments: { [name]: definition } }).length > 0) return null;
  const d = definition as Obj;
  return { name, description: d.description ?? null, rule: buildRule(d.rule, ['segments', name, 'rule']), definition: d, file, path: ['segments', name] };
}
