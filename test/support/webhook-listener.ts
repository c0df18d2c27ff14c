import { createServer, type Server } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  event: { id: string; type: string; data: any };
  validSignature: boolean;
}

/** Verifies a Standard Webhooks signature independently of the hub's own signing code. */
export function verifyStandardWebhook(secret: string, id: string, timestamp: string, body: string, signatureHeader: string): boolean {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  return signatureHeader.split(' ').some((part) => {
    const [version, sig] = part.split(',');
    if (version !== 'v1' || !sig) return false;
    const given = Buffer.from(sig, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/** A merchant's webhook receiver: records every delivery; `respond` decides the HTTP status to answer. */
export async function startWebhookListener(options: { respond?: (n: number) => number } = {}) {
  const received: ReceivedWebhook[] = [];
  let secret = '';
  let count = 0;
  const server: Server = createServer((req, res) => {
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
        received.push({ id, timestamp, signature, body, event: JSON.parse(body), validSignature: verifyStandardWebhook(secret, id, timestamp, body, signature) });
      }
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'nope');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks`;
  return {
    url,
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
