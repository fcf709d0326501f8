import { existsSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { validatePaths } from '../../project/load-project.js';
import { storePathFor } from '../../project/paths.js';
import { recordedVersionSources } from '../../store/journey-state.js';
import { openSqlite } from '../../store/sqlite.js';
import { DIAGNOSTIC_FORMATS, formatDiagnostics, type DiagnosticFormat } from '../format/diagnostics.js';
import { projectDir } from '../project-option.js';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check journeys, segments and journey.config.yaml against the language and each other')
    .argument('[paths...]', 'files or folders to check (default: the project in the current folder)')
    .addOption(new Option('-f, --format <format>', 'output format').choices(DIAGNOSTIC_FORMATS).default('human'))
    .option('--json', 'same as --format json')
    .option('--strict', 'fail on warnings too')
    .addHelpText(
      'after',
      `
Exit codes: 0 valid, 1 errors found (or warnings with --strict), 64 usage error.
Formats: human (default), json (a stable shape, see README), github (workflow annotations).`,
    )
    .action((paths: string[], opts: { format: DiagnosticFormat; json?: boolean; strict?: boolean }, cmd: Command) => {
      const cwd = process.cwd();
      const result = validatePaths(paths.length > 0 ? paths : [projectDir(cmd)], cwd, { recordedVersions, project: projectDir(cmd) });
      const failed = result.diagnostics.some((d) => d.severity === 'error' || (opts.strict === true && d.severity === 'warning'));
      const format = opts.json ? 'json' : opts.format;
      // GitHub attaches an annotation only to a path from the root of the repository.
      const root = format === 'github' ? annotationRoot(cwd) : cwd;
      const diagnostics = format === 'github' ? result.diagnostics.map((d) => ({ ...d, file: fromRoot(d.file, cwd, root) })) : result.diagnostics;
      process.stdout.write(formatDiagnostics({ ...result, diagnostics, failed }, format));
      process.exitCode = failed ? 1 : 0;
    });
}

/** The folder annotations are relative to: $GITHUB_WORKSPACE, else the git repository holding cwd, else cwd. */
function annotationRoot(cwd: string, env = process.env): string {
  if (env.GITHUB_WORKSPACE) return path.resolve(cwd, env.GITHUB_WORKSPACE);
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    // .git is a folder in a clone and a file in a worktree or submodule
    if (existsSync(path.join(dir, '.git'))) return dir;
    if (path.dirname(dir) === dir) return cwd;
  }
}

function fromRoot(file: string, cwd: string, root: string): string {
  const rel = path.relative(root, path.resolve(cwd, file));
  return rel.split(path.sep).join('/');
}

/** What the project's store recorded of each journey, or null when it has no store yet (validate never creates one). */
function recordedVersions(projectRoot: string): Map<string, string[]> | null {
  const file = storePathFor(projectRoot);
  if (!existsSync(file)) return null;
  const db = openSqlite(file);
  try {
    return recordedVersionSources(db);
  } catch (e) {
    // a store from before journeys were recorded has run none
    if (/no such table/.test((e as Error).message)) return new Map();
    throw e;
  } finally {
    db.close();
  }
}
