import { readFileSync } from 'node:fs';
import { isMap, isScalar, LineCounter, parseDocument, type Node, type YAMLMap } from 'yaml';
import { JourneyError } from '../../errors.js';
import type { ImportKind } from './kinds.js';
import { targetProblem, type MappingSpec, type Target } from './mapping.js';
import { isTimeZone, parseDateFormat } from './timestamps.js';
import { canonicalStatus } from './values.js';

/**
 * A mapping file (--mapping map.yaml) for exports no preset knows:
 *
 *   columns:                 # source column -> store field
 *     Order No: id
 *     Client: customer_id
 *     Tier: attributes.tier  # into the attributes JSON
 *     Newsletter: consent.email
 *     Notes: ignore
 *   dates:
 *     format: DD/MM/YYYY HH:mm   # or iso (default), epoch_ms, epoch_s
 *     timezone: Europe/Paris     # for date-times without an offset (default UTC)
 *   statuses:                # source value -> status
 *     Paid: processing
 *
 * Columns it does not list keep their default meaning (a column named like a field).
 * Every mistake is reported at its file:line:col.
 */
export function loadMappingFile(file: string, kind: ImportKind): MappingSpec {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new JourneyError(`cannot read the mapping file ${file}: ${(err as Error).message}`, { location: { file } });
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  const at = (node: Node | null | undefined) => {
    const pos = lineCounter.linePos(node?.range?.[0] ?? 0);
    return { file, line: pos.line, col: pos.col };
  };
  const fail = (node: Node | null | undefined, message: string, hint?: string): never => {
    throw new JourneyError(message, { location: at(node), hint });
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new JourneyError(`the mapping file is not valid YAML: ${e.message.split('\n')[0]}`, {
      location: { file, line: e.linePos?.[0].line, col: e.linePos?.[0].col },
    });
  }
  const root = doc.contents;
  if (!isMap(root)) return fail(root, 'a mapping file is a YAML map with columns, dates and statuses');

  const spec: { columns: Map<string, Target>; dateFormat: MappingSpec['dateFormat']; timeZone: string; statuses: Map<string, string> } = {
    columns: new Map(),
    dateFormat: { kind: 'iso' },
    timeZone: 'UTC',
    statuses: new Map(),
  };
  const entries = (map: YAMLMap) =>
    map.items.map((pair) => {
      const key = pair.key as Node;
      if (!isScalar(key)) fail(key, 'keys must be plain text');
      return { key: String((key as { value: unknown }).value), keyNode: key, value: pair.value as Node | null };
    });
  const scalarText = (node: Node | null, what: string): string => {
    if (!isScalar(node) || node.value === null || typeof node.value === 'object') return fail(node, `${what} must be a text value`);
    return String(node.value);
  };

  for (const { key, keyNode, value } of entries(root)) {
    switch (key) {
      case 'columns': {
        if (!isMap(value)) fail(value ?? keyNode, 'columns is a map of source column -> field');
        for (const column of entries(value as YAMLMap)) {
          const target = column.value === null || (isScalar(column.value) && column.value.value === null) ? ({ kind: 'ignore' } as Target) : parseTarget(scalarText(column.value, `the field for column "${column.key}"`));
          const problem = targetProblem(kind, target);
          if (problem) fail(column.value, `column "${column.key}": ${problem}`);
          spec.columns.set(column.key, target);
        }
        break;
      }
      case 'dates': {
        if (!isMap(value)) fail(value ?? keyNode, 'dates is a map with format and timezone');
        for (const setting of entries(value as YAMLMap)) {
          const settingText = scalarText(setting.value, `dates.${setting.key}`);
          if (setting.key === 'format') {
            const format = parseDateFormat(settingText);
            if (typeof format === 'string') fail(setting.value, `dates.format "${settingText}": ${format}`, 'use iso, epoch_ms, epoch_s or a pattern such as DD/MM/YYYY HH:mm:ss');
            spec.dateFormat = format as MappingSpec['dateFormat'];
          } else if (setting.key === 'timezone') {
            if (!isTimeZone(settingText)) fail(setting.value, `dates.timezone "${settingText}" is not an IANA time zone`, 'for example UTC, Europe/Paris, America/Sao_Paulo');
            spec.timeZone = settingText;
          } else fail(setting.keyNode, `unknown setting dates.${setting.key}`, 'dates has format and timezone');
        }
        break;
      }
      case 'statuses': {
        if (!isMap(value)) fail(value ?? keyNode, 'statuses is a map of source value -> status');
        for (const status of entries(value as YAMLMap)) {
          const to = scalarText(status.value, `the status for "${status.key}"`);
          const canonical = canonicalStatus(to, new Map());
          if (!canonical) fail(status.value, `"${to}" is not a status name`, 'use letters, digits and _ (pending, processing, shipped, delivered, canceled ...)');
          spec.statuses.set(status.key, canonical!);
        }
        break;
      }
      default:
        fail(keyNode, `unknown key "${key}" in a mapping file`, 'a mapping file has columns, dates and statuses');
    }
  }
  return spec;
}

function parseTarget(text: string): Target {
  const name = text.trim();
  if (name === 'ignore') return { kind: 'ignore' };
  if (name === 'alias') return { kind: 'alias' };
  const dot = name.indexOf('.');
  if (dot > 0) {
    const [head, rest] = [name.slice(0, dot), name.slice(dot + 1)];
    if (head === 'consent') return { kind: 'consent', channel: rest };
    if (head === 'attributes' || head === 'properties') return { kind: 'bag', key: rest };
  }
  return { kind: 'field', name };
}
