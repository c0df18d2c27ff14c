// A TCP proxy between a hub and PostgreSQL that a test can cut and restore, so the database "goes away" for
// one hub only (the real server, shared by every other test, keeps running).
//
//   cut('refuse')     every open connection is reset and new ones are reset on accept: the server crashed,
//                     restarted, or a firewall rejects (clients see errors at once).
//   cut('blackhole')  open connections stop moving bytes and new ones are accepted but never answered: a
//                     network partition or a failed-over host that vanished (clients see nothing at all).
//   restore()         new connections work again; stalled ones are reset (`'reset'`, what a failed-over
//                     server does with connections it does not know), resume (`'resume'`, a healed link), or
//                     stay stalled for good (`'abandon'`, the old host is gone and never answers again: the
//                     client only finds out when its own TCP stack gives up, ~15 minutes on Linux).
import net, { type Socket } from 'node:net';

export type CutMode = 'refuse' | 'blackhole';

interface Pair {
  client: Socket;
  upstream?: Socket;
  stalled: boolean;
}

/**
 * Aborts a connection with a TCP RST (what the peer of a crashed or failed-over server sees). A socket whose
 * graceful shutdown has already begun is only destroyed: resetting it while its shutdown request is pending
 * can leave the native handle referenced, and the test process then spins forever at exit.
 */
function reset(socket: Socket | undefined) {
  if (!socket || socket.destroyed) return;
  if (!socket.writableEnded && typeof (socket as Socket & { resetAndDestroy?: () => void }).resetAndDestroy === 'function')
    (socket as Socket & { resetAndDestroy: () => void }).resetAndDestroy();
  else socket.destroy();
}

export async function startTcpProxy(target: { host: string; port: number }) {
  let mode: 'open' | CutMode = 'open';
  const pairs = new Set<Pair>();
  let accepted = 0;
  let refused = 0;

  const connect = (pair: Pair) => {
    const upstream = net.connect(target.port, target.host);
    pair.upstream = upstream;
    pair.client.pipe(upstream);
    upstream.pipe(pair.client);
    // One side went away on its own: close the other side too (plainly; resets are for cut/restore).
    const done = () => {
      pair.client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    upstream.on('error', done);
    upstream.on('close', done);
    pair.client.on('close', done);
  };

  const server = net.createServer((client) => {
    client.on('error', () => {});
    accepted++;
    if (mode === 'refuse') {
      refused++;
      reset(client);
      return;
    }
    const pair: Pair = { client, stalled: mode === 'blackhole' };
    pairs.add(pair);
    if (pair.stalled) {
      // Accepted, then nothing: bytes from the client stay unread.
      client.pause();
      client.on('close', () => pairs.delete(pair));
      return;
    }
    connect(pair);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;

  return {
    port,
    get mode() {
      return mode;
    },
    get openConnections() {
      return pairs.size;
    },
    get stats() {
      return { accepted, refused, open: pairs.size };
    },
    /** A connection string like `url` but through this proxy. */
    rewrite(url: string): string {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    cut(how: CutMode = 'refuse') {
      mode = how;
      for (const pair of [...pairs]) {
        if (how === 'refuse') {
          reset(pair.client);
          reset(pair.upstream);
          pairs.delete(pair);
        } else {
          pair.stalled = true;
          pair.client.unpipe();
          pair.upstream?.unpipe();
          pair.client.pause();
          pair.upstream?.pause();
        }
      }
    },
    restore(stalled: 'reset' | 'resume' | 'abandon' = 'reset') {
      mode = 'open';
      if (stalled === 'abandon') return;
      for (const pair of [...pairs]) {
        if (!pair.stalled) continue;
        pair.stalled = false;
        if (stalled === 'reset') {
          reset(pair.client);
          reset(pair.upstream);
          pairs.delete(pair);
        } else if (pair.upstream) {
          pair.client.pipe(pair.upstream);
          pair.upstream.pipe(pair.client);
          pair.client.resume();
          pair.upstream.resume();
        } else {
          pair.client.resume();
          connect(pair);
        }
      }
    },
    close: () =>
      new Promise<void>((r) => {
        for (const pair of pairs) {
          pair.client.destroy();
          pair.upstream?.destroy();
        }
        pairs.clear();
        server.close(() => r());
      }),
  };
}

export type TcpProxy = Awaited<ReturnType<typeof startTcpProxy>>;
