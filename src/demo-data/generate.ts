import { appendFileSync, closeSync, mkdirSync, openSync, readSync, rmSync } from 'node:fs';
import path from 'node:path';
import { buildCatalog, drawFromCategory, type Catalog } from './catalog.js';
import { CsvFile } from './csv-file.js';
import { statusAt, statusTimeline, type StatusTimeline } from './order-life.js';
import { Rng, Weighted } from './prng.js';
import { ACQUISITION, asciiSlug, COUNTRIES, countryPicker, HOUR_WEIGHT, MONTH_WEIGHT, zonePicker } from './world.js';

export interface DemoDataOptions {
  readonly customers: number;
  readonly seed: string | number;
  readonly outDir: string;
  /** The shop's "today": the main files hold what happened up to it, and the output does not depend on the real date. */
  readonly now: number;
  /**
   * How long after `now` the shop keeps trading, in ms: new registrations, orders and
   * their status changes in that period go to <outDir>/future/ (what `journey simulate`
   * replays). 0 or absent: no future files.
   */
  readonly future?: number;
}

export interface DemoDataResult {
  readonly outDir: string;
  /** File names relative to outDir (the future ones under future/). */
  readonly files: { file: string; rows: number }[];
  readonly seconds: number;
}

export const DEFAULT_DEMO_NOW = Date.UTC(2026, 0, 1);
export const FUTURE_DIR = 'future';
const DAY = 86_400_000;
const HOUR = 3_600_000;
const YEARS_OF_HISTORY = 3;
const CURRENCY = 'EUR';

const CUSTOMER_COLUMNS = ['id', 'email', 'phone', 'first_name', 'last_name', 'registered_at', 'timezone', 'locale', 'country', 'city',
  'consent_email', 'consent_sms', 'consent_whatsapp', 'attributes.acquisition_channel'];
const ORDER_COLUMNS = ['id', 'customer_id', 'placed_at', 'status', 'status_changed_at', 'total', 'currency'];
const ITEM_COLUMNS = ['order_id', 'line', 'product_id', 'sku', 'title', 'quantity', 'price'];
const PRODUCT_COLUMNS = ['id', 'sku', 'title', 'category', 'price', 'currency', 'url', 'image_url', 'created_at'];
const EVENT_COLUMNS = ['id', 'customer_id', 'type', 'occurred_at', 'properties'];
const SUPPRESSION_COLUMNS = ['channel', 'address', 'reason', 'created_at'];

/** Monthly newsletters over the last year; opens and clicks are the engagement events. */
const CAMPAIGNS = 12;

/**
 * How often customers order after today, per day. Someone who never bought may still
 * start (about 1.5% a month); a one-time buyer comes back now and then (about 2.4% a
 * month); a repeat buyer keeps the pace of their history, at most weekly. On top of
 * that, whoever ordered lately is likelier to order again: a boost that fades fast
 * (15 days) and a smaller one that fades slowly (120 days), so that about one
 * first-time buyer in seven orders again within 30 days and a customer who last
 * bought two months ago is still likelier to than one who bought a year ago. The
 * seasons scale it all.
 */
const NEVER_RATE = 0.0005;
const ONCE_RATE = 0.0008;
const WEEKLY = 1 / 7;
const BOOSTS = [[0.006, 15], [0.002, 120]] as const;
const BOOST = BOOSTS.reduce((s, [b]) => s + b, 0);
const MEAN_MONTH_WEIGHT = MONTH_WEIGHT.reduce((s, w) => s + w, 0) / MONTH_WEIGHT.length;
const MAX_MONTH_WEIGHT = Math.max(...MONTH_WEIGHT);

const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19) + 'Z';
const money = (n: number) => Math.round(n * 100) / 100;
const customerId = (n: number) => `c${String(n).padStart(7, '0')}`;

/**
 * Writes a realistic shop as CSV files `journey import` reads with no flags:
 * customers.csv (with per-channel consent columns), products.csv, orders.csv,
 * order_items.csv, events.csv, suppressions.csv, as they are at `now` (an order's row
 * is its status then). With `future`, the shop keeps trading after `now` in
 * future/customers.csv, future/orders.csv (each order's status changes, one row per
 * change, earlier changes first) and future/order_items.csv. One customer at a time,
 * so memory stays flat at any size (the future keeps a few numbers per customer);
 * the same seed, `now` and `future` give the same bytes, and the files up to `now`
 * are the same whatever `future` is.
 */
