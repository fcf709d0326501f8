import { createHash } from 'node:crypto';
import { JourneyError } from '../../errors.js';
import type { RawRecord, RecordReader } from '../input/records.js';
import { bagField, FIELDS, type ImportKind } from './kinds.js';
import type { DateFormat } from './timestamps.js';
import { ZoneClock } from './timestamps.js';
import { bagValue, convert, convertConsent, normalisePhone, type ConvertContext } from './values.js';

/** Where one source column goes. */
export type Target =
  | { kind: 'field'; name: string }
  | { kind: 'bag'; key: string }
  | { kind: 'consent'; channel: string }
  | { kind: 'alias' }
  | { kind: 'ignore' };

type Values = RawRecord['values'];
export type Getter = (values: Values) => unknown;
export type ColumnGetter = (column: string) => Getter;

/** How a source's columns become store fields: from the header, a mapping file or a preset. */
export interface MappingSpec {
  /** Source column (as in the header) -> target; columns not listed fall back to their own name. */
  readonly columns: ReadonlyMap<string, Target>;
  /** Store fields computed from several columns (a preset's status from two columns). */
  readonly computed?: Readonly<Record<string, (column: ColumnGetter) => Getter>>;
  /** The source column an error in a computed field names (the user's file has no column "id"). */
  readonly computedFrom?: Readonly<Record<string, string>>;
  /** A customer alias computed from the row (Shopify: the e-mail its order export names customers by). */
  readonly alias?: (column: ColumnGetter) => Getter;
  /** Rows that carry nothing for this kind (Shopify's second and later line-item rows for orders). */
  readonly skip?: (column: ColumnGetter) => (values: Values) => boolean;
  readonly dateFormat: DateFormat;
  /** The zone of date-times written without an offset. */
  readonly timeZone: string;
  readonly statuses: ReadonlyMap<string, string>;
}

/** A converted row in stage-table order (FIELDS[kind]), plus what goes to side tables. */
export interface StageRow {
  readonly rowNo: number;
  readonly fields: (string | number | null)[];
  readonly consents: [channel: string, granted: 0 | 1][];
  readonly alias: string | null;
}

export interface RowProblem {
  /** The source column, as the user's file names it. */
  readonly column?: string;
  readonly value?: unknown;
  readonly reason: string;
}

export type MapResult = { kind: 'row'; row: StageRow } | { kind: 'skip' } | { kind: 'invalid'; problem: RowProblem };

export interface RowMapper {
  /** Store fields this source sets: an import never touches the others. */
  readonly provided: ReadonlySet<string>;
  /** Source columns that go nowhere. */
  readonly ignoredColumns: readonly string[];
  map(record: RawRecord): MapResult;
}

/** The default target of a header name: a field name, attributes.x, consent.x / consent_x, alias. */
export function defaultTarget(kind: ImportKind, column: string): Target {
  const name = column.trim().toLowerCase().replace(/[\s-]+/g, '_');
  if (FIELDS[kind].some((f) => f.name === name)) return { kind: 'field', name };
  const bag = bagField(kind);
  if (bag && name.startsWith(`${bag}.`) && name.length > bag.length + 1) return { kind: 'bag', key: column.trim().slice(bag.length + 1) };
  if (kind === 'customers') {
    const consent = /^consent[._](.+)$/.exec(name);
    if (consent) return { kind: 'consent', channel: consent[1]! };
    if (name === 'alias') return { kind: 'alias' };
  }
  return { kind: 'ignore' };
}

/** Checks a mapping target written in a mapping file: undefined when fine, else why not. */
export function targetProblem(kind: ImportKind, target: Target): string | undefined {
  switch (target.kind) {
    case 'field':
      return FIELDS[kind].some((f) => f.name === target.name)
        ? undefined
        : `${kind} has no field "${target.name}"; fields: ${FIELDS[kind].map((f) => f.name).join(', ')}`;
    case 'bag':
      return bagField(kind) ? undefined : `${kind} has no ${'attributes'} or properties`;
    case 'consent':
    case 'alias':
      return kind === 'customers' ? undefined : `${target.kind} is a customers field`;
    case 'ignore':
      return undefined;
  }
}

interface FieldSource {
  readonly index: number;
  readonly column: string | undefined;
  readonly get: Getter;
}

