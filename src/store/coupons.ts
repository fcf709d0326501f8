/**
 * Unique coupon codes, set by set: the codes of a step's customers are issued with a
 * few statements for all of them (never one per customer). A code is issued once per
 * coupon and enrolment: a retried send, or a reminder of the same offer, shows the code
 * the customer already has. Codes come from a cryptographic random source, or from the
 * coupon's pool of imported codes.
 */
import { randomBytes } from 'node:crypto';
import type { SqlValue, StoreDb } from './db.js';
import type { IdSet } from './enrolments.js';

const inSet = (set: IdSet) => `IN (SELECT id FROM (${set.sql}))`;

/** No look-alikes: no 0/O, 1/I/L. */
export const DEFAULT_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
export const DEFAULT_LENGTH = 8;

export interface CouponIssue {
  coupon: string;
  source: 'generated' | 'pool';
  prefix: string | null;
  length: number;
  alphabet: string;
  /** valid_for as journey_shift's amount and unit, or null for no expiry. */
  validFor: { amount: number; unit: string } | null;
  journeyId: string;
  stepId: string;
  now: number;
}

/** `n` random codes over the alphabet, uniformly (bytes past the last whole multiple are drawn again). */
export function randomCodes(n: number, length: number, alphabet: string, prefix: string | null = null): string[] {
  const limit = 256 - (256 % alphabet.length);
  const out: string[] = [];
  let pool = randomBytes(n * length * 2);
  let at = 0;
  for (let i = 0; i < n; i++) {
    let code = prefix ? `${prefix}-` : '';
    for (let k = 0; k < length; ) {
      if (at >= pool.length) {
        pool = randomBytes(n * length);
        at = 0;
      }
      const b = pool[at++]!;
      if (b >= limit) continue;
      code += alphabet[b % alphabet.length];
      k++;
    }
    out.push(code);
  }
  return out;
}

/** The enrolments of a set that have no code of this coupon yet, numbered 1..n. */
const needing = (set: IdSet, coupon: string) => ({
  sql: `SELECT en.id, en.customer_id, row_number() OVER (ORDER BY en.id) AS rn FROM enrolments en
        WHERE en.id ${inSet(set)} AND NOT EXISTS (SELECT 1 FROM coupon_codes cc WHERE cc.coupon = ? AND cc.enrolment_id = en.id)`,
  params: [...set.params, coupon] as SqlValue[],
});

/**
 * Gives every enrolment of a set its code of the coupon (keeping the code it has).
 * Returns the set of those left without one: a pool that ran dry.
 */
export function issueCoupons(db: StoreDb, set: IdSet, c: CouponIssue): IdSet {
  const expires = c.validFor ? `journey_shift(?, ?, ?)` : 'NULL';
  const expiresParams: SqlValue[] = c.validFor ? [c.now, c.validFor.amount, c.validFor.unit] : [];
  if (c.source === 'pool') {
    const need = needing(set, c.coupon);
    db.run(
      `WITH need AS (${need.sql}),
            free AS (SELECT id, row_number() OVER (ORDER BY id) AS rn FROM coupon_codes WHERE coupon = ? AND enrolment_id IS NULL)
       UPDATE coupon_codes SET customer_id = need.customer_id, enrolment_id = need.id, journey_id = ?, step_id = ?, issued_at = ?, expires_at = ${expires}
       FROM need JOIN free ON free.rn = need.rn WHERE coupon_codes.id = free.id`,
      [...need.params, c.coupon, c.journeyId, c.stepId, c.now, ...expiresParams],
    );
  } else {
    // a clash with an existing code (about 1 in 10^12 per code at 8 characters) is drawn again
    for (let round = 0; round < 5; round++) {
      const need = needing(set, c.coupon);
      const n = db.get<{ n: number }>(`SELECT count(*) AS n FROM (${need.sql})`, need.params)!.n;
      if (n === 0) break;
      // the codes numbered 1..n in a keyed table: joined to json_each directly, every
      // enrolment scanned every code (100,000 enrolments: minutes)
      db.exec(`DROP TABLE IF EXISTS temp.coupon_draw; CREATE TEMP TABLE coupon_draw (rn INTEGER PRIMARY KEY, code TEXT NOT NULL)`);
      db.run(`INSERT INTO temp.coupon_draw (rn, code) SELECT key + 1, value FROM json_each(?)`, [JSON.stringify(randomCodes(n, c.length, c.alphabet, c.prefix))]);
      db.run(
        `WITH need AS (${need.sql})
         INSERT INTO coupon_codes (coupon, code, source, customer_id, enrolment_id, journey_id, step_id, issued_at, expires_at)
         SELECT ?, d.code, 'generated', need.customer_id, need.id, ?, ?, ?, ${expires} FROM need JOIN temp.coupon_draw d ON d.rn = need.rn WHERE true
         ON CONFLICT DO NOTHING`,
        [...need.params, c.coupon, c.journeyId, c.stepId, c.now, ...expiresParams],
      );
      db.exec('DROP TABLE temp.coupon_draw');
    }
  }
  const left = needing(set, c.coupon);
  return { sql: `SELECT id FROM (${left.sql})`, params: left.params };
}

