/**
 * A small SQL syntax tree: just what segment queries need. Compilers build it from
 * rules; one printer per dialect turns it into text and a parameter list. Table and
 * column names come from the TABLES catalogue below, never from user input; every
 * value from a rule is a Param.
 */

export const TABLES = {
  customers: ['id', 'email', 'phone', 'first_name', 'last_name', 'registered_at', 'timezone', 'locale', 'country', 'city', 'attributes'],
  orders: ['id', 'customer_id', 'placed_at', 'status', 'total', 'currency'],
  order_items: ['order_id', 'line', 'product_id', 'sku', 'quantity', 'price', 'status'],
  products: ['id', 'category'],
  customer_reachability: ['channel', 'customer_id'],
  order_status_history: ['id', 'order_id', 'previous_status', 'status', 'changed_at', 'estimated', 'item_line'],
  enrolments: ['id', 'journey_id', 'version', 'customer_id', 'entry_key', 'order_id', 'trigger_at', 'entered_at', 'status', 'step_id', 'due_at', 'test'],
  segment_memberships: ['journey_id', 'customer_id', 'since'],
  outbox: ['id', 'idempotency_key', 'enrolment_id', 'journey_id', 'step_id', 'customer_id', 'channel', 'status', 'created_at'],
  message_events: ['id', 'outbox_id', 'kind', 'occurred_at'],
  customer_facts: ['customer_id', 'n', 'first_at', 'last_at', 'value', 'valued_n'],
  customer_status_facts: ['customer_id', 'status', 'n', 'first_at', 'last_at', 'value', 'valued_n'],
  events: ['seq', 'id', 'customer_id', 'type', 'occurred_at', 'properties'],
  customer_consents: ['customer_id', 'channel', 'granted'],
  suppressions: ['channel', 'address'],
  erased_customers: ['customer_id'],
} as const;

export type TableName = keyof typeof TABLES;

export type SqlParam = string | number | null;

export type Expr =
  | { kind: 'column'; table: string; name: string }
  | { kind: 'param'; value: SqlParam }
  /** A number the compiler itself chose (0, 1): never a value from a rule. */
  | { kind: 'number'; value: number }
  | { kind: 'compare'; op: '=' | '<>' | '<' | '<=' | '>' | '>='; left: Expr; right: Expr }
  | { kind: 'and'; items: Expr[] }
  | { kind: 'or'; items: Expr[] }
  | { kind: 'not'; item: Expr }
  | { kind: 'in'; expr: Expr; list: Expr[]; negated: boolean }
  | { kind: 'in_query'; expr: Expr; query: Select; negated: boolean }
  /** `guard`: put there only to keep a missing value from matching under NOT (see dropGuards). */
  | { kind: 'is_null'; expr: Expr; negated: boolean; guard?: boolean }
  | { kind: 'exists'; query: Select; negated: boolean }
  | { kind: 'aggregate'; fn: 'count' | 'sum' | 'max' | 'min' | 'avg'; arg: Expr | '*' }
  | { kind: 'coalesce'; items: Expr[] }
  | { kind: 'lower'; expr: Expr }
  /** Case-insensitive match with % and _ in the pattern escaped by the compiler. */
  | { kind: 'like'; expr: Expr; pattern: Expr }
  | { kind: 'arith'; op: '+' | '-' | '*' | '/' | '%'; left: Expr; right: Expr }
  | { kind: 'substr'; expr: Expr; start: number; length: number }
  | { kind: 'to_int'; expr: Expr }
  /** A JSON object column's member, read as text, number or its JSON encoding. */
  | { kind: 'json_value'; column: Expr; key: Expr; as: 'text' | 'number' }
  /** Whether a JSON member is present and not null. */
  | { kind: 'json_has'; column: Expr; key: Expr }
  /** Whether a JSON member holds this scalar (JSON equality: 1 = 1.0, true is not 'true'). */
  | { kind: 'json_equals'; column: Expr; key: Expr; value: string | number | boolean }
  /** The calendar date (YYYY-MM-DD text) of an epoch-ms instant in a timezone. */
  | { kind: 'local_date'; instant: Expr; timezone: Expr }
  /** The month and day (MM-DD) of an epoch-ms instant in UTC: a cheap prefilter before local dates. */
  | { kind: 'utc_month_day'; instant: Expr }
  /** Whether today, in a timezone, is an anniversary of an epoch-ms instant, every N months or days. */
  | { kind: 'is_anniversary'; instant: Expr; now: Expr; timezone: Expr; unit: 'months' | 'days'; every: number }
  /** Whether a text starts with a calendar date, YYYY-MM-DD. */
  | { kind: 'is_iso_date'; expr: Expr }
  /** The wall-clock time (HH:MM) of an epoch-ms instant in a timezone. */
  | { kind: 'local_time'; instant: Expr; timezone: Expr }
  /** A YYYY-MM-DD date shifted by whole days. */
  | { kind: 'date_add_days'; date: Expr; days: number }
  /** Whole days from one YYYY-MM-DD date to another. */
  | { kind: 'days_between'; from: Expr; to: Expr }
  | { kind: 'case'; whens: { when: Expr; then: Expr }[]; otherwise: Expr | null }
  | { kind: 'scalar_query'; query: Select }
  /** Text joined end to end (||). */
  | { kind: 'concat'; items: Expr[] }
  /** row_number() OVER (PARTITION BY ... ORDER BY ...): the first of each group is 1. */
  | { kind: 'row_number'; partitionBy: Expr[]; orderBy: { expr: Expr; desc: boolean }[] }
  /** SQL's three-valued logic made two-valued: true stays true, false and unknown become false. */
  | { kind: 'is_true'; expr: Expr };

