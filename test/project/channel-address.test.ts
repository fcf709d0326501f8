/**
 * The address a channel sends to follows the kind of channel, declared or inferred:
 * a channel called email on a console, file or webhook provider reads the e-mail
 * address, never the phone number; one whose name says nothing must declare it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadProject } from '../../src/project/load-project.js';
import { compileOptionsFor } from '../../src/segments/options.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function projectWith(config: string, journeys: Record<string, string> = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'journey-channel-address-'));
  dirs.push(dir);
  mkdirSync(path.join(dir, 'journeys'));
  writeFileSync(path.join(dir, 'journey.config.yaml'), `version: 1\n${config}`);
  for (const [name, text] of Object.entries(journeys)) writeFileSync(path.join(dir, 'journeys', name), text);
  const loaded = loadProject(dir, dir);
  // (the providers' ${VAR}s are unset here: that warning is not what these tests are about)
  return { ...loaded, diagnostics: loaded.diagnostics.filter((d) => d.code !== 'unset-env') };
}

describe('the address a channel sends to', () => {
  it('on a console, file or webhook provider, follows the channel name: email reads the e-mail, sms the phone', () => {
    const { project, diagnostics } = projectWith(`providers:
  dev: { type: console }
  out: { type: file, path: out.jsonl }
  hook: { type: webhook, url: "https://hooks.shop.test/x" }
channels:
  email: { provider: dev }
  sms: { provider: dev }
  work-email: { provider: out }
  whatsapp: { provider: hook }
`);
    expect(diagnostics).toEqual([]);
    const address = compileOptionsFor(project, new Date()).channelAddress;
    expect(address('email')).toBe('email');
    expect(address('work-email')).toBe('email');
    expect(address('sms')).toBe('phone');
    expect(address('whatsapp')).toBe('phone');
  });

  it('follows the provider when it delivers one kind only, and a declared address wins', () => {
    const { project, diagnostics } = projectWith(`providers:
  sg: { type: sendgrid, api_key: "\${SENDGRID_API_KEY}", from: a@shop.test }
  tw: { type: twilio, account_sid: AC00000000000000000000000000000000, auth_token: "\${TWILIO_AUTH_TOKEN}", from: "+420700000000" }
  hook: { type: webhook, url: "https://hooks.shop.test/x" }
channels:
  news: { provider: sg }
  alerts: { provider: tw }
  push: { provider: hook, address: attributes.push_token }
`);
    expect(diagnostics).toEqual([]);
    const address = compileOptionsFor(project, new Date()).channelAddress;
    expect(address('news')).toBe('email');
    expect(address('alerts')).toBe('phone');
    expect(address('push')).toBe('attributes.push_token');
  });

  it('is an error, not a guess, when neither the provider, the name nor address: says', () => {
    const { diagnostics } = projectWith(`providers:
  hook: { type: webhook, url: "https://hooks.shop.test/x" }
channels:
  push: { provider: hook }
`);
    expect(diagnostics.map((d) => [d.code, d.line, d.hint])).toEqual([['channel-address', 5, 'add address: email, phone or attributes.<name>']]);
  });

  it('a send step that overrides the provider with one for the other kind of address is an error', () => {
    const { diagnostics } = projectWith(`providers:
  sg: { type: sendgrid, api_key: "\${SENDGRID_API_KEY}", from: a@shop.test }
  tw: { type: twilio, account_sid: AC00000000000000000000000000000000, auth_token: "\${TWILIO_AUTH_TOKEN}", from: "+420700000000" }
channels:
  email: { provider: sg }
templates:
  hi: { channel: email, subject: Hi, body: Hello }
`,
      { 'x.yaml': 'id: x\ntrigger: { event: order_placed }\nsteps:\n  - id: hi\n    send: { channel: email, template: hi, provider: tw }\n' },
    );
    expect(diagnostics.map((d) => [d.file, d.code, d.line, d.message])).toEqual([
      [path.join('journeys', 'x.yaml'), 'channel-address', 5, "provider 'tw' (twilio) sends to the phone number, but channel 'email' reads the e-mail address"],
    ]);
  });
});
