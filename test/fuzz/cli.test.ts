/**
 * Fuzzing the command line: commands, arguments and flags read from the CLI's own
 * program (so a new command or flag is fuzzed without editing this file), given valid,
 * mutated and hostile values (unknown flags, missing arguments, 1e3, -1, 2^64, NaN,
 * 2026-02-30, huge strings, paths that do not exist), run through main() in-process
 * against a copy of the example shop with a small store. Whatever the line: the exit
 * code is one the README documents for that command (never 70, internal), no stack
 * trace, a failure's first line says what went wrong, no secret comes out, and a
 * command that failed left the store as it was.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { Command, Option } from 'commander';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildProgram, main, registerCommands } from '../../src/cli/main.js';
import { capture, INPUT_BUDGET_MS, NASTY, params, runs, SECRET, STACK_LINE } from './helpers.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const shop = path.join(repo, 'examples/shop');

/**
 * Left out, each for a reason: `serve` listens until stopped; `send-test` and `outbox send`
 * deliver through the providers; `demo-data` with a valid --customers writes up to a
 * million customers (its limits have their own tests); `run` only ever goes with --once
 * --dry-run (below), so --cron (a loop) is left out too.
 */
const SKIPPED_COMMANDS = new Set(['serve', 'send-test', 'outbox send', 'demo-data']);
const SKIPPED_FLAGS = new Set(['run --cron']);

interface FlagSpec {
  flag: string;
  takes: 'none' | 'required' | 'optional';
  choices?: readonly string[];
  variadic: boolean;
}
interface CommandSpec {
  path: string[];
  args: { name: string; required: boolean; variadic: boolean }[];
  flags: FlagSpec[];
}

function specsOf(program: Command): CommandSpec[] {
  const specs: CommandSpec[] = [];
  const flagOf = (o: Option): FlagSpec => ({ flag: o.long ?? o.short!, takes: o.required ? 'required' : o.optional ? 'optional' : 'none', choices: o.argChoices, variadic: o.variadic });
  const walk = (cmd: Command, at: string[]) => {
    for (const sub of cmd.commands) {
      const p = [...at, sub.name()];
      if (!SKIPPED_COMMANDS.has(p.join(' '))) {
        specs.push({
          path: p,
          args: sub.registeredArguments.map((a) => ({ name: a.name(), required: a.required, variadic: a.variadic })),
          flags: sub.options.filter((o) => !SKIPPED_FLAGS.has(`${p.join(' ')} ${o.long}`)).map(flagOf),
        });
      }
      walk(sub, p);
    }
  };
  walk(program, []);
  return specs;
}

/**
 * "-" (stdin) is left out: a read of the worker's stdin would wait for ever; so are ".."
 * and "/", which ask validate to read every YAML file of /tmp or the whole disk.
 */
const HOSTILE = fc.oneof(
  fc.constantFrom(...NASTY.filter((t) => t !== '-')),
  fc.constantFrom('1e3', '-1', '0', '18446744073709551616', '9007199254740993', 'NaN', '-0', '0x10', '1.5', '2026-02-30', '2026-13-01T00:00:00Z', '99999d', '0s', '-5m', '1y', 'x'.repeat(100_000), '/no/such/path/anywhere', 'no-such-file.csv', '.'),
  fc.string({ maxLength: 10 }).filter((s) => s !== '-'),
);

/** Values a flag or argument of this name takes in real use (some fail later, on the store's content). */
function plausible(name: string): fc.Arbitrary<string> {
  if (/^(from|to|now|time)$/.test(name)) return fc.constantFrom('2026-03-01T00:00:00Z', '2026-03-02T12:00:00Z', '2026-03-01');
  if (/^(sample|limit|count|customers|n|port|max-attempts|max-body|seed)$/.test(name)) return fc.constantFrom('0', '1', '5', '10');
  if (/^(step|within|wait|lease|future|retry-base|circuit-cool-down)$/.test(name)) return fc.constantFrom('1h', '1d', '7d', '30m');
  if (/^(customer|customers)$/.test(name)) return fc.constantFrom('c0000001', 'c0000002', 'nobody');
  if (/^journeys?$/.test(name)) return fc.constantFrom('repeat-order', 'win-back-30d', 'post-purchase-upsell', 'no-such-journey');
  if (name === 'name') return fc.constantFrom('buyers', 'repeat-buyers', 'no-such-segment');
  if (name === 'kind') return fc.constantFrom('customers', 'orders', 'events', 'coupons', 'widgets');
  if (/^(file|mapping|paths)$/.test(name)) return fc.constantFrom('customers.csv', 'journeys', 'no-such-file.csv');
  if (/^(out|html)$/.test(name)) return fc.constantFrom('out-file.json', '/no/such/dir/out.json');
  if (/^(id|ids)$/.test(name)) return fc.constantFrom('1', '2', 'x');
  if (name === 'status' || name === 'statuses') return fc.constantFrom('failed', 'dead,failed', 'pending', 'nope');
  if (name === 'coupon') return fc.constantFrom('second-order-10', 'no-such-coupon');
  return fc.constantFrom('first', 'a', 'buyers', '1');
}

