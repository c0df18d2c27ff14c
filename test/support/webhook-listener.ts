import { createServer, type Server } from 'node:http';
import { verifyStandardWebhookSignature } from '../../src/core/webhook-signature.js';

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  event: { id: string; type: string; data: any };
  validSignature: boolean;
}

/** A receiver's signature check (the webhook inbox emulator's), independent of the hub's signing code. */
export const verifyStandardWebhook = verifyStandardWebhookSignature;

/** A merchant's webhook receiver: records every delivery; `respond` decides the HTTP status to answer. */
export async function startWebhookListener(options: { respond?: (n: number) => number } = {}) {
  const received: ReceivedWebhook[] = [];
  let secret = '';
  let count = 0;
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET') {
      // The shop's own pages (return_url) live on the same server.
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Shop</title><h1>Thank you for your order</h1>');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const id = String(req.headers['webhook-id'] ?? '');
      const timestamp = String(req.headers['webhook-timestamp'] ?? '');
      const signature = String(req.headers['webhook-signature'] ?? '');
      count += 1;
      const status = options.respond ? options.respond(count) : 200;
      if (status >= 200 && status < 300) {
        received.push({
          id,
          timestamp,
          signature,
          body,
          event: JSON.parse(body),
          validSignature: verifyStandardWebhook(secret, id, timestamp, body, signature),
        });
      }
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'nope');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const url = `${origin}/hooks`;
  return {
    url,
    /** A page of the shop, for return_url. */
    shopUrl: `${origin}/shop/thanks`,
    received,
    get calls() {
      return count;
    },
    setSecret(s: string) {
      secret = s;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
