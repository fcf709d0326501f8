type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any -- schema documents are free-form JSON

const keys = new WeakMap<object, string>();

/**
 * A schema node's identity by content. The validators compiled at build time carry
 * their own copies of the schema documents, so a node ajv names in an error is equal
 * to, not the same object as, the node the documents loaded here hold.
 */
export function schemaKey(schema: Json): string {
  if (schema === null || typeof schema !== 'object') return JSON.stringify(schema);
  let key = keys.get(schema);
  if (key === undefined) keys.set(schema, (key = JSON.stringify(schema)));
  return key;
}

export const sameSchema = (a: Json, b: Json): boolean => a === b || schemaKey(a) === schemaKey(b);