/** Free codes left in a coupon's pool. */
export function poolLeft(db: StoreDb, coupon: string): number {
  return db.get<{ n: number }>(`SELECT count(*) AS n FROM coupon_codes WHERE coupon = ? AND enrolment_id IS NULL`, [coupon])!.n;
}

/** Codes of a coupon's pool, issued or not. */
export function poolSize(db: StoreDb, coupon: string): number {
  return db.get<{ n: number }>(`SELECT count(*) AS n FROM coupon_codes WHERE coupon = ? AND source = 'pool'`, [coupon])!.n;
}

/** Adds codes to a coupon's pool; a code the store has already (in any coupon) is skipped. Returns how many were added. */
export function importPool(db: StoreDb, coupon: string, codes: readonly string[], now: number): { added: number; duplicates: number } {
  return db.transaction(() => {
    let added = 0;
    for (let i = 0; i < codes.length; i += 5_000) {
      added += db.run(`INSERT INTO coupon_codes (coupon, code, source, imported_at) SELECT ?, value, 'pool', ? FROM json_each(?) WHERE true ON CONFLICT DO NOTHING`, [
        coupon,
        now,
        JSON.stringify(codes.slice(i, i + 5_000)),
      ]).changes;
    }
    return { added, duplicates: codes.length - added };
  });
}

/** Marks codes redeemed by the first counted order that used them (orders' discount_code attribute, as the Shopify export has it). */
export function matchRedemptions(db: StoreDb): number {
  // most imports happen where no code waits to be redeemed: skip reading every order's attributes
  if (!db.get(`SELECT 1 AS one FROM coupon_codes WHERE enrolment_id IS NOT NULL AND redeemed_order_id IS NULL LIMIT 1`)) return 0;
  return db.run(
    `UPDATE coupon_codes AS cc SET redeemed_order_id = o.id, redeemed_at = o.placed_at
     FROM (SELECT upper(trim(json_extract(attributes, '$.discount_code'))) AS code, id, placed_at, row_number() OVER (PARTITION BY upper(trim(json_extract(attributes, '$.discount_code'))) ORDER BY placed_at) AS n
           FROM orders WHERE json_extract(attributes, '$.discount_code') IS NOT NULL AND status NOT IN ('canceled', 'unavailable', 'refunded')) o
     WHERE o.n = 1 AND o.code = upper(cc.code) AND cc.redeemed_order_id IS NULL AND cc.enrolment_id IS NOT NULL`,
  ).changes;
}

export interface IssuedCode {
  code: string;
  redeemed_at: number | null;
  customer_id: string | null;
  email: string | null;
  journey_id: string | null;
  step_id: string | null;
  issued_at: number | null;
  expires_at: number | null;
  redeemed_order_id: string | null;
}

/** The issued codes of a coupon, oldest first. */
export function issuedCodes(db: StoreDb, coupon: string): IssuedCode[] {
  return db.all<IssuedCode>(
    `SELECT cc.code, cc.customer_id, c.email, cc.journey_id, cc.step_id, cc.issued_at, cc.expires_at, cc.redeemed_order_id, cc.redeemed_at
     FROM coupon_codes cc LEFT JOIN customers c ON c.id = cc.customer_id WHERE cc.coupon = ? AND cc.enrolment_id IS NOT NULL ORDER BY cc.issued_at, cc.id`,
    [coupon],
  );
}

/** Issued and redeemed codes per coupon and step. */
export function redemptionsByStep(db: StoreDb): { coupon: string; journey_id: string | null; step_id: string | null; issued: number; redeemed: number }[] {
  return db.all(
    `SELECT coupon, journey_id, step_id, count(*) AS issued, count(redeemed_order_id) AS redeemed FROM coupon_codes WHERE enrolment_id IS NOT NULL
     GROUP BY coupon, journey_id, step_id ORDER BY coupon, journey_id, step_id`,
  );
}

export interface CouponCounts {
  coupon: string;
  /** Codes issued to enrolments. */
  issued: number;
  redeemed: number;
  /** Pool codes not issued yet. */
  free: number;
}

/** Issued, redeemed and free codes of every coupon the store has codes of. */
export function couponCounts(db: StoreDb): CouponCounts[] {
  return db.all<CouponCounts>(
    `SELECT coupon, count(enrolment_id) AS issued, count(redeemed_order_id) AS redeemed, sum(enrolment_id IS NULL) AS free FROM coupon_codes GROUP BY coupon ORDER BY coupon`,
  );
}
