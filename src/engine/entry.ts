import { CronExpressionParser } from 'cron-parser';
import { shift } from '../project/duration.js';
import type { Duration, Journey, Trigger } from '../project/model.js';
import { anniversaryPrefilter, compileSegment, customerTimezone, type CompileOptions } from '../segments/compile.js';
import { anniversaryOfDates } from '../segments/sql/anniversary.js';
import { and, cmp, col, num, param, select, type Expr, type FromItem, type Select } from '../segments/sql/nodes.js';
import type { DeployedJourney } from '../store/journey-state.js';
import { NOT_COUNTED_BY_DEFAULT } from '../store/order-statuses.js';
import { DAY_MS } from '../time/local-date.js';

/**
 * Who a journey's trigger enters at a tick, as one query with the columns
 * customer_id, entry_key, order_id, trigger_at, position (of the event, for cursors): candidates from the trigger, less
 * those the entry limits keep out, one per customer, capped by max_per_tick. `journey
 * plan` counts it; `journey run` inserts it (INSERT ... SELECT).
 */
export type Entry =
  | { kind: 'query'; query: Select; note: string | null }
  | { kind: 'none'; reason: string };

export interface EntryContext {
  journey: Journey;
  /** What the store last ran; null for a journey that has never run. */
  deployed: DeployedJourney | null;
  now: Date;
  compile: CompileOptions;
  /** Where an event trigger that has never run starts: the newest event and status change now. */
  startCursors: { events: number; statusChanges: number };
  /** The trigger segment's members, already computed into this (temporary) table with an id column. */
  membersTable?: string;
}

export function entryFor(ctx: EntryContext): Entry {
  const { journey } = ctx;
  if (!journey.enabled) return { kind: 'none', reason: 'the journey is paused (enabled: false)' };
  const candidates = candidatesFor(journey.trigger, ctx);
  if (candidates.kind === 'none') return candidates;
  return { kind: 'query', query: limited(candidates.query, ctx), note: candidates.note };
}

/** When a segment trigger next recomputes membership (its `check` cron after the last check). */
export function nextCheckAt(trigger: Extract<Trigger, { kind: 'segment' }>, lastCheckAt: number | null): number | null {
  if (lastCheckAt === null || trigger.check === null) return null;
  return CronExpressionParser.parse(trigger.check, { currentDate: new Date(lastCheckAt), tz: 'UTC' }).next().getTime();
}

type Candidates = { kind: 'query'; query: Select; note: string | null } | { kind: 'none'; reason: string };

