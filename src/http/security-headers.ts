import type { FastifyInstance } from 'fastify';

/**
 * Content-Security-Policy of the API documentation (/docs, Swagger UI): its own scripts and styles only (Swagger UI
 * sets inline style attributes, hence 'unsafe-inline' for styles and never for scripts), calls only to the hub
 * itself ("Try it out" calls the public URL, which may be another origin than the one serving the page), no
 * framing, no plugins, forms only to the hub.
 */
export function docsContentSecurityPolicy(publicUrl: string): string {
  let origin = '';
  try {
    origin = new URL(publicUrl).origin;
  } catch {
    // a public URL that is not a URL: 'self' only
  }
  return [
    "default-src 'none'",
    "script-src 'self'",
    "script-src-attr 'none'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src 'self'${origin ? ` ${origin}` : ''}`,
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    "object-src 'none'",
  ].join('; ');
}

/**
 * Headers every answer of the hub carries: `X-Content-Type-Options: nosniff`, so a browser never runs or renders
 * an answer as something other than its declared type (a JSON error echoing input, a problem document); and the
 * API documentation's Content-Security-Policy on /docs and everything under it.
 */
export function securityHeaders(app: FastifyInstance, publicUrl: string): void {
  const docsPolicy = docsContentSecurityPolicy(publicUrl);
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    const path = request.url.split('?', 1)[0]!;
    if (path === '/docs' || path.startsWith('/docs/')) reply.header('content-security-policy', docsPolicy);
    return payload;
  });
}
