import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import pino from 'pino';
import { Outbound, parseOutboundAllow } from '../../src/security/outbound.js';
import { callProcessor, send } from '../../src/services/processor-calls.js';
import type { LoadedConnection } from '../../src/services/connections.js';
import type { HubContext } from '../../src/services/context.js';
import { HubCaches } from '../../src/services/hub-caches.js';
import type { Db } from '../../src/store/store.js';
import type { InboundResponse, OperationError } from '../../src/connectors/types.js';

/**
 * How a call without a usable answer is classified, over real sockets: only a request that never reached the
 * processor is `unreachable` (safe to send again); one that was sent and got no whole answer is `unknown`.
 */

// Processor calls keep access tokens in the hub's memory; these calls use no database.
const ctx = {
  logger: pino({ level: 'silent' }),
  outbound: new Outbound({ allow: parseOutboundAllow('127.0.0.1') }),
  caches: new HubCaches(undefined as unknown as Db),
} as unknown as HubContext;
const sockets = new Set<net.Socket>();
let server: net.Server;
let port: number;
/** What the fake processor does with each request, by path. */
const behaviour: Record<string, (socket: net.Socket) => void> = {
  // Reads the request and never answers.
  '/silent': () => undefined,
  // Answers the status line and part of the body, then resets the connection.
  '/reset': (socket) => {
    socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"esito":');
    setTimeout(() => socket.resetAndDestroy(), 20);
  },
  // Closes the connection without a byte of answer.
  '/hangup': (socket) => socket.destroy(),
  '/ok': (socket) => socket.end('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}'),
};

before(async () => {
  server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.once('data', (chunk) => {
      const path = chunk.toString('latin1').split(' ')[1] ?? '';
      (behaviour[path] ?? behaviour['/ok']!)(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
});
after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => server.close(resolve));
});

const call = (url: string, deadlineMs = 300): Promise<InboundResponse | OperationError> =>
  send(ctx, 'test', 'start', { method: 'POST', url, headers: { 'content-type': 'application/json' }, body: '{"amount":1000}' }, deadlineMs);
const failureOf = async (url: string, deadlineMs?: number) => {
  const r = await call(url, deadlineMs);
  assert.equal('kind' in r && r.kind, 'error', JSON.stringify(r));
  return r as OperationError;
};

describe('a processor call without a usable answer', () => {
  it('a deadline that passed after the request was sent: unknown (it may have been carried out)', async () => {
    const e = await failureOf(`http://127.0.0.1:${port}/silent`, 300);
    assert.deepEqual([e.failure, e.code], ['unknown', 'timeout']);
    assert.match(e.message, /did not answer within 0\.3 s/);
  });

  it('a reset in the middle of the answer, or a hang-up after the request: unknown', async () => {
    assert.equal((await failureOf(`http://127.0.0.1:${port}/reset`)).failure, 'unknown');
    assert.equal((await failureOf(`http://127.0.0.1:${port}/hangup`)).failure, 'unknown');
  });

  it('nothing listening (connection refused): unreachable', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const free = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const e = await failureOf(`http://127.0.0.1:${free}/ok`);
    assert.deepEqual([e.failure, e.code], ['unreachable', 'unreachable']);
  });

  it('a name that does not resolve, or an address the outbound guard refuses: unreachable', async () => {
    assert.equal((await failureOf('http://processor.invalid/ok', 5000)).failure, 'unreachable');
    const strict = { ...ctx, outbound: new Outbound() } as HubContext;
    const r = await send(strict, 'test', 'start', { method: 'POST', url: `http://127.0.0.1:${port}/ok`, headers: {} }, 300);
    assert.equal('kind' in r && r.failure, 'unreachable');
  });

  it('a token fetch that timed out leaves the call it was for unsent: unreachable, not unknown', async () => {
    const base = `http://127.0.0.1:${port}`;
    const loaded = {
      row: { id: 'con_test', provider: 'test', credentials_fingerprint: 'f' },
      config: { endpoint: base },
      connector: {
        provider: 'test',
        deadlinesMs: { authenticate: 300 },
        authenticate: {
          request: () => ({ method: 'POST', url: `${base}/silent`, headers: {} }),
          response: () => ({ token: 't', refreshAt: new Date(Date.now() + 60_000) }),
        },
      },
    } as unknown as LoadedConnection;
    let built = false;
    const r = await callProcessor(ctx, loaded, 'start', () => ((built = true), { method: 'POST', url: `${base}/ok`, headers: {} }));
    assert.equal('kind' in r && r.failure, 'unreachable');
    assert.equal(built, false, 'the start was never sent');
  });

  it('a whole answer is an answer, whatever it says', async () => {
    const r = await call(`http://127.0.0.1:${port}/ok`);
    assert.deepEqual('status' in r && [r.status, r.body], [200, '{}']);
  });
});
