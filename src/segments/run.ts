import type { Rule } from '../project/model.js';
import { ruleNodes } from '../project/rule-walk.js';
import type { StoreDb } from '../store/db.js';
import { explainQuery } from '../store/explain.js';
import { NOT_COUNTED_BY_DEFAULT } from '../store/order-statuses.js';
import { compileSegment, CompileError, type CompileOptions } from './compile.js';
import { col, cmp, param, select, type Expr, type Select, type SqlParam } from './sql/nodes.js';
import { PostgresPrinter } from './sql/postgres-printer.js';
import type { PrintedQuery, SqlPrinter } from './sql/printer.js';
import { SqlitePrinter } from './sql/sqlite-printer.js';

export function printerFor(dialect: 'sqlite' | 'postgres'): SqlPrinter {
  return dialect === 'sqlite' ? new SqlitePrinter() : new PostgresPrinter();
}

export interface SegmentCount {
  segment: string;
  count: number;
  /** Wall time of the query, milliseconds. */
  ms: number;
}

export function segmentCountQuery(name: string, opts: CompileOptions): Select {
  return select({
    columns: [{ expr: { kind: 'aggregate', fn: 'count', arg: '*' }, alias: 'n' }],
    from: { kind: 'derived', query: compileSegment(name, opts), alias: 'members' },
  });
}

export function printSegment(name: string, opts: CompileOptions, dialect: 'sqlite' | 'postgres' = 'sqlite'): PrintedQuery {
  return printerFor(dialect).print(compileSegment(name, opts));
}

export function countSegment(db: StoreDb, name: string, opts: CompileOptions): SegmentCount {
  const { sql, params } = printerFor(db.dialect).print(segmentCountQuery(name, opts));
  const t0 = performance.now();
  const row = db.get<{ n: number }>(sql, params as SqlParam[]);
  return { segment: name, count: Number(row?.n ?? 0), ms: performance.now() - t0 };
}

export function explainSegment(db: StoreDb, name: string, opts: CompileOptions): string[] {
  const { sql, params } = printerFor(db.dialect).print(compileSegment(name, opts));
  return explainQuery(db, sql, params as SqlParam[]);
}

export type SampleRow = Record<string, string | number | null>;

/**
 * N members with their id, e-mail and the values the rule looked at (customer
 * fields, attributes, and order facts), so that a person can check why they match.
 */
export function sampleSegment(db: StoreDb, name: string, opts: CompileOptions, limit: number): SampleRow[] {
  const segment = opts.segments.get(name);
  if (!segment) throw new CompileError(`unknown segment '${name}'`);
  const columns: Select['columns'] = [
    { expr: col('cu', 'id'), alias: 'id' },
    { expr: col('cu', 'email'), alias: 'email' },
  ];
  for (const [alias, expr] of usedFields(segment.rule, opts)) columns.push({ expr, alias });
  const query = select({
    columns,
    from: { kind: 'table', table: 'customers', alias: 'cu' },
    where: { kind: 'in_query', expr: col('cu', 'id'), query: compileSegment(name, opts), negated: false },
    orderBy: [{ expr: col('cu', 'id'), desc: false }],
    limit: param(limit),
  });
  const { sql, params } = printerFor(db.dialect).print(query);
  return db.all<SampleRow>(sql, params as SqlParam[]);
}

/** The columns worth showing next to a member: what the rule (and segments it names) compare. */
function usedFields(rule: Rule, opts: CompileOptions): Map<string, Expr> {
  const out = new Map<string, Expr>();
  const seen = new Set<string>();
  const orderFact = (fn: 'count' | 'max' | 'min' | 'sum', arg: Expr | '*'): Expr => ({
    kind: 'scalar_query',
    query: select({
      columns: [{ expr: { kind: 'aggregate', fn, arg }, alias: 'v' }],
      from: { kind: 'table', table: 'orders', alias: 'ox' },
      where: { kind: 'and', items: [cmp('=', col('ox', 'customer_id'), col('cu', 'id')), { kind: 'in', expr: col('ox', 'status'), list: NOT_COUNTED_BY_DEFAULT.map(param), negated: true }] },
    }),
  });
  const visit = (r: Rule): void => {
    for (const node of ruleNodes(r)) {
      switch (node.kind) {
        case 'customer_field':
          out.set(node.field, col('cu', node.field));
          break;
        case 'attribute':
          out.set(`attributes.${node.name}`, { kind: 'json_value', column: col('cu', 'attributes'), key: param(node.name), as: 'text' });
          break;
        case 'registered_at':
          out.set('registered_at', col('cu', 'registered_at'));
          break;
        case 'orders':
          out.set('orders', orderFact('count', '*'));
          break;
        case 'order_date':
          out.set(node.which === 'last' ? 'last_order_at' : 'first_order_at', orderFact(node.which === 'last' ? 'max' : 'min', col('ox', 'placed_at')));
          break;
        case 'order_amount':
          out.set('lifetime_value', orderFact('sum', col('ox', 'total')));
          break;
        case 'segment':
          if (!seen.has(node.name)) {
            seen.add(node.name);
            const named = opts.segments.get(node.name);
            if (named) visit(named.rule);
          }
          break;
        default:
          break;
      }
    }
  };
  visit(rule);
  return out;
}
