import { Command } from 'commander';
import type { DispatchReport } from '../../delivery/dispatcher.js';
import { listOutbox, resolveOutbox, retryOutbox, sendOutbox, type OutboxListing, type ResolveResult, type RetryResult } from '../../delivery/outbox-admin.js';
import { usageError } from '../../errors.js';
import { OUTBOX_STATUSES, STATUS_ALIASES, type OutboxStatus } from '../../store/outbox.js';
import { shownAddress, shownText } from '../../pii.js';
import { chalk, printJson } from '../output.js';
import { MAX_WAIT_MS, wholeNumberFlag } from '../flags.js';
import { humanNotice } from '../format/notices.js';
import { clockNow, hasNow, projectDir } from '../project-option.js';

export function registerOutbox(program: Command): void {
  const outbox = program
    .command('outbox')
    .description('list the messages waiting to go out, in doubt, failed or dead (retry, resolve and send are subcommands)')
    .option('--status <statuses>', `only rows in these statuses, comma-separated: ${OUTBOX_STATUSES.join(', ')}`)
    .option('--limit <n>', 'list at most N rows, newest first', '50')
    .option('--json', 'print one JSON object')
    .action((opts: { status?: string; limit: string; json?: boolean }, cmd: Command) => {
      const statuses = opts.status === undefined ? undefined : parseStatuses(opts.status);
      const limit = positiveInt(opts.limit, '--limit');
      const raw = listOutbox(projectDir(cmd), { statuses, limit });
      const listing = { ...raw, rows: raw.rows.map((r) => ({ ...r, address: shownAddress(r.address), last_error: r.last_error === null ? null : shownText(r.last_error) })) };
      if (opts.json) printJson(listing);
      else process.stdout.write(humanListing(listing));
    });

  outbox
    .command('retry')
    .description('put failed messages back in the queue (with --dead, dead ones too), all or those given by --id')
    .option('--id <ids...>', 'only these outbox ids (space- or comma-separated)')
    .option('--dead', 'also dead messages (retries ran out)')
    .option('--json', 'print one JSON object')
    .action((opts: { id?: string[]; dead?: boolean; json?: boolean }, cmd: Command) => {
      const ids = opts.id?.flatMap((v) => v.split(',')).filter((v) => v !== '').map((v) => positiveInt(v, '--id'));
      const result = retryOutbox(projectDir(cmd), { ids, dead: opts.dead, now: clockNow(cmd).getTime() });
      if (wantsJson(cmd)) printJson(result);
      else process.stdout.write(humanRetry(result, opts.dead === true));
      if (ids && result.skipped.length) process.exitCode = 1;
    });

  outbox
    .command('resolve')
    .description('settle messages in doubt (their request may have reached the provider): --accepted if the provider has them, --resend if not')
    .option('--id <ids...>', 'these outbox ids (space- or comma-separated)')
    .option('--all-held', 'every message held in doubt')
    .option('--accepted', 'the provider accepted them: record them as accepted, never send again')
    .option('--resend', 'the provider does not have them: send them again under the same key')
    .option('--message-id <id>', "with --accepted and one --id: the provider's message id")
    .option('--json', 'print one JSON object')
    .action((opts: { id?: string[]; allHeld?: boolean; accepted?: boolean; resend?: boolean; messageId?: string; json?: boolean }, cmd: Command) => {
      const ids = opts.id?.flatMap((v) => v.split(',')).filter((v) => v !== '').map((v) => positiveInt(v, '--id'));
      if (!ids?.length && !opts.allHeld) throw usageError('resolve needs --id or --all-held', 'list the messages in doubt with: journey outbox --status in_doubt');
      if (ids?.length && opts.allHeld) throw usageError('give --id or --all-held, not both');
      if (opts.accepted === opts.resend) throw usageError('resolve needs exactly one of --accepted and --resend', "check the provider's activity for the message's key first");
      if (opts.messageId !== undefined && (!opts.accepted || ids?.length !== 1)) throw usageError('--message-id goes with --accepted and a single --id');
      const result = resolveOutbox(projectDir(cmd), {
        ids: ids?.length ? ids : 'all-held',
        as: opts.accepted ? { kind: 'accepted', providerMessageId: opts.messageId ?? null } : { kind: 'resend' },
        now: clockNow(cmd).getTime(),
      });
      if (wantsJson(cmd)) printJson(result);
      else process.stdout.write(humanResolve(result, opts.accepted === true));
      if (ids && result.skipped.length) process.exitCode = 1;
    });

  outbox
    .command('send')
    .description('deliver every message that is due now through the configured providers, then stop')
    .option('--wait <duration>', 'also wait for retries falling due within this time (e.g. 30s, 5m)', '0s')
    .option('--lease <duration>', 'how long a claimed message is held before another dispatcher may take it over', '5m')
    .option('--public-url <url>', "journey serve's public URL, for Twilio status callbacks")
    .option('--max-attempts <n>', 'attempts before a message is dead (never while it is in doubt)', '8')
    .option('--retry-base <duration>', 'the cap of the first retry delay; it doubles with each attempt (full jitter)', '1s')
    .option('--circuit-cool-down <duration>', 'how long a provider that keeps failing is left alone before one probe', '30s')
    .option('--json', 'print one JSON object')
    .action(async (opts: { wait: string; lease: string; publicUrl?: string; maxAttempts: string; retryBase: string; circuitCoolDown: string; json?: boolean }, cmd: Command) => {
      const settleWithinMs = durationMs(opts.wait, '--wait');
      const maxAttempts = positiveInt(opts.maxAttempts, '--max-attempts');
      const retryBaseMs = durationMs(opts.retryBase, '--retry-base');
      const coolDownMs = durationMs(opts.circuitCoolDown, '--circuit-cool-down');
      const leaseMs = durationMs(opts.lease, '--lease');
      if (leaseMs < 1000) throw usageError(`--lease '${opts.lease}' is too short`, 'a lease must outlast a request: use 1s or more');
      const webhookBaseUrl = opts.publicUrl === undefined ? undefined : httpUrl(opts.publicUrl, '--public-url');
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
      try {
        const notices: string[] = [];
        const { report, outcome } = await sendOutbox(projectDir(cmd), process.env, {
          now: shiftedClock(cmd),
          settleWithinMs,
          leaseMs,
          maxAttempts,
          backoff: { baseMs: retryBaseMs },
          breaker: { coolDownMs },
          webhookBaseUrl,
          signal: stop.signal,
          // the verdict is the first line on stderr, so the notices wait for it
          onNotice: (n) => notices.push(humanNotice(n)),
        });
        // as journey run --once: 1 delivery could not run, 3 messages failed, went dead or are held in doubt
        if (outcome.problem) process.stderr.write(`${chalk.red('error')}: ${outcome.problem}\n`);
        for (const line of notices) process.stderr.write(line);
        if (wantsJson(cmd)) printJson({ ...report, outcome });
        else process.stdout.write(humanReport(report));
        process.exitCode = outcome.exitCode;
      } finally {
        process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      }
    });
}

