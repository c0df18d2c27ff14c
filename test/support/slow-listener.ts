import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A receiver that answers only after `delayMs` (a slow or hostile merchant's endpoint). It records when each
 * request arrived and how many are open at once, per path and in all; `close()` ends every held request at
 * once, so a test need not wait out the delay.
 */
export async function startSlowListener(delayMs = 60_000) {
  const sockets = new Set<Socket>();
  const open = new Map<string, number>();
  const maxOpen = new Map<string, number>();
  let openTotal = 0;
  let maxOpenTotal = 0;
  let calls = 0;
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    calls += 1;
    openTotal += 1;
    maxOpenTotal = Math.max(maxOpenTotal, openTotal);
    open.set(path, (open.get(path) ?? 0) + 1);
    maxOpen.set(path, Math.max(maxOpen.get(path) ?? 0, open.get(path)!));
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      openTotal -= 1;
      open.set(path, open.get(path)! - 1);
    };
    req.resume();
    res.on('close', finish);
    const timer = setTimeout(() => {
      timers.delete(timer);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('finally');
    }, delayMs);
    timers.add(timer);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    origin,
    url: (path: string) => `${origin}${path}`,
    get calls() {
      return calls;
    },
    /** Requests being held now. */
    get openNow() {
      return openTotal;
    },
    get maxOpenTotal() {
      return maxOpenTotal;
    },
    maxOpenAt: (path: string) => maxOpen.get(path) ?? 0,
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
