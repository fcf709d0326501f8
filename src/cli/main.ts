import { Command, CommanderError } from 'commander';
import { JourneyError } from '../errors.js';
import { printError } from './output.js';
import { registerValidate } from './commands/validate.js';
import { registerImport } from './commands/import.js';
import { registerMigrate } from './commands/migrate.js';
import { registerDemoData } from './commands/demo-data.js';
import { registerSegment } from './commands/segment.js';
import { registerPlan } from './commands/plan.js';
import { registerRun } from './commands/run.js';
import { registerSimulate } from './commands/simulate.js';
import { registerInspect } from './commands/inspect.js';
import { registerOutbox } from './commands/outbox.js';
import { registerServe } from './commands/serve.js';
import { registerSendTest } from './commands/send-test.js';
import { InvalidProjectError } from '../project/open-project.js';
import { formatDiagnostics } from './format/diagnostics.js';

export const EXIT_CODES_HELP = `
Exit codes:
  0  success (validate: the project is valid)
  1  invalid input or a failed operation (validate: errors found, or warnings with --strict)
  2  usage error: unknown command, flag or argument`;

export function buildProgram(): Command {
  const program = new Command('journey')
    .description('Retention and post-purchase marketing journeys as code.')
    .version('0.1.0')
    .option('-C, --project <dir>', 'the project folder (default: the current folder)')
    .option('--now <time>', 'the clock for this command, ISO 8601 (default: the real time)')
    .addHelpText('after', EXIT_CODES_HELP)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerValidate(program);
  registerImport(program);
  registerMigrate(program);
  registerDemoData(program);
  registerSegment(program);
  registerPlan(program);
  registerRun(program);
  registerSimulate(program);
  registerInspect(program);
  registerOutbox(program);
  registerServe(program);
  registerSendTest(program);
  return program;
}

/** Runs the CLI and resolves to the process exit code; never calls process.exit itself. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  program.commands.forEach((c) => c.exitOverride());
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with code 0
      if (err.exitCode === 0) return 0;
      return 2;
    }
    if (err instanceof InvalidProjectError) {
      process.stderr.write(formatDiagnostics({ diagnostics: err.diagnostics, files: [...new Set(err.diagnostics.map((d) => d.file))], notes: [], failed: true }, 'human'));
    }
    if (err instanceof JourneyError) {
      printError(err);
      return err.exitCode;
    }
    throw err;
  }
}