export function generateDemoData(options: DemoDataOptions): DemoDataResult {
  const started = performance.now();
  const rng = new Rng(options.seed);
  const start = options.now - YEARS_OF_HISTORY * 365 * DAY;
  mkdirSync(options.outDir, { recursive: true });
  const out = (name: string, columns: readonly string[]) => new CsvFile(path.join(options.outDir, name), columns);

  const catalog = buildCatalog(rng, Math.max(120, Math.min(5000, Math.round(options.customers / 400))), start - 200 * DAY);
  const productsFile = out('products.csv', PRODUCT_COLUMNS);
  for (const p of catalog.products) {
    const slug = asciiSlug(p.title) + '-' + p.id;
    productsFile.row([p.id, p.sku, p.title, p.category, p.price, CURRENCY, `https://shop.example.com/products/${slug}`, `https://shop.example.com/images/${p.id}.jpg`, iso(p.createdAt)]);
  }
  productsFile.close();

  const files = {
    customers: out('customers.csv', CUSTOMER_COLUMNS),
    orders: out('orders.csv', ORDER_COLUMNS),
    items: out('order_items.csv', ITEM_COLUMNS),
    events: out('events.csv', EVENT_COLUMNS),
    suppressions: out('suppressions.csv', SUPPRESSION_COLUMNS),
  };
  const futureMs = options.future ?? 0;
  const future = futureMs > 0 ? new FutureFiles(path.join(options.outDir, FUTURE_DIR), options.now, options.now + futureMs) : null;
  const shop = new ShopWriter(rng, catalog, files, start, options.now, future, options.customers);
  for (let i = 1; i <= options.customers; i++) shop.customer(i);
  for (const f of Object.values(files)) f.close();
  const written = [productsFile, ...Object.values(files)].map((f) => ({ file: path.basename(f.file), rows: f.rows }));
  if (future) {
    // a stream of its own: the files up to today do not depend on how far the future goes
    shop.trade(new Rng(`${options.seed}:future`), future);
    written.push(...future.close().map((f) => ({ file: `${FUTURE_DIR}/${f.file}`, rows: f.rows })));
  }

  return { outDir: options.outDir, files: written, seconds: (performance.now() - started) / 1000 };
}

/**
 * What happens after today. The importer applies a file that lists an order twice in
 * file order, so orders.csv is written in rounds: the first change after today of
 * every order, then every second change, and so on (each round lists an order once).
 */
class FutureFiles {
  readonly customers: CsvFile;
  readonly items: CsvFile;
  private readonly rounds: CsvFile[] = [];

  constructor(
    readonly dir: string,
    readonly from: number,
    readonly until: number,
  ) {
    mkdirSync(dir, { recursive: true });
    this.customers = new CsvFile(path.join(dir, 'customers.csv'), CUSTOMER_COLUMNS);
    this.items = new CsvFile(path.join(dir, 'order_items.csv'), ITEM_COLUMNS);
  }

  /** The order's status changes after `from` and up to `until`, each in its round. */
  statusChanges(row: (status: string, at: number) => (string | number | null)[], timeline: StatusTimeline): void {
    let round = 0;
    for (const [status, at] of timeline) {
      if (at <= this.from) continue;
      if (at > this.until) break;
      this.round(round++).row(row(status, at));
    }
  }

  private round(i: number): CsvFile {
    while (this.rounds.length <= i) {
      const n = this.rounds.length;
      this.rounds.push(new CsvFile(path.join(this.dir, n === 0 ? 'orders.csv' : `.orders-round-${n + 1}.csv`), ORDER_COLUMNS));
    }
    return this.rounds[i]!;
  }

  close(): { file: string; rows: number }[] {
    this.customers.close();
    this.items.close();
    const orders = this.round(0);
    for (const f of this.rounds) f.close();
    let rows = orders.rows;
    for (const f of this.rounds.slice(1)) {
      appendFileSync(orders.file, withoutHeader(f.file));
      rows += f.rows;
      rmSync(f.file);
    }
    return [
      { file: 'customers.csv', rows: this.customers.rows },
      { file: 'orders.csv', rows },
      { file: 'order_items.csv', rows: this.items.rows },
    ];
  }
}

function withoutHeader(file: string): Buffer {
  const fd = openSync(file, 'r');
  try {
    const chunks: Buffer[] = [];
    const buf = Buffer.alloc(1 << 16);
    for (let n; (n = readSync(fd, buf)) > 0; ) chunks.push(Buffer.from(buf.subarray(0, n)));
    const all = Buffer.concat(chunks);
    return all.subarray(all.indexOf(10) + 1);
  } finally {
    closeSync(fd);
  }
}

