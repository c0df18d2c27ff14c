import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { isIP } from 'node:net';
import { call, CliError, type GlobalOptions, hubUrl } from './client.js';
import { colorsOn } from './output.js';
import { webhookSignatureProblem } from './webhook-signature.js';

/**
 * `incasso listen`, like `stripe listen`: registers a webhook endpoint for this terminal, prints each event the
 * hub delivers to it after checking its Standard Webhooks signature with the endpoint's secret, forwards it
 * (same body, same webhook-* headers) to `--forward-to` and prints the local answer's status, and disables the
 * endpoint on Ctrl-C (the API has no delete).
 *
 * Two ways for the deliveries to reach this process (the hub's outbound guard refuses internal addresses):
 * - `inbox` (default): the endpoint is the hub's own sandbox inbox (`/sandbox/inbox/<name>`), a prefix the hub
 *   trusts when its emulators are mounted (the default `npm start`), read back with the endpoint's secret;
 * - `direct`: a local HTTP listener is the endpoint, for a hub whose operator allows its address
 *   (`INCASSO_OUTBOUND_ALLOW=127.0.0.1`) or one that reaches this machine at a public address.
 */

export interface ListenOptions {
  via: 'inbox' | 'direct';
  forwardTo?: string;
  events?: string;
  port?: number;
  host: string;
  interval: number;
}

interface Delivery {
  headers: Record<string, string | undefined>;
  body: string;
}

const FORWARD_TIMEOUT_MS = 10_000;
const MAX_BODY_BYTES = 1024 * 1024;

