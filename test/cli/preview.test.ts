/**
 * `journey preview` end to end: the built CLI on a small shop with real products and
 * orders. The message is the one the tick would send (the customer's data, a coupon
 * code drawn as the tick draws it, recommendations computed in SQL), the request body
 * is the provider module's own, and the store is left as it was. The --html page is
 * opened in a real headless Chromium (Debian's `chromium`), which must show the
 * customer's name, the code and the products inside the message's frame.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { journeyAt } from '../helpers/spawn.js';
import { smsSegments } from '../../src/content/sms.js';
import { Shop, journey } from '../engine/helpers/shop.js';

const NOW = '2026-03-02T12:00:00Z';
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p)) ?? null;

let shop: Shop | undefined;
afterEach(() => {
  shop?.close();
  shop = undefined;
});

// a preview needs no provider secret: its request body carries none
const cli = (dir: string, ...args: string[]) => journeyAt(dir, NOW, args, { unset: ['SENDGRID_API_KEY', 'TWILIO_AUTH_TOKEN'] });

const J = journey('thanks', `
trigger: { event: order_placed }
steps:
  - id: thank_you
    send: { channel: email, template: thanks, coupon: ten, recommendations: { strategy: related, count: 2 } }
  - id: remind
    send: { channel: sms, template: remind-sms, coupon: ten }
`);

const TEMPLATES = {
  'thanks.liquid': `---
channel: email
subject: "Thank you, {{ customer.first_name | default: 'friend' }}"
preheader: A code for your next order
---
<html><body><p>Hello {{ customer.first_name | default: "there" }},</p>
<p>{{ coupon.discount }} off with <b class="code">{{ coupon.code }}</b>.</p>
<ul>{% for p in recommendations %}<li class="product">{{ p.title }} {{ p.price | money }}</li>{% endfor %}</ul></body></html>
`,
  'remind-sms.liquid': `---
channel: sms
---
Žofie's shop: {{ customer.first_name | default: "hi" }}, your code {{ coupon.code }} gives {{ coupon.discount }} off your next order. Reply STOP to opt out.
`,
};

async function setUp(): Promise<Shop> {
  const s = await Shop.create({
    journeys: { thanks: J },
    templateFiles: TEMPLATES,
    customers: ['ann,ann@shop.test,+420601000001,Annabel,2025-01-01T00:00:00Z,,yes,yes', 'bob,bob@shop.test,+420601000002,Bob,2025-01-01T00:00:00Z,,yes,yes'],
  });
  const day = 86_400_000;
  const now = Date.parse(NOW);
  for (const [id, title] of [['A', 'Blue Mug'], ['B', 'Green Saucer'], ['C', 'Teapot Deluxe']] as const) {
    s.db.run(`INSERT INTO products (id, title, category, price, currency, created_at, attributes) VALUES (?, ?, 'kitchen', 12.5, 'EUR', ?, '{}')`, [id, title, now - 100 * day]);
  }
  // bob bought A with B and with C: ann's order of A makes B and C her related products
  const orders: [string, string, string[]][] = [['o1', 'bob', ['A', 'B']], ['o2', 'bob', ['A', 'C']], ['o3', 'ann', ['A']]];
  orders.forEach(([id, customer, items], i) => {
    s.db.run(`INSERT INTO orders (id, customer_id, placed_at, status, total, currency) VALUES (?, ?, ?, 'delivered', 25, 'EUR')`, [id, customer, now - (5 - i) * day]);
    items.forEach((p, line) => s.db.run(`INSERT INTO order_items (order_id, line, product_id, quantity, price) VALUES (?, ?, ?, 1, 12.5)`, [id, line + 1, p]));
  });
  return s;
}

const counts = (s: Shop) => s.db.get<{ e: number; o: number; c: number }>(`SELECT (SELECT count(*) FROM enrolments) AS e, (SELECT count(*) FROM outbox_messages) AS o, (SELECT count(*) FROM coupon_codes) AS c`)!;

describe('journey preview', () => {
  it("prints the message as the tick would send it and SendGrid's request body, writing nothing", async () => {
    shop = await setUp();
    const before = counts(shop);
    const r = await cli(shop.dir, 'preview', 'thanks', 'thank_you', '--customer', 'ann', '--json');
    expect(r.status, r.stderr).toBe(0);
    const p = JSON.parse(r.stdout);
    expect(p.content.subject).toBe('Thank you, Annabel');
    expect(p.coupon).toMatch(/^TEN-[A-Z0-9]{8}$/);
    expect(p.content.html).toContain(p.coupon);
    expect(p.recommendations.map((x: { title: string }) => x.title).sort()).toEqual(['Green Saucer', 'Teapot Deluxe']);
    expect(p.content.text).toContain('Green Saucer');
    expect(p.order).toBe('o3');
    // SendGrid's v3 Mail Send body, as the provider module writes it, to the masked address
    expect(p.request.url).toBe('https://api.sendgrid.com/v3/mail/send');
    const body = JSON.parse(p.request.body);
    expect(body.subject).toBe('Thank you, Annabel');
    expect(body.personalizations[0].to[0].email).toBe('a**@shop.test');
    expect(body.content.map((c: { type: string }) => c.type)).toEqual(['text/plain', 'text/html']);
    expect(body.content[1].value).toBe(p.content.html);
    // the preheader opens the HTML (where an inbox takes its preview from), not the text part
    expect(body.content[1].value).toMatch(/^<html><body><div style="display:none[^"]*" aria-hidden="true">A code for your next order\u034f\u200c\u00a0/);
    expect(body.content[0].value).not.toContain('A code for your next order');
    expect(r.stdout).not.toContain('ann@shop.test');
    expect(p.unreachable).toBeNull();
    // rolled back: no enrolment, message or code left behind
    expect(counts(shop)).toEqual(before);
  });

  it('a customer the step would skip (no consent on the channel): shown, with a warning first that the step skips them', async () => {
    shop = await setUp();
    // ann withdraws her SMS consent (as the shop's next export says)
    await shop.customers(['ann,ann@shop.test,+420601000001,Annabel,2025-01-01T00:00:00Z,,yes,no'], '2026-02-01T00:00:00Z');
    const r = await cli(shop.dir, 'preview', 'thanks', 'remind', '--customer', 'ann', '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr.split('\n')[0]).toBe("warning: customer 'ann' cannot be reached by sms now (no consent, no valid address, or suppressed): the step would skip them (not_reachable:sms)");
    expect(JSON.parse(r.stdout).unreachable).toContain('not_reachable:sms');
    const page = path.join(shop.dir, 'remind.html');
    const human = await cli(shop.dir, 'preview', 'thanks', 'remind', '--customer', 'ann', '--html', page);
    expect(human.stdout).toContain('not sent    the step skips this customer now (not_reachable:sms)');
    // the page holds the customer's name, order and links: readable by the owner only, as the store is
    expect(statSync(page).mode & 0o777).toBe(0o600);
    // on the channel it has consent for, no warning
    const mail = await cli(shop.dir, 'preview', 'thanks', 'thank_you', '--customer', 'ann');
    expect(mail.stderr).toBe('');
  });

  it("an SMS step: the body, its GSM-7 / UCS-2 part count, and Twilio's form body", async () => {
    shop = await setUp();
    const r = await cli(shop.dir, '--show-pii', 'preview', 'thanks', 'remind', '--customer', 'ann', '--json');
    expect(r.status, r.stderr).toBe(0);
    const p = JSON.parse(r.stdout);
    expect(p.content.body).toBe(`Žofie's shop: Annabel, your code ${p.coupon} gives 10% off your next order. Reply STOP to opt out.`);
    // Ž is not in GSM 03.38: the whole message goes as UCS-2, over 70 units: in parts of 67
    expect(p.content.body.length).toBeGreaterThan(70);
    expect(p.sms).toEqual({ encoding: 'UCS-2', units: p.content.body.length, segments: 2 });
    expect(p.sms).toEqual(smsSegments(p.content.body));
    const form = new URLSearchParams(p.request.body);
    expect(p.request.contentType).toBe('application/x-www-form-urlencoded');
    expect(form.get('To')).toBe('+420601000001');
    expect(form.get('Body')).toBe(p.content.body);
    const human = await cli(shop.dir, 'preview', 'thanks', 'remind', '--customer', 'ann');
    expect(human.stdout).toContain(`(UCS-2, ${p.content.body.length} UTF-16 units: 2 SMS parts)`);
    expect(human.stdout).not.toContain('+420601000001');
  });

  it('bad input: an unknown step, customer or variant is an error naming what exists (exit 1)', async () => {
    shop = await setUp();
    const step = await cli(shop.dir, 'preview', 'thanks', 'thank_yuo', '--customer', 'ann');
    expect(step.status).toBe(1);
    expect(step.stderr).toContain("no send step 'thank_yuo'");
    expect(step.stderr).toContain('thank_you, remind');
    const customer = await cli(shop.dir, 'preview', 'thanks', 'thank_you', '--customer', 'zed');
    expect(customer.status).toBe(1);
    expect(customer.stderr).toContain("no customer 'zed'");
    const variant = await cli(shop.dir, 'preview', 'thanks', 'thank_you', '--customer', 'ann', '--variant', 'b');
    expect(variant.status).toBe(1);
    expect(variant.stderr).toContain("no split variant 'b'");
  });

  it.skipIf(!CHROMIUM)('--html writes a page that a real browser shows with the name, the code and the products', async () => {
    shop = await setUp();
    const page = path.join(shop.dir, 'preview.html');
    const r = await cli(shop.dir, 'preview', 'thanks', 'thank_you', '--customer', 'ann', '--html', page, '--json');
    expect(r.status, r.stderr).toBe(0);
    const p = JSON.parse(r.stdout);
    const shown = await renderedText(page);
    // the message's own frame, as the browser laid it out
    expect(shown.frame).toContain('Hello Annabel,');
    expect(shown.frame).toContain(`10% off with ${p.coupon}.`);
    expect(shown.frame).toContain('Green Saucer');
    expect(shown.frame).toContain('Teapot Deluxe');
    // an inbox's preview reads the body's first text: the preheader, which the message itself does not show
    expect(shown.frameStart).toBe('A code for your next order');
    expect(shown.frame).not.toContain('A code for your next order');
    expect(shown.page).toContain('Thank you, Annabel');
    expect(shown.screenshot.subarray(1, 4).toString()).toBe('PNG');
    expect(readFileSync(page, 'utf8')).not.toContain('ann@shop.test');
  });
  if (!CHROMIUM) it.skip('--html in a real browser: chromium is not installed (apt-get install -y chromium)', () => {});
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Opens the page in headless Chromium and reads, over the DevTools protocol, the text
 * the browser shows: the page's and the message frame's (innerText, after layout), and
 * a screenshot.
 */
