/**
 * Request bodies that the dispatcher's claim renders in SQL, as it reads the rows.
 *
 * A provider whose request for a template is fixed text around a few row values
 * (SendGrid's and Postmark's template sends: the address, the key, the tags and the
 * payload as JSON) describes that body as a BodyTemplate; the claim prints it into
 * its SELECT, and the row arrives with the finished body. Building the body in
 * JavaScript for every message (parse the payload, fill the subject, write the
 * JSON) took about a tenth of the dispatcher's throughput (node bench/run.js
 * dispatch); SQLite writes the same JSON in C while it reads the row anyway.
 *
 * A rendered body is null, and the dispatcher builds the message in JavaScript as
 * before, whenever the SQL could differ from it: a payload that is not a JSON
 * object, or a filled field that is not a string, an integer that JavaScript holds
 * exactly, or null. So the template describes the common case only, and the
 * JavaScript writer stays the definition (tests compare the two).
 */

/** The outbox columns a body can use: each goes in as a JSON string (null as null). */
export type BodyColumn = 'address' | 'idempotency_key' | 'journey_id' | 'step_id';

export type BodyPart =
  /** Literal JSON text. */
  | { kind: 'text'; text: string }
  /** A column as a JSON string. */
  | { kind: 'column'; column: BodyColumn }
  /** The parts when the column is not null; nothing otherwise. */
  | { kind: 'if_present'; column: BodyColumn; parts: readonly BodyPart[] }
  /** The payload, a JSON object. */
  | { kind: 'payload' }
  /** The payload with one more member, first, unless the payload has that key already. */
  | { kind: 'payload_with'; key: string; value: readonly FillPart[] };

/** Text with {{field}}s filled from the payload, as message.ts fillPlaceholders fills it. */
export type FillPart = { kind: 'text'; text: string } | { kind: 'field'; name: string };

export type BodyTemplate = readonly BodyPart[];

/** A provider's body template for each template name it renders; other templates' rows get no body. */
export type BodyTemplates = Readonly<Record<string, BodyTemplate>>;

/** Literal JSON text, as a body part. */
export function text(text: string): BodyPart {
  return { kind: 'text', text };
}

/** Fields of the payload that JavaScript's String() and SQLite print alike. */
const EXACT_INTEGER = 2 ** 53;

/**
 * The SQLite expression (and its parameters, in order) that renders the body of an
 * outbox row (as `outbox`'s columns) for its template, or NULL.
 */
export function bodySql(templates: BodyTemplates): { sql: string; params: (string | number)[] } {
  const names = Object.keys(templates);
  if (names.length === 0) return { sql: 'NULL', params: [] };
  const params: (string | number)[] = [];
  let sql = 'CASE template';
  for (const name of names) {
    params.push(name);
    sql += ` WHEN ? THEN ${concat(templates[name]!, params)}`;
  }
  sql += ' END';
  // CASE evaluates only the branch it takes: json_type() raises an error on text that is not JSON.
  // (a payload the engine wrote starts with its brace, and the cheaper test settles it)
  return { sql: `CASE WHEN json_valid(payload) THEN CASE WHEN substr(payload, 1, 1) = '{' OR json_type(payload) = 'object' THEN ${sql} END END`, params };
}

function concat(parts: readonly BodyPart[], params: (string | number)[]): string {
  if (parts.length === 0) return `''`;
  return `(${parts.map((part) => print(part, params)).join(' || ')})`;
}

function print(part: BodyPart, params: (string | number)[]): string {
  switch (part.kind) {
    case 'text':
      params.push(part.text);
      return '?';
    case 'column':
      return `json_quote(${column(part.column)})`;
    case 'if_present':
      return `CASE WHEN ${column(part.column)} IS NULL THEN '' ELSE ${concat(part.parts, params)} END`;
    case 'payload':
      // (as stored: json_valid checked it, and re-writing it would cost a parse)
      return 'payload';
    case 'payload_with': {
      // The member goes in first, as text after the payload's opening brace: json_set
      // would parse the payload again and write all of it out. A payload as the
      // engine writes it (no whitespace) renders; any other is JavaScript's (NULL).
      // The fill is printed once: json_quote writes NULL (a value SQL cannot print as
      // JavaScript would) as the text null, which nullif turns back into NULL, and
      // NULL leaves the whole body NULL rather than a body with "subject": null.
      params.push(jsonPath(part.key), `{${JSON.stringify(part.key)}:`);
      return `CASE WHEN json_type(payload, ?) IS NOT NULL THEN payload ELSE ? || nullif(json_quote(${fill(part.value, params)}), 'null') ||
        CASE WHEN substr(payload, 1, 2) = '{"' THEN ',' || substr(payload, 2) WHEN payload = '{}' THEN '}' END END`;
    }
    default:
      return unexpected(part);
  }
}

function fill(parts: readonly FillPart[], params: (string | number)[]): string {
  if (parts.length === 0) return `''`;
  const printed = parts.map((part) => {
    switch (part.kind) {
      case 'text':
        params.push(part.text);
        return '?';
      case 'field': {
        // missing or null: '' (as fillPlaceholders); anything that String() could print differently: NULL, so no body
        const path = jsonPath(part.name);
        params.push(path, path, path, EXACT_INTEGER, path);
        return `CASE coalesce(json_type(payload, ?), 'null') WHEN 'null' THEN '' WHEN 'text' THEN json_extract(payload, ?)
          WHEN 'integer' THEN CASE WHEN abs(json_extract(payload, ?)) < ? THEN CAST(json_extract(payload, ?) AS TEXT) END END`;
      }
      default:
        return unexpected(part);
    }
  });
  return `(${printed.join(' || ')})`;
}

/** A JSON path to one top-level key, quoted: field names may hold dots and dashes. */
function jsonPath(key: string): string {
  return `$.${JSON.stringify(key)}`;
}

function column(name: BodyColumn): string {
  switch (name) {
    case 'address':
    case 'idempotency_key':
    case 'journey_id':
    case 'step_id':
      return name;
    default:
      return unexpected(name);
  }
}

function unexpected(value: never): never {
  throw new Error(`unexpected body part ${JSON.stringify(value)}`);
}
