// A tiny round-robin HTTP load balancer in front of several hub processes (what nginx or a cloud load balancer
// does in production). Request bodies are buffered so a test can look at them, hold them, or fan one request
// out to every backend at once; responses are passed through unchanged.
import http, { type IncomingHttpHeaders } from 'node:http';

export interface BufferedRequest {
  method: string;
  /** Path and query. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface ProxiedResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  backend: string;
}

export type Interceptor = (request: BufferedRequest, balancer: Balancer) => Promise<ProxiedResponse | undefined>;

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'host', 'content-length']);

/** Sends one buffered request to one backend. Never rejects: a backend that is down gives a 502. */
export function forward(backend: string, request: BufferedRequest, timeoutMs = 30_000): Promise<ProxiedResponse> {
  return new Promise((resolve) => {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(request.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    headers['content-length'] = String(request.body.length);
    const target = new URL(request.url, backend);
    const req = http.request(target, { method: request.method, headers, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const out: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = Array.isArray(v) ? v.join(', ') : v;
        resolve({ status: res.statusCode ?? 502, headers: out, body: Buffer.concat(chunks), backend });
      });
      res.on('error', () => resolve({ status: 502, headers: { 'content-type': 'text/plain' }, body: Buffer.from('bad gateway'), backend }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) =>
      resolve({ status: 502, headers: { 'content-type': 'text/plain' }, body: Buffer.from(`bad gateway: ${e.code ?? ''} ${e.message}`), backend }),
    );
    req.end(request.body);
  });
}

export interface Balancer {
  url: string;
  backends: string[];
  /** Which backend served each request, in arrival order. */
  log: Array<{ method: string; url: string; backend: string; status: number }>;
  intercept: Interceptor | undefined;
  /** The next backend in rotation. */
  next(): string;
  close(): Promise<void>;
}

export async function startBalancer(backends: string[] = []): Promise<Balancer> {
  let turn = 0;
  const balancer: Balancer = {
    url: '',
    backends,
    log: [],
    intercept: undefined,
    next() {
      if (balancer.backends.length === 0) throw new Error('no backends');
      const b = balancer.backends[turn % balancer.backends.length]!;
      turn++;
      return b;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    // Node drops what a listener returns, so a rejection here would be unhandled: what escapes the 502 fallback
    // below (writeHead refusing a header) drops the connection instead.
    req.on(
      'end',
      () =>
        void (async () => {
          const buffered: BufferedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks) };
          let out: ProxiedResponse | undefined;
          try {
            out = balancer.intercept ? await balancer.intercept(buffered, balancer) : undefined;
            if (!out) {
              // Like a load balancer's passive health check: a backend that refuses the connection never saw the
              // request, so it goes to the next one (a request a backend did receive is never sent twice).
              for (let tries = 0; tries < balancer.backends.length; tries++) {
                out = await forward(balancer.next(), buffered);
                if (!(out.status === 502 && /ECONNREFUSED/.test(out.body.toString('utf8')))) break;
              }
            }
          } catch (e) {
            out = { status: 502, headers: { 'content-type': 'text/plain' }, body: Buffer.from(`balancer: ${(e as Error).message}`), backend: '-' };
          }
          out ??= { status: 502, headers: { 'content-type': 'text/plain' }, body: Buffer.from('balancer: no backend'), backend: '-' };
          balancer.log.push({ method: buffered.method, url: buffered.url, backend: out.backend, status: out.status });
          res.writeHead(out.status, out.headers).end(out.body);
        })().catch((e: unknown) => res.destroy(e as Error)),
    );
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  balancer.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const close = balancer.close;
  balancer.close = () => {
    server.closeAllConnections();
    return close();
  };
  return balancer;
}
