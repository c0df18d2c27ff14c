import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HubContext } from '../../../../services/context.js';
import { NotFoundError } from '../../../../services/context.js';
import { paymentFingerprint } from '../../../../services/payment-actions.js';

/**
 * A payment page that updates itself: the page opens a server-sent event stream; the server reads the payment's
 * fingerprint (services/payment-actions.ts: one read of the payment, its attempts, notifications, refunds, events
 * and deliveries) about once a second and says `changed` when it moves, and the page then fetches itself and
 * swaps its facts, actions and timeline. Polling the database (rather than a ledger hook) sees a change made by
 * any hub process on the same database and costs the ledger nothing. Streams are limited per session, end when
 * the session does (logout, expiry: asked every few seconds without counting as activity), after a while
 * (the browser reconnects through the session check), when the client goes away, and when the hub closes.
 *
 * The script (served here at a path carrying its hash, no inline script) also shows each `<time datetime>` in the
 * browser's time zone, keeping the UTC value in its title; without script the page shows UTC and never updates.
 */

export const POLL_MS = 1_000;
const SESSION_CHECK_EVERY = 5;
const KEEPALIVE_EVERY = 15;
export const MAX_STREAMS_PER_SESSION = 4;
const STREAM_LIFETIME_MS = 10 * 60_000;

export const LIVE_SCRIPT = `(function () {
  'use strict';
  var lang = document.documentElement.getAttribute('lang') || undefined;
  function localize(root) {
    var times = root.querySelectorAll('time[datetime]');
    for (var i = 0; i < times.length; i++) {
      var el = times[i];
      if (el.hasAttribute('data-local')) continue;
      var d = new Date(el.getAttribute('datetime'));
      if (isNaN(d.getTime())) continue;
      el.setAttribute('title', d.toISOString().slice(0, 19).replace('T', ' ') + ' UTC');
      el.textContent = d.toLocaleString(lang, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' });
      el.setAttribute('data-local', '');
    }
  }
  function start() {
    localize(document);
    document.addEventListener('htmx:afterSettle', function (e) { localize(e.target && e.target.querySelectorAll ? e.target : document); });
    var live = document.querySelector('[data-live-stream]');
    if (!live || typeof EventSource !== 'function') return;
    var regions = (live.getAttribute('data-live-regions') || '').split(' ');
    var status = document.getElementById('live-status');
    var busy = false, again = false, opened = false;
    function refresh() {
      if (busy) { again = true; return; }
      busy = true;
      fetch(window.location.pathname, { credentials: 'same-origin' })
        .then(function (r) { return r.ok && r.headers.get('content-type').indexOf('text/html') === 0 ? r.text() : null; })
        .then(function (text) {
          if (!text) return;
          var next = new DOMParser().parseFromString(text, 'text/html');
          for (var i = 0; i < regions.length; i++) {
            var now = document.getElementById(regions[i]);
            var fresh = next.getElementById(regions[i]);
            if (!now || !fresh) continue;
            // Never swap a form the person is using.
            if (now.contains(document.activeElement) && document.activeElement !== document.body) continue;
            now.replaceWith(fresh);
            localize(fresh);
          }
          if (status) status.textContent = status.getAttribute('data-updated') || '';
        })
        .catch(function () {})
        .then(function () { busy = false; if (again) { again = false; refresh(); } });
    }
    var source = new EventSource(live.getAttribute('data-live-stream'));
    source.addEventListener('open', function () { if (opened) refresh(); opened = true; });
    source.addEventListener('changed', refresh);
    source.addEventListener('ended', function () { source.close(); });
    window.addEventListener('pagehide', function () { source.close(); });
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
`;

/** Where the hub serves the script: its hash is in the path, so it may be cached for a year. */
export const LIVE_SCRIPT_PATH = `/console/payments/assets/live-${createHash('sha256').update(LIVE_SCRIPT).digest('hex').slice(0, 12)}.js`;

