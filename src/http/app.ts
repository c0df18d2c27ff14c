import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import rateLimit from '@fastify/rate-limit';
import { createHash } from 'node:crypto';
import { databaseAnswers } from '../services/health.js';
import type { HubContext } from '../services/context.js';
import { httpDuration, httpRequests } from '../observability/metrics.js';
import { apiErrorHandler, sendProblem } from './problem.js';
import type { AuthConfig } from './auth.js';
import { FailedAuthBudget } from './auth-failures.js';
import { merchantRoutes } from './api/merchants.js';
import { connectionRoutes, documentConnectionSchemas } from './api/connections.js';
import { paymentRoutes } from './api/payments.js';
import { webhookRoutes } from './api/webhooks.js';
import { userRoutes } from './api/users.js';
import { refundRoutes } from './api/refunds.js';
import { paymentStepRoutes } from './api/payment-steps.js';
import { onpayPartnerRoutes } from './api/onpay-partners.js';
import { invoiceRoutes } from './api/invoices.js';
import { PartySchema, Problem } from './api/schemas.js';
import { notifyRoutes, sendNotifyError } from './compat/notify.js';
import { isOnpayUrl, onpayCallOf, onpayRoutes, sendOnpayError } from './compat/onpay.js';
import { assertStorableText } from './storable-text.js';
import { payPages } from './pages/pay.js';
import { invoicePayPages } from './pages/invoice-pay.js';
import { homeRoutes } from './pages/home.js';
import { API_TAGS, docsUiOptions, isSandboxPath } from './api/docs.js';
import { consoleRoutes } from './console/index.js';
import type { SessionLifetime } from '../services/users.js';
import type { ConsoleSection } from './console/registry.js';
import { securityHeaders } from './security-headers.js';
import { HubLogController } from './request-log.js';

export interface AppOptions {
  ctx: HubContext;
  adminKey: string;
  /** Mounts the processor emulators (server wiring only; production code never imports them). */
  mountEmulators?: (app: FastifyInstance) => Promise<void>;
  /**
   * Which proxies' X-Forwarded-For to believe for `request.ip` (the address every per-address limit counts):
   * a hop count or proxy addresses/CIDRs; false (the default) believes none.
   */
  trustProxy?: false | number | string[];
  /**
   * Requests per second: per API key on /v1 and per address on pages; per source address on /notify. 0 = off.
   * `authFailures`: failed authentications per source address per 10 s before it is refused (default 20; 0 = off).
   */
  rateLimits?: { api: number; notify: number; authFailures?: number };
  /** The console's session lifetimes and failed logins per address (tests shorten them). */
  console?: { lifetime?: SessionLifetime; loginFailuresPerAddress?: number; sections?: readonly ConsoleSection[] };
  /** The longest a client may take to send a whole request (INCASSO_REQUEST_TIMEOUT_MS). */
  requestTimeoutMs?: number;
}

/**
 * Which bucket a request counts against: the API key (hashed, never kept in clear) on the native API, the
 * client address on processor notifications and payment pages; emulators and docs are not limited.
 */
function rateLimitBucket(url: string, authorization: string | undefined, ip: string): { key: string; kind: 'api' | 'notify' } | null {
  if (url.startsWith('/v1/')) {
    const token = authorization ? createHash('sha256').update(authorization).digest('base64url').slice(0, 22) : `ip:${ip}`;
    return { key: `api:${token}`, kind: 'api' };
  }
  if (url.startsWith('/notify/')) return { key: `notify:${ip}`, kind: 'notify' };
  if (url.startsWith('/pay/')) return { key: `page:${ip}`, kind: 'api' };
  if (url.startsWith('/console/')) return { key: `console:${ip}`, kind: 'api' };
  // OnPay's key travels in the body, unread at this point: its calls count per address.
  if (isOnpayUrl(url)) return { key: `onpay:${ip}`, kind: 'api' };
  return null;
}

const VERSION = '0.1.0';

