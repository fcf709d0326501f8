/**
 * What the next tick does to each coupon pool, for `journey plan`: how many codes it
 * draws, how many are left after it, and a warning when a pool runs low (fewer left
 * than the tick draws, or under a tenth of the pool) or dry (customers skipped with
 * coupon_pool_empty). Measured on the tick plan runs and rolls back.
 */
import type { Project } from '../project/model.js';
import type { TickReport } from './tick.js';
import { poolLeft, poolSize } from '../store/coupons.js';
import type { StoreDb } from '../store/db.js';

export interface PoolPlan {
  coupon: string;
  /** Codes in the pool, issued or not. */
  size: number;
  freeNow: number;
  /** Codes the next tick issues. */
  drawn: number;
  freeAfter: number;
  /** Customers the next tick skips because the pool is empty. */
  skipped: number;
  warning: string | null;
}

export function poolCoupons(project: Project): string[] {
  return Object.entries(project.config.coupons)
    .filter(([, c]) => c.pool && !c.code)
    .map(([name]) => name);
}

export function freeCodes(db: StoreDb, coupons: readonly string[]): Map<string, number> {
  return new Map(coupons.map((c) => [c, poolLeft(db, c)]));
}

/** After the tick: each pool's figures and warning. */
export function poolPlans(db: StoreDb, before: Map<string, number>, tick: TickReport): PoolPlan[] {
  return [...before].map(([coupon, freeNow]) => {
    const freeAfter = poolLeft(db, coupon);
    const size = poolSize(db, coupon);
    const drawn = freeNow - freeAfter;
    const reason = `coupon_pool_empty:${coupon}`;
    const skipped = tick.journeys.reduce((a, j) => a + j.steps.reduce((b, s) => b + s.skips.filter((k) => k.reason === reason).reduce((c, k) => c + k.count, 0), 0), 0);
    const warning =
      skipped > 0
        ? `pool ${coupon} runs dry at the next tick: ${skipped} customer${skipped === 1 ? '' : 's'} skipped (coupon_pool_empty); import more codes: journey import coupons FILE --coupon ${coupon}`
        : drawn > 0 && freeAfter < drawn
          ? `pool ${coupon} is running low: ${freeAfter} code${freeAfter === 1 ? '' : 's'} left after the next tick, which draws ${drawn}`
          : size > 0 && freeAfter < size / 10
            ? `pool ${coupon} is running low: ${freeAfter} of ${size} codes left`
            : null;
    return { coupon, size, freeNow, drawn, freeAfter, skipped, warning };
  });
}
