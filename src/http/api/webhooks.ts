import type { FastifyInstance } from 'fastify';
import type { HubContext } from '../../services/context.js';
import { printableExcerpt } from '../../security/outbound.js';
import {
  createWebhookEndpoint,
  getDelivery,
  listRecentEvents,
  getWebhookEndpoint,
  listDeliveries,
  listWebhookEndpoints,
  redeliver,
  rotateWebhookSecret,
  updateWebhookEndpoint,
  WEBHOOK_ANSWER_EXCERPT_CHARS,
} from '../../services/webhooks.js';
import type { WebhookEndpoint, WebhookDelivery } from '../../store/schema.js';
import { requireMerchant, type AuthConfig } from '../auth.js';
import { CreateWebhookEndpointBody, IdParams, UpdateWebhookEndpointBody } from './schemas.js';

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

const presentEndpoint = (e: WebhookEndpoint) => ({
  id: e.id,
  object: 'webhook_endpoint',
  url: e.url,
  events: e.events,
  status: e.status,
  created_at: iso(e.created_at),
  updated_at: iso(e.updated_at),
});
const presentDelivery = (d: WebhookDelivery) => ({
  id: d.id,
  object: 'webhook_delivery',
  event_id: d.event_id,
  endpoint_id: d.endpoint_id,
  status: d.status,
  attempts: d.attempts,
  next_attempt_at: d.status === 'pending' ? iso(d.next_attempt_at) : null,
  last_status_code: d.last_status_code,
  last_error: d.last_error,
  delivered_at: iso(d.delivered_at),
  created_at: iso(d.created_at),
});

export async function webhookRoutes(app: FastifyInstance, opts: { ctx: HubContext; auth: AuthConfig }) {
  const { ctx } = opts;
  // Authentication runs first (onRequest), so a stranger never learns anything from validation errors.
  app.addHook('onRequest', requireMerchant(opts.auth));
  const tags = ['webhooks'];

  app.post<{ Body: { url: string; events?: string[] } }>(
    '/v1/webhook-endpoints',
    { schema: { tags, summary: 'Subscribe a URL to events; the signing secret is returned once', body: CreateWebhookEndpointBody } },
    async (request, reply) => {
      const { endpoint, secret } = await createWebhookEndpoint(ctx, request.merchant!.id, request.body);
      return reply.code(201).send({ ...presentEndpoint(endpoint), secret });
    },
  );
  app.get('/v1/webhook-endpoints', { schema: { tags, summary: 'List webhook endpoints' } }, async (request) => ({
    object: 'list',
    data: (await listWebhookEndpoints(ctx, request.merchant!.id)).map(presentEndpoint),
  }));
  app.get<{ Params: { id: string } }>('/v1/webhook-endpoints/:id', { schema: { tags, summary: 'Get a webhook endpoint', params: IdParams } }, async (request) =>
    presentEndpoint(await getWebhookEndpoint(ctx, request.merchant!.id, request.params.id)),
  );
  app.patch<{ Params: { id: string }; Body: { url?: string; events?: string[]; status?: string } }>(
    '/v1/webhook-endpoints/:id',
    { schema: { tags, summary: 'Change the URL, the events, or disable', params: IdParams, body: UpdateWebhookEndpointBody } },
    async (request) => presentEndpoint(await updateWebhookEndpoint(ctx, request.merchant!.id, request.params.id, request.body)),
  );
  app.post<{ Params: { id: string } }>(
    '/v1/webhook-endpoints/:id/rotate-secret',
    {
      schema: {
        tags,
        summary: 'A new signing secret, returned once; the previous one still signs every delivery (a second signature) for 24 hours',
        params: IdParams,
      },
    },
    async (request) => {
      const { endpoint, secret, previousValidUntil } = await rotateWebhookSecret(ctx, request.merchant!.id, request.params.id);
      return { ...presentEndpoint(endpoint), secret, previous_secret_expires_at: iso(previousValidUntil) };
    },
  );
  app.get<{ Params: { id: string } }>(
    '/v1/webhook-endpoints/:id/deliveries',
    { schema: { tags, summary: "An endpoint's delivery log, newest first", params: IdParams } },
    async (request) => {
      await getWebhookEndpoint(ctx, request.merchant!.id, request.params.id);
      return { object: 'list', data: (await listDeliveries(ctx, request.merchant!.id, { endpointId: request.params.id })).map(presentDelivery) };
    },
  );
  app.get<{ Params: { id: string } }>(
    '/v1/webhook-deliveries/:id',
    { schema: { tags, summary: 'A delivery with every attempt (status code, duration, error)', params: IdParams } },
    async (request) => {
      const { delivery, attempts } = await getDelivery(ctx, request.merchant!.id, request.params.id);
      return {
        ...presentDelivery(delivery),
        attempt_log: attempts.map((a) => ({
          attempted_at: iso(a.attempted_at),
          status_code: a.status_code,
          duration_ms: a.duration_ms,
          error: a.error,
          response_body: a.response_body === null ? null : printableExcerpt(a.response_body, WEBHOOK_ANSWER_EXCERPT_CHARS),
        })),
      };
    },
  );
  app.post<{ Params: { id: string } }>(
    '/v1/webhook-deliveries/:id/redeliver',
    { schema: { tags, summary: 'Deliver again now (same webhook-id)', params: IdParams } },
    async (request, reply) => reply.code(202).send(presentDelivery(await redeliver(ctx, request.merchant!.id, request.params.id))),
  );
  app.get('/v1/events', { schema: { tags, summary: 'Recent events, newest first' } }, async (request) => {
    return { object: 'list', data: await listRecentEvents(ctx, request.merchant!.id) };
  });
}
