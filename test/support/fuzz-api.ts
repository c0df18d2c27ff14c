// Checks shared by the native-API fuzz suites (test/hostile/fuzz-http-api, fuzz-http-payment-steps, fuzz-http-refunds).
import type { RawResponse } from './fuzz.js';

const PROBLEM = /^application\/problem\+json/;

/** An RFC 9457 problem document with a 4xx status equal to the HTTP status and a title; undefined when it is one. */
export function problemCheck(r: RawResponse): string | undefined {
  if (r.error) return `no HTTP response (${r.error})`;
  if (r.status >= 500) return `HTTP ${r.status}`;
  if (r.status < 400) return undefined;
  if (!PROBLEM.test(String(r.headers['content-type'] ?? ''))) return `HTTP ${r.status} is not application/problem+json but ${r.headers['content-type']}`;
  let body: { status?: unknown; title?: unknown };
  try {
    body = JSON.parse(r.text);
  } catch {
    return `HTTP ${r.status} problem body is not JSON`;
  }
  if (body.status !== r.status) return `problem.status ${String(body.status)} differs from HTTP ${r.status}`;
  if (typeof body.title !== 'string' || body.title === '') return 'problem without a title';
  return undefined;
}
