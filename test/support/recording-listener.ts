// A merchant's webhook receiver that records EVERY delivery attempt it sees (not only the ones it accepts),
// can answer slowly or with errors, and checks the Standard Webhooks signature with the receiver-side code.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { verifyStandardWebhookSignature } from '../../src/core/webhook-signature.js';

export interface RecordedDelivery {
  /** webhook-id header. */
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  event: { id: string; type: string; data: any } | undefined;
  validSignature: boolean;
  receivedAt: number;
  /** Status this receiver answered (after its delay), undefined while the answer is pending or was cut off. */
  answered?: number;
}

export interface RecordingListenerOptions {
  /** Status to answer for the n-th request (1-based) and its webhook-id; default 200. */
  respond?: (n: number, id: string) => number;
  /** Milliseconds to wait before answering; default 0. */
  delayMs?: (n: number, id: string) => number;
}

export async function startRecordingListener(options: RecordingListenerOptions = {}) {
  const deliveries: RecordedDelivery[] = [];
  let secret = '';
  let count = 0;
  let inFlight = 0;
  const sockets = new Set<import('node:net').Socket>();
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Shop</title><h1>Thank you</h1>');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const id = String(req.headers['webhook-id'] ?? '');
      const timestamp = String(req.headers['webhook-timestamp'] ?? '');
      const signature = String(req.headers['webhook-signature'] ?? '');
      count += 1;
      const n = count;
      let event: RecordedDelivery['event'];
      try {
        event = JSON.parse(body);
      } catch {
        event = undefined;
      }
      const record: RecordedDelivery = {
        id,
        timestamp,
        signature,
        body,
        event,
        validSignature: verifyStandardWebhookSignature(secret, id, timestamp, body, signature),
        receivedAt: Date.now(),
      };
      deliveries.push(record);
      const status = options.respond ? options.respond(n, id) : 200;
      const delay = options.delayMs ? options.delayMs(n, id) : 0;
      inFlight++;
      const answer = () => {
        inFlight--;
        if (res.destroyed) return;
        record.answered = status;
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : 'nope');
      };
      if (delay > 0) setTimeout(answer, delay);
      else answer();
    });
  };
  const server: Server = createServer(handle);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  return {
    url: `${origin}/hooks`,
    shopUrl: `${origin}/shop/thanks`,
    deliveries,
    get calls() {
      return count;
    },
    /** Requests received whose answer has not been sent yet. */
    get inFlight() {
      return inFlight;
    },
    setSecret(s: string) {
      secret = s;
    },
    /** Distinct webhook-ids seen, each with every body it came with. */
    bodiesById(): Map<string, Set<string>> {
      const map = new Map<string, Set<string>>();
      for (const d of deliveries) {
        if (!map.has(d.id)) map.set(d.id, new Set());
        map.get(d.id)!.add(d.body);
      }
      return map;
    },
    /** One record per distinct webhook-id (the first one received). */
    distinctEvents(): RecordedDelivery[] {
      const seen = new Set<string>();
      return deliveries.filter((d) => (seen.has(d.id) ? false : (seen.add(d.id), true)));
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

export type RecordingListener = Awaited<ReturnType<typeof startRecordingListener>>;
