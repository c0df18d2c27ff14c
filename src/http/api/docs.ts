import type { FastifySwaggerUiOptions } from '@fastify/swagger-ui';

/**
 * How the merchant API is presented: its tags (each route names one), and the options of the documentation
 * page at /docs. The page is Swagger UI from the hub's own files (the hub runs offline: nothing is loaded from
 * elsewhere, and the page keeps its Content-Security-Policy), without Swagger's top bar and logo: the API's
 * title says what it is.
 */

export const API_TAGS = [
  { name: 'payments', description: 'Ask for a payment, send the payer to its `payment_url`, read what happened (every attempt and notification).' },
  { name: 'refunds', description: 'Give back all or part of a paid payment through the processor.' },
  {
    name: 'invoices',
    description:
      'Proformas and fiscal invoices: drafts, issuing (consecutive numbers per series, taken at issue), storno, proforma → invoice, collections; your series, seller profile and the three invoice settings.',
  },
  { name: 'connections', description: "A merchant's processor accounts (credentials encrypted at rest); `environment: emulator` opens a sandbox account." },
  { name: 'webhooks', description: 'Signed event deliveries (Standard Webhooks): endpoints, their delivery logs, redelivery, recent events.' },
  { name: 'payment steps', description: "A conversation's payment step (chat and voice assistants): validate the fields collected, get the link." },
  { name: 'merchant', description: 'The merchant an API key belongs to: its API keys (created, listed, revoked) and its console users.' },
  { name: 'operator', description: "The hub operator's calls (the operator key): merchants, their keys, OnPay partners." },
  { name: 'operations', description: 'Health checks for load balancers and orchestrators.' },
];

/** Whether a route belongs to the sandbox (the processor emulators and the webhook inbox), not to the API. */
export function isSandboxPath(url: string): boolean {
  return url === '/sandbox' || url.startsWith('/sandbox/');
}

// Hides the top bar (Swagger's logo and its "explore" box) whatever the layout; the title is the API's own.
const DOCS_CSS = '.swagger-ui .topbar{display:none}.swagger-ui .information-container .info{margin:30px 0 20px}';

// A letter on a square, as the tab's icon: the hub's own, not a framework's.
const FAVICON_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#135e4b"/><text x="16" y="23" font-family="sans-serif" font-size="20" font-weight="700" fill="#fff" text-anchor="middle">i</text></svg>';

export function docsUiOptions(): FastifySwaggerUiOptions {
  return {
    routePrefix: '/docs',
    // No logo image: left undefined, the plugin would put the framework's logo in the top bar (its types omit null).
    logo: null as unknown as undefined,
    uiConfig: { layout: 'BaseLayout', deepLinking: true, docExpansion: 'list', defaultModelsExpandDepth: 0, tryItOutEnabled: false },
    theme: {
      title: 'incasso merchant API',
      css: [{ filename: 'incasso.css', content: DOCS_CSS }],
      favicon: [{ filename: 'favicon.svg', rel: 'icon', sizes: 'any', type: 'image/svg+xml', content: FAVICON_SVG }],
    },
  };
}
