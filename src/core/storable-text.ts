/**
 * Text a database can hold. PostgreSQL text and jsonb refuse U+0000, and UTF-8 cannot encode an unpaired UTF-16
 * surrogate; both are valid in JSON strings and in JavaScript, so every surface that accepts text checks it.
 */
export const UNSTORABLE_RE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isStorableText(value: string): boolean {
  return !UNSTORABLE_RE.test(value);
}

/** Whether every string (and object key) in a value can be stored. */
export function isStorableValue(value: unknown): boolean {
  if (typeof value === 'string') return isStorableText(value);
  if (Array.isArray(value)) return value.every(isStorableValue);
  if (typeof value === 'object' && value !== null) return Object.entries(value).every(([k, v]) => isStorableText(k) && isStorableValue(v));
  return true;
}
