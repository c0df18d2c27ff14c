import type { FastifyInstance } from 'fastify';
import type { VoltEmulatorContext } from './context.js';
import { authorize } from './oauth.js';
import { createPayment, findPayment, paymentView, queueNotification, requestRefund } from './payments.js';
import { sendException } from './replies.js';
import { isHttpUrl, validatePaymentRequest } from './validation.js';

/**
 * Volt's Gateway API as the sandbox answers it: `POST /v2/payments`, `GET /payments/{id}`, `GET /payments`
 * (filtered), `POST /payments/{id}/request-refund`; plus what Fuzebox shows a merchant about notifications
 * (the delivery log of a payment, and the test notification).
 */

type IdParams = { Params: { id: string } };

export function registerPaymentApi(app: FastifyInstance, ctx: VoltEmulatorContext): void {
  app.post('/v2/payments', async (request, reply) => {
    const account = await authorize(ctx, request, reply);
    if (!account) return reply;
    const checked = validatePaymentRequest(request.body);
    if (!checked.ok) return sendException(reply, 400, 'Validation exception', checked.errors);
    const payment = await createPayment(ctx.db, account, checked.request);
    if (!payment) return sendException(reply, 400, 'Validation exception', [{ property: 'uniqueReference', message: 'This value is already used.' }]);
    return reply.code(201).send({ id: payment.id, checkoutUrl: `${ctx.baseUrl}/checkout/${payment.id}?auth=${payment.checkout_token}` });
  });

  app.get<IdParams>('/payments/:id', async (request, reply) => {
    const account = await authorize(ctx, request, reply);
    if (!account) return reply;
    const payment = await findPayment(ctx.db, request.params.id);
    if (!payment || payment.client_id !== account.client_id) return sendException(reply, 404, 'Payment not found');
    return paymentView(payment);
  });

  app.get<{ Querystring: Record<string, string | undefined> }>('/payments', async (request, reply) => {
    const account = await authorize(ctx, request, reply);
    if (!account) return reply;
    const q = request.query ?? {};
    const page = Math.max(1, Number.parseInt(q.page ?? '1', 10) || 1);
    const limit = Math.min(100, Math.max(1, Number.parseInt(q.limit ?? '50', 10) || 50));
    let query = ctx.db.selectFrom('emu_volt_payments').selectAll().where('client_id', '=', account.client_id);
    if (typeof q.uniqueReference === 'string') query = query.where('unique_reference', '=', q.uniqueReference);
    if (typeof q.status === 'string') query = query.where('status', '=', q.status as never);
    if (typeof q.id === 'string') query = query.where('id', '=', q.id);
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('id')
      .limit(limit)
      .offset((page - 1) * limit)
      .execute();
    return rows.map(paymentView);
  });

  app.post<IdParams>('/payments/:id/request-refund', async (request, reply) => {
    const account = await authorize(ctx, request, reply);
    if (!account) return reply;
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (typeof body !== 'object' || Array.isArray(body))
      return sendException(reply, 400, 'Validation exception', [{ property: 'body', message: 'The request body must be a JSON object.' }]);
    const errors = [];
    const amount = body.amount;
    if (amount !== undefined && amount !== null && (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount < 1))
      errors.push({ property: 'amount', message: 'This value should be a positive integer (minor units).' });
    const ref = body.externalReference;
    if (ref !== undefined && ref !== null && (typeof ref !== 'string' || !/^[A-Za-z0-9]{1,100}$/.test(ref)))
      errors.push({ property: 'externalReference', message: 'This value should contain 1 to 100 letters and digits only.' });
    const key = request.headers['idempotency-key'];
    if (key !== undefined && (typeof key !== 'string' || !/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(key)))
      errors.push({ property: 'idempotency-key', message: 'This value is not a valid UUID.' });
    if (errors.length) return sendException(reply, 400, 'Validation exception', errors);
    if (!(await findPayment(ctx.db, request.params.id))) return sendException(reply, 404, 'Payment not found');
    const result = await requestRefund(
      ctx.db,
      account,
      request.params.id,
      {
        amount: (amount ?? undefined) as number | undefined,
        externalReference: (ref ?? undefined) as string | undefined,
        idempotencyKey: typeof key === 'string' ? key.toLowerCase() : undefined,
      },
      ctx.notifier.leaseMs,
    );
    if (!result.ok)
      return sendException(reply, result.status, result.message, result.property ? [{ property: result.property, message: result.message }] : undefined);
    // The refund notification follows the answer, as Volt's does.
    setImmediate(() => void ctx.notifier.deliverNow(result.notificationId));
    return reply.code(201).send({ id: result.refundId });
  });

  app.get<{ Querystring: { payment?: string } }>('/notifications', async (request, reply) => {
    const account = await authorize(ctx, request, reply);
    if (!account) return reply;
    const paymentId = request.query?.payment;
    if (typeof paymentId !== 'string')
      return sendException(reply, 400, 'Validation exception', [{ property: 'payment', message: 'This value should not be blank.' }]);
    const notifications = await ctx.db
      .selectFrom('emu_volt_notifications')
      .selectAll()
      .where('client_id', '=', account.client_id)
      .where('payment_id', '=', paymentId)
      .orderBy('id')
      .execute();
    const attempts = notifications.length
      ? await ctx.db
          .selectFrom('emu_volt_notification_attempts')
          .selectAll()
          .where(
            'notification_id',
            'in',
            notifications.map((n) => Number(n.id)),
          )
          .orderBy('attempt')
          .execute()
      : [];
    return notifications.map((n) => ({
      id: Number(n.id),
      url: n.url,
      body: n.body,
      type: n.volt_type,
      status: n.status,
      attempts: n.attempts,
      nextAttemptAt: n.next_attempt_at ? new Date(n.next_attempt_at).toISOString() : null,
      log: attempts
        .filter((a) => Number(a.notification_id) === Number(n.id))
        .map((a) => ({
          attempt: a.attempt,
          timed: a.timed,
          httpStatus: a.http_status,
          outcome: a.outcome,
          error: a.error,
          nextRetryAt: a.next_retry_at ? new Date(a.next_retry_at).toISOString() : null,
        })),
    }));
  });

  app.post('/notifications/test', async (request, reply) => {
    const account = await authorize(ctx, request, reply);
    if (!account) return reply;
    const body = (request.body ?? {}) as Record<string, unknown>;
    const url = typeof body.url === 'string' ? body.url : account.notification_url;
    if (!url || !isHttpUrl(url))
      return sendException(reply, 400, 'Validation exception', [{ property: 'url', message: 'No notification URL is configured for this application.' }]);
    const id = await ctx.db
      .transaction()
      .execute((trx) => queueNotification(trx, { client_id: account.client_id, payment_id: null, url, body: '{}' }, ctx.notifier.leaseMs));
    const outcome = await ctx.notifier.deliverNow(id);
    const last = await ctx.db
      .selectFrom('emu_volt_notification_attempts')
      .select(['http_status', 'error'])
      .where('notification_id', '=', id!)
      .orderBy('attempt', 'desc')
      .executeTakeFirst();
    return { id, delivered: outcome === 'delivered', httpStatus: last?.http_status ?? null, error: last?.error ?? null };
  });
}
