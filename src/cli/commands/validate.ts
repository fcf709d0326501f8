import { Command, Option } from 'commander';
import { validatePaths } from '../../project/load-project.js';
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
Exit codes: 0 valid, 1 errors found (or warnings with --strict), 2 usage error.
Formats: human (default), json (a stable shape, see README), github (workflow annotations).`,
    )
    .action((paths: string[], opts: { format: DiagnosticFormat; json?: boolean; strict?: boolean }, cmd: Command) => {
      const cwd = process.cwd();
      const result = validatePaths(paths.length > 0 ? paths : [projectDir(cmd)], cwd);
      const failed = result.diagnostics.some((d) => d.severity === 'error' || (opts.strict === true && d.severity === 'warning'));
      process.stdout.write(formatDiagnostics({ ...result, failed }, opts.json ? 'json' : opts.format));
      process.exitCode = failed ? 1 : 0;
    });
}