export async function listen(g: GlobalOptions, key: string, o: ListenOptions): Promise<void> {
  if (o.forwardTo !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(o.forwardTo);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      throw new CliError('--forward-to must be an http(s) URL, e.g. http://localhost:3000/webhooks', 2);
  }
  const events = o.events ? o.events.split(',').map((e) => e.trim()) : undefined;
  const color = colorsOn();
  const paint = (code: number, s: string) => (color ? `\x1b[${code}m${s}\x1b[0m` : s);

  let secret: string | undefined;
  let endpointId: string | undefined;
  let server: Server | undefined;
  let pollTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  /** Prints one delivery, forwards it when it is genuine; answers the status the direct listener replies with. */
  const handle = async (d: Delivery): Promise<number> => {
    const problem = secret
      ? webhookSignatureProblem(
          secret,
          { id: d.headers['webhook-id'], timestamp: d.headers['webhook-timestamp'], signature: d.headers['webhook-signature'] },
          d.body,
        )
      : 'no secret yet';
    let event: { id?: string; type?: string } = {};
    try {
      event = JSON.parse(d.body);
    } catch {
      event = {};
    }
    let forward: { status?: number; error?: string } | undefined;
    if (!problem && o.forwardTo) {
      try {
        const answer = await fetch(o.forwardTo, {
          method: 'POST',
          headers: Object.fromEntries(
            Object.entries({
              'content-type': d.headers['content-type'] ?? 'application/json',
              'user-agent': d.headers['user-agent'],
              'webhook-id': d.headers['webhook-id'],
              'webhook-timestamp': d.headers['webhook-timestamp'],
              'webhook-signature': d.headers['webhook-signature'],
            }).filter((e): e is [string, string] => e[1] !== undefined),
          ),
          body: d.body,
          redirect: 'manual',
          signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
        });
        await answer.body?.cancel();
        forward = { status: answer.status };
      } catch (e) {
        forward = { error: String((e as Error).cause ?? (e as Error).message) };
      }
    }
    if (g.json) {
      process.stdout.write(
        JSON.stringify({
          received_at: new Date().toISOString(),
          webhook_id: d.headers['webhook-id'] ?? null,
          type: event.type ?? null,
          signature_valid: problem === null,
          ...(problem ? { signature_problem: problem } : {}),
          ...(forward ? { forward: { url: o.forwardTo, ...forward } } : {}),
          event: problem ? null : event,
        }) + '\n',
      );
    } else {
      const when = new Date().toISOString().replace('T', ' ').slice(0, 19);
      const check = problem ? paint(31, `signature REFUSED (${problem})`) : paint(32, 'signature ok');
      const fwd = forward
        ? ` → ${o.forwardTo} ${forward.status !== undefined ? paint(forward.status < 300 ? 32 : 31, String(forward.status)) : paint(31, forward.error ?? '')}`
        : '';
      process.stdout.write(`${when}  ${event.type ?? '(not JSON)'}  ${d.headers['webhook-id'] ?? ''}  ${check}${fwd}\n`);
    }
    if (problem) return 400;
    if (!forward) return 200;
    return forward.status ?? 502;
  };

  let url: string;
  const name = `cli-listen-${randomBytes(8).toString('hex')}`;
  if (o.via === 'direct') {
    const secretKnown = new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (secret || stopped) {
          clearInterval(t);
          resolve();
        }
      }, 20);
    });
    server = createServer((req, res) => {
      void (async () => {
        if (req.method !== 'POST') {
          res.writeHead(405).end();
          return;
        }
        const body = await readBody(req);
        if (body === null) {
          res.writeHead(413).end();
          return;
        }
        await secretKnown;
        const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]));
        const status = await handle({ headers, body });
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'received' : 'not accepted');
      })().catch(() => res.writeHead(500).end());
    });
    await new Promise<void>((resolve, reject) => {
      server!.once('error', (e: NodeJS.ErrnoException) => reject(new CliError(`cannot listen on ${o.host}:${o.port ?? 0} (${e.code ?? e.message})`)));
      server!.listen(o.port ?? 0, o.host, () => resolve());
    });
    const port = (server.address() as { port: number }).port;
    url = `http://${isIP(o.host) === 6 ? `[${o.host}]` : o.host}:${port}/`;
  } else {
    url = `${hubUrl(g)}/sandbox/inbox/${name}`;
  }

  let created: { id: string; secret: string };
  try {
    created = await call(g, key, 'POST', '/v1/webhook-endpoints', { url, ...(events ? { events } : {}) });
  } catch (e) {
    server?.close();
    if (e instanceof CliError && /internal address/.test(e.message)) {
      throw new CliError(
        o.via === 'direct'
          ? `the hub refuses to deliver to ${url}: its outbound guard allows internal addresses only when the operator says so; start the hub with INCASSO_OUTBOUND_ALLOW=${o.host}, or use --via inbox (the hub's own sandbox inbox)\n${e.message}`
          : `the hub refuses its sandbox inbox at ${url}: --hub must be the hub's INCASSO_PUBLIC_URL and the hub must run with its emulators (INCASSO_EMULATORS); or use --via direct with INCASSO_OUTBOUND_ALLOW\n${e.message}`,
      );
    }
    throw e;
  }
  endpointId = created.id;
  secret = created.secret;

  const header = g.json
    ? JSON.stringify({ object: 'listen', endpoint_id: endpointId, url, secret, via: o.via, forward_to: o.forwardTo ?? null }) + '\n'
    : `Ready. Webhook endpoint ${endpointId} → ${url} (via ${o.via})\nWebhook signing secret: ${secret}\n${o.forwardTo ? `Forwarding to ${o.forwardTo}\n` : ''}`;
  process.stdout.write(header);
  if (process.stderr.isTTY) process.stderr.write('Waiting for events… (Ctrl-C to stop and disable the endpoint)\n');

  if (o.via === 'inbox') {
    const seen = new Set<number>();
    let warned = false;
    const poll = async () => {
      try {
        const r = await fetch(`${url}?secret=${encodeURIComponent(secret!)}`, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
        if (!r.ok) throw new Error(`the inbox answered ${r.status}`);
        const items = ((await r.json()) as { data: Array<{ id: number; headers: Record<string, string>; body: string }> }).data;
        warned = false;
        for (const item of [...items].reverse()) {
          if (seen.has(item.id) || stopped) continue;
          seen.add(item.id);
          await handle({ headers: item.headers, body: item.body });
        }
      } catch (e) {
        if (!warned) process.stderr.write(`incasso: cannot read the inbox at ${url} (${(e as Error).message}); retrying\n`);
        warned = true;
      }
      if (!stopped) pollTimer = setTimeout(() => void poll(), o.interval);
    };
    void poll();
  }

  await new Promise<void>((resolve) => {
    const stop = () => {
      if (stopped) return;
      stopped = true;
      if (pollTimer) clearTimeout(pollTimer);
      server?.close();
      server?.closeAllConnections();
      call(g, key, 'PATCH', `/v1/webhook-endpoints/${encodeURIComponent(endpointId!)}`, { status: 'disabled' })
        .then(
          () => process.stderr.write(`Disabled webhook endpoint ${endpointId}.\n`),
          (e: Error) =>
            process.stderr.write(`incasso: could not disable webhook endpoint ${endpointId} (${e.message}); run: incasso webhooks disable ${endpointId}\n`),
        )
        .finally(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(null));
  });
}
