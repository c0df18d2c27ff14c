// The hub's HTTP listener against what a hostile review found open (issue 14, findings 11 and 16): requests that
// never finish, metrics on the public listener, API docs without a Content-Security-Policy, pages without nosniff.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { apiClient, startTestHub, type TestHub } from '../support/hub.js';
import { sandboxCredentials } from '../support/netopia-v1.js';
import { launchBrowser } from '../support/browser.js';

const REQUEST_TIMEOUT_MS = 2_000;

let hub: TestHub;
before(async () => {
  hub = await startTestHub({ emulators: false, requestTimeoutMs: REQUEST_TIMEOUT_MS, metricsListener: true });
});
after(() => hub?.close());

/**
 * Opens a raw connection, sends `head`, then one byte of `drip` every 200 ms, and resolves when the hub closes
 * the connection (with what it answered and after how long), or after `giveUpMs` if it never does.
 */
function trickle(head: string, drip: string, giveUpMs: number): Promise<{ closed: boolean; ms: number; answer: string }> {
  const { port } = new URL(hub.url);
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    let i = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      clearInterval(timer);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ closed, ms: Date.now() - started, answer });
    };
    const giveUp = setTimeout(() => finish(false), giveUpMs);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (answer += chunk));
    socket.on('close', () => finish(true));
    socket.on('error', () => {});
    socket.on('connect', () => {
      socket.write(head);
      timer = setInterval(() => {
        if (!socket.destroyed) socket.write(drip[i++ % drip.length]!);
      }, 200);
    });
  });
}

describe('a client that trickles its request is cut off (INCASSO_REQUEST_TIMEOUT_MS)', () => {
  it('a body sent a byte at a time gets 408 and the connection closed after the request timeout', async () => {
    // An authenticated call, so the hub really waits for the body (an anonymous one is answered 401 at once).
    const head = `POST /v1/merchants HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer ${hub.adminKey}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n`;
    const r = await trickle(head, '{"a":1,', REQUEST_TIMEOUT_MS + 8_000);
    assert.ok(r.closed, `still open after ${r.ms} ms`);
    assert.ok(r.ms >= REQUEST_TIMEOUT_MS - 300, `closed too early (${r.ms} ms)`);
    assert.match(r.answer, /^HTTP\/1\.1 408 /);
  });

  it('headers sent a byte at a time (slowloris) are cut off too', async () => {
    const r = await trickle('GET /healthz HTTP/1.1\r\nHost: hub\r\n', 'X-Slow: aaaaaaaa\r\n', REQUEST_TIMEOUT_MS + 8_000);
    assert.ok(r.closed, `still open after ${r.ms} ms`);
    assert.match(r.answer, /^HTTP\/1\.1 408 /);
  });

  it('a keep-alive connection that waits longer than the timeout between requests is not cut off by it', async () => {
    const { port } = new URL(hub.url);
    const socket = connect(Number(port), '127.0.0.1');
    socket.setEncoding('utf8');
    let answer = '';
    socket.on('data', (chunk: string) => (answer += chunk));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const ask = async () => {
      answer = '';
      socket.write('GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n');
      const until = Date.now() + 10_000;
      while (!/\r\n\r\n\{"status":"ok"\}/.test(answer) && Date.now() < until && !socket.destroyed) await new Promise((r) => setTimeout(r, 20));
      return answer;
    };
    assert.match(await ask(), /^HTTP\/1\.1 200 /);
    await new Promise((r) => setTimeout(r, REQUEST_TIMEOUT_MS + 1_500));
    assert.ok(!socket.destroyed, 'the idle keep-alive connection was closed');
    assert.match(await ask(), /^HTTP\/1\.1 200 /);
    socket.destroy();
  });
});

describe('metrics are not on the public listener (INCASSO_METRICS_PORT)', () => {
  it('anonymous /metrics on the API listener is refused; the metrics listener serves only GET /metrics', async () => {
    const anonymous = await fetch(`${hub.url}/metrics`);
    assert.equal(anonymous.status, 404);
    assert.doesNotMatch(await anonymous.text(), /incasso_http_requests_total/);
    assert.ok(hub.metricsUrl);
    const scraped = await fetch(hub.metricsUrl);
    assert.equal(scraped.status, 200);
    assert.match(scraped.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(await scraped.text(), /incasso_http_requests_total/);
    const elsewhere = await fetch(hub.metricsUrl.replace(/\/metrics$/, '/v1/merchants'), { headers: { authorization: `Bearer ${hub.adminKey}` } });
    assert.equal(elsewhere.status, 404);
    assert.equal((await fetch(hub.metricsUrl, { method: 'POST' })).status, 404);
  });
});

describe('security headers on the hub pages', () => {
  it('every hub answer says nosniff: payment pages (found and not), the API, problems, docs, health', async () => {
    const admin = apiClient(hub.url, hub.adminKey);
    const merchant = await admin('POST', '/v1/merchants', { name: 'Nosniff SRL' });
    const m = apiClient(hub.url, merchant.body.api_key);
    assert.equal(
      (await m('POST', '/v1/connections', { code: 'netopia', provider: 'netopia-v1', environment: 'sandbox', credentials: sandboxCredentials() })).status,
      201,
    );
    const payment = await m('POST', '/v1/payments', {
      connection: 'netopia',
      order_id: 'NS-1',
      amount: 100,
      currency: 'RON',
      description: 'x',
      billing: { first_name: 'A', last_name: 'B', email: 'a@example.ro' },
    });
    assert.equal(payment.status, 201);
    const urls: Array<[string, number]> = [
      [`/pay/${payment.body.id}`, 200],
      ['/pay/pay_0000000000000000000000000', 404],
      ['/v1/merchants', 401],
      ['/v1/nothing-here', 404],
      ['/docs/', 200],
      ['/docs/static/swagger-ui.css', 200],
      ['/openapi.json', 200],
      ['/healthz', 200],
    ];
    for (const [path, status] of urls) {
      const r = await fetch(hub.url + path);
      assert.equal(r.status, status, path);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff', path);
    }
    const page = await fetch(`${hub.url}/pay/${payment.body.id}`);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
  });

  it('/docs has a Content-Security-Policy, and Swagger UI still renders under it in Chromium', async () => {
    for (const path of ['/docs/', '/docs/static/index.html', '/docs/static/swagger-initializer.js']) {
      const csp = (await fetch(hub.url + path)).headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'none'/, path);
      assert.match(csp, /script-src 'self'(;|$)/, path);
      assert.match(csp, /frame-ancestors 'none'/, path);
    }
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const violations: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
      });
      await page.goto(`${hub.url}/docs/`);
      await page.waitForSelector('.swagger-ui .info .title', { timeout: 30_000 });
      assert.match((await page.textContent('.swagger-ui .info .title')) ?? '', /incasso/);
      // The operations are listed (the OpenAPI document was fetched and rendered), and one opens.
      await page.waitForSelector('.opblock-summary-path[data-path="/v1/payments"]', { timeout: 30_000 });
      await page.click('.opblock-summary-path[data-path="/v1/payments"]');
      await page.waitForSelector('.opblock.is-open', { timeout: 10_000 });
      assert.deepEqual(violations, []);
    } finally {
      await browser.close();
    }
  });
});
