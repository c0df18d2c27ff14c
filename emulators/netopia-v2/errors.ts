import type { FastifyReply } from 'fastify';

/**
 * NETOPIA v2's `error.code` values and the messages the emulator gives with them (protocols/netopia.md §2.5
 * and the v1 card error table §1.5, whose codes v2 reuses). The official catalogue is not public; where the
 * sources name a code the wording follows them, the rest is the emulator's own.
 */
export const V2_MESSAGES: Readonly<Record<string, string>> = Object.freeze({
  '00': 'Approved',
  // NETOPIA's own sample answers "100" with the message "Approved" (docs start/sample-response).
  '100': 'Approved',
  '101': 'Redirect user to payment page',
  '16': 'Card has a risk (stolen card)',
  '17': 'Incorrect card number',
  '19': 'Expired card',
  '20': 'Insufficient funds',
  '21': 'Invalid CVV',
  '22': 'Issuer unavailable',
  '34': 'Transaction not permitted',
  '38': '3-D Secure authentication failed',
  '48': 'Invalid request',
  '53': 'Only a paid order can be credited',
  '54': 'The credit exceeds the amount left to credit',
  '56': 'Order closed',
  '99': 'There is another order with a different price',
});

export function messageFor(code: string): string {
  return V2_MESSAGES[code] ?? 'Generic error';
}

/** One entry of `error.details`: which request field is wrong, and why. */
export interface FieldError {
  /** `required` (missing or empty) or `invalid` (present but unusable). */
  code: 'required' | 'invalid';
  message: string;
  /** Dotted path in the request body, e.g. `order.billing.email`. */
  field: string;
}

export const required = (field: string, message = `${field} is required`): FieldError => ({ code: 'required', message, field });
export const invalid = (field: string, message: string): FieldError => ({ code: 'invalid', message, field });

/**
 * NETOPIA's error body `{error:{code,message,details}}`, optionally with the order it is about (`payment`,
 * `customerAction`), as in the "Order closed" sample.
 */
export function sendApiError(
  reply: FastifyReply,
  httpStatus: number,
  code: string,
  options: { message?: string; details?: FieldError[]; payment?: Record<string, unknown> } = {},
): FastifyReply {
  const error: Record<string, unknown> = { code, message: options.message ?? messageFor(code) };
  if (options.details && options.details.length > 0) error.details = options.details;
  const body: Record<string, unknown> = options.payment ? { customerAction: {}, error, payment: options.payment } : { error };
  return reply.code(httpStatus).type('application/json; charset=utf-8').send(body);
}

/** A request NETOPIA cannot use: HTTP 400, code 48, one detail per wrong field. */
export function sendValidationError(reply: FastifyReply, details: FieldError[]): FastifyReply {
  return sendApiError(reply, 400, '48', { details });
}

/** What NETOPIA's gateway answers before the API sees the request (§2.2): a flat `{code, message}`. */
export function sendGatewayError(reply: FastifyReply, httpStatus: number, message: string): FastifyReply {
  return reply
    .code(httpStatus)
    .type('application/json; charset=utf-8')
    .send({ code: String(httpStatus), message });
}
