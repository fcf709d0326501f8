import { error, warning, type PendingDiagnostic, type YamlPath } from '../diagnostic.js';
import { didYouMean } from '../did-you-mean.js';
import type { DateComparison, Duration, StatusFilter } from '../model.js';
import type { CheckContext } from './types.js';

/**
 * The statuses an order carries in the store: the importers turn every source status
 * into one of these (Shopify and Olist presets, created -> pending, approved ->
 * processing, cancelled -> canceled), lower case with underscores. A mapping file can
 * produce a shop's own; the config declares those under order_statuses.
 */
export const KNOWN_ORDER_STATUSES = ['pending', 'processing', 'invoiced', 'shipped', 'delivered', 'canceled', 'unavailable', 'refunded', 'partially_refunded'] as const;

/** The statuses written under `status` at `path`, checked against the known ones: a misspelt one never matches an order. */
export function checkStatuses(statuses: StatusFilter | string[], path: YamlPath, ctx: CheckContext): PendingDiagnostic[] {
  if (!Array.isArray(statuses)) return [];
  const own = ctx.project.config.orderStatuses ?? [];
  const known = [...KNOWN_ORDER_STATUSES, ...own];
  const out: PendingDiagnostic[] = [];
  statuses.forEach((status, i) => {
    if (known.includes(status)) return;
    // [path, i] points at the list item, or at the scalar when one status is written alone
    const at = [...path, i];
    const guess = didYouMean(status, known);
    if (guess) {
      out.push(error('unknown-status', at, `'${status}' is not an order status — did you mean '${guess}'?`, 'statuses are stored in lower case as the importers write them; no order would ever match this one'));
    } else if (ctx.configUsable) {
      out.push(
        warning('unknown-status', at, `'${status}' is not an order status journey knows`, `known: ${known.join(', ')}; if your shop's orders carry it, declare it under order_statuses in journey.config.yaml`),
      );
    }
  });
  return out;
}

const DAY_MS = 86_400_000;
const UNIT_MS: Partial<Record<Duration['unit'], number>> = { m: 60_000, h: 3_600_000 };

/**
 * How long ago a customer registered or ordered is counted in days and months; a
 * duration in minutes or hours under a day there is almost always 6m written for six
 * months.
 */
export function checkShortDurations(basePath: YamlPath, key: string, terms: { duration: Duration; path: YamlPath }[]): PendingDiagnostic[] {
  const out: PendingDiagnostic[] = [];
  for (const { duration: d, path } of terms) {
    const unit = UNIT_MS[d.unit];
    if (unit === undefined || d.amount * unit >= DAY_MS) continue;
    const meant = d.unit === 'm' ? `${d.amount}mo` : `${d.amount}d`;
    const said = d.unit === 'm' ? `${d.amount} minute${d.amount === 1 ? '' : 's'}` : `${d.amount} hour${d.amount === 1 ? '' : 's'}`;
    out.push(
      warning('implausible-duration', [...basePath, key, ...path], `'${d.text}' is ${said}; did you mean '${meant}'?`, `${key} is about days, weeks, months (mo) or years ago: m is minutes, h is hours`),
    );
  }
  return out;
}

/** The relative moments of a date comparison, with where each is written. */
export function agoTerms(date: DateComparison): { duration: Duration; path: YamlPath }[] {
  return date.terms.flatMap((t) => ((t.op === 'before' || t.op === 'after') && t.at.kind === 'ago' && t.path ? [{ duration: t.at.duration, path: t.path }] : []));
}