function candidatesFor(trigger: Trigger, ctx: EntryContext): Candidates {
  const now = ctx.now.getTime();
  const firstRun = ctx.deployed === null;
  // a backdated event (imported late) older than max_age does not enter
  const maxAge = (d: Duration | null, column: Expr): Expr[] => (d ? [cmp('>=', column, param(shift(ctx.now, d, -1).getTime()))] : []);
  switch (trigger.kind) {
    case 'segment': {
      const next = nextCheckAt(trigger, ctx.deployed?.lastCheckAt ?? null);
      if (next !== null && next > now) return { kind: 'none', reason: `the next membership check is at ${new Date(next).toISOString()}` };
      const members: FromItem = ctx.membersTable
        ? { kind: 'cte_ref', name: ctx.membersTable, alias: 'm' }
        : { kind: 'derived', query: compileSegment(trigger.segment, ctx.compile), alias: 'm' };
      const columns = [
        { expr: col('m', 'id'), alias: 'customer_id' },
        { expr: param(`segment:${ctx.now.toISOString()}`), alias: 'entry_key' },
        { expr: param(null), alias: 'order_id' },
        { expr: param(now), alias: 'trigger_at' },
        { expr: num(0), alias: 'position' },
      ];
      if (firstRun && !trigger.backfill) {
        return { kind: 'none', reason: `first run without backfill: today's members of ${trigger.segment} are recorded, and customers who join it later enter` };
      }
      const newcomers: Expr = {
        kind: 'exists',
        query: select({
          columns: [{ expr: num(1), alias: 'one' }],
          from: { kind: 'table', table: 'segment_memberships', alias: 'sm' },
          where: and(cmp('=', col('sm', 'journey_id'), param(ctx.journey.id)), cmp('=', col('sm', 'customer_id'), col('m', 'id'))),
        }),
        negated: true,
      };
      return {
        kind: 'query',
        query: select({ columns, from: members, where: firstRun ? null : newcomers }),
        note: firstRun ? `first run with backfill: everyone now in ${trigger.segment} enters` : `customers who joined ${trigger.segment} since the last check`,
      };
    }
    case 'order_status_changed':
    case 'order_placed': {
      const cursor = ctx.deployed ? ctx.deployed.cursor : ctx.startCursors.statusChanges;
      const conditions: Expr[] = [cmp('>', col('h', 'id'), param(cursor)), ...maxAge(trigger.maxAge, col('h', 'changed_at'))];
      if (trigger.kind === 'order_status_changed') {
        conditions.push({ kind: 'in', expr: col('h', 'status'), list: trigger.statuses.map(param), negated: false });
        // a status an order arrived in with no date in the source is history, not news (migration 016)
        conditions.push(cmp('=', col('h', 'estimated'), param(0)));
      }
      else conditions.push({ kind: 'is_null', expr: col('h', 'previous_status'), negated: false });
      if (trigger.nth !== null) conditions.push(cmp('=', nthOrder(), param(trigger.nth)));
      return {
        kind: 'query',
        query: select({
          columns: [
            { expr: col('o', 'customer_id'), alias: 'customer_id' },
            // one entry per order, or with max_per_order above 1 one per status change of it
            {
              expr: { kind: 'concat', items: ctx.journey.entry.maxPerOrder > 1 ? [param('order:'), col('o', 'id'), param(':'), col('h', 'id')] : [param('order:'), col('o', 'id')] },
              alias: 'entry_key',
            },
            { expr: col('o', 'id'), alias: 'order_id' },
            { expr: trigger.kind === 'order_placed' ? col('o', 'placed_at') : col('h', 'changed_at'), alias: 'trigger_at' },
            { expr: col('h', 'id'), alias: 'position' },
          ],
          from: { kind: 'table', table: 'order_status_history', alias: 'h' },
          joins: [{ type: 'inner', item: { kind: 'table', table: 'orders', alias: 'o' }, on: cmp('=', col('o', 'id'), col('h', 'order_id')) }],
          where: and(...conditions),
        }),
        note: firstRun ? 'first run: status changes from now on enter (history does not)' : 'status changes since the last tick',
      };
    }
    case 'custom_event': {
      const cursor = ctx.deployed ? ctx.deployed.cursor : ctx.startCursors.events;
      const conditions: Expr[] = [cmp('>', col('e', 'seq'), param(cursor)), cmp('=', col('e', 'type'), param(trigger.event)), ...maxAge(trigger.maxAge, col('e', 'occurred_at'))];
      for (const [k, v] of Object.entries(trigger.where)) conditions.push({ kind: 'is_true', expr: { kind: 'json_equals', column: col('e', 'properties'), key: param(k), value: v } });
      return {
        kind: 'query',
        query: select({
          columns: [
            { expr: col('e', 'customer_id'), alias: 'customer_id' },
            { expr: { kind: 'concat', items: [param('event:'), col('e', 'id')] }, alias: 'entry_key' },
            { expr: param(null), alias: 'order_id' },
            { expr: col('e', 'occurred_at'), alias: 'trigger_at' },
            { expr: col('e', 'seq'), alias: 'position' },
          ],
          from: { kind: 'table', table: 'events', alias: 'e' },
          where: and(...conditions),
        }),
        note: firstRun ? `first run: ${trigger.event} events from now on enter` : `${trigger.event} events since the last tick`,
      };
    }
    case 'date': {
      const tz = customerTimezone('c', ctx.compile.defaultTimezone);
      const today: Expr = { kind: 'local_date', instant: param(now), timezone: tz };
      const months = (d: Duration) => (d.unit === 'y' ? d.amount * 12 : d.unit === 'mo' ? d.amount : null);
      const days = (d: Duration) => d.amount * (d.unit === 'w' ? 7 : 1);
      let due: Expr;
      if (trigger.field === 'registered_at') {
        // an instant: its local date in the customer's zone
        const field = col('c', 'registered_at');
        if (trigger.every) {
          const m = months(trigger.every);
          const unit = m ? 'months' : 'days';
          const every = m ?? days(trigger.every);
          due = and({ kind: 'is_null', expr: field, negated: true }, anniversaryPrefilter(field, ctx.now, unit, every), { kind: 'is_anniversary', instant: field, now: param(now), timezone: tz, unit, every });
        } else if (trigger.after) {
          const m = months(trigger.after);
          // local dates are within a day of UTC ones: a range on the instant first, then the exact day
          const [nearest, furthest] = m ? [FIRST_OF_MONTHS_DAYS.min * m, FIRST_OF_MONTHS_DAYS.max * m] : [days(trigger.after), days(trigger.after)];
          const range = and(cmp('>=', field, param(now - (furthest + 3) * DAY_MS)), cmp('<', field, param(now - (nearest - 3) * DAY_MS)));
          due = m
            ? and(range, anniversaryPrefilter(field, ctx.now, 'months', m), { kind: 'is_anniversary', instant: field, now: param(now), timezone: tz, unit: 'months', every: m })
            : and(range, cmp('=', { kind: 'date_add_days', date: { kind: 'local_date', instant: field, timezone: tz }, days: days(trigger.after) }, today));
        } else {
          return { kind: 'none', reason: 'a date trigger needs every: or after:' };
        }
      } else {
        // an attribute holds a calendar date (YYYY-MM-DD...): the customer's own date, no zone
        const text: Expr = { kind: 'json_value', column: col('c', 'attributes'), key: param(trigger.field.slice('attributes.'.length)), as: 'text' };
        const date: Expr = { kind: 'substr', expr: text, start: 1, length: 10 };
        let rule: Expr;
        if (trigger.every) {
          const m = months(trigger.every);
          rule = anniversaryOfDates(date, today, m ? 'months' : 'days', m ?? days(trigger.every));
        } else if (trigger.after) {
          const m = months(trigger.after);
          rule = m
            ? and(anniversaryOfDates(date, today, 'months', m), cmp('<=', { kind: 'days_between', from: date, to: today }, num(FIRST_OF_MONTHS_DAYS.max * m)))
            : cmp('=', { kind: 'date_add_days', date, days: days(trigger.after) }, today);
        } else {
          return { kind: 'none', reason: 'a date trigger needs every: or after:' };
        }
        // the date arithmetic only ever sees values that are dates
        due = { kind: 'is_true', expr: { kind: 'case', whens: [{ when: { kind: 'is_iso_date', expr: text }, then: rule }], otherwise: null } };
      }
      return {
        kind: 'query',
        query: select({
          columns: [
            { expr: col('c', 'id'), alias: 'customer_id' },
            { expr: { kind: 'concat', items: [param('date:'), today] }, alias: 'entry_key' },
            { expr: param(null), alias: 'order_id' },
            { expr: param(now), alias: 'trigger_at' },
            { expr: num(0), alias: 'position' },
          ],
          from: { kind: 'table', table: 'customers', alias: 'c' },
          where: and(due, cmp('>=', { kind: 'local_time', instant: param(now), timezone: tz }, param(trigger.at))),
        }),
        note: `customers whose ${trigger.field} date comes round today, from ${trigger.at} their time`,
      };
    }
    default: {
      const never: never = trigger;
      throw new Error(`unknown trigger ${JSON.stringify(never)}`);
    }
  }
}

