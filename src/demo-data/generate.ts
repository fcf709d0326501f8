import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { buildCatalog, drawFromCategory, type Catalog } from './catalog.js';
import { CsvFile } from './csv-file.js';
import { Rng, Weighted } from './prng.js';
import { ACQUISITION, asciiSlug, COUNTRIES, countryPicker, HOUR_WEIGHT, MONTH_WEIGHT, zonePicker } from './world.js';

export interface DemoDataOptions {
  readonly customers: number;
  readonly seed: string | number;
  readonly outDir: string;
  /** The shop's "today": nothing happens after it, and the output does not depend on the real date. */
  readonly now: number;
}

export interface DemoDataResult {
  readonly outDir: string;
  readonly files: { file: string; rows: number }[];
  readonly seconds: number;
}

export const DEFAULT_DEMO_NOW = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;
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

const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19) + 'Z';
const money = (n: number) => Math.round(n * 100) / 100;

/**
 * Writes a realistic shop as CSV files `journey import` reads with no flags:
 * customers.csv (with per-channel consent columns), products.csv, orders.csv,
 * order_items.csv, events.csv, suppressions.csv. One customer at a time, with all
 * their orders, items and events, so memory stays flat at any size; the same seed
 * and `now` give the same bytes.
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
  const shop = new ShopWriter(rng, catalog, files, start, options.now);
  for (let i = 1; i <= options.customers; i++) shop.customer(i);
  for (const f of Object.values(files)) f.close();

  return {
    outDir: options.outDir,
    files: [productsFile, ...Object.values(files)].map((f) => ({ file: path.basename(f.file), rows: f.rows })),
    seconds: (performance.now() - started) / 1000,
  };
}

const zonePickers = new Map(COUNTRIES.map(([c]) => [c.code, zonePicker(c)]));
const CATEGORY_AFFINITY = 0.6;
const ITEM_COUNT = new Weighted([[1, 60], [2, 24], [3, 10], [4, 4], [5, 1.5], [6, 0.5]] as const);
const QUANTITY = new Weighted([[1, 85], [2, 10], [3, 4], [6, 1]] as const);

class ShopWriter {
  private orderSeq = 0;
  private eventSeq = 0;
  private readonly maxMonthWeight = Math.max(...MONTH_WEIGHT);

  constructor(
    private readonly rng: Rng,
    private readonly catalog: Catalog,
    private readonly files: Record<'customers' | 'orders' | 'items' | 'events' | 'suppressions', CsvFile>,
    private readonly start: number,
    private readonly now: number,
  ) {}

  customer(n: number): void {
    const { rng } = this;
    const id = `c${String(n).padStart(7, '0')}`;
    const country = countryPicker.draw(rng);
    const [timezone, utcOffset] = zonePickers.get(country.code)!.draw(rng);
    const first = rng.pick(country.firstNames);
    const last = rng.pick(country.lastNames);
    const hasEmail = rng.chance(0.97);
    const email = hasEmail ? `${asciiSlug(first)}.${asciiSlug(last)}.${n}@example.${rng.pick(['com', 'org', 'net'])}` : null;
    const hasPhone = rng.chance(0.68);
    const phone = hasPhone ? country.phonePrefix + String(rng.int(1_000_000)).padStart(6, '0') : null;
    // more sign-ups lately: a growing shop
    const registeredAt = this.start + Math.floor(Math.sqrt(rng.next()) * (this.now - this.start - DAY));
    const consentEmail = !hasEmail ? null : rng.chance(0.62) ? 'yes' : rng.chance(0.6) ? 'no' : null;
    const consentSms = !hasPhone ? null : rng.chance(0.28) ? 'yes' : rng.chance(0.5) ? 'no' : null;
    const consentWhatsapp = hasPhone && rng.chance(country.whatsapp) ? 'yes' : null;
    this.files.customers.row([id, email, phone, first, last, iso(registeredAt), timezone, rng.pick(country.locales), country.code,
      rng.pick(country.cities), consentEmail, consentSms, consentWhatsapp, ACQUISITION.draw(rng)]);

    this.orders(id, registeredAt, utcOffset);
    if (email && consentEmail === 'yes') this.engagement(id, email, registeredAt);
  }

  /** Most buy once, some never, a long tail often (a Lomax tail: about 5 orders per customer). */
  private orderCount(): number {
    const { rng } = this;
    const u = rng.next();
    if (u < 0.18) return 0;
    if (u < 0.68) return 1;
    return Math.min(400, 2 + Math.floor((1 / Math.pow(1 - rng.next(), 1 / 1.6) - 1) * 14));
  }

  /** A time in [from, now) following the seasons, at a plausible local hour. */
  private seasonalTime(from: number, utcOffset: number): number {
    const { rng } = this;
    // too short a window for seasons and hours to matter (and to find an hour in)
    if (this.now - from < 3 * DAY) return Math.ceil((from + rng.next() * (this.now - from - 1000)) / 1000) * 1000;
    for (;;) {
      const day = from + rng.next() * (this.now - from);
      if (rng.next() * this.maxMonthWeight > MONTH_WEIGHT[new Date(day).getUTCMonth()]!) continue;
      const localMidnight = Math.floor((day + utcOffset * 3_600_000) / DAY) * DAY - utcOffset * 3_600_000;
      const at = localMidnight + HOUR_WEIGHT.draw(rng) * 3_600_000 + rng.int(3_600_000);
      if (at >= from && at < this.now) return Math.floor(at / 1000) * 1000;
    }
  }

  private orders(customerId: string, registeredAt: number, utcOffset: number): void {
    const { rng } = this;
    // nobody orders more than about weekly: a newcomer has no long history yet
    const count = Math.min(this.orderCount(), 1 + Math.floor((this.now - registeredAt) / (7 * DAY)));
    if (count === 0) return;
    const favourite = rng.pick(this.catalog.categories);
    const times: number[] = [];
    // the first order soon after signing up, the rest spread over the seasons since
    const firstAt = Math.min(this.now - 1000, registeredAt + Math.floor(rng.exponential(6 * DAY)));
    times.push(Math.floor(firstAt / 1000) * 1000);
    for (let i = 1; i < count; i++) times.push(this.seasonalTime(firstAt, utcOffset));
    times.sort((a, b) => a - b);
    for (const placedAt of times) this.order(customerId, placedAt, favourite);
  }

  private order(customerId: string, placedAt: number, favourite: string): void {
    const { rng, catalog } = this;
    const id = `o${String(++this.orderSeq).padStart(8, '0')}`;
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
      this.files.items.row([id, i + 1, product.id, product.sku, product.title, quantity, product.price]);
    });
    const [status, changedAt] = this.status(placedAt);
    this.files.orders.row([id, customerId, iso(placedAt), status, changedAt === null ? null : iso(changedAt), money(total), CURRENCY]);
  }

  /** Statuses follow an order's age; some are canceled, refunded or unavailable. */
  private status(placedAt: number): [string, number | null] {
    const { rng } = this;
    const age = this.now - placedAt;
    const r = rng.next();
    const after = (hours: number) => Math.min(this.now - 1000, placedAt + Math.floor(hours * 3_600_000 * (0.5 + rng.next())));
    if (r < 0.04) return ['canceled', after(20)];
    if (r < 0.045) return ['unavailable', after(30)];
    if (age < DAY) return [rng.chance(0.5) ? 'pending' : 'processing', null];
    if (age < 3 * DAY) return ['shipped', after(30)];
    if (r < 0.06 && age > 20 * DAY) return ['refunded', after(24 * 14)];
    if (age < 6 * DAY && rng.chance(0.5)) return ['shipped', after(30)];
    return ['delivered', after(24 * 4)];
  }

  private engagement(customerId: string, email: string, registeredAt: number): void {
    const { rng } = this;
    // a few open everything, most open now and then, some never
    const openRate = rng.next() ** 2;
    for (let c = CAMPAIGNS; c >= 1; c--) {
      const sentAt = this.now - c * 30 * DAY + 9 * 3_600_000;
      if (sentAt < registeredAt) continue;
      const campaign = `newsletter-${new Date(sentAt).toISOString().slice(0, 7)}`;
      if (!rng.chance(openRate)) continue;
      const openedAt = sentAt + Math.floor(rng.exponential(8 * 3_600_000) / 1000) * 1000;
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