const zonePickers = new Map(COUNTRIES.map(([c]) => [c.code, zonePicker(c)]));
const CATEGORY_AFFINITY = 0.6;
const ITEM_COUNT = new Weighted([[1, 60], [2, 24], [3, 10], [4, 4], [5, 1.5], [6, 0.5]] as const);
const QUANTITY = new Weighted([[1, 85], [2, 10], [3, 4], [6, 1]] as const);

/** What the future needs to know of a customer written up to today. */
interface Buyer {
  readonly id: string;
  readonly utcOffset: number;
  readonly favourite: string;
  /** Orders per day, before the boost and the seasons. */
  readonly rate: number;
  /** The last order up to today, or NaN. */
  readonly lastAt: number;
  /** A first order that falls after today, or NaN. */
  readonly firstAt: number;
}

class ShopWriter {
  private orderSeq = 0;
  private eventSeq = 0;
  /** Per customer written up to today, for the future: offset, favourite, rate, last order, first order after today. */
  private readonly state: { offset: Int8Array; favourite: Uint8Array; rate: Float64Array; lastAt: Float64Array; firstAt: Float64Array } | null;

  constructor(
    private readonly rng: Rng,
    private readonly catalog: Catalog,
    private readonly files: Record<'customers' | 'orders' | 'items' | 'events' | 'suppressions', CsvFile>,
    private readonly start: number,
    private readonly now: number,
    private readonly future: FutureFiles | null,
    private readonly count: number,
  ) {
    this.state = future
      ? { offset: new Int8Array(count), favourite: new Uint8Array(count), rate: new Float64Array(count), lastAt: new Float64Array(count), firstAt: new Float64Array(count) }
      : null;
  }

  /** Customer n, registered up to today, with everything they did up to today. */
  customer(n: number): void {
    const { rng } = this;
    // more sign-ups lately: a growing shop
    const registeredAt = this.start + Math.floor(Math.sqrt(rng.next()) * (this.now - this.start - DAY));
    const profile = this.profile(rng, n, registeredAt, this.files.customers);
    const buyer = this.orders(rng, profile.id, registeredAt, profile.utcOffset);
    if (profile.email && profile.consentEmail === 'yes') this.engagement(profile.id, profile.email, registeredAt);
    if (this.state) {
      const i = n - 1;
      this.state.offset[i] = buyer.utcOffset;
      this.state.favourite[i] = this.catalog.categories.indexOf(buyer.favourite);
      this.state.rate[i] = buyer.rate;
      this.state.lastAt[i] = buyer.lastAt;
      this.state.firstAt[i] = buyer.firstAt;
    }
  }

  /**
   * The shop after today: the customers written so far keep buying, and new ones
   * register at the pace the shop was growing at (registrations follow the same
   * curve), with their first orders soon after.
   */
  trade(rng: Rng, future: FutureFiles): void {
    const state = this.state!;
    for (let i = 0; i < this.count; i++) {
      this.buy(rng, {
        id: customerId(i + 1),
        utcOffset: state.offset[i]!,
        favourite: this.catalog.categories[state.favourite[i]!]!,
        rate: state.rate[i]!,
        lastAt: state.lastAt[i]!,
        firstAt: state.firstAt[i]!,
      });
    }
    // registrations so far: count(x) = N (x / T)^2 for x since the start, T the span up to today
    const span = this.now - this.start - DAY;
    const [x0, x1] = [this.now - this.start, future.until - this.start];
    const newcomers = Math.round((this.count * (x1 * x1 - x0 * x0)) / (span * span));
    const times = Array.from({ length: newcomers }, () => rng.next()).sort((a, b) => a - b)
      .map((u) => this.start + Math.floor(Math.sqrt(x0 * x0 + u * (x1 * x1 - x0 * x0))));
    times.forEach((registeredAt, k) => {
      const profile = this.profile(rng, this.count + k + 1, registeredAt, future.customers);
      this.buy(rng, this.buyer(rng, profile.id, registeredAt, profile.utcOffset));
    });
  }