/**
 * `after: N months` is the first N-monthly anniversary of the date, which falls
 * 28 to 31 days per month after it; the next one (2N months) is at least 56 days
 * per month after, so this band holds the first and no other.
 */
const FIRST_OF_MONTHS_DAYS = { min: 28, max: 31 };

/** The rank of the order among the customer's counted orders (1 = first), by placement. */
function nthOrder(): Expr {
  return {
    kind: 'scalar_query',
    query: select({
      columns: [{ expr: { kind: 'aggregate', fn: 'count', arg: '*' }, alias: 'n' }],
      from: { kind: 'table', table: 'orders', alias: 'o2' },
      where: and(
        cmp('=', col('o2', 'customer_id'), col('o', 'customer_id')),
        cmp('<=', col('o2', 'placed_at'), col('o', 'placed_at')),
        { kind: 'in', expr: col('o2', 'status'), list: NOT_COUNTED_BY_DEFAULT.map(param), negated: true },
      ),
    }),
  };
}

/** Entry limits: not inside already, max_per_customer, reentry_after, max_per_order; one per customer; max_per_tick. */
function limited(candidates: Select, ctx: EntryContext): Select {
  const { journey } = ctx;
  const enrolments = (extra: Expr[]): Select =>
    select({
      columns: [{ expr: num(1), alias: 'one' }],
      from: { kind: 'table', table: 'enrolments', alias: 'en' },
      where: and(cmp('=', col('en', 'journey_id'), param(journey.id)), cmp('=', col('en', 'customer_id'), col('x', 'customer_id')), ...extra),
    });
  const conditions: Expr[] = [{ kind: 'exists', query: enrolments([cmp('=', col('en', 'status'), param('active'))]), negated: true }];
  // the same cause never enters twice (a repeated tick, a re-imported status)
  conditions.push({ kind: 'exists', query: enrolments([cmp('=', col('en', 'entry_key'), col('x', 'entry_key'))]), negated: true });
  if (journey.entry.maxPerCustomer < Number.MAX_SAFE_INTEGER) {
    const count = enrolments([]);
    count.columns = [{ expr: { kind: 'aggregate', fn: 'count', arg: '*' }, alias: 'n' }];
    conditions.push(cmp('<', { kind: 'scalar_query', query: count }, param(journey.entry.maxPerCustomer)));
  }
  if (journey.entry.reentryAfter) {
    const since = shift(ctx.now, journey.entry.reentryAfter, -1).getTime();
    conditions.push({ kind: 'exists', query: enrolments([cmp('>', col('en', 'entered_at'), param(since))]), negated: true });
  }
  if (journey.trigger.kind === 'order_status_changed' || journey.trigger.kind === 'order_placed') {
    const perOrder = select({
      columns: [{ expr: { kind: 'aggregate', fn: 'count', arg: '*' }, alias: 'n' }],
      from: { kind: 'table', table: 'enrolments', alias: 'eo' },
      where: and(cmp('=', col('eo', 'journey_id'), param(journey.id)), cmp('=', col('eo', 'order_id'), col('x', 'order_id'))),
    });
    conditions.push(cmp('<', { kind: 'scalar_query', query: perOrder }, param(journey.entry.maxPerOrder)));
  }
  const ranked = select({
    columns: [
      { expr: col('x', 'customer_id'), alias: 'customer_id' },
      { expr: col('x', 'entry_key'), alias: 'entry_key' },
      { expr: col('x', 'order_id'), alias: 'order_id' },
      { expr: col('x', 'trigger_at'), alias: 'trigger_at' },
      { expr: col('x', 'position'), alias: 'position' },
      // events in the order they were recorded (a cursor can then stop after the last one taken)
      { expr: { kind: 'row_number', partitionBy: [col('x', 'customer_id')], orderBy: [{ expr: col('x', 'position'), desc: false }, { expr: col('x', 'trigger_at'), desc: false }, { expr: col('x', 'entry_key'), desc: false }] }, alias: 'nth' },
    ],
    from: { kind: 'derived', query: candidates, alias: 'x' },
    where: and(...conditions),
  });
  return select({
    columns: ['customer_id', 'entry_key', 'order_id', 'trigger_at', 'position'].map((c) => ({ expr: col('r', c), alias: c })),
    from: { kind: 'derived', query: ranked, alias: 'r' },
    where: cmp('=', col('r', 'nth'), num(1)),
    orderBy: [
      { expr: col('r', 'position'), desc: false },
      { expr: col('r', 'trigger_at'), desc: false },
      { expr: col('r', 'customer_id'), desc: false },
    ],
    limit: journey.entry.maxPerTick ? param(journey.entry.maxPerTick) : null,
  });
}