/** --json after the subcommand or before it (`outbox --json send`): commander gives it to the parent, which has one too. */
function wantsJson(cmd: Command): boolean {
  return (cmd.optsWithGlobals() as { json?: boolean }).json === true;
}

/** The real clock, moved to the global --now when given (rows are due by the engine's clock). */
export function shiftedClock(cmd: Command): () => number {
  if (!hasNow(cmd)) return Date.now;
  const offset = clockNow(cmd).getTime() - Date.now();
  return () => Date.now() + offset;
}

function parseStatuses(text: string): OutboxStatus[] {
  const out: OutboxStatus[] = [];
  for (const raw of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const part = STATUS_ALIASES[raw] ?? raw.replace('-', '_');
    if (!(OUTBOX_STATUSES as readonly string[]).includes(part)) throw usageError(`--status '${raw}' is not an outbox status`, `use one or more of ${OUTBOX_STATUSES.join(', ')}`);
    out.push(part as OutboxStatus);
  }
  if (out.length === 0) throw usageError('--status needs at least one status', `use one or more of ${OUTBOX_STATUSES.join(', ')}`);
  return out;
}

export function positiveInt(text: string, flag: string): number {
  return wholeNumberFlag(text, flag, { min: 1, max: Number.MAX_SAFE_INTEGER }, '10');
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function durationMs(text: string, flag: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(text.trim());
  if (!m) throw usageError(`${flag} '${text}' is not a duration`, 'write a number and a unit: 500ms, 30s, 5m, 1h');
  const ms = Number(m[1]) * UNITS[m[2]!]!;
  if (ms > MAX_WAIT_MS) throw usageError(`${flag} '${text}' is too long: at most 24h`, 'write a number and a unit: 500ms, 30s, 5m, 1h');
  return ms;
}

export function httpUrl(text: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`${flag} '${text}' is not a URL`, 'e.g. https://hooks.example-shop.com');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`${flag} '${text}' is not an http(s) URL`);
  if (url.search || url.hash) throw usageError(`${flag} '${text}' must not have a query or fragment`);
  return url.toString().replace(/\/+$/, '');
}

const STATUS_COLOUR: Record<OutboxStatus, (s: string) => string> = {
  queued: chalk.cyan,
  attempting: chalk.blue,
  in_doubt: chalk.yellow,
  accepted: chalk.green,
  failed: chalk.red,
  dead: chalk.magenta,
};

