import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import { html, Html } from '../../src/html/template.js';
import { verifyStandardWebhookSignature } from '../../src/core/webhook-signature.js';

/**
 * A webhook catcher for trying the hub offline (like `stripe listen`): point a webhook endpoint at
 * `/sandbox/inbox/<name>` and read what arrived at the same URL in a browser. It plays the merchant's
 * receiver, so it stores what it is sent as is. It is read with the endpoint's secret (`?secret=whsec_…`) and
 * shows only what was signed with it: without the secret an inbox is unreadable, whatever its name.
 */

const NAME_RE = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_KEPT = 200;

/** A secret worth checking against: the hub's are whsec_ + 24 bytes or more of base64. */
function isUsableSecret(secret: string | undefined): secret is string {
  return typeof secret === 'string' && secret.length <= 200 && Buffer.from(secret.replace(/^whsec_/, ''), 'base64').length >= 16;
}

/**
 * The page fits its window whatever was received: the table's columns are fixed, and a body is shown indented
 * when it is JSON and broken anywhere when a line is still too long (a long token, a URL, a minified body).
 */
const INBOX_STYLE = new Html(
  'body{font-family:system-ui,sans-serif;margin:1.5rem;color:#17212b}' +
    'table{border-collapse:collapse;width:100%;table-layout:fixed}col.when{width:11rem}col.event{width:10rem}col.id{width:12rem}col.sig{width:5rem}' +
    'td,th{border-bottom:1px solid #dde;padding:.4rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}' +
    'pre{margin:0;white-space:pre-wrap;overflow-wrap:anywhere;word-break:break-word;font-size:.8rem}' +
    '@media (max-width:50rem){table,thead,tbody,tr,td,th{display:block}colgroup,thead{display:none}td{border:0;padding:.2rem 0}tr{border-bottom:1px solid #dde;padding:.4rem 0}}',
);

/** A received body as the page shows it: JSON indented (two spaces), anything else as it came. */
function readableBody(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

export async function registerWebhookInbox(app: FastifyInstance, options: { db: Kysely<any> }): Promise<void> {
  const db = options.db;
  // Several processes may start at once: CREATE TABLE IF NOT EXISTS alone races on the catalog.
  await db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(${0x696e6278})`.execute(trx);
    await sql`CREATE TABLE IF NOT EXISTS emu_webhook_inbox (id bigserial PRIMARY KEY, inbox text NOT NULL, received_at timestamptz NOT NULL DEFAULT now(), headers jsonb NOT NULL, body text NOT NULL)`.execute(
      trx,
    );
    await sql`CREATE INDEX IF NOT EXISTS emu_webhook_inbox_idx ON emu_webhook_inbox (inbox, id DESC)`.execute(trx);
  });

  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 256 * 1024 }, (_req, body, done) => done(null, body));

    scope.post<{ Params: { name: string } }>('/sandbox/inbox/:name', { schema: { hide: true } }, async (request, reply) => {
      if (!NAME_RE.test(request.params.name)) return reply.code(404).send('no such inbox');
      const headers = Object.fromEntries(
        Object.entries(request.headers).filter(([k]) => k.startsWith('webhook-') || k === 'content-type' || k === 'user-agent'),
      );
      await db
        .insertInto('emu_webhook_inbox')
        .values({ inbox: request.params.name, headers: JSON.stringify(headers), body: typeof request.body === 'string' ? request.body : '' })
        .execute();
      await sql`DELETE FROM emu_webhook_inbox WHERE inbox = ${request.params.name} AND id < (SELECT min(id) FROM (SELECT id FROM emu_webhook_inbox WHERE inbox = ${request.params.name} ORDER BY id DESC LIMIT ${MAX_KEPT}) AS kept)`.execute(
        db,
      );
      return reply.code(200).type('text/plain').send('received');
    });

    scope.get<{ Params: { name: string }; Querystring: { secret?: string } }>('/sandbox/inbox/:name', { schema: { hide: true } }, async (request, reply) => {
      if (!NAME_RE.test(request.params.name)) return reply.code(404).send('no such inbox');
      const wantsJson = (request.headers.accept ?? '').includes('application/json');
      // A + in an unencoded query string arrives as a space; base64 secrets contain +.
      const secret = request.query.secret?.replace(/ /g, '+');
      if (!isUsableSecret(secret)) {
        const message = 'this inbox is read with the webhook secret of the endpoint that posts to it: add ?secret=whsec_…';
        if (wantsJson) return reply.code(401).send({ error: { type: 'unauthorized', message } });
        return reply
          .code(401)
          .type('text/html; charset=utf-8')
          .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'")
          .send(
            html`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Webhook inbox</title></head><body><h1>Webhook inbox</h1><p>${message}</p></body></html>`
              .text,
          );
      }
      const rows = await db
        .selectFrom('emu_webhook_inbox')
        .selectAll()
        .where('inbox', '=', request.params.name)
        .orderBy('id', 'desc')
        .limit(MAX_KEPT)
        .execute();
      // The inbox is bound to the secret: only what was signed with it is shown, so a name alone reveals nothing
      // and a wrong secret sees an empty inbox.
      const items = (rows as Array<{ id: number; received_at: Date; headers: Record<string, string>; body: string }>)
        .filter((r) =>
          verifyStandardWebhookSignature(
            secret,
            r.headers['webhook-id'] ?? '',
            r.headers['webhook-timestamp'] ?? '',
            r.body,
            r.headers['webhook-signature'] ?? '',
          ),
        )
        .map((r) => {
          const h = r.headers;
          let type = '';
          try {
            type = JSON.parse(r.body).type ?? '';
          } catch {
            type = '(not JSON)';
          }
          return {
            id: Number(r.id),
            received_at: new Date(r.received_at).toISOString(),
            webhook_id: h['webhook-id'] ?? null,
            type,
            signature_valid: true,
            headers: h,
            body: r.body,
          };
        });
      if (wantsJson) return { object: 'list', data: items };
      const body = html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5"><title>Webhook inbox ${request.params.name}</title>
<style>${INBOX_STYLE}</style></head>
<body><h1>Webhook inbox “${request.params.name}”</h1><p>Sandbox receiver. POST here; this page refreshes every 5 s and shows what was signed with this secret.</p>
<table><colgroup><col class="when"><col class="event"><col class="id"><col class="sig"><col></colgroup><thead><tr><th>Received</th><th>Event</th><th>webhook-id</th><th>Signature</th><th>Body</th></tr></thead><tbody>
${items.map((i) => html`<tr><td>${i.received_at}</td><td>${i.type}</td><td>${i.webhook_id ?? ''}</td><td>valid</td><td><pre>${readableBody(i.body)}</pre></td></tr>`)}
</tbody></table>${items.length === 0 ? html`<p>Nothing received yet.</p>` : ''}</body></html>`;
      return reply.type('text/html; charset=utf-8').header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'").send(body.text);
    });
  });
}
