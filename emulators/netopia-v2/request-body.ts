import type { FastifyRequest } from 'fastify';
import { invalid, type FieldError } from './errors.js';

/** NUL and unpaired surrogates: JSON can carry them, PostgreSQL text and jsonb cannot store them. */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function isStorable(text: string): boolean {
  return !UNSTORABLE.test(text);
}

/**
 * The first string (key or value) in `value` that no database could store, as a dotted path. Nesting deeper
 * than any NETOPIA request has counts as unstorable too, rather than going unchecked.
 */
function unstorablePath(value: unknown, path: string, depth = 0): string | undefined {
  if (typeof value === 'string') return UNSTORABLE.test(value) ? path : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth > 32) return path;
  for (const [key, child] of Object.entries(value)) {
    const childPath = path === '' ? key : `${path}.${key}`;
    if (UNSTORABLE.test(key)) return childPath;
    const found = unstorablePath(child, childPath, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * The JSON body of an API call. Inside the emulator every body arrives as text (see index.ts), so a body that
 * is not JSON becomes NETOPIA's own validation error instead of the host framework's; so does text that is
 * valid JSON but not storable (a NUL character, half a surrogate pair).
 */
export function readJsonBody(request: FastifyRequest): { ok: true; value: unknown } | { ok: false; errors: FieldError[] } {
  const body = request.body;
  if (typeof body !== 'string') return { ok: false, errors: [invalid('', 'the body must be JSON (Content-Type: application/json)')] };
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, errors: [invalid('', 'the body is not valid JSON')] };
  }
  const bad = unstorablePath(value, '');
  if (bad !== undefined)
    return { ok: false, errors: [invalid(bad, `${bad || 'the body'} contains a NUL character or an unpaired surrogate, or is nested too deeply`)] };
  return { ok: true, value };
}