  private profile(rng: Rng, n: number, registeredAt: number, file: CsvFile) {
    const id = customerId(n);
    const country = countryPicker.draw(rng);
    const [timezone, utcOffset] = zonePickers.get(country.code)!.draw(rng);
    const first = rng.pick(country.firstNames);
    const last = rng.pick(country.lastNames);
    const hasEmail = rng.chance(0.97);
    const email = hasEmail ? `${asciiSlug(first)}.${asciiSlug(last)}.${n}@example.${rng.pick(['com', 'org', 'net'])}` : null;
    const hasPhone = rng.chance(0.68);
    const phone = hasPhone ? country.phonePrefix + String(rng.int(1_000_000)).padStart(6, '0') : null;
    const consentEmail = !hasEmail ? null : rng.chance(0.62) ? 'yes' : rng.chance(0.6) ? 'no' : null;
    const consentSms = !hasPhone ? null : rng.chance(0.28) ? 'yes' : rng.chance(0.5) ? 'no' : null;
    const consentWhatsapp = hasPhone && rng.chance(country.whatsapp) ? 'yes' : null;
    file.row([id, email, phone, first, last, iso(registeredAt), timezone, rng.pick(country.locales), country.code,
      rng.pick(country.cities), consentEmail, consentSms, consentWhatsapp, ACQUISITION.draw(rng)]);
    return { id, email, consentEmail, utcOffset };
  }

  /** Most buy once, some never, a long tail often (a Lomax tail: about 5 orders per customer). */
  private orderCount(rng: Rng): number {
    const u = rng.next();
    if (u < 0.18) return 0;
    if (u < 0.68) return 1;
    return Math.min(400, 2 + Math.floor((1 / Math.pow(1 - rng.next(), 1 / 1.6) - 1) * 14));
  }

  /** Who a customer is as a buyer: how many orders they were drawn to place, their first one soon after signing up. */
  private buyer(rng: Rng, id: string, registeredAt: number, utcOffset: number): Buyer & { drawn: number } {
    const drawn = this.orderCount(rng);
    const favourite = rng.pick(this.catalog.categories);
    const firstAt = Math.floor((registeredAt + rng.exponential(6 * DAY)) / 1000) * 1000;
    // a repeat buyer's pace: their orders over their time as a customer, a year at least
    const rate = drawn === 0 ? NEVER_RATE : drawn === 1 ? ONCE_RATE : Math.min(WEEKLY, (drawn - 1) / (Math.max(this.now - firstAt, 365 * DAY) / DAY));
    return { id, utcOffset, favourite, rate, lastAt: NaN, firstAt: drawn > 0 ? firstAt : NaN, drawn };
  }

  /** A time in [from, now) following the seasons, at a plausible local hour. */
  private seasonalTime(from: number, utcOffset: number): number {
    const { rng } = this;
    // too short a window for seasons and hours to matter (and to find an hour in)
    if (this.now - from < 3 * DAY) return Math.ceil((from + rng.next() * (this.now - from - 1000)) / 1000) * 1000;
    for (;;) {
      const day = from + rng.next() * (this.now - from);
      if (rng.next() * MAX_MONTH_WEIGHT > MONTH_WEIGHT[new Date(day).getUTCMonth()]!) continue;
      const at = localMidnight(day, utcOffset) + HOUR_WEIGHT.draw(rng) * HOUR + rng.int(HOUR);
      if (at >= from && at < this.now) return Math.floor(at / 1000) * 1000;
    }
  }

  /** The orders up to today; a first order that would fall after today is left to the future. */
  private orders(rng: Rng, id: string, registeredAt: number, utcOffset: number): Buyer {
    const buyer = this.buyer(rng, id, registeredAt, utcOffset);
    if (buyer.drawn === 0 || buyer.firstAt >= this.now) return buyer;
    // nobody orders more than about weekly: a newcomer has no long history yet
    const count = Math.min(buyer.drawn, 1 + Math.floor((this.now - registeredAt) / (7 * DAY)));
    const times = [buyer.firstAt];
    // the rest spread over the seasons since the first
    for (let i = 1; i < count; i++) times.push(this.seasonalTime(buyer.firstAt, utcOffset));
    times.sort((a, b) => a - b);
    for (const placedAt of times) this.order(rng, id, placedAt, buyer.favourite);
    return { ...buyer, lastAt: times[times.length - 1]!, firstAt: NaN };
  }