/** Binds a mapping to a reader's columns; fails before any row is read if a required field has no source. */
export function compileMapping(kind: ImportKind, spec: MappingSpec, reader: RecordReader, fileName: string): RowMapper {
  const fields = FIELDS[kind];
  const ctx: ConvertContext = { dateFormat: spec.dateFormat, zone: new ZoneClock(spec.timeZone), statuses: spec.statuses, statusCache: new Map() };
  const sources: FieldSource[] = [];
  const bags: { key: string; column: string; get: Getter }[] = [];
  const consents: { channel: string; column: string; get: Getter }[] = [];
  let alias: { column: string; get: Getter } | undefined;
  const ignoredColumns: string[] = [];
  // columns a preset's computed fields read are not "ignored"
  const readByCode = new Set<string>();
  const columnForCode: ColumnGetter = (name) => {
    readByCode.add(name);
    return reader.column(name);
  };

  for (const column of reader.columns) {
    const target = spec.columns.get(column) ?? defaultTarget(kind, column);
    const get = reader.column(column);
    switch (target.kind) {
      case 'field': {
        const index = fields.findIndex((f) => f.name === target.name);
        if (!sources.some((s) => s.index === index)) sources.push({ index, column, get });
        break;
      }
      case 'bag':
        bags.push({ key: target.key, column, get });
        break;
      case 'consent':
        consents.push({ channel: target.channel.toLowerCase(), column, get });
        break;
      case 'alias':
        alias = { column, get };
        break;
      case 'ignore':
        ignoredColumns.push(column);
        break;
    }
  }
  for (const [name, make] of Object.entries(spec.computed ?? {})) {
    const index = fields.findIndex((f) => f.name === name);
    const existing = sources.findIndex((s) => s.index === index);
    if (existing >= 0) sources.splice(existing, 1);
    sources.push({ index, column: spec.computedFrom?.[name], get: make(columnForCode) });
  }
  sources.sort((a, b) => a.index - b.index);
  if (spec.alias) alias = { column: 'alias', get: spec.alias(columnForCode) };

  const missing = fields.filter((f) => f.required && !sources.some((s) => fields[s.index] === f));
  if (missing.length > 0) {
    throw new JourneyError(
      `${fileName} has no column for ${missing.map((f) => f.name).join(', ')}, required for ${kind}`,
      {
        location: { file: fileName, field: missing[0]!.name },
        hint: `its columns are: ${reader.columns.join(', ') || '(none)'}; rename a column, map it with --mapping map.yaml, or use --preset`,
      },
    );
  }

  const bag = bagField(kind);
  const bagIndex = bag ? fields.findIndex((f) => f.name === bag) : -1;
  const provided = new Set(sources.map((s) => fields[s.index]!.name));
  if (bags.length > 0 && bag) provided.add(bag);
  const skip = spec.skip?.(columnForCode);
  const finish = finisher(kind);
  // an order's items and payments are numbered in file order when the source does not number them
  const lineOf = kind === 'order-items' || kind === 'payments' ? positionalLines(sources.find((s) => s.index === 0)!.get) : undefined;

  return {
    provided,
    ignoredColumns: ignoredColumns.filter((c) => !readByCode.has(c)),
    map(record) {
      if (record.error) return { kind: 'invalid', problem: { reason: record.error } };
      const values = record.values;
      if (skip?.(values)) return { kind: 'skip' };
      const line = lineOf?.(values);
      const out: (string | number | null)[] = new Array(fields.length).fill(null);
      for (const source of sources) {
        const spec = fields[source.index]!;
        const raw = source.get(values);
        const converted = convert(raw, spec.type, ctx);
        if (!converted.ok) return invalid(source.column ?? spec.name, raw, converted.reason);
        if (converted.value === null && spec.required) return invalid(source.column ?? spec.name, raw, `is empty; ${spec.name} is required`);
        out[source.index] = converted.value;
      }
      if (bags.length > 0) {
        const merged: Record<string, unknown> = out[bagIndex] === null ? {} : JSON.parse(out[bagIndex] as string);
        for (const b of bags) {
          const value = bagValue(b.get(values));
          if (value !== undefined) merged[b.key] = value;
        }
        out[bagIndex] = JSON.stringify(merged);
      }
      const grants: [string, 0 | 1][] = [];
      for (const c of consents) {
        const raw = c.get(values);
        const converted = convertConsent(raw);
        if (!converted.ok) return invalid(c.column, raw, converted.reason);
        if (converted.value !== null) grants.push([c.channel, converted.value]);
      }
      let aliasValue: string | null = null;
      if (alias) {
        const raw = alias.get(values);
        aliasValue = raw === undefined || raw === null || String(raw).trim() === '' ? null : String(raw).trim();
      }
      if (line !== undefined && out[1] === null) out[1] = line;
      const problem = finish(out);
      if (problem) return { kind: 'invalid', problem };
      return { kind: 'row', row: { rowNo: record.rowNo, fields: out, consents: grants, alias: aliasValue } };
    },
  };
}

/**
 * Line numbers for sources without them: an order's rows counted in file order
 * (exports, Shopify's among them, write an order's lines together). Counted before
 * any check, so that a rejected row keeps its number when fixed and imported again.
 */
function positionalLines(orderId: Getter): (values: Values) => number {
  let lastOrder: unknown;
  let line = 0;
  return (values) => {
    const order = orderId(values);
    line = order === lastOrder ? line + 1 : 1;
    lastOrder = order;
    return line;
  };
}

function invalid(column: string, value: unknown, reason: string): MapResult {
  return { kind: 'invalid', problem: { column, value, reason } };
}

/** Per-kind defaults and derived values, applied after conversion. */
function finisher(kind: ImportKind): (fields: (string | number | null)[]) => RowProblem | undefined {
  switch (kind) {
    case 'payments':
      return () => undefined;
    case 'order-items':
      // order_id, line, product_id, sku, title, quantity, price
      return (f) => {
        if (f[5] === null) f[5] = 1;
        if ((f[5] as number) <= 0) return { column: 'quantity', value: f[5], reason: 'must be at least 1' };
        return undefined;
      };
    case 'events':
      // id, customer_id, type, occurred_at, properties: an event without an id gets
      // one from its content, so that re-importing the same file adds nothing
      return (f) => {
        if (f[0] === null) f[0] = 'sha1:' + createHash('sha1').update(JSON.stringify(f.slice(1))).digest('hex');
        if (f[4] === null) f[4] = '{}';
        return undefined;
      };
    case 'suppressions':
      // channel, address, reason, created_at
      return (f) => {
        if (!/^[a-z][a-z0-9_-]*$/.test(String(f[0]))) return { column: 'channel', value: f[0], reason: 'is not a channel name (lower-case letters, digits, - or _, as in journey.config.yaml)' };
        const address = String(f[1]);
        if (address.includes('@')) f[1] = address.toLowerCase();
        else {
          const phone = normalisePhone(address);
          if (!phone) return { column: 'address', value: address, reason: 'is neither an e-mail address nor a phone number' };
          f[1] = phone;
        }
        return undefined;
      };
    case 'customers':
    case 'orders':
    case 'products':
      return () => undefined;
  }
}
