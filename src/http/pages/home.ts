import type { FastifyInstance, FastifyRequest } from 'fastify';
import { html, Html } from '../../html/template.js';

/**
 * `/`: where someone who just started the hub lands. A browser gets a short page naming the documentation
 * (the API reference at /docs, the OpenAPI document, the sandbox index when the emulators are mounted, the
 * README's walkthrough, the health endpoints); any other client gets the same as a small JSON document.
 */

const STYLE = `body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f5f7f6;color:#17212b;line-height:1.5}
main{max-width:44rem;margin:2.5rem auto;background:#fff;padding:1.5rem 1.75rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.12)}
h1{font-size:1.5rem;margin-top:0}h2{font-size:1.1rem;margin:1.4rem 0 .4rem}code{background:#eef2f0;padding:0 .25rem;border-radius:3px}
ul{padding-left:1.2rem}li{margin:.3rem 0}a{color:#135e4b}`;

export interface HomeOptions {
  version: string;
  /** Whether the processor emulators (and so /sandbox/) are mounted. */
  sandbox: boolean;
}

/** Whether the client asked for HTML ahead of JSON (a browser's Accept), by the order it names them in. */
export function prefersHtml(request: FastifyRequest): boolean {
  const accept = String(request.headers.accept ?? '').toLowerCase();
  const at = (type: string) => {
    const i = accept.indexOf(type);
    return i === -1 ? Number.POSITIVE_INFINITY : i;
  };
  const htmlAt = Math.min(at('text/html'), at('application/xhtml+xml'));
  return htmlAt !== Number.POSITIVE_INFINITY && htmlAt < at('application/json');
}

export function homeDocument(options: HomeOptions) {
  return {
    name: 'incasso',
    description: 'Self-hosted payment collection hub',
    version: options.version,
    links: {
      console: '/console/',
      docs: '/docs',
      openapi: '/openapi.json',
      ...(options.sandbox ? { sandbox: '/sandbox/' } : {}),
      healthz: '/healthz',
      readyz: '/readyz',
    },
    walkthrough: 'README.md, "A five-minute walkthrough"',
  };
}

function homePage(options: HomeOptions): string {
  const body = html`<h1>incasso</h1>
<p>A self-hosted payment collection hub (version ${options.version}). This address serves the merchant API under
<code>/v1/</code>, the payers' pages under <code>/pay/</code> and the processors' notifications under <code>/notify/</code>.</p>
<h2>Console</h2>
<p><a href="/console/">Log in to the console</a> (<code>/console/</code>): payments, their attempts, notifications and webhooks. Users get a one-time link to set their password from <code>incasso users create</code> (README, “Console”).</p>
<h2>Documentation</h2>
<ul>
<li><a href="/docs">API reference</a> (<code>/docs</code>): every merchant and operator call, with its fields and examples; try them from the page.</li>
<li><a href="/openapi.json">OpenAPI document</a> (<code>/openapi.json</code>), for code generators and API clients.</li>
${
  options.sandbox
    ? html`<li><a href="/sandbox/">Sandbox</a> (<code>/sandbox/</code>): the processor emulators mounted here, their test cards and outcomes, how to open a sandbox account, their back offices and the webhook inbox.</li>`
    : html`<li>The sandbox (processor emulators) is off on this hub (<code>INCASSO_EMULATORS=0</code>).</li>`
}
<li>The walkthrough: <code>README.md</code>, section “A five-minute walkthrough”, in the repository: a merchant, a connection, a
webhook, a payment paid with a test card, then a refund from the processor's back office, with the <code>incasso</code> command.</li>
</ul>
<h2>Health</h2>
<ul>
<li><a href="/healthz">/healthz</a>: liveness (the process answers).</li>
<li><a href="/readyz">/readyz</a>: readiness (the database answers).</li>
</ul>`;
  return `<!doctype html>${
    html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>incasso</title><style>${new Html(STYLE)}</style></head><body><main>${body}</main></body></html>`
      .text
  }`;
}

export function homeRoutes(app: FastifyInstance, options: HomeOptions): void {
  const page = homePage(options);
  const document = homeDocument(options);
  app.get('/', { schema: { hide: true } }, async (request, reply) => {
    reply.header('vary', 'accept');
    if (!prefersHtml(request)) return document;
    return reply
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
      .type('text/html; charset=utf-8')
      .send(page);
  });
}
