import type { FieldErrors } from '../core/validation.js';

/**
 * The optional `settings.endpoint` every connector accepts (the processor's base URL, overriding the
 * environment's default): an absolute http(s) URL without whitespace, query, fragment or credentials (the
 * connector appends its API paths to it). Adds a field error when it is anything else; trailing slashes are dropped.
 */
export function readEndpointSetting(errors: FieldErrors, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (!isBaseUrl(value)) {
    errors.add('settings.endpoint', 'must be an absolute http(s) URL without query, fragment or credentials');
    return undefined;
  }
  return value.replace(/\/+$/, '');
}

function isBaseUrl(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 2048 || /\s/.test(value)) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && !url.search && !url.hash && !url.username && !url.password;
  } catch {
    return false;
  }
}
