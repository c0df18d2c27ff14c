import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import type { DoublingRetryOptions } from './delivery-worker.js';
import { CONTENT_SECURITY_POLICY } from './page-layout.js';

/**
 * What every emulator's registration shares: where it is mounted, how its options are checked, and the rules
 * its Fastify scope sets whatever the host app does.
 */

const FORM = 'application/x-www-form-urlencoded';
/** No body an emulator reads (form or JSON) may exceed 1 MiB, whatever limit the host app has. */
const BODY_LIMIT = 1024 * 1024;

/** The mount point without trailing slashes. The root is refused: an emulator must not shadow the hub's routes. */
export function mountPrefix(given: string | undefined, fallback: string, emulatorName: string): string {
  const prefix = (given ?? fallback).replace(/\/+$/, '');
  if (!/^\/[^?#]*$/.test(prefix)) throw new Error(`the ${emulatorName} emulator prefix must be a path below the root, e.g. ${fallback}`);
  return prefix;
}

/** The absolute URL of the emulator's mount point, e.g. http://127.0.0.1:8080/sandbox/nexi. */
export function mountUrl(publicUrl: string, prefix: string): string {
  return publicUrl.replace(/\/+$/, '') + prefix;
}

/** An option that must be a positive number; `name` is how the caller spells it in the error. */
export function positiveOption(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${name} must be a positive number`);
  return v;
}

/** `given` checked and completed with `defaults`; `optionName` is the option's name in errors ("ipnRetry"). */
export function doublingRetryOptions(
  given: Partial<DoublingRetryOptions> | undefined,
  defaults: DoublingRetryOptions,
  optionName: string,
): DoublingRetryOptions {
  const retry = given ?? {};
  return {
    baseDelayMs: positiveOption(retry.baseDelayMs, defaults.baseDelayMs, `${optionName}.baseDelayMs`),
    maxAttempts: Math.floor(positiveOption(retry.maxAttempts, defaults.maxAttempts, `${optionName}.maxAttempts`)),
    timeoutMs: positiveOption(retry.timeoutMs, defaults.timeoutMs, `${optionName}.timeoutMs`),
    pollMs: positiveOption(retry.pollMs, defaults.pollMs, `${optionName}.pollMs`),
  };
}

/**
 * The status of a request that failed before or inside a route: the framework's own 4xx (bad body, too large,
 * unknown content type), or 500 for anything else, which is logged since it is the emulator's fault.
 */
export function failureStatus(error: FastifyError, request: FastifyRequest, emulatorName: string): number {
  const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  if (status === 500) request.log.error({ err: error }, `${emulatorName} emulator request failed`);
  return status;
}

/** The error code of a request refused for a NUL in its URL (always a 400, whatever the emulator's habits). */
export const NUL_IN_URL = 'EMU_NUL_IN_URL';

/** The body limit and the headers every emulator answer carries (pages are never cached, framed or sniffed). */
export function guardEmulatorScope(scope: FastifyInstance): void {
  scope.addHook('onRoute', (route) => {
    route.bodyLimit = BODY_LIMIT;
  });
  // No processor accepts a NUL in a URL, and PostgreSQL cannot store one in text: refuse it before any route
  // reads it (the emulator's own error handler answers the 400 in its format).
  scope.addHook('onRequest', async (request) => {
    if (/%00/i.test(request.url) || request.url.includes('\0')) {
      throw Object.assign(new Error('the URL contains a NUL character (%00)'), { statusCode: 400, code: NUL_IN_URL });
    }
  });
  scope.addHook('onSend', async (_request, reply) => {
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('cache-control', 'no-store');
  });
}

/**
 * Forms as PHP's $_POST sees them, a plain record where a repeated name keeps its last value, whatever parser
 * the host app registered for forms.
 */
export function parseFormsAsRecords(scope: FastifyInstance): void {
  if (scope.hasContentTypeParser(FORM)) scope.removeContentTypeParser(FORM);
  addFormParser(scope);
}

/** The form parser alone, for a scope that has already removed every parser of the host app. */
export function addFormParser(scope: FastifyInstance): void {
  scope.addContentTypeParser(FORM, { parseAs: 'string' }, (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))));
}
