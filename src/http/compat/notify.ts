import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { CONNECTORS, connectorFor } from '../../connectors/registry.js';
import type { HubContext } from '../../services/context.js';
import { INBOX_ERRORS, receiveNotification } from '../../services/inbox/index.js';

/** Largest notification body accepted; NETOPIA's v1 IPNs are a few kilobytes. */
export const NOTIFICATION_BODY_LIMIT = 256 * 1024;

/**
 * Answers a request to a notification endpoint that failed before or outside the handler (oversized body,
 * undecodable URL, throttling), in the protocol of the provider named in the path.
 */
export function sendNotifyError(url: string, reply: FastifyReply, error: { statusCode?: number; message: string }) {
  const provider = /^\/notify\/([^/?]+)/.exec(url)?.[1] ?? '';
  const connector = connectorFor(provider) ?? CONNECTORS['netopia-v1']!;
  // Too many requests is temporary too: the processor retries later, which is what throttling wants.
  const status = error.statusCode ?? 500;
  const permanent = status < 500 && status !== 429;
  const out = connector.replyToNotification({
    kind: permanent ? 'permanent_error' : 'temporary_error',
    code: permanent ? INBOX_ERRORS.integrity : INBOX_ERRORS.internal,
    message: permanent ? `bad request: ${error.message}` : status === 429 ? 'too many notifications; please retry later' : 'temporary failure; please retry',
  });
  return reply.code(out.statusCode).type(out.contentType).send(out.body);
}

/**
 * Processor notification endpoints, one per connection: `POST /notify/<provider>/<connection id>`.
 * The raw bytes are handed over untouched (whatever the Content-Type), and every answer, including for
 * oversized or malformed requests, is in the processor's own protocol.
 */
export async function notifyRoutes(app: FastifyInstance, opts: { ctx: HubContext }) {
  const { ctx } = opts;
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: NOTIFICATION_BODY_LIMIT }, (_request, body, done) => done(null, body));

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if ((error.statusCode ?? 500) >= 500) request.log.error({ err: error }, 'notification endpoint failed');
    return sendNotifyError(request.url, reply, error);
  });

  app.post<{ Params: { provider: string; connectionId: string } }>('/notify/:provider/:connectionId', { schema: { hide: true } }, async (request, reply) => {
    const connector = connectorFor(request.params.provider);
    if (!connector) return reply.code(404).type('text/plain').send('unknown provider');
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const out = await receiveNotification(ctx, connector.provider, request.params.connectionId, {
      body,
      contentType: request.headers['content-type'],
      headers: request.headers,
      query: request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : undefined,
      path: request.url.split('?', 1)[0],
      remoteAddr: request.ip,
    });
    return reply.code(out.statusCode).type(out.contentType).send(out.body);
  });
}