export type FromItem =
  | { kind: 'table'; table: TableName; alias: string }
  | { kind: 'derived'; query: Select; alias: string }
  /** A named relation of the query or connection: a CTE, or a temporary table computed before. */
  | { kind: 'cte_ref'; name: string; alias: string };

export interface Join {
  type: 'inner' | 'left';
  item: FromItem;
  on: Expr;
}

export interface Select {
  kind: 'select';
  /** Common table expressions, each computed once (MATERIALIZED). */
  with: { name: string; query: Select }[];
  columns: { expr: Expr; alias: string }[];
  from: FromItem;
  joins: Join[];
  where: Expr | null;
  groupBy: Expr[];
  orderBy: { expr: Expr; desc: boolean }[];
  limit: Expr | null;
}

export const col = (table: string, name: string): Expr => ({ kind: 'column', table, name });
export const param = (value: SqlParam): Expr => ({ kind: 'param', value });
export const num = (value: number): Expr => ({ kind: 'number', value });
export const cmp = (op: Extract<Expr, { kind: 'compare' }>['op'], left: Expr, right: Expr): Expr => ({ kind: 'compare', op, left, right });
export const TRUE: Expr = { kind: 'and', items: [] };
export const FALSE: Expr = { kind: 'or', items: [] };

export function and(...items: Expr[]): Expr {
  const flat = items.flatMap((e) => (e.kind === 'and' ? e.items : [e]));
  return flat.length === 1 ? flat[0]! : { kind: 'and', items: flat };
}

export function or(...items: Expr[]): Expr {
  const flat = items.flatMap((e) => (e.kind === 'or' ? e.items : [e]));
  return flat.length === 1 ? flat[0]! : { kind: 'or', items: flat };
}

export function not(item: Expr): Expr {
  return item.kind === 'not' ? item.item : { kind: 'not', item };
}

export function select(parts: Partial<Select> & Pick<Select, 'from' | 'columns'>): Select {
  return { kind: 'select', with: [], joins: [], where: null, groupBy: [], orderBy: [], limit: null, ...parts };
}
