import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { usageError } from '../errors.js';
import { buildConfig, DEFAULT_CONFIG } from './build-config.js';
import { buildJourney } from './build-journey.js';
import { buildRule } from './build-rule.js';
import { checkConfig } from './checks/config-checks.js';
import { checkEntryTiming } from './checks/entry-checks.js';
import { checkJourneys } from './checks/journey-checks.js';
import { checkSegments } from './checks/segment-checks.js';
import { checkTriggerKeys } from './checks/trigger-keys.js';
import type { CheckContext, Finding } from './checks/types.js';
import { compareDiagnostics, error, type Diagnostic } from './diagnostic.js';
import type { Config, Journey, Project, Segment } from './model.js';
import { CONFIG_FILE } from './paths.js';
import { SchemaSet, type FileKind } from './schema-validator.js';
import { readYamlSource, resolve, type YamlSource } from './yaml-source.js';

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

export function validatePaths(paths: string[], cwd: string): ValidationResult {
  // A project's journeys may live outside its folder (journeys: ../library), so files
  // found by expanding a project folder keep that project as their context.
  const rootOf = new Map<string, string | null>();
  for (const p of paths) {
    const abs = path.resolve(cwd, p);
    if (!existsSync(abs)) throw usageError(`no such file or folder: ${p}`);
    if (statSync(abs).isDirectory()) {
      const isProject = existsSync(path.join(abs, CONFIG_FILE));
      for (const f of isProject ? projectFiles(abs) : yamlFilesUnder(abs)) {
        if (!rootOf.has(f)) rootOf.set(f, isProject ? abs : findProjectRoot(path.dirname(f)));
      }
    } else if (!rootOf.has(abs)) {
      rootOf.set(abs, findProjectRoot(path.dirname(abs)));
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
    const loaded = loadContext(ctx, cwd);
    const shown = new Set([...ctx.targets].map((f) => display(f, cwd)));
    diagnostics.push(...loaded.diagnostics.filter((d) => shown.has(d.file)));
    if (!loaded.configUsable && ctx.configFile && !ctx.targets.has(ctx.configFile)) {
      diagnostics.push({ severity: 'warning', code: 'config-invalid', file: display(ctx.configFile, cwd), line: 0, col: 0, message: 'the project config has errors, so references to channels, templates, providers and coupons were not checked', hint: `run journey validate ${display(ctx.configFile, cwd)}` });
    }
  }
  return { diagnostics: diagnostics.sort(compareDiagnostics), files: targets.map((f) => display(f, cwd)), notes };
}

/** Loads a whole project for the commands that use it (plan, run); problems come back as diagnostics. */
export function loadProject(root: string, cwd = process.cwd()): LoadedProject & { configUsable: boolean } {
  const files = projectFiles(root);
  const configFile = path.join(root, CONFIG_FILE);
  const loaded = loadContext({ root, dirs: projectDirs(root), configFile: existsSync(configFile) ? configFile : null, files, targets: new Set(files) }, cwd);
  return { project: loaded.project, diagnostics: loaded.diagnostics.sort(compareDiagnostics), configUsable: loaded.configUsable };
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

function loadContext(ctx: Context, cwd: string): LoadedProject & { configUsable: boolean } {
  const diagnostics: Diagnostic[] = [];
  const sources = new Map<string, YamlSource>();
  let config: Config = DEFAULT_CONFIG;
  let configUsable = ctx.configFile !== null;
  const segments = new Map<string, Segment>();
  const segmentNames = new Set<string>();
  const journeys: Journey[] = [];
  const segmentMaps: { file: string; map: Obj; path: string[]; valid: boolean }[] = [];

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
    const valid = problems.length === 0;
    switch (kind) {
      case 'config':
        if (file !== ctx.configFile) break;
        if (valid) config = buildConfig(data, shown);
        else configUsable = false;
        if (data && typeof data === 'object' && data.segments && typeof data.segments === 'object') {
          segmentMaps.push({ file: shown, map: data.segments, path: ['segments'], valid });
        }
        break;
      case 'segments':
        if (data && typeof data === 'object' && data.segments && typeof data.segments === 'object') {
          segmentMaps.push({ file: shown, map: data.segments, path: ['segments'], valid });
        }
        break;
      case 'journey':
        if (!valid) break;
        {
          const keyProblems = checkTriggerKeys(data.trigger);
          diagnostics.push(...keyProblems.map((p) => resolve(source, p)));
          if (keyProblems.length === 0) journeys.push(buildJourney(data, shown, text));
        }
        break;
      default: {
        const never: never = kind;
        throw new Error(`unknown file kind ${String(never)}`);
      }
    }
  }

  const firstFile = new Map<string, string>();
  for (const { file, map, path: at, valid } of segmentMaps) {
    for (const [name, def] of Object.entries(map)) {
      const earlier = firstFile.get(name);
      if (earlier !== undefined) {
        const source = sources.get(file)!;
        diagnostics.push(resolve(source, error('duplicate-segment', [...at, name], `segment '${name}' is already declared in ${earlier}`, 'segment names are unique across the project; rename one', 'key')));
        continue;
      }
      firstFile.set(name, file);
      segmentNames.add(name);
      if (valid) {
        const d = def as Obj;
        segments.set(name, { name, description: d.description ?? null, rule: buildRule(d.rule, [...at, name, 'rule']), file, path: [...at, name] });
      }
    }
  }

  const project: Project = { root: ctx.root ?? cwd, config, segments, journeys };
  const checkCtx: CheckContext = { project, configUsable, segmentNames: ctx.root || ctx.configFile ? segmentNames : null };
  const findings: Finding[] = [...checkConfig(checkCtx), ...checkSegments(checkCtx), ...checkJourneys(checkCtx), ...checkEntryTiming(checkCtx)];
  for (const f of findings) {
    const source = sources.get(f.file);
    if (source) diagnostics.push(resolve(source, f.diagnostic));
  }
  return { project, diagnostics, configUsable };
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
