/**
 * `journey recommend`: the products a send step's `recommendations` would give one
 * customer, and why each was chosen. Computed by the step's own SQL (store/
 * recommendations.ts) for a preview enrolment inside a transaction that is rolled back.
 */
import { JourneyError } from '../errors.js';
import { customerIdOf } from '../store/customer-ref.js';
import type { Project } from '../project/model.js';
import type { StoreDb } from '../store/db.js';
import { insertPreviewEnrolment, latestOrderOf } from '../store/enrolments.js';
import { recommendedProducts, recommendFor, type RecommendationSpec, type RecommendedProduct } from '../store/recommendations.js';
import { withRolledBack } from '../store/rolled-back.js';

export interface RecommendOptions {
  customer: string;
  spec: Omit<RecommendationSpec, 'categoryMap'>;
  /** The order the products relate to (related, category); default the customer's latest. */
  order?: string;
  now: Date;
}

export interface Recommendation {
  customer: string;
  strategy: RecommendationSpec['strategy'];
  fallback: RecommendationSpec['fallback'];
  count: number;
  /** The order related and category recommendations start from, or null (no orders). */
  basisOrder: string | null;
  products: RecommendedProduct[];
}

const PREVIEW_JOURNEY = 'journey-recommend';

export function recommend(db: StoreDb, project: Project, opts: RecommendOptions): Recommendation {
  const customer = customerIdOf(db, opts.customer);
  if (opts.order !== undefined && !db.get('SELECT 1 AS one FROM orders WHERE id = ? AND customer_id = ?', [opts.order, customer])) {
    throw new JourneyError(`customer '${customer}' has no order '${opts.order}'`, { hint: 'omit --order to start from their latest order' });
  }
  const now = opts.now.getTime();
  const basisOrder = opts.order ?? latestOrderOf(db, customer, now);
  const products = withRolledBack(db, (inner) => {
    const set = insertPreviewEnrolment(inner, { journeyId: PREVIEW_JOURNEY, customerId: customer, stepId: 'recommend', variants: null, now, orderId: basisOrder });
    const enrolment = inner.get<{ id: number }>(set.sql, set.params)!.id;
    const table = recommendFor(inner, set, { ...opts.spec, categoryMap: project.config.categoryMap }, now, 'recommend_preview');
    return recommendedProducts(inner, table, enrolment);
  });
  return { customer, strategy: opts.spec.strategy, fallback: opts.spec.fallback, count: opts.spec.count, basisOrder, products };
}
