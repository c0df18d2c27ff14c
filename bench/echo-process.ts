// Baseline B: a bare Fastify server with one JSON route, started the same way as the hub (own process, tsx,
// loopback, keep-alive), so "what the hub's payment creation costs" can be read against "what Fastify + Node's
// HTTP stack alone cost on this machine right now". Same IPC protocol as hub-process.ts.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.post<{ Body: { n?: number } }>('/echo', async (request) => ({ ok: true, n: request.body?.n ?? null }));

let closing: Promise<void> | undefined;
const shutdown = (code: number) => {
  closing ??= app.close().then(
    () => process.exit(code),
    () => process.exit(1),
  );
  return closing;
};
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));
process.on('disconnect', () => void shutdown(0));
process.on('message', (m) => {
  if ((m as { type?: string }).type === 'close') void shutdown(0);
});

await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
process.stdout.write(`echo server listening on ${url} (pid ${process.pid})\n`);
process.send?.({ type: 'ready', url, pid: process.pid });