async function renderedText(file: string): Promise<{ page: string; frame: string; frameStart: string; screenshot: Buffer }> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'journey-chromium-'));
  const port = await freePort();
  const browser = spawn(CHROMIUM!, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run',
    `--user-data-dir=${profile}`, `--remote-debugging-port=${port}`, '--remote-allow-origins=*', '--allow-file-access-from-files', 'about:blank',
  ], { stdio: 'ignore', detached: true }); // a process group of its own: its helpers (zygote, crashpad) are killed with it
  try {
    let target: { webSocketDebuggerUrl: string } | undefined;
    for (let i = 0; i < 100 && !target; i++) {
      try {
        const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { type: string; webSocketDebuggerUrl: string }[];
        target = list.find((t) => t.type === 'page');
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    if (!target) throw new Error('chromium did not start');
    const ws = new WebSocket(target.webSocketDebuggerUrl);
    await new Promise((resolve, reject) => {
      ws.addEventListener('open', resolve);
      ws.addEventListener('error', reject);
    });
    let id = 0;
    const pending = new Map<number, (v: { result?: Record<string, unknown>; error?: unknown }) => void>();
    const events: string[] = [];
    ws.addEventListener('message', (e) => {
      const m = JSON.parse(String(e.data)) as { id?: number; method?: string };
      if (m.id !== undefined) pending.get(m.id)?.(m);
      else if (m.method) events.push(m.method);
    });
    const send = (method: string, params: Record<string, unknown> = {}) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const n = ++id;
        pending.set(n, (m) => (m.error ? reject(new Error(JSON.stringify(m.error))) : resolve(m.result ?? {})));
        ws.send(JSON.stringify({ id: n, method, params }));
      });
    await send('Page.enable');
    await send('Page.navigate', { url: `file://${file}` });
    for (let i = 0; i < 100 && !events.includes('Page.loadEventFired'); i++) await new Promise((r) => setTimeout(r, 50));
    const text = async (expression: string) => ((await send('Runtime.evaluate', { expression, returnByValue: true })).result as { value: string }).value;
    const page = await text('document.body.innerText');
    const frame = await text(`document.getElementById('html-part').contentDocument.body.innerText`);
    // the body's first words as text, shown or not, up to the invisible filler an inbox shows as nothing
    const frameStart = await text(`document.getElementById('html-part').contentDocument.body.textContent.split(/[\\u034f\\u200c\\u00a0\\n]/)[0].trim()`);
    const shot = (await send('Page.captureScreenshot', { format: 'png' })) as { data: string };
    ws.close();
    return { page, frame, frameStart, screenshot: Buffer.from(shot.data, 'base64') };
  } finally {
    const exited = new Promise((r) => browser.once('exit', r));
    try {
      process.kill(-browser.pid!, 'SIGKILL');
    } catch {
      // gone already
    }
    await exited;
    // a helper may still be closing its files in the profile for a moment (ENOTEMPTY)
    rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
  }
}