const valueFor = (name: string, choices?: readonly string[]) =>
  fc.oneof({ weight: 6, arbitrary: choices ? fc.constantFrom(...choices) : plausible(name) }, { weight: 1, arbitrary: plausible(name) }, { weight: 1, arbitrary: HOSTILE });

function commandLine(specs: CommandSpec[], project: string): fc.Arbitrary<string[]> {
  // a project folder named like a key is the user's own path, which output names
  const global = fc.tuple(
    fc.oneof({ weight: 12, arbitrary: fc.constant(['-C', project]) }, { weight: 1, arbitrary: HOSTILE.filter((v) => v !== SECRET).map((v) => ['-C', v]) }, { weight: 1, arbitrary: fc.constant<string[]>([]) }),
    fc.oneof({ weight: 3, arbitrary: fc.constant<string[]>(['--now', '2026-03-02T12:00:00Z']) }, { weight: 1, arbitrary: valueFor('now').map((v) => ['--now', v]) }, { weight: 1, arbitrary: fc.constant<string[]>([]) }),
    fc.constantFrom<string[]>([], [], [], ['--show-pii']),
  );
  const forCommand = (spec: CommandSpec) =>
    fc.tuple(
      // arguments: each given, or (sometimes) left out; a few extra
      fc.tuple(...spec.args.map((a) => fc.oneof({ weight: 8, arbitrary: valueFor(a.name).map((v) => [v]) }, { weight: 1, arbitrary: fc.constant<string[]>([]) }))).map((xs) => xs.flat()),
      fc.array(HOSTILE, { maxLength: 1 }).chain((extra) => fc.constantFrom(extra, [], [], [], [], [], [])),
      // flags: a subset, each with a value when it takes one (or without it, or a hostile one)
      fc.subarray(spec.flags, { maxLength: Math.min(4, spec.flags.length) }).chain((flags) =>
        fc
          .tuple(
            ...flags.map((f) =>
              f.takes === 'none' ? fc.constant([f.flag]) : fc.oneof({ weight: 10, arbitrary: valueFor(f.flag.replace(/^-+/, ''), f.choices).map((v) => [f.flag, v]) }, { weight: 1, arbitrary: fc.constant([f.flag]) }),
            ),
          )
          .map((xs) => xs.flat()),
      ),
      fc.constantFrom<string[]>([], [], [], [], [], [], [], [], ['--bogus'], ['-z'], ['--json', '--json'], ['--'], ['--help']),
    );
  return fc.constantFrom(...specs).chain((spec) =>
    fc.tuple(global, forCommand(spec), fc.nat()).map(([[c, now, pii], [args, extra, flags, odd], at]) => {
      // run only ever ticks without sending, and once: right after its name, where no flag can take them as its value
      const forced = spec.path[0] === 'run' ? ['--once', '--dry-run'] : [];
      const rest = [...args, ...extra, ...flags];
      rest.splice(rest.length === 0 ? 0 : at % (rest.length + 1), 0, ...odd);
      return [...c, ...now, ...pii, ...spec.path, ...forced, ...rest];
    }),
  );
}

/** Every table's rows, hashed: what "the store is unchanged" compares. */
function digest(file: string): string {
  const db = new Database(file, { readonly: true });
  try {
    const hash = createHash('sha256');
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[];
    for (const { name } of tables) {
      hash.update(`\0${name}\0`);
      const rows = (db.prepare(`SELECT * FROM "${name}"`).raw(true).all() as unknown[][]).map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
      for (const row of rows.sort()) hash.update(row);
    }
    return hash.digest('hex');
  } finally {
    db.close();
  }
}

