import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { setShowPii } from '../../src/pii.js';
import { createProvider } from '../../src/delivery/providers/index.js';
import { config, emailMessage, smsMessage } from './helpers/fixtures.js';

describe('console and file providers', () => {
  it('console prints one line per message to the given stream', async () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (c: Buffer) => (text += c.toString()));
    const provider = createProvider(config('console', {}, 'dev'), {}, { stdout: stream });
    const a = await provider.send(emailMessage());
    const b = await provider.send(smsMessage());
    await provider.sync!({ idempotencyKey: 's1', customer: { id: 'c1', email: null, phone: null }, event: { name: 'Vip', properties: {} } });
    expect(a.kind).toBe('sent');
    expect(a).not.toEqual(b);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    // the address masked, as in all output unless --show-pii
    expect(lines[0]).toMatch(/^\[dev\] email → ja\*\*@example\.test: template d-0001thankyou .*outbox-42-thank-you/);
    expect(lines[1]).toMatch(/"Jana, your code SECOND-AB12 ends soon"/);
    expect(lines[2]).toMatch(/sync c1: event Vip/);
  });

  it('console shows the whole address with --show-pii', async () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (c: Buffer) => (text += c.toString()));
    const provider = createProvider(config('console', {}, 'dev'), {}, { stdout: stream });
    setShowPii(true);
    try {
      await provider.send(emailMessage());
    } finally {
      setShowPii(false);
    }
    expect(text).toMatch(/^\[dev\] email → jana@example\.test: /);
  });

  it('file appends one JSON line per message, also under concurrency', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'journey-file-'));
    const provider = createProvider(config('file', { path: 'out/messages.jsonl' }), {}, { baseDir: dir });
    const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => provider.send(emailMessage({ idempotencyKey: `k${i}` }))));
    await provider.close();
    expect(outcomes.every((o) => o.kind === 'sent')).toBe(true);
    const lines = readFileSync(join(dir, 'out/messages.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(50);
    expect(new Set(lines.map((l) => l.idempotencyKey)).size).toBe(50);
    expect(lines[0]).toMatchObject({ type: 'message', provider: 'file', channel: 'email', to: 'jana@example.test' });
    expect(new Set(lines.map((l) => l.id))).toEqual(new Set(outcomes.map((o) => (o as { providerMessageId: string }).providerMessageId)));
  });
});
