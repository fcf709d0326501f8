import { error, type PendingDiagnostic } from '../diagnostic.js';

/** Which trigger keys belong to which kind of trigger; the schema lists them all as one object. */
const KEYS_FOR: Record<string, string[]> = {
  segment: ['segment', 'check', 'backfill'],
  order_status_changed: ['event', 'status', 'items', 'nth', 'max_age'],
  order_placed: ['event', 'nth', 'max_age'],
  custom: ['event', 'where', 'max_age'],
  date: ['date', 'every', 'after', 'at', 'catch_up'],
};

export function checkTriggerKeys(trigger: Record<string, unknown>): PendingDiagnostic[] {
  const kind =
    'segment' in trigger ? 'segment' : 'date' in trigger ? 'date' : trigger.event === 'order_status_changed' || trigger.event === 'order_placed' ? String(trigger.event) : 'custom';
  const allowed = KEYS_FOR[kind]!;
  const what = kind === 'custom' ? `a custom event trigger ('${String(trigger.event)}')` : kind === 'segment' || kind === 'date' ? `a ${kind} trigger` : `an ${kind} trigger`;
  return Object.keys(trigger)
    .filter((k) => !allowed.includes(k))
    .map((k) => error('trigger-key', ['trigger', k], `'${k}' does not apply to ${what}`, `keys of ${what}: ${allowed.join(', ')}`, 'key'));
}