function humanListing(l: OutboxListing): string {
  const counts = (Object.keys(l.counts) as OutboxStatus[]).map((s) => `${STATUS_COLOUR[s](s)} ${l.counts[s].toLocaleString('en-US')}`);
  const lines = [counts.join('  ')];
  if (l.rows.length === 0) {
    lines.push(chalk.dim(`no ${l.statuses.join('/')} messages`));
    return lines.join('\n') + '\n';
  }
  const head = ['id', 'status', 'key', 'channel', 'address', 'template', 'attempts', 'last error'];
  // in doubt since the attempt that left it so: how long the provider has been unable to say
  const since = (r: OutboxListing['rows'][number]) => (r.in_doubt_since === null ? '' : ` since ${new Date(r.in_doubt_since).toISOString().slice(0, 16)}Z`);
  const cells = l.rows.map((r) => [String(r.id), `${r.held ? 'in_doubt (held)' : r.status}${since(r)}`, r.idempotency_key, r.channel, r.address, r.template, String(r.attempts), r.last_error ?? '']);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (i === 7 ? 0 : c[i]!.length))));
  lines.push('', head.map((h, i) => chalk.bold(i === 7 ? h : h.padEnd(widths[i]!))).join('  '));
  for (const c of cells) {
    const status = c[1]!.split(' ')[0] as OutboxStatus;
    lines.push(c.map((v, i) => (i === 1 ? STATUS_COLOUR[status](v.padEnd(widths[i]!)) : i === 7 ? chalk.dim(v) : v.padEnd(widths[i]!))).join('  '));
  }
  return lines.join('\n') + '\n';
}

function humanRetry(r: RetryResult, dead: boolean): string {
  const lines = [`re-queued ${r.requeued.length} ${dead ? 'failed or dead' : 'failed'} message${r.requeued.length === 1 ? '' : 's'}${r.requeued.length ? chalk.dim(` (ids ${compactIds(r.requeued)})`) : ''}`];
  for (const s of r.skipped) {
    const why = s.status === null ? 'no such message' : s.status === 'in_doubt' ? `it is in doubt: the provider may have it (journey outbox resolve --id ${s.id} --accepted or --resend)` : `it is ${s.status}${s.status === 'dead' && !dead ? ' (add --dead)' : ''}`;
    lines.push(`${chalk.yellow('skipped')} id ${s.id}: ${why}`);
  }
  return lines.join('\n') + '\n';
}

function humanResolve(r: ResolveResult, accepted: boolean): string {
  const lines = [`${accepted ? 'recorded as accepted' : 'queued to send again under the same key'}: ${r.resolved.length} message${r.resolved.length === 1 ? '' : 's'}${r.resolved.length ? chalk.dim(` (ids ${compactIds(r.resolved)})`) : ''}`];
  for (const s of r.skipped) lines.push(`${chalk.yellow('skipped')} id ${s.id}: ${s.status === null ? 'no such message' : s.status === 'in_doubt' ? 'a dispatcher is settling it right now' : `it is ${s.status}, not in doubt`}`);
  return lines.join('\n') + '\n';
}

function compactIds(ids: number[]): string {
  return ids.length > 10 ? `${ids.slice(0, 10).join(', ')}, … ${ids.length - 10} more` : ids.join(', ');
}

function humanReport(r: DispatchReport): string {
  const lines = [
    `${chalk.green(`sent ${r.sent}`)}, retried ${r.retried}, ${r.failed ? chalk.red(`failed ${r.failed}`) : 'failed 0'}, ${r.dead ? chalk.magenta(`dead ${r.dead}`) : 'dead 0'}` +
      `${r.deferred ? `, deferred ${r.deferred}` : ''}${r.reclaimed ? `, taken over ${r.reclaimed}` : ''} ${chalk.dim(`in ${(r.durationMs / 1000).toFixed(2)} s, ${r.requests} requests`)}`,
  ];
  if (r.reconciled || r.resent) lines.push(`  in doubt settled: ${r.reconciled} found accepted by the provider, ${r.resent} sent again under the same key`);
  if (r.inDoubt) {
    const waiting = r.inDoubt - r.held;
    lines.push(
      chalk.yellow(`in doubt ${r.inDoubt}`) +
        `: their request may have reached the provider; none is sent again blindly` +
        (waiting ? `; ${waiting} will be checked with the provider by a later journey outbox send` : '') +
        (r.held ? `; ${r.held} held: settle them with journey outbox resolve (journey outbox --status in_doubt lists them)` : ''),
    );
  }
  for (const [name, p] of Object.entries(r.providers)) {
    lines.push(`  ${chalk.bold(name)}: sent ${p.sent}, retried ${p.retried}, failed ${p.failed}, dead ${p.dead}${p.deferred ? `, deferred ${p.deferred}` : ''}${p.inDoubt ? `, in doubt ${p.inDoubt}` : ''}${p.breaker === 'closed' ? '' : chalk.yellow(` (circuit ${p.breaker.replace('_', '-')})`)}`);
  }
  for (const p of r.problems) lines.push(`${chalk.red('error')} provider ${chalk.bold(p.provider)}: ${p.error}; its messages wait`);
  return lines.join('\n') + '\n';
}
