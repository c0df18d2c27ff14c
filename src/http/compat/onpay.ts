import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import busboy from 'busboy';
import { ValidationError } from '../../core/validation.js';
import { isStorableText } from '../../core/storable-text.js';
import type { HubContext } from '../../services/context.js';
import { listPaymentMethods } from '../../services/payment-methods.js';
import { OnpayError, OnpayKeyError } from '../../services/onpay/errors.js';
import type { FailedAuthBudget } from '../auth-failures.js';
import { getOnpayLink } from '../../services/onpay/links.js';
import { activateOnpayKey, onpayPartnerOf } from '../../services/onpay/partners.js';
import { onpayNotifications, onpayUsers } from '../../services/onpay/reports.js';
import { isGateway, type OnpaySide } from '../../services/onpay/users.js';

/**
 * The OnPay partner API (seed 004), so that partner software written against it works by changing the base URL:
 * `POST /api/<call>/` (production: the acquirers' live environments) and `POST /test/api/<call>/` (test: their
 * test environments, or the built-in emulators when they run). Requests are form-urlencoded or multipart (the
 * seed's curl uses -F); field names are matched without regard to case (the seed writes `gatewayusername`).
 * Every answer is JSON in the documented shapes, with booleans and numbers as strings like the original's
 * examples; a refusal is `success: "false"` with the message in `error` (get_link) or `errors` (the others).
 */

const FIELDS = [
  'key',
  'gateway',
  'gatewayApiKey',
  'gatewaySecretKey',
  'gatewayUsername',
  'gatewayPassword',
  'gatewayNotificationKey',
  'extId',
  'orderAmount',
  'orderCurrency',
  'orderDescription',
  'expDate',
  'completedUrl',
  'canceledUrl',
  'date',
  'allnotifications',
  'datefrom',
  'dateto',
] as const;
type Field = (typeof FIELDS)[number];
const BY_LOWER = new Map<string, Field>(FIELDS.map((f) => [f.toLowerCase(), f]));

/** Documented maximum lengths (varchar(n)). */
const MAX: Partial<Record<Field, number>> = {
  key: 200,
  gateway: 50,
  gatewayApiKey: 500,
  gatewaySecretKey: 500,
  gatewayUsername: 500,
  gatewayPassword: 500,
  gatewayNotificationKey: 500,
  extId: 1000,
  orderCurrency: 3,
  orderDescription: 200,
  completedUrl: 1000,
  canceledUrl: 1000,
  expDate: 19,
  date: 19,
  datefrom: 19,
  dateto: 19,
};

type Form = Partial<Record<Field, string>>;

/** The request's fields under their documented names; the last of a repeated field wins, as in PHP. */
function readForm(body: unknown): Form {
  const out: Form = {};
  if (!body || typeof body !== 'object') return out;
  for (const [name, value] of Object.entries(body as Record<string, unknown>)) {
    const field = BY_LOWER.get(name.toLowerCase());
    if (!field || typeof value !== 'string') continue;
    if (!isStorableText(value)) throw new OnpayError(`${field} contains a NUL character or malformed text`);
    out[field] = value;
  }
  return out;
}

function text(form: Form, field: Field, required = false): string {
  const value = (form[field] ?? '').trim();
  if (required && value === '') throw new OnpayError(`${field} is required`);
  const max = MAX[field];
  if (max !== undefined && value.length > max) throw new OnpayError(`${field} must be at most ${max} characters`);
  return value;
}

function bool(form: Form, field: Field): boolean {
  const v = text(form, field).toLowerCase();
  if (v === '' || v === 'false' || v === '0') return false;
  if (v === 'true' || v === '1') return true;
  throw new OnpayError(`${field} must be true or false`);
}

function int(form: Form, field: Field): number {
  const v = text(form, field, true);
  if (!/^\d{1,15}$/.test(v)) throw new OnpayError(`${field} must be an integer (the amount × 100, e.g. 100,50 EUR is 10050)`);
  return Number(v);
}

function gatewayOf(form: Form) {
  const gateway = text(form, 'gateway', true).toLowerCase();
  if (!isGateway(gateway)) throw new OnpayError(`gateway must be one of nexi, multisafepay, volt`);
  return gateway;
}

