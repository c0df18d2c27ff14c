import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { chooseLogFormat, createLogger, prettyLogLine } from '../../src/observability/logger.js';
import { startTestHub, type TestHub } from '../support/hub.js';

/** A stream that keeps what is written to it, and says it is (or is not) a terminal. */
function capture(isTTY: boolean) {
  const lines: string[] = [];
  const stream = Object.assign(
    new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    }),
    { isTTY },
  );
  return { stream, lines };
}

const NO_FORMAT_ASKED = {} as NodeJS.ProcessEnv;

describe('log format', () => {
  it('is readable lines only on a TTY, JSON otherwise; INCASSO_LOG_FORMAT overrides', () => {
    assert.equal(chooseLogFormat({ isTTY: true }, NO_FORMAT_ASKED), 'pretty');
    assert.equal(chooseLogFormat({ isTTY: false }, NO_FORMAT_ASKED), 'json');
    assert.equal(chooseLogFormat({}, NO_FORMAT_ASKED), 'json');
    assert.equal(chooseLogFormat({ isTTY: true }, { INCASSO_LOG_FORMAT: 'json' }), 'json');
    assert.equal(chooseLogFormat({ isTTY: false }, { INCASSO_LOG_FORMAT: 'pretty' }), 'pretty');
  });

  it('writes JSON to a pipe and a readable, still redacted line to a terminal', (t) => {
    const saved = process.env.INCASSO_LOG_FORMAT;
    delete process.env.INCASSO_LOG_FORMAT;
    t.after(() => {
      if (saved !== undefined) process.env.INCASSO_LOG_FORMAT = saved;
    });
    const pipe = capture(false);
    createLogger('info', pipe.stream).info({ connection: 'netopia', password: 'hunter2-hunter2' }, 'connection opened');
    assert.equal(pipe.lines.length, 1);
    const json = JSON.parse(pipe.lines[0]!) as Record<string, unknown>;
    assert.equal(json.msg, 'connection opened');
    assert.equal(json.password, '[redacted]');

    const tty = capture(true);
    createLogger('info', tty.stream).info({ connection: 'netopia', password: 'hunter2-hunter2' }, 'connection opened');
    assert.equal(tty.lines.length, 1);
    const line = tty.lines[0]!;
    assert.throws(() => JSON.parse(line));
    assert.match(line, /^\d\d:\d\d:\d\d\.\d{3} .*INFO.* connection opened connection=netopia password="?\[redacted\]"?$/);
    assert.ok(!line.includes('hunter2'), line);
  });

  it('shows a request as method, path, status and time, and an error with its stack', () => {
    const request = JSON.stringify({
      level: 30,
      time: Date.UTC(2026, 0, 2, 3, 4, 5, 6),
      pid: 1,
      hostname: 'h',
      service: 'incasso',
      reqId: 'req-1',
      req: { method: 'GET', url: '/v1/payments' },
      res: { statusCode: 200 },
      responseTime: 4.2,
      msg: 'request completed',
    });
    assert.equal(prettyLogLine(request), '03:04:05.006 INFO  GET /v1/payments 200 4.2ms reqId=req-1\n');
    const failed = prettyLogLine(
      JSON.stringify({ level: 50, time: 0, msg: 'janitor failed', err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at x' } }),
    );
    assert.equal(failed, '00:00:00.000 ERROR janitor failed\n    Error: boom\n        at x\n');
    assert.equal(prettyLogLine('not json'), 'not json\n');
  });
});

describe('request log at info', () => {
  let hub: TestHub;
  before(async () => {
    hub = await startTestHub({ logLevel: 'info' });
  });
  after(async () => {
    await hub?.close();
  });

  it('writes one line per request, with its method, path (no query), status and time', async () => {
    const before = hub.logs.length;
    const answer = await fetch(`${hub.url}/healthz?probe=secret-in-query`);
    assert.equal(answer.status, 200);
    await answer.text();
    const missing = await fetch(`${hub.url}/no-such-page`);
    assert.equal(missing.status, 404);
    await missing.text();
    // The line is written when the answer has been sent: give it a moment.
    await new Promise((r) => setTimeout(r, 100));
    // Every line a request wrote carries its reqId: one each.
    const lines = hub.logs.slice(before).filter((l) => l.reqId !== undefined);
    const urls = lines.map((l) => (l.req as { url?: string } | undefined)?.url);
    assert.deepEqual(urls, ['/healthz', '/no-such-page'], JSON.stringify(lines));
    assert.deepEqual(
      lines.map((l) => [l.msg, (l.res as { statusCode?: number } | undefined)?.statusCode, typeof l.responseTime]),
      [
        ['request completed', 200, 'number'],
        ['request completed', 404, 'number'],
      ],
    );
    assert.ok(!hub.rawLogs.some((l) => l.includes('secret-in-query')));
  });
});
