import { CronExpressionParser } from 'cron-parser';
import { approxMs, shift } from '../project/duration.js';
import type { Duration, Journey, Trigger } from '../project/model.js';
import { anniversaryPrefilter } from '../segments/calendar.js';
import { compileSegment, customerTimezone, type CompileOptions } from '../segments/compile.js';
import { anniversaryOfDates } from '../segments/sql/anniversary.js';
import { and, cmp, col, num, or, param, select, type Expr, type FromItem, type Select, type TableName } from '../segments/sql/nodes.js';
import { TEST_KEY_PREFIX } from '../store/enrolments.js';
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
  /**
   * The journey is in test mode: its entries are test enrolments, limited by every
   * enrolment of the journey. A live entry ignores test enrolments: they held nobody
   * out, and a segment member who entered only in test mode is a newcomer for real.
   */
  test?: boolean;
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
      const member = (table: TableName, alias: string, extra: Expr[], negated: boolean): Expr => ({
        kind: 'exists',
        query: select({
          columns: [{ expr: num(1), alias: 'one' }],
          from: { kind: 'table', table, alias },
          where: and(cmp('=', col(alias, 'journey_id'), param(ctx.journey.id)), cmp('=', col(alias, 'customer_id'), col('m', 'id')), ...extra),
        }),
        negated,
      });
      const notRecorded = member('segment_memberships', 'sm', [], true);
      // a member who entered in test mode only has not had the journey for real yet
      const newcomers: Expr = ctx.test
        ? notRecorded
        : {
            kind: 'or',
            items: [notRecorded, and(member('enrolments', 'te', [cmp('=', col('te', 'test'), num(1))], false), member('enrolments', 'le', [cmp('=', col('le', 'test'), num(0))], true))],
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
      // an order's age counts from its placement; a status change's from when it changed
      const age = trigger.kind === 'order_placed' ? col('o', 'placed_at') : col('h', 'changed_at');
      const conditions: Expr[] = [cmp('>', col('h', 'id'), param(cursor)), ...maxAge(trigger.maxAge, age)];
      // a row with item_line is an item's own status (migration 018), not the order's
      const orderRow: Expr = { kind: 'is_null', expr: col('h', 'item_line'), negated: false };
      if (trigger.kind === 'order_status_changed') {
        conditions.push({ kind: 'in', expr: col('h', 'status'), list: trigger.statuses.map(param), negated: false });
        // items: only when the journey asks, and then an item's change is news too;
        // otherwise the order's own status decides
        conditions.push(trigger.items ? itemsRule(trigger.items, trigger.statuses) : orderRow);
        // a status an order arrived in with no date in the source is history, not news (migration 016)
        conditions.push(cmp('=', col('h', 'estimated'), param(0)));
      }
      else conditions.push(orderRow, { kind: 'is_null', expr: col('h', 'previous_status'), negated: false });
      if (trigger.nth !== null) conditions.push(cmp('=', nthOrder(), param(trigger.nth)));
      const changes = trigger.kind === 'order_status_changed' && trigger.items ? 'status changes of orders and of their items' : 'status changes';
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
        note: firstRun ? `first run: ${changes} from now on enter (history does not)` : `${changes} since the last tick`,
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
      if (!trigger.every && !trigger.after) return { kind: 'none', reason: 'a date trigger needs every: or after:' };
      const tz = customerTimezone('c', ctx.compile.defaultTimezone);
      const today: Expr = { kind: 'local_date', instant: param(now), timezone: tz };
      const months = (d: Duration) => (d.unit === 'y' ? d.amount * 12 : d.unit === 'mo' ? d.amount : null);
      const days = (d: Duration) => d.amount * (d.unit === 'w' ? 7 : 1);
      // the days before today that passed with no tick after their `at` (the runner was
      // down): the journey's cursor holds its previous tick; none before its first
      const previous = ctx.deployed && ctx.deployed.cursor > 0 ? ctx.deployed.cursor : null;
      const late = previous === null || trigger.catchUp === null ? 0 : Math.max(0, Math.min(catchUpDays(trigger.catchUp), Math.ceil((now - previous) / DAY_MS) + 1));
      const registered = trigger.field === 'registered_at';
      // the customer's date as YYYY-MM-DD: registration is an instant, read in their zone;
      // an attribute holds a calendar date of its own, no zone
      const text: Expr = registered ? col('c', 'registered_at') : { kind: 'json_value', column: col('c', 'attributes'), key: param(trigger.field.slice('attributes.'.length)), as: 'text' };
      const date: Expr = registered ? { kind: 'local_date', instant: text, timezone: tz } : { kind: 'substr', expr: text, start: 1, length: 10 };
      const dueOn = (day: Expr): Expr => {
        if (trigger.every) {
          const m = months(trigger.every);
          return anniversaryOfDates(date, day, m ? 'months' : 'days', m ?? days(trigger.every));
        }
        const after = trigger.after!;
        const m = months(after);
        return m
          ? and(anniversaryOfDates(date, day, 'months', m), cmp('<=', { kind: 'days_between', from: date, to: day }, num(FIRST_OF_MONTHS_DAYS.max * m)))
          : cmp('=', { kind: 'date_add_days', date, days: days(after) }, day);
      };
      // today from `at` on; an earlier day only if the previous tick came before its `at`
      const whens: { when: Expr; then: Expr }[] = [{ when: and(dueOn(today), cmp('>=', { kind: 'local_time', instant: param(now), timezone: tz }, param(trigger.at))), then: today }];
      if (previous !== null) {
        const lastTick: Expr = { kind: 'concat', items: [{ kind: 'local_date', instant: param(previous), timezone: tz }, param(' '), { kind: 'local_time', instant: param(previous), timezone: tz }] };
        for (let k = 1; k <= late; k++) {
          const day: Expr = { kind: 'date_add_days', date: today, days: -k };
          whens.push({ when: and(dueOn(day), cmp('>', { kind: 'concat', items: [day, param(' '), param(trigger.at)] }, lastTick)), then: day });
        }
      }
      // the latest due day (anacron: a missed job runs once), only ever on values that are dates
      const due: Expr = { kind: 'case', whens, otherwise: null };
      const occurrence: Expr = registered ? due : { kind: 'case', whens: [{ when: { kind: 'is_iso_date', expr: text }, then: due }], otherwise: null };
      const instants = Array.from({ length: late + 1 }, (_, k) => new Date(now - k * DAY_MS));
      let prefilter: Expr = registered ? { kind: 'is_null', expr: text, negated: true } : { kind: 'is_true', expr: { kind: 'is_iso_date', expr: text } };
      if (registered) {
        // cheap tests on the instant before the local dates: its UTC month-day, or its range
        if (trigger.every) {
          const m = months(trigger.every);
          prefilter = and(prefilter, or(...instants.map((d) => anniversaryPrefilter(text, d, m ? 'months' : 'days', m ?? days(trigger.every!)))));
        } else {
          const m = months(trigger.after!);
          // local dates are within a day of UTC ones: a range on the instant first
          const [nearest, furthest] = m ? [FIRST_OF_MONTHS_DAYS.min * m, FIRST_OF_MONTHS_DAYS.max * m] : [days(trigger.after!), days(trigger.after!)];
          prefilter = and(prefilter, cmp('>=', text, param(now - (furthest + late + 3) * DAY_MS)), cmp('<', text, param(now - (nearest - 3) * DAY_MS)));
          if (m) prefilter = and(prefilter, or(...instants.map((d) => anniversaryPrefilter(text, d, 'months', m))));
        }
      }
      const dated = select({
        columns: [
          { expr: col('c', 'id'), alias: 'customer_id' },
          { expr: occurrence, alias: 'occurrence' },
        ],
        from: { kind: 'table', table: 'customers', alias: 'c' },
        where: prefilter,
      });
      return {
        kind: 'query',
        query: select({
          columns: [
            { expr: col('d', 'customer_id'), alias: 'customer_id' },
            // one entry per occurrence of the date, whenever it is entered
            { expr: { kind: 'concat', items: [param('date:'), col('d', 'occurrence')] }, alias: 'entry_key' },
            { expr: param(null), alias: 'order_id' },
            { expr: param(now), alias: 'trigger_at' },
            { expr: num(0), alias: 'position' },
          ],
          from: { kind: 'derived', query: dated, alias: 'd' },
          where: { kind: 'is_null', expr: col('d', 'occurrence'), negated: true },
        }),
        note:
          late > 0
            ? `customers whose ${trigger.field} date comes round today from ${trigger.at} their time, or came round in the last ${late} days with no tick after ${trigger.at}`
            : `customers whose ${trigger.field} date comes round today, from ${trigger.at} their time`,
      };
    }
    default: {
      const never: never = trigger;
      throw new Error(`unknown trigger ${JSON.stringify(never)}`);
    }
  }
}

