import { Command, CommanderError } from 'commander';
import { EXIT_INTERNAL, EXIT_USAGE, JourneyError } from '../errors.js';
import { setShowPii } from '../pii.js';
import { withoutSecrets } from '../secrets.js';
import { printError } from './output.js';

export const EXIT_CODES_HELP = `
Exit codes:
  0  success (validate: the project is valid; plan: nothing to change)
  1  invalid input or a failed operation (validate: errors found, or warnings with --strict;
     run, outbox send: delivery could not run for a provider, e.g. its secret is unset)
  2  plan: journeys are new, changed or removed (its errors are 1)
  3  run, outbox send: delivery ran, but messages of this run failed, went dead or are
     held in doubt
  64 usage error, on every command: unknown command, flag or argument, or a flag's bad value
  70 internal error: a bug in journey, not your input (--debug prints its stack)`;

export function buildProgram(): Command {
  const program = new Command('journey')
    .description('Retention and post-purchase marketing journeys as code.')
    .version('0.1.0')
    .option('-C, --project <dir>', 'the project folder (default: the current folder)')
    .option('--now <time>', 'the clock for this command, ISO 8601 (default: the real time)')
    .option('--show-pii', "show customers' e-mail addresses and phone numbers in output (masked by default)")
    .option('--debug', 'print the stack of an internal error')
    .addHelpText('after', EXIT_CODES_HELP)
    .showHelpAfterError('(run with --help for usage)')
    // commander repeats a refused value ("argument 'SG.…' is invalid"): a key pasted after the
    // wrong flag must not come back (every command inherits this, being added after it)
    .configureOutput({ outputError: (text, write) => write(withoutSecrets(text)) })
    .exitOverride();
  program.hook('preAction', (_program, action) => setShowPii((action.optsWithGlobals() as { showPii?: boolean }).showPii === true));
  return program;
}

type Register = (program: Command) => void;

/**
 * The commands, in the order help lists them. A command's module (and what it
 * imports: the store, the engine, undici, ajv) is loaded only when that command runs,
 * so `journey --version` or `journey validate` does not pay for the rest.
 */
const COMMANDS: Readonly<Record<string, () => Promise<Register>>> = {
  validate: async () => (await import('./commands/validate.js')).registerValidate,
  import: async () => (await import('./commands/import.js')).registerImport,
  migrate: async () => (await import('./commands/migrate.js')).registerMigrate,
  'demo-data': async () => (await import('./commands/demo-data.js')).registerDemoData,
  segment: async () => (await import('./commands/segment.js')).registerSegment,
  plan: async () => (await import('./commands/plan.js')).registerPlan,
  run: async () => (await import('./commands/run.js')).registerRun,
  simulate: async () => (await import('./commands/simulate.js')).registerSimulate,
  inspect: async () => (await import('./commands/inspect.js')).registerInspect,
  outbox: async () => (await import('./commands/outbox.js')).registerOutbox,
  serve: async () => (await import('./commands/serve.js')).registerServe,
  'send-test': async () => (await import('./commands/send-test.js')).registerSendTest,
  preview: async () => (await import('./commands/preview.js')).registerPreview,
  coupons: async () => (await import('./commands/coupons.js')).registerCoupons,
  recommend: async () => (await import('./commands/recommend.js')).registerRecommend,
  forget: async () => (await import('./commands/forget.js')).registerForget,
  export: async () => (await import('./commands/export.js')).registerExport,
};

/** Global options that take a value: their value is not the command's name. */
const GLOBAL_WITH_VALUE = new Set(['-C', '--project', '--now']);

/** The command named on the command line, or null when none is (only global options, or nothing). */
export function commandName(args: readonly string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (GLOBAL_WITH_VALUE.has(a)) i++;
    else if (!a.startsWith('-')) return a;
  }
  return null;
}

/**
 * Registers what this command line needs: its own command when it names a known one;
 * nothing for a bare --version; every command otherwise (help lists them all, and an
 * unknown name gets its "did you mean").
 */
export async function registerCommands(program: Command, args: readonly string[]): Promise<void> {
  const name = commandName(args);
  const wanted =
    name !== null && Object.hasOwn(COMMANDS, name) ? [name] : name === null && args.some((a) => a === '-V' || a === '--version') ? [] : Object.keys(COMMANDS);
  for (const register of await Promise.all(wanted.map((c) => COMMANDS[c]!()))) register(program);
}

/** Runs the CLI and resolves to the process exit code; never calls process.exit itself. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  await registerCommands(program, argv.slice(2));
  program.commands.forEach((c) => c.exitOverride());
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with code 0
      if (err.exitCode === 0) return 0;
      return EXIT_USAGE;
    }
    if (err instanceof JourneyError) {
      // loaded here: only a command that opened the project can have thrown it
      const { InvalidProjectError } = await import('../project/open-project.js');
      // the verdict is the first line; then what is wrong, errors before warnings (an unset secret must not read as the reason)
      printError(err);
      if (err instanceof InvalidProjectError) {
        const { formatDiagnostics } = await import('./format/diagnostics.js');
        const diagnostics = [...err.diagnostics.filter((d) => d.severity === 'error'), ...err.diagnostics.filter((d) => d.severity !== 'error')];
        process.stderr.write(formatDiagnostics({ diagnostics, files: [...new Set(diagnostics.map((d) => d.file))], notes: [], failed: true }, 'human'));
      }
      return err.exitCode;
    }
    printInternalError(err, wantsDebug(argv));
    return EXIT_INTERNAL;
  }
}

/** --debug anywhere before `--`: read from argv, since the error may come before commander parsed it. */
export function wantsDebug(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--debug');
}

/**
 * A bug, not the input: one line (a stack trace tells a user nothing and may hold
 * paths of the machine), the stack only when asked for.
 */
export function printInternalError(err: unknown, debug: boolean): void {
  if (debug && err instanceof Error && err.stack) {
    process.stderr.write(`${err.stack}\n`);
    return;
  }
  const message = (err instanceof Error ? err.message : String(err)).split('\n')[0];
  process.stderr.write(`internal error: ${message} (run with --debug for the stack)\n`);
}