/**
 * A short tag of a payment's fingerprint. The page carries the one it was rendered from (`?since=` of its stream),
 * so a change between the page's rendering and the stream's opening is announced too.
 */
export async function fingerprintTag(ctx: HubContext, scope: string | null, paymentId: string): Promise<string> {
  const fingerprint = await paymentFingerprint(ctx, scope, paymentId);
  return fingerprint === undefined ? '' : tagOf(fingerprint);
}
const tagOf = (fingerprint: string) => createHash('sha256').update(fingerprint).digest('hex').slice(0, 16);

/** Registers the script and the stream, relative to /console/payments. */
export function liveRoutes(app: FastifyInstance, ctx: HubContext, scopeOf: (request: FastifyRequest) => string | null) {
  /** Open streams per session (keyed by the session's anti-forgery token, which is the session's own). */
  const perSession = new Map<string, number>();
  const open = new Set<() => void>();

  app.get(LIVE_SCRIPT_PATH.slice('/console/payments'.length), { config: { consolePublic: true }, schema: { hide: true } }, async (_request, reply) =>
    reply.header('cache-control', 'public, max-age=31536000, immutable').type('text/javascript; charset=utf-8').send(LIVE_SCRIPT),
  );

  app.addHook('preClose', async () => {
    for (const close of [...open]) close();
  });

  app.get<{ Params: { id: string }; Querystring: { since?: string } }>('/:id/stream', { schema: { hide: true } }, async (request, reply: FastifyReply) => {
    if (!/^[A-Za-z0-9_]{1,64}$/.test(request.params.id)) throw new NotFoundError('no such payment');
    const scope = scopeOf(request);
    const id = request.params.id;
    const current = await paymentFingerprint(ctx, scope, id);
    if (current === undefined) throw new NotFoundError('no such payment');
    const since = request.query.since;
    let last = typeof since === 'string' && /^[0-9a-f]{16}$/.test(since) ? since : tagOf(current);
    const session = request.console!.session!;
    const key = session.csrfToken;
    const count = perSession.get(key) ?? 0;
    if (count >= MAX_STREAMS_PER_SESSION) {
      // EventSource does not reconnect after an error status: the page simply stays as it is.
      return reply
        .code(429)
        .header('retry-after', '60')
        .header('cache-control', 'no-store')
        .type('text/plain; charset=utf-8')
        .send('too many live pages open\n');
    }
    perSession.set(key, count + 1);
    const stillLive = request.console!.stillLive;
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-accel-buffering': 'no',
    });
    raw.write('retry: 3000\n\n');
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    let ticks = 0;
    let version = 0;
    const started = Date.now();
    const close = () => {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      open.delete(close);
      const n = (perSession.get(key) ?? 1) - 1;
      if (n > 0) perSession.set(key, n);
      else perSession.delete(key);
      raw.end();
    };
    open.add(close);
    request.raw.on('close', close);
    raw.on('close', close);
    raw.on('error', close);
    const tick = async () => {
      timer = undefined;
      ticks++;
      try {
        if (ticks % SESSION_CHECK_EVERY === 0 && stillLive && !(await stillLive())) {
          if (!closed) raw.write('event: ended\ndata: session\n\n');
          return close();
        }
        if (Date.now() - started > STREAM_LIFETIME_MS) return close();
        const fingerprint = await paymentFingerprint(ctx, scope, id);
        if (closed) return;
        if (fingerprint === undefined) return close();
        const now = tagOf(fingerprint);
        if (now !== last) {
          last = now;
          raw.write(`event: changed\ndata: ${++version}\n\n`);
        } else if (ticks % KEEPALIVE_EVERY === 0) raw.write(': keep-alive\n\n');
      } catch (error) {
        // The database was briefly unreachable: try again at the next tick.
        request.log.warn({ err: error }, 'console live stream: reading the payment failed');
      }
      if (!closed) timer = setTimeout(() => void tick(), POLL_MS);
    };
    timer = setTimeout(() => void tick(), POLL_MS);
  });

  return { openStreams: () => open.size };
}