function gatewayFields(form: Form) {
  return {
    gatewayApiKey: text(form, 'gatewayApiKey', true),
    gatewaySecretKey: text(form, 'gatewaySecretKey'),
    gatewayUsername: text(form, 'gatewayUsername'),
    gatewayPassword: text(form, 'gatewayPassword'),
    gatewayNotificationKey: text(form, 'gatewayNotificationKey'),
  };
}

/** The field that carries the message of a refusal, per call. */
const ERROR_FIELD: Record<string, 'error' | 'errors'> = { get_link: 'error' };

export function sendOnpayError(reply: FastifyReply, call: string, message: string, status = 200) {
  const field = ERROR_FIELD[call] ?? 'errors';
  const body: Record<string, unknown> = { success: 'false', [field]: message };
  if (call === 'get_link') Object.assign(body, { link: null });
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

/** Whether `url` is on the OnPay surface (production `/api/…` or test `/test/api/…`). */
export const isOnpayUrl = (url: string) => url.startsWith('/api/') || url.startsWith('/test/api/');

/** The OnPay call a URL names (`get_link`, …), or '' when it names none. */
export const onpayCallOf = (url: string) => /\/api\/([a-z_]+)/.exec(url)?.[1] ?? '';

/** The most a multipart body may hold, counted as it arrives (a stream parser gets no limit from Fastify). */
const MULTIPART_LIMIT = 1024 * 1024;

const tooLarge = () => Object.assign(new Error(`the body is larger than ${MULTIPART_LIMIT} bytes`), { statusCode: 413 });

/**
 * Multipart fields (files are not part of the protocol and are skipped), at most 64 fields of 8 KiB, in a body of
 * at most 1 MiB: a larger Content-Length is refused unread, and a body that passes the limit as it streams is
 * refused at that point, its rest unread (Fastify closes the connection after an error from a parser).
 */
function parseMultipart(request: FastifyRequest, payload: NodeJS.ReadableStream, done: (err: Error | null, body?: unknown) => void) {
  if (Number(request.headers['content-length']) > MULTIPART_LIMIT) {
    done(tooLarge());
    return;
  }
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: request.headers, limits: { fields: 64, fieldSize: 8192, files: 0, parts: 64 } });
  } catch (e) {
    done(Object.assign(new Error(`not a multipart body: ${(e as Error).message}`), { statusCode: 400 }));
    return;
  }
  const fields: Record<string, string> = {};
  let finished = false;
  let received = 0;
  const count = (chunk: Buffer | string) => {
    received += chunk.length;
    if (received <= MULTIPART_LIMIT) return;
    payload.unpipe(parser);
    payload.removeListener('data', count);
    payload.pause();
    finish(tooLarge());
  };
  const finish = (err: Error | null) => {
    if (finished) return;
    finished = true;
    done(err, err ? undefined : fields);
  };
  parser.on('field', (name, value, info) => {
    if (info.valueTruncated) return finish(Object.assign(new Error(`field ${name} is longer than 8192 bytes`), { statusCode: 413 }));
    fields[name] = value;
  });
  parser.on('file', (_name, stream) => stream.resume());
  parser.on('error', (e: Error) => finish(Object.assign(new Error(`not a valid multipart body: ${e.message}`), { statusCode: 400 })));
  parser.on('close', () => finish(null));
  // Counted before busboy sees the chunk ('data' listeners run in the order they were added).
  payload.on('data', count);
  payload.pipe(parser);
}

