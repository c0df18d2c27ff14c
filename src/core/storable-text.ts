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

const UNSTORABLE_ALL_RE = new RegExp(UNSTORABLE_RE.source, 'g');

/**
 * A copy of `value` that a database can hold: every U+0000 and lone surrogate in its strings (and keys) replaced
 * by U+FFFD. For what the hub must record whatever it holds (a processor's answer, a rejection reason quoting
 * sender text); the value itself when it is storable already.
 */
export function toStorable<T>(value: T): T {
  if (isStorableValue(value)) return value;
  const fix = (v: unknown): unknown => {
    if (typeof v === 'string') return v.replace(UNSTORABLE_ALL_RE, '\uFFFD');
    if (Array.isArray(v)) return v.map(fix);
    if (typeof v === 'object' && v !== null && !(v instanceof Date)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [fix(k), fix(x)]));
    return v;
  };
  return fix(value) as T;
}
