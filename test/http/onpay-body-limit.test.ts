import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { startTestHub, type TestHub } from '../support/hub.js';

/**
 * OnPay's multipart bodies are limited to 1 MiB: a larger one is answered 413 (in OnPay's JSON) as soon as the
 * limit is passed, and the hub stops reading it there.
 */

const MiB = 1024 * 1024;
const BOUNDARY = 'incasso-test-boundary';

interface Outcome {
  status: number;
  body: string;
  /** Body bytes the client had handed to its socket when the answer came (or the connection ended). */
  sentWhenAnswered: number;
}

/** Streams a multipart body of `total` bytes (a key field, then one big file part), as fast as the hub takes it. */
function streamMultipart(url: string, total: number, headers: Record<string, string>): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered: { res: IncomingMessage; sent: number } | undefined;
    let ended = false;
    const req = httpRequest(
      url,
      { method: 'POST', agent: false, headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}`, ...headers } },
      (res) => {
        answered = { res, sent };
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString(), sentWhenAnswered: answered!.sent }));
      },
    );
    // The hub may close the connection while the client is still writing: that is the point, not a failure.
    req.on('error', (e) => (answered ? undefined : reject(e)));
    req.on('close', () => (ended = true));
    const head = Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="key"\r\n\r\nsome-key\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="upload"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 'a');
    const drainedOrDone = () =>
      new Promise<void>((resolve) => {
        const done = () => {
          for (const event of ['drain', 'close', 'response']) req.off(event, done);
          resolve();
        };
        for (const event of ['drain', 'close', 'response']) req.on(event, done);
      });
    const write = (b: Buffer) => {
      sent += b.length;
      return req.write(b);
    };
    (async () => {
      write(head);
      while (!answered && !ended && sent + chunk.length + tail.length <= total) {
        if (!write(chunk)) await drainedOrDone();
      }
      if (!answered && !ended) {
        write(Buffer.alloc(total - sent - tail.length, 'a'));
        write(tail);
        req.end();
      }
    })().catch(reject);
  });
}

describe('OnPay multipart body limit', () => {
  let hub: TestHub;
  const bytesRead: number[] = [];

  before(async () => {
    hub = await startTestHub({ emulators: false });
    // What the hub read from each connection, once it closes.
    hub.app.server.on('connection', (socket: Socket) => socket.on('close', () => bytesRead.push(socket.bytesRead)));
  });
  after(() => hub?.close());

  async function readOf(run: () => Promise<Outcome>): Promise<{ outcome: Outcome; read: number }> {
    const known = bytesRead.length;
    const outcome = await run();
    for (let i = 0; i < 200 && bytesRead.length === known; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(bytesRead.length, known + 1, 'the hub closed the connection');
    return { outcome, read: bytesRead[known] };
  }

  it('answers 413 in OnPay JSON to a streamed 20 MiB body and stops reading soon after 1 MiB', async () => {
    const { outcome, read } = await readOf(() => streamMultipart(`${hub.url}/test/api/get_link/`, 20 * MiB, { 'transfer-encoding': 'chunked' }));
    assert.equal(outcome.status, 413, outcome.body);
    const body = JSON.parse(outcome.body);
    assert.equal(body.success, 'false');
    assert.equal(body.link, null);
    assert.match(body.error, /larger than 1048576 bytes/);
    assert.ok(outcome.sentWhenAnswered < 20 * MiB, `answered before the body was all sent (${outcome.sentWhenAnswered} bytes sent)`);
    assert.ok(read < 2 * MiB, `the hub read ${read} bytes of a 20 MiB body`);
  });

  it('refuses a declared Content-Length over 1 MiB without reading the body', async () => {
    const { outcome, read } = await readOf(() => streamMultipart(`${hub.url}/test/api/get_notifications/`, 20 * MiB, { 'content-length': String(20 * MiB) }));
    assert.equal(outcome.status, 413, outcome.body);
    assert.match(JSON.parse(outcome.body).errors, /larger than 1048576 bytes/);
    assert.ok(read < 2 * MiB, `the hub read ${read} bytes of a 20 MiB body`);
  });

  it('still reads a multipart body under the limit', async () => {
    const { outcome } = await readOf(() => streamMultipart(`${hub.url}/test/api/get_payment_method/`, MiB - 1024, { 'transfer-encoding': 'chunked' }));
    assert.equal(outcome.status, 200, outcome.body);
    assert.match(JSON.parse(outcome.body).errors, /key/, 'the fields were read: the made-up key is refused in the protocol');
  });
});
