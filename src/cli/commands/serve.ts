import { Command } from 'commander';
import { serveWebhooks } from '../../delivery/outbox-admin.js';
import type { RequestRecord, WebhookServer } from '../../delivery/serve.js';
import { chalk } from '../output.js';
import { projectDir } from '../project-option.js';
import { httpUrl } from './outbox.js';
import { wholeNumberFlag } from '../flags.js';

/** The largest webhook body serve takes in: it is held in memory to check its signature. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('receive delivery webhooks (SendGrid, Postmark, Mailgun, Twilio) at POST /webhooks/<provider> until stopped')
    .option('--port <port>', 'the port to listen on (0: any free one)', '8787')
    .option('--host <host>', 'the interface to listen on', '127.0.0.1')
    .option('--public-url <url>', 'the base URL providers call, as they sign it (default http://<host>:<port>)')
    .option('--max-body <bytes>', 'refuse bodies larger than this with 413', String(1024 * 1024))
    .option('--json', 'log one JSON object per line')
    .action(async (opts: { port: string; host: string; publicUrl?: string; maxBody: string; json?: boolean }, cmd: Command) => {
      const port = wholeNumberFlag(opts.port, '--port', { min: 0, max: 65535 }, '8787');
      const publicUrl = opts.publicUrl === undefined ? undefined : httpUrl(opts.publicUrl, '--public-url');
      const maxBodyBytes = wholeNumberFlag(opts.maxBody, '--max-body', { min: 1, max: MAX_BODY_BYTES }, '1048576');
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
      const log = (value: object, human: string) => process.stdout.write(opts.json ? `${JSON.stringify({ at: new Date().toISOString(), ...value })}\n` : `${human}\n`);
      try {
        await serveWebhooks(projectDir(cmd), process.env, {
          port,
          host: opts.host,
          publicUrl,
          maxBodyBytes,
          signal: stop.signal,
          onStart: (s) => log({ kind: 'listening', url: s.url, routes: s.routes, disabled: s.disabled }, humanStart(s, publicUrl)),
          onRequest: (r) => log(r, humanRequest(r)),
        });
        log({ kind: 'stopped' }, chalk.dim('stopped'));
      } finally {
        process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      }
    });
}

function humanStart(s: WebhookServer, publicUrl: string | undefined): string {
  const lines = [`listening on ${chalk.bold(s.url)}${publicUrl ? chalk.dim(` (public ${publicUrl})`) : ''}`, `  GET  /health`];
  for (const r of s.routes) lines.push(`  POST /webhooks/${r.provider} ${chalk.dim(`(${r.type})`)}`);
  for (const d of s.disabled) lines.push(chalk.dim(`  no route for ${d.provider}: ${d.reason}`));
  if (s.routes.length === 0) lines.push(chalk.yellow('  no provider with delivery webhooks is configured'));
  return lines.join('\n');
}

function humanRequest(r: RequestRecord): string {
  switch (r.kind) {
    case 'stored': {
      const s = r.stored;
      const extra = [s.duplicates ? `${s.duplicates} already stored` : '', s.unmatched ? `${s.unmatched} unmatched` : '', s.suppressed ? `${s.suppressed} suppressed` : ''].filter(Boolean).join(', ');
      return `${chalk.green('200')} ${r.provider}: ${r.events} event${r.events === 1 ? '' : 's'}, ${s.stored} stored${extra ? `, ${extra}` : ''} ${chalk.dim(`(${r.ms.toFixed(1)} ms)`)}`;
    }
    case 'refused':
      return `${chalk.yellow(String(r.status))} ${r.provider ?? '?'}: ${r.reason}: ${r.message}`;
    case 'error':
      return `${chalk.red('500')} ${r.provider}: ${r.message}`;
    default:
      return unexpected(r);
  }
}

function unexpected(value: never): never {
  throw new Error(`unexpected record ${JSON.stringify(value)}`);
}