export async function onpayRoutes(app: FastifyInstance, opts: { ctx: HubContext; failures?: FailedAuthBudget }) {
  const { ctx } = opts;
  // OnPay's key travels in the body: an address that sent too many unknown keys is refused before its body is read.
  app.addHook('onRequest', async (request, reply) => {
    const wait = opts.failures?.retryAfter(request.ip) ?? 0;
    if (wait === 0) return;
    reply.header('retry-after', String(wait));
    return sendOnpayError(reply, onpayCallOf(request.url), `too many failed authentications from this address; retry in ${wait} s`, 429);
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_request, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  app.addContentTypeParser('multipart/form-data', { bodyLimit: 1024 * 1024 }, parseMultipart);
  // Clients that forget the Content-Type (curl -d sends one; some HTTP libraries do not) are read as a form.
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_request, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );

  app.setErrorHandler((error: FastifyError | OnpayError | ValidationError, request, reply) => {
    const call = onpayCallOf(request.url);
    if (error instanceof OnpayKeyError) opts.failures?.fail(request.ip);
    if (error instanceof OnpayError) return sendOnpayError(reply, call, error.message);
    if (error instanceof ValidationError) return sendOnpayError(reply, call, error.errors.map((e) => `${e.field}: ${e.message}`).join('; '));
    const status = (error as FastifyError).statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'OnPay call failed');
      return sendOnpayError(reply, call, 'internal error; the request was logged', 500);
    }
    return sendOnpayError(reply, call, error.message, status);
  });

  const calls: Record<string, (side: OnpaySide, form: Form) => Promise<Record<string, unknown>>> = {
    async get_link(side, form) {
      const merchantId = await onpayPartnerOf(ctx, text(form, 'key', true));
      const extId = text(form, 'extId', true);
      const input = {
        gateway: gatewayOf(form),
        ...gatewayFields(form),
        extId,
        orderAmount: int(form, 'orderAmount'),
        orderCurrency: (text(form, 'orderCurrency') || 'EUR').toUpperCase(),
        orderDescription: text(form, 'orderDescription'),
        expDate: text(form, 'expDate', true),
        completedUrl: text(form, 'completedUrl'),
        canceledUrl: text(form, 'canceledUrl'),
      };
      const link = await getOnpayLink(ctx, merchantId, side, input);
      return { success: 'true', extId, orderId: link.orderId, link: link.link };
    },
    async get_notifications(side, form) {
      const merchantId = await onpayPartnerOf(ctx, text(form, 'key', true));
      const notifications = await onpayNotifications(ctx, merchantId, side, {
        gateway: gatewayOf(form),
        gatewayApiKey: text(form, 'gatewayApiKey', true),
        gatewaySecretKey: text(form, 'gatewaySecretKey'),
        extId: text(form, 'extId'),
        date: text(form, 'date'),
        allnotifications: bool(form, 'allnotifications'),
      });
      return { success: 'true', notifications };
    },
    async get_users(side, form) {
      const merchantId = await onpayPartnerOf(ctx, text(form, 'key', true));
      const gateway = text(form, 'gateway').toLowerCase();
      if (gateway && !isGateway(gateway)) throw new OnpayError('gateway must be one of nexi, multisafepay, volt');
      const userslist = await onpayUsers(ctx, merchantId, side, {
        gateway,
        gatewayApiKey: text(form, 'gatewayApiKey'),
        gatewaySecretKey: text(form, 'gatewaySecretKey'),
        datefrom: text(form, 'datefrom'),
        dateto: text(form, 'dateto'),
      });
      // The documentation names the flag `status`, its example `success`: both are sent.
      return { success: 'true', status: 'true', userslist };
    },
    async get_payment_method(_side, form) {
      await onpayPartnerOf(ctx, text(form, 'key', true));
      const list = await listPaymentMethods(ctx);
      return {
        success: 'true',
        payment_method_list: list.map((m) => ({
          code_number: String(m.code_number),
          code_description: m.code_description,
          code_number_merged: String(m.code_number_merged),
        })),
      };
    },
    async get_onpay_key(_side, form) {
      const onpaykey = await activateOnpayKey(ctx, text(form, 'key', true));
      return { success: 'true', onpaykey };
    },
  };

  for (const [prefix, side] of [
    ['/api', 'production'],
    ['/test/api', 'test'],
  ] as const) {
    for (const [name, handler] of Object.entries(calls)) {
      for (const path of [`${prefix}/${name}/`, `${prefix}/${name}`]) {
        app.post(path, { schema: { hide: true } }, async (request, reply) =>
          reply.type('application/json; charset=utf-8').send(await handler(side, readForm(request.body))),
        );
        app.get(path, { schema: { hide: true } }, async (_request, reply) => sendOnpayError(reply, name, 'use POST', 405));
      }
    }
  }
}