  /**
   * A customer's orders after today (a Poisson process thinned by the seasons and the
   * fading boost after each order), from a first order after today if they have one.
   */
  private buy(rng: Rng, buyer: Buyer): void {
    const until = this.future!.until;
    let lastAt = buyer.lastAt;
    let t = this.now;
    if (!Number.isNaN(buyer.firstAt)) {
      if (buyer.firstAt > until) return;
      this.order(rng, buyer.id, buyer.firstAt, buyer.favourite);
      lastAt = t = buyer.firstAt;
    }
    const peak = ((buyer.rate + BOOST) * MAX_MONTH_WEIGHT) / MEAN_MONTH_WEIGHT;
    for (;;) {
      t += rng.exponential(DAY / peak);
      if (t > until) return;
      const since = (t - lastAt) / DAY;
      const boost = Number.isNaN(lastAt) ? 0 : BOOSTS.reduce((s, [b, days]) => s + b * Math.exp(-since / days), 0);
      const rate = ((buyer.rate + boost) * MONTH_WEIGHT[new Date(t).getUTCMonth()]!) / MEAN_MONTH_WEIGHT;
      if (rng.next() * peak >= rate) continue;
      // at a plausible local hour of that day, unless that hour is past or before the last order
      const after = Math.max(this.now, Number.isNaN(lastAt) ? this.now : lastAt);
      let placedAt = Math.floor((localMidnight(t, buyer.utcOffset) + HOUR_WEIGHT.draw(rng) * HOUR + rng.int(HOUR)) / 1000) * 1000;
      if (placedAt <= after || placedAt > until) placedAt = Math.max(Math.floor(t / 1000) * 1000, Math.floor(after / 1000) * 1000 + 1000);
      if (placedAt > until) return;
      this.order(rng, buyer.id, placedAt, buyer.favourite);
      lastAt = placedAt;
    }
  }

  /** An order with its items; up to today in the main files (as it is today), its changes after today in the future ones. */
  private order(rng: Rng, customer: string, placedAt: number, favourite: string): void {
    const { catalog } = this;
    const id = `o${String(++this.orderSeq).padStart(8, '0')}`;
    const past = placedAt <= this.now;
    const items = past ? this.files.items : this.future!.items;
    const lines = ITEM_COUNT.draw(rng);
    const first = drawFromCategory(rng, catalog, rng.chance(CATEGORY_AFFINITY) ? favourite : rng.pick(catalog.categories));
    const products = [first];
    for (let line = 1; line < lines; line++) {
      const related = catalog.products[first]!.related;
      const next = rng.chance(0.6) && related.length > 0 ? rng.pick(related) : drawFromCategory(rng, catalog, rng.pick(catalog.categories));
      if (!products.includes(next)) products.push(next);
    }
    let total = 0;
    products.forEach((p, i) => {
      const product = catalog.products[p]!;
      const quantity = QUANTITY.draw(rng);
      total += quantity * product.price;
      items.row([id, i + 1, product.id, product.sku, product.title, quantity, product.price]);
    });
    const timeline = statusTimeline(rng, placedAt);
    const row = (status: string, at: number) => [id, customer, iso(placedAt), status, iso(at), money(total), CURRENCY];
    if (past) {
      const [status, at] = statusAt(timeline, this.now)!;
      this.files.orders.row(row(status, at));
    }
    this.future?.statusChanges(row, timeline);
  }

  private engagement(customerId: string, email: string, registeredAt: number): void {
    const { rng } = this;
    // a few open everything, most open now and then, some never
    const openRate = rng.next() ** 2;
    for (let c = CAMPAIGNS; c >= 1; c--) {
      const sentAt = this.now - c * 30 * DAY + 9 * HOUR;
      if (sentAt < registeredAt) continue;
      const campaign = `newsletter-${new Date(sentAt).toISOString().slice(0, 7)}`;
      if (!rng.chance(openRate)) continue;
      const openedAt = sentAt + Math.floor(rng.exponential(8 * HOUR) / 1000) * 1000;
      this.event(customerId, 'email_opened', openedAt, `{"campaign":"${campaign}"}`);
      if (rng.chance(0.22)) {
        const product = rng.pick(this.catalog.products);
        const clickedAt = openedAt + 1000 * (5 + rng.int(600));
        this.event(customerId, 'email_clicked', clickedAt, `{"campaign":"${campaign}","url":"https://shop.example.com/products/${product.id}"}`);
      }
    }
    if (rng.chance(0.006)) this.files.suppressions.row(['email', email, 'hard_bounce', iso(Math.max(registeredAt, this.now - 200 * DAY))]);
    else if (rng.chance(0.002)) this.files.suppressions.row(['email', email, 'spam_complaint', iso(this.now - 20 * DAY)]);
  }

  private event(customerId: string, type: string, at: number, properties: string): void {
    if (at >= this.now) return;
    this.files.events.row([`e${String(++this.eventSeq).padStart(9, '0')}`, customerId, type, iso(at), properties]);
  }
}

/** The UTC instant of the local midnight that starts the day of `t` at a fixed offset. */
function localMidnight(t: number, utcOffset: number): number {
  return Math.floor((t + utcOffset * HOUR) / DAY) * DAY - utcOffset * HOUR;
}