/** catch_up in whole days (d or w; validate says so for other units, which round up to days). */
function catchUpDays(d: Duration): number {
  return d.unit === 'w' ? d.amount * 7 : d.unit === 'd' ? d.amount : Math.ceil(approxMs(d) / DAY_MS);
}

/**
 * `after: N months` is the first N-monthly anniversary of the date, which falls
 * 28 to 31 days per month after it; the next one (2N months) is at least 56 days
 * per month after, so this band holds the first and no other.
 */
const FIRST_OF_MONTHS_DAYS = { min: 28, max: 31 };

/**
 * The order's items, where they carry a status of their own (NULL: as the order's),
 * for a history row h already in one of the statuses: the order's own change, or one
 * item's (h.item_line set, migration 018).
 * all: no item that came with the order is in another status (a canceled or
 * undelivered item keeps the order out). An item without a status of its own counts
 * as the order: at the order's row, in the status it just reached; at an item's row,
 * in the order's current status. So the last item to arrive enters the order, even
 * after the order's own row was kept out.
 * any: at the order's row, at least one item is in the status, or the order has no
 * items to say otherwise; at an item's row, that item reached it.
 */
function itemsRule(items: 'all' | 'any', statuses: string[]): Expr {
  const itemsWhere = (...extra: Expr[]): Expr => ({
    kind: 'exists',
    query: select({ columns: [{ expr: num(1), alias: 'one' }], from: { kind: 'table', table: 'order_items', alias: 'i' }, where: and(cmp('=', col('i', 'order_id'), col('o', 'id')), ...extra) }),
    negated: false,
  });
  const isNull = (expr: Expr, negated = false): Expr => ({ kind: 'is_null', expr, negated });
  const inStatuses = (expr: Expr, negated: boolean): Expr => ({ kind: 'in', expr, list: statuses.map(param), negated });
  const itemRow = isNull(col('h', 'item_line'), true);
  switch (items) {
    case 'all': {
      const elsewhere = or(
        and(isNull(col('i', 'status'), true), inStatuses(col('i', 'status'), true)),
        and(isNull(col('i', 'status')), itemRow, inStatuses(col('o', 'status'), true)),
      );
      return { ...itemsWhere(elsewhere), negated: true } as Expr;
    }
    case 'any':
      return or(itemRow, { ...itemsWhere(), negated: true } as Expr, itemsWhere(or(isNull(col('i', 'status')), inStatuses(col('i', 'status'), false))));
    default: {
      const never: never = items;
      throw new Error(`unknown items rule ${String(never)}`);
    }
  }
}

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
      // a live entry does not see test enrolments: they hold no one out
      where: and(cmp('=', col('en', 'journey_id'), param(journey.id)), cmp('=', col('en', 'customer_id'), col('x', 'customer_id')), ...(ctx.test ? [] : [cmp('=', col('en', 'test'), num(0))]), ...extra),
    });
  const conditions: Expr[] = [{ kind: 'exists', query: enrolments([cmp('=', col('en', 'status'), param('active'))]), negated: true }];
  // the same cause never enters twice (a repeated tick, a re-imported status); a test entry's key has the test: prefix
  const sameCause: Expr = ctx.test
    ? { kind: 'or', items: [cmp('=', col('en', 'entry_key'), col('x', 'entry_key')), cmp('=', col('en', 'entry_key'), { kind: 'concat', items: [param(TEST_KEY_PREFIX), col('x', 'entry_key')] })] }
    : cmp('=', col('en', 'entry_key'), col('x', 'entry_key'));
  conditions.push({ kind: 'exists', query: enrolments([sameCause]), negated: true });
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
