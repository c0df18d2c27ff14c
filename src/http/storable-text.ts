import { ValidationError, type FieldError } from '../core/validation.js';
import { UNSTORABLE_RE } from '../core/storable-text.js';

function scan(value: unknown, path: string, out: FieldError[], depth = 0): void {
  if (out.length >= 20 || depth > 32) return;
  if (typeof value === 'string') {
    if (UNSTORABLE_RE.test(value)) out.push({ field: path || '(body)', message: 'contains a NUL character or malformed Unicode' });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => scan(v, path ? `${path}.${i}` : String(i), out, depth + 1));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const field = path ? `${path}.${k}` : k;
      if (UNSTORABLE_RE.test(k)) out.push({ field, message: 'the name contains a NUL character or malformed Unicode' });
      scan(v, field, out, depth + 1);
    }
  }
}

/**
 * Refuses text that no database or XML document can hold, before validation: JSON allows `\u0000` and lone
 * surrogates, schemas accept them as strings, and they would otherwise fail deep inside a query or a codec.
 */
export function assertStorableText(parts: { body?: unknown; query?: unknown; params?: unknown }): void {
  const errors: FieldError[] = [];
  scan(parts.params, 'params', errors);
  scan(parts.query, 'querystring', errors);
  scan(parts.body, '', errors);
  if (errors.length) throw new ValidationError(errors);
}