/** The codes each command may end with: 2 is plan's "changes", 3 run's "messages failed". */
function allowed(command: string): number[] {
  return [0, 1, 64, ...(command === 'plan' ? [2] : []), ...(command === 'run' ? [3] : [])];
}

describe('fuzz: command lines', () => {
  let dir: string;
  let store: string;
  let specs: CommandSpec[];
  const cwd = process.cwd();

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'journey-fuzz-cli-'));
    cpSync(shop, dir, { recursive: true });
    cpSync(path.join(repo, 'journeys'), path.join(dir, 'journeys'), { recursive: true });
    // the library's journeys copied in; no provider reachable (a closed port), should anything try
    const config = readFileSync(path.join(dir, 'journey.config.yaml'), 'utf8')
      .replace('journeys: ../../journeys', 'journeys: journeys')
      .replace(/(\n {4}type: (sendgrid|twilio|klaviyo)\n)/g, '$1    url: http://127.0.0.1:9\n');
    writeFileSync(path.join(dir, 'journey.config.yaml'), config);
    writeFileSync(path.join(dir, 'customers.csv'), 'id,email,first_name\nc0000001,ada@example.test,Ada\nc0009999,new@example.test,New\n');
    vi.stubEnv('SENDGRID_API_KEY', SECRET);
    vi.stubEnv('TWILIO_AUTH_TOKEN', SECRET);
    vi.stubEnv('KLAVIYO_API_KEY', SECRET);
    vi.stubEnv('JOURNEY_HASH_KEY', 'fuzz-hash-key-0123456789abcdef');
    vi.stubEnv('NO_COLOR', '1');
    // relative outputs (rejects files, --out) land in the temp folder, not the repository
    process.chdir(dir);
    const made = await capture(() => main(['node', 'journey', '--now', '2026-03-01T00:00:00Z', 'demo-data', '--customers', '40', '--seed', '7', '--future', '0', '--out', path.join(dir, 'demo')]));
    expect(made.value, made.stderr).toBe(0);
    const imported = await capture(() => main(['node', 'journey', '-C', dir, '--now', '2026-03-01T00:00:00Z', 'import', path.join(dir, 'demo')]));
    expect(imported.value, imported.stderr).toBe(0);
    store = path.join(dir, '.journey/store.db');
    const program = buildProgram();
    await registerCommands(program, []);
    specs = specsOf(program);
  });
  afterAll(() => {
    process.chdir(cwd);
    vi.unstubAllEnvs();
  });

  it('ends every command line with a documented exit code, no stack, a first line that says what went wrong, no secret, and a failure changes nothing', async () => {
    let before = digest(store);
    const codes = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        fc.constant(null).chain(() => commandLine(specs, dir)),
        async (args) => {
          process.exitCode = undefined;
          const out = await capture(() => main(['node', 'journey', ...args]));
          process.exitCode = undefined;
          const code = out.value;
          codes.set(code, (codes.get(code) ?? 0) + 1);
          const command = args.find((a, i) => !a.startsWith('-') && !['-C', '--project', '--now'].includes(args[i - 1] ?? '')) ?? '';
          const shown = out.stdout + out.stderr;
          expect(out.ms, 'one command line took too long').toBeLessThan(INPUT_BUDGET_MS);
          expect(code, `exit code of: ${shown.slice(0, 500)}`).not.toBe(70);
          expect(allowed(command), `exit code ${code}: ${shown.slice(0, 500)}`).toContain(code);
          expect(shown, 'a stack trace').not.toMatch(STACK_LINE);
          expect(shown, 'a secret').not.toContain(SECRET.slice(3));
          if (code === 1 || code === 64) {
            // the first line says what went wrong (error: ..., or the first diagnostic of validate)
            const first = (out.stderr.trim() === '' ? out.stdout : out.stderr).trimStart().split('\n')[0] ?? '';
            expect(first, `no message for exit ${code}`).toMatch(/\S/);
            const after = digest(store);
            expect(after, `a failed command changed the store: ${first}`).toBe(before);
          } else {
            before = digest(store);
          }
        },
      ),
      params(runs(3_500)),
    );
    console.log(`cli fuzz: exit codes ${[...codes].sort((a, b) => a[0] - b[0]).map(([c, n]) => `${c}: ${n}`).join(', ')}`);
  // bounded per input instead: a whole-test timeout would leave the property running after the test ended (and its chdir undone)
  }, runs(3_500) * INPUT_BUDGET_MS);
});
