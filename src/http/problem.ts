import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ValidationError, type FieldError } from '../core/validation.js';
import { ConflictError, NotFoundError, UnprocessableError } from '../services/context.js';
import { isDatabaseUnavailable } from '../store/store.js';

/** RFC 9457 problem details, the native API's one error shape. */
export function sendProblem(reply: FastifyReply, status: number, title: string, detail?: string, errors?: FieldError[]) {
  return reply
    .code(status)
    .type('application/problem+json')
    .send({ type: 'about:blank', title, status, ...(detail ? { detail } : {}), ...(errors ? { errors } : {}) });
}

interface AjvError {
  instancePath?: string;
  keyword: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Turns Ajv's errors into one `{field, message}` per problem, with dotted field paths. */
function fieldErrors(errors: AjvError[], context: string | undefined): FieldError[] {
  const prefix = context === 'querystring' || context === 'params' || context === 'headers' ? `${context}.` : '';
  const pathOf = (e: AjvError) => (e.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
  const seen = new Set<string>();
  const out: FieldError[] = [];
  // A union of literals (an enum) fails with one 'const' error per literal plus an 'anyOf': say it once.
  const allowed = new Map<string, string[]>();
  for (const e of errors) {
    let path = pathOf(e);
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'const') {
      allowed.set(path, [...(allowed.get(path) ?? []), JSON.stringify(e.params?.allowedValue)]);
      continue;
    }
    if (e.keyword === 'anyOf') continue;
    if (e.keyword === 'required') {
      path = path ? `${path}.${e.params?.missingProperty}` : String(e.params?.missingProperty);
      message = 'is required';
    } else if (e.keyword === 'additionalProperties') {
      path = path ? `${path}.${e.params?.additionalProperty}` : String(e.params?.additionalProperty);
      message = 'is not a known field';
    }
    const field = prefix + (path || '(body)');
    const key = `${field}\u0000${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ field, message });
  }
  for (const [path, literals] of allowed) out.push({ field: prefix + (path || '(body)'), message: `must be one of ${literals.join(', ')}` });
  return out;
}

/** The native API's error handler: every failure becomes a problem document, never an HTML page or a bare 500. */
export function apiErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (error instanceof ValidationError) return sendProblem(reply, 422, error.title ?? 'Validation failed', undefined, error.errors);
  if (error instanceof NotFoundError) return sendProblem(reply, 404, 'Not found', error.message);
  if (error instanceof ConflictError) return sendProblem(reply, 409, 'Conflict', error.message);
  if (error instanceof UnprocessableError) return sendProblem(reply, 422, 'Unprocessable request', error.message);
  if (error.validation) {
    return sendProblem(
      reply,
      422,
      'Validation failed',
      'the request does not match the schema',
      fieldErrors(error.validation as AjvError[], error.validationContext),
    );
  }
  if (isDatabaseUnavailable(error)) {
    reply.header('retry-after', '5');
    return sendProblem(reply, 503, 'Service unavailable', 'the database is not reachable right now; retry shortly');
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const title = status === 413 ? 'Payload too large' : status === 415 ? 'Unsupported media type' : status === 429 ? 'Too many requests' : 'Bad request';
    return sendProblem(reply, status, title, error.message);
  }
  request.log.error({ err: error }, 'unhandled error');
  return sendProblem(reply, 500, 'Internal error', 'the request failed unexpectedly; it was logged');
}