/**
 * INCASSO_TRUST_PROXY as Fastify takes it. A hop count becomes a function that trusts the nearest `hops` addresses
 * of the chain (the connection's peer first): Fastify 5 turns a bare number into "trust nobody" (a hop count cannot
 * tell a proxy from a client that reaches the port directly), which would silently make every per-address limit
 * global behind a proxy. docs/production.md says when hops are safe (only the proxy can reach the port).
 */
export function fastifyTrustProxy(trust: false | number | string[]): FastifyServerOptions['trustProxy'] {
  if (typeof trust === 'number') return (_address: string, hop: number) => hop < trust;
  return trust;
}

/** The hub's HTTP surface: native API, processor notification endpoints, payment pages, operations endpoints. */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { ctx } = options;
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const app: FastifyInstance = Fastify({
    loggerInstance: ctx.logger as FastifyBaseLogger,
    // One line per request at info, written when the answer is sent, not Fastify's two.
    logController: new HubLogController(),
    bodyLimit: 1024 * 1024,
    trustProxy: fastifyTrustProxy(options.trustProxy ?? false),
    ajv: { customOptions: { allErrors: true, coerceTypes: false, removeAdditional: false } },
    // Errors Fastify raises before routing (an undecodable URL, a bad Content-Type header) are problems too,
    // except on notification endpoints, which always answer in the processor's protocol.
    frameworkErrors: (error, request, reply) => {
      // The handler returns nothing: a returned reply is a thenable, which Fastify does not expect here.
      if (request.url.startsWith('/notify/')) return void sendNotifyError(request.url, reply, error);
      if (isOnpayUrl(request.url)) return void sendOnpayError(reply, onpayCallOf(request.url), error.message, error.statusCode ?? 400);
      return void sendProblem(reply, error.statusCode ?? 400, 'Bad request', error.message);
    },
    // Notification URLs carry ids of any length a client sends; the handler answers unknown ones itself.
    routerOptions: { maxParamLength: 1000 },
    // A client that trickles its request (slowloris) is answered 408 and cut off: the whole request within
    // requestTimeout, its headers within 10 s of it; Node checks every second rather than every 30 s. An open
    // connection with no traffic either way for 2 minutes is closed (longer than any handler waits for a
    // processor or the database); an idle keep-alive connection after 72 s (longer than proxies' usual 60 s).
    requestTimeout,
    http: { headersTimeout: Math.min(10_000, requestTimeout), connectionsCheckingInterval: Math.min(1_000, requestTimeout) },
    connectionTimeout: 120_000,
    keepAliveTimeout: 72_000,
  });
  const auth: AuthConfig = { ctx, adminKey: options.adminKey, failures: new FailedAuthBudget(options.rateLimits?.authFailures ?? 20) };
  securityHeaders(app, ctx.publicUrl);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'incasso merchant API',
        version: VERSION,
        description:
          "The native API of incasso, a self-hosted payment collection hub: a merchant creates payments, sends the payer to `payment_url`, and learns the outcome from signed webhooks or by reading the payment. Authenticate with `Authorization: Bearer <API key>` (the operator key for the operator calls). Amounts are integers in minor units (4990 is 49.90 RON); errors are RFC 9457 problem documents. The processor emulators of the sandbox (`/sandbox/`) speak each processor's own API and are not part of this document.",
      },
      tags: API_TAGS,
      servers: [{ url: ctx.publicUrl }],
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: "a merchant's API key, or the operator key" } } },
      security: [{ bearer: [] }],
    },
    transformObject: documentConnectionSchemas,
    // The merchant API only: a route without a tag is not part of it, and nothing under /sandbox/ (the
    // emulators speak the processors' APIs, documented by the processors) is, whatever its schema says.
    hideUntagged: true,
    // Shared schemas keep their names (Party, Problem) in components, rather than def-0, def-1.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    transform: ({ schema, url }) => ({ schema: isSandboxPath(url) ? { ...schema, hide: true } : schema, url }),
  });
  await app.register(swaggerUi, docsUiOptions());
  const limits = options.rateLimits ?? { api: 100, notify: 500 };
  // Counters live in each process's memory: with several processes the limit is per process, which is
  // fine for its purpose (keeping one client from starving the others), and nothing is lost with them.
  await app.register(rateLimit, {
    global: false,
    timeWindow: 10_000,
    keyGenerator: (request) => rateLimitBucket(request.url, request.headers.authorization, request.ip)?.key ?? 'unlimited',
    allowList: (request) => {
      const bucket = rateLimitBucket(request.url, request.headers.authorization, request.ip);
      return bucket === null || (bucket.kind === 'api' ? limits.api : limits.notify) <= 0;
    },
    max: (request) => 10 * (rateLimitBucket(request.url, request.headers.authorization, request.ip)?.kind === 'notify' ? limits.notify : limits.api),
  });
  // One hook on the root, added before any route: it runs before every plugin's and route's own hooks, so a request
  // over its budget is refused before its API key is looked up (the plugin's per-route hooks would run after them).
  app.addHook('onRequest', app.rateLimit());
  app.addSchema(PartySchema);
  app.addSchema(Problem);

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  // Outside a route's own handler (a method or path no route matches, a body no parser reads), a notification URL
  // still answers in the processor's protocol and an OnPay URL in OnPay's JSON.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (request.url.startsWith('/notify/')) return sendNotifyError(request.url, reply, error);
    if (isOnpayUrl(request.url))
      return sendOnpayError(reply, onpayCallOf(request.url), error.message, error.statusCode && error.statusCode < 500 ? error.statusCode : 500);
    return apiErrorHandler(error, request, reply);
  });
  app.addHook('preValidation', async (request) => {
    if (request.url.startsWith('/v1/')) assertStorableText({ body: request.body, query: request.query, params: request.params });
  });
  app.setNotFoundHandler((request, reply) =>
    request.url.startsWith('/notify/')
      ? sendNotifyError(request.url, reply, { statusCode: 404, message: `no notification endpoint for ${request.method} ${request.url.split('?')[0]}` })
      : isOnpayUrl(request.url)
        ? sendOnpayError(reply, '', 'no such call: use get_link, get_notifications, get_users, get_payment_method or get_onpay_key', 404)
        : sendProblem(reply, 404, 'Not found', `no route ${request.method} ${request.url.split('?')[0]}`),
  );

  await app.register(merchantRoutes, { ctx, auth });
  await app.register(connectionRoutes, { ctx, auth });
  await app.register(paymentRoutes, { ctx, auth });
  await app.register(refundRoutes, { ctx, auth });
  await app.register(invoiceRoutes, { ctx, auth });
  await app.register(paymentStepRoutes, { ctx, auth });
  await app.register(onpayPartnerRoutes, { ctx, auth });
  await app.register(webhookRoutes, { ctx, auth });
  await app.register(userRoutes, { ctx, auth });
  await app.register(notifyRoutes, { ctx });
  await app.register(onpayRoutes, { ctx, failures: auth.failures });
  await app.register(payPages, { ctx });
  await app.register(invoicePayPages, { ctx });
  await app.register(consoleRoutes, { ctx, ...options.console, prefix: '/console' });

  app.get('/healthz', { schema: { tags: ['operations'], summary: 'Liveness' } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { tags: ['operations'], summary: 'Readiness: the database answers' } }, async (_request, reply) => {
    try {
      // Its own deadline: a probe must answer even when a database connection hangs.
      await Promise.race([
        databaseAnswers(ctx),
        new Promise((_resolve, reject) => setTimeout(() => reject(new Error('the database did not answer within 3 s')), 3_000).unref()),
      ]);
      return { status: 'ready' };
    } catch {
      return sendProblem(reply, 503, 'Not ready', 'the database does not answer');
    }
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  homeRoutes(app, { version: VERSION, sandbox: options.mountEmulators !== undefined });

  if (options.mountEmulators) await options.mountEmulators(app);
  return app;
}
