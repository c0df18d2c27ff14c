import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { nonPublicReason, Outbound, OutboundRefusedError, parseOutboundAllow, printableExcerpt, type ResolvedAddress } from '../../src/security/outbound.js';
import { apiClient, eventually, startTestHub, type TestHub } from '../support/hub.js';
import { loginCookie, makeUser } from '../support/console.js';
import { sandboxCredentials } from '../support/netopia-v1.js';

/**
 * Issue 14, findings 1 (SSRF) and 6 (answers read whole): every outbound URL a merchant chooses (webhook
 * endpoints, a payment step's callback_url, a connection's settings.endpoint) reaches public addresses only,
 * checked on the address actually connected to, and no answer is read past a small cap.
 */

/** A TCP listener that counts connections (and answers any request with 200), to prove "never connected". */
async function countingListener(host: string, port = 0): Promise<{ server: TcpServer; port: number; readonly connections: number; close(): Promise<void> }> {
  let connections = 0;
  const server = createTcpServer((socket) => {
    connections += 1;
    socket.on('error', () => {});
    socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok'));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    port: (server.address() as { port: number }).port,
    get connections() {
      return connections;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * An HTTP receiver that answers 200 and then streams `total` bytes (or until the client goes away), counting
 * what it managed to write: the bytes the hub could have read.
 */
async function streamingReceiver(options: { total: number; chunk?: Buffer; contentLength?: boolean }) {
  const chunk = options.chunk ?? Buffer.alloc(1024 * 1024, 'x');
  const state = { written: 0, requests: 0, closed: 0 };
  const server: HttpServer = createHttpServer((req, res) => {
    state.requests += 1;
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', ...(options.contentLength ? { 'content-length': String(options.total) } : {}) });
    const pump = () => {
      while (state.written < options.total) {
        const n = Math.min(chunk.length, options.total - state.written);
        state.written += n;
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void res.once('drain', pump);
      }
      res.end();
    };
    res.on('close', () => (state.closed += 1));
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { state, url: `http://127.0.0.1:${port}/hooks`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const MiB = 1024 * 1024;
/** What one loopback connection can hold in kernel buffers is a few MiB; anything far below the stream is "bounded". */
const BOUNDED = 32 * MiB;

const refused = (e: unknown) => e instanceof OutboundRefusedError;

describe('outbound URLs: every spelling of an internal address is refused and never connected to', () => {
  let v4: Awaited<ReturnType<typeof countingListener>>;
  let v6: Awaited<ReturnType<typeof countingListener>> | undefined;
  before(async () => {
    v4 = await countingListener('127.0.0.1');
    // The same port on ::1, when the host has IPv6 loopback, so [::1] would have somewhere to land.
    v6 = await countingListener('::1', v4.port).catch(() => undefined);
  });
  after(async () => {
    await v4?.close();
    await v6?.close();
  });

  it('the listener does count: an address the operator allowed is connected to', async () => {
    const allowed = new Outbound({ allow: parseOutboundAllow('127.0.0.1') });
    const answer = await allowed.request(`http://127.0.0.1:${v4.port}/`, { method: 'GET', timeoutMs: 5000, maxBytes: 1024 });
    assert.equal(answer.status, 200);
    assert.equal(v4.connections, 1);
  });

  it('refuses loopback, private, link-local, CGNAT, unique-local, multicast and reserved addresses in every spelling', async () => {
    const before = v4.connections + (v6?.connections ?? 0);
    const p = v4.port;
    const forms = [
      `http://127.0.0.1:${p}/`,
      `http://2130706433:${p}/`, // decimal
      `http://0x7f000001:${p}/`, // hex
      `http://0x7f.0x0.0x0.0x1:${p}/`,
      `http://0177.0.0.1:${p}/`, // octal
      `http://0177.0000.0000.0001:${p}/`,
      `http://127.1:${p}/`, // short forms
      `http://127.0.1:${p}/`,
      `http://127.0.0.1.:${p}/`, // trailing dot
      `http://127.127.127.127:${p}/`,
      `http://[::1]:${p}/`,
      `http://[0:0:0:0:0:0:0:1]:${p}/`,
      `http://[::ffff:127.0.0.1]:${p}/`, // IPv4-mapped
      `http://[::ffff:7f00:1]:${p}/`,
      `http://[0:0:0:0:0:ffff:127.0.0.1]:${p}/`,
      `http://[::127.0.0.1]:${p}/`, // IPv4-compatible
      `http://[64:ff9b::127.0.0.1]:${p}/`, // NAT64
      `http://[64:ff9b::7f00:1]:${p}/`,
      `http://[2002:7f00:1::]:${p}/`, // 6to4
      `http://0.0.0.0:${p}/`,
      `http://0:${p}/`,
      `http://[::]:${p}/`,
      `http://localhost:${p}/`,
      `http://LOCALHOST.:${p}/`,
      `https://127.0.0.1:${p}/`,
      'http://169.254.169.254/latest/meta-data/',
      'http://[::ffff:169.254.169.254]/latest/meta-data/',
      'http://[fd00:ec2::254]/latest/meta-data/',
      'http://10.0.0.1/',
      'http://172.16.0.1/',
      'http://172.31.255.254/',
      'http://192.168.1.1/',
      'http://100.64.0.1/',
      'http://[fc00::1]/',
      'http://[fd12:3456::1]/',
      'http://[fe80::1]/',
      'http://[ff02::1]/',
      'http://224.0.0.1/',
      'http://255.255.255.255/',
      'http://240.0.0.1/',
      'http://198.18.0.1/',
      'http://[::ffff:10.0.0.1]/',
      'http://[64:ff9b::a00:1]/',
    ];
    const outbound = new Outbound();
    for (const url of forms) {
      await assert.rejects(outbound.request(url, { method: 'POST', body: '{}', timeoutMs: 5000, maxBytes: 1024 }), refused, url);
    }
    assert.equal(v4.connections + (v6?.connections ?? 0), before, 'no connection reached the loopback listeners');
  });

  it('refuses a DNS name that resolves to loopback (or has any internal address among its answers)', async () => {
    const before = v4.connections;
    const answers: Record<string, ResolvedAddress[]> = {
      'loopback.example': [{ address: '127.0.0.1', family: 4 }],
      'mixed.example': [
        { address: '93.184.215.14', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ],
      'mapped.example': [{ address: '::ffff:127.0.0.1', family: 6 }],
      'metadata.example': [{ address: '169.254.169.254', family: 4 }],
    };
    const outbound = new Outbound({ resolver: async (name) => answers[name] ?? [] });
    for (const name of Object.keys(answers)) {
      await assert.rejects(outbound.request(`http://${name}:${v4.port}/`, { method: 'GET', timeoutMs: 5000, maxBytes: 1024 }), refused, name);
    }
    // And the system's own resolver: localhost, spelled as a name the creation check does not know.
    await assert.rejects(new Outbound().request(`http://localhost:${v4.port}/`, { method: 'GET', timeoutMs: 5000, maxBytes: 1024 }), refused);
    assert.equal(v4.connections, before);
  });

  it('pins the checked address: an answer that changes between check and connect cannot reach loopback', async () => {
    // 127.0.0.2 plays a public receiver (the operator allows exactly it); 127.0.0.1 is the internal target.
    const publicSide = await countingListener('127.0.0.2').catch(() => undefined);
    if (!publicSide) return; // no 127.0.0.0/8 beyond 127.0.0.1 on this host
    const internal = await countingListener('127.0.0.1', publicSide.port).catch(() => undefined);
    try {
      assert.ok(internal, 'the internal listener takes the same port');
      let lookups = 0;
      // The attacker's DNS: a public answer for the check, loopback for any lookup after it (TTL 0).
      const resolver = async (): Promise<ResolvedAddress[]> =>
        lookups++ === 0 ? [{ address: '127.0.0.2', family: 4 }] : [{ address: '127.0.0.1', family: 4 }];
      const outbound = new Outbound({ allow: parseOutboundAllow('127.0.0.2/32'), resolver });
      const answer = await outbound.request(`http://rebind.example:${publicSide.port}/`, { method: 'POST', body: '{}', timeoutMs: 5000, maxBytes: 1024 });
      assert.equal(answer.status, 200);
      assert.equal(lookups, 1, 'one lookup per connection: the address checked is the address connected to');
      assert.equal(publicSide.connections, 1);
      // The next connection gets the loopback answer, and refuses it.
      await assert.rejects(
        outbound.request(`http://rebind.example:${publicSide.port}/`, { method: 'POST', body: '{}', timeoutMs: 5000, maxBytes: 1024 }),
        refused,
      );
      assert.equal(internal!.connections, 0, 'the internal listener was never connected to');
    } finally {
      await publicSide.close();
      await internal?.close();
    }
  });

  it('does not follow redirects', async () => {
    const target = await countingListener('127.0.0.1');
    const redirecting = createHttpServer((_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${target.port}/` }).end());
    await new Promise<void>((r) => redirecting.listen(0, '127.0.0.1', r));
    try {
      const outbound = new Outbound({ allow: parseOutboundAllow('127.0.0.1') });
      const answer = await outbound.request(`http://127.0.0.1:${(redirecting.address() as { port: number }).port}/`, {
        method: 'POST',
        body: '{}',
        timeoutMs: 5000,
        maxBytes: 1024,
      });
      assert.equal(answer.status, 302);
      assert.equal(target.connections, 0);
    } finally {
      await target.close();
      await new Promise((r) => redirecting.close(r));
    }
  });

  it('classifies public addresses as public (the guard is not "refuse everything")', () => {
    for (const a of ['93.184.215.14', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'])
      assert.equal(nonPublicReason(a), null, a);
  });

  it('reads at most maxBytes of an answer that streams without end, whatever its headers say, and closes the connection', async () => {
    for (const contentLength of [false, true]) {
      const receiver = await streamingReceiver({ total: 512 * MiB, contentLength });
      try {
        const outbound = new Outbound({ allow: parseOutboundAllow('127.0.0.1') });
        const answer = await outbound.request(receiver.url, { method: 'POST', body: '{}', timeoutMs: 10_000, maxBytes: 4096 });
        assert.equal(answer.status, 200);
        assert.equal(answer.body.length, 4096);
        assert.equal(answer.truncated, true);
        await eventually(() => receiver.state.closed === 1, 10_000, 'the receiver sees the connection closed');
        assert.ok(receiver.state.written < BOUNDED, `the receiver wrote ${receiver.state.written} bytes before the hub hung up`);
      } finally {
        await receiver.close();
      }
    }
  });

  it('keeps a short printable excerpt of an answer', () => {
    assert.equal(printableExcerpt(Buffer.from('ok\u0000\u0007\u001b[31m\r\n  done\u202e')), 'ok[31m done');
    assert.equal(printableExcerpt('é'.repeat(1000)).length, 256);
  });

  it('reads INCASSO_OUTBOUND_ALLOW: hosts, *.domains, addresses and CIDRs; anything else stops the start', () => {
    const allow = parseOutboundAllow(' hooks.internal, *.corp.example ,10.0.0.0/8, fd00::/8, 127.0.0.1 ');
    const outbound = new Outbound({ allow });
    assert.ok(outbound.hostAllowedByName('HOOKS.internal'));
    assert.ok(outbound.hostAllowedByName('erp.corp.example'));
    assert.ok(!outbound.hostAllowedByName('corp.example.evil'));
    assert.equal(outbound.refusal('10.1.2.3'), null);
    assert.equal(outbound.refusal('::ffff:10.1.2.3'), null);
    assert.equal(outbound.refusal('fd00::5'), null);
    assert.match(outbound.refusal('192.168.0.1') ?? '', /private/);
    assert.match(outbound.refusal('127.0.0.2') ?? '', /loopback/);
    for (const bad of ['10.0.0.0/33', 'http://x.example', 'a b', '10.0.0.0/x']) assert.throws(() => parseOutboundAllow(bad), /INCASSO_OUTBOUND_ALLOW/, bad);
  });
});

describe('outbound URLs through the hub (guard on, nothing allowed; emulators on)', () => {
  let hub: TestHub;
  let api: ReturnType<typeof apiClient>;
  let merchantId = '';
  let loop: Awaited<ReturnType<typeof countingListener>>;
  before(async () => {
    loop = await countingListener('127.0.0.1');
    hub = await startTestHub({ webhookRetryScale: 0.00005 });
    const merchant = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: 'SSRF SRL' });
    api = apiClient(hub.url, merchant.body.api_key);
    merchantId = merchant.body.id;
    assert.equal(
      (await api('POST', '/v1/connections', { code: 'netopia', provider: 'netopia-v1', environment: 'sandbox', credentials: sandboxCredentials() })).status,
      201,
    );
  });
  after(async () => {
    await hub?.close();
    await loop?.close();
  });

  it('refuses an obviously internal webhook URL, callback_url or settings.endpoint with a field error', async () => {
    for (const url of [
      `http://127.0.0.1:${loop.port}/`,
      'http://0x7f000001/',
      'http://2130706433/',
      'http://0177.0.0.1/',
      'http://127.1/',
      'http://[::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://localhost:5432/',
      'http://169.254.169.254/latest/meta-data/',
      'http://10.0.0.1/',
      `${hub.url}/v1/payments`,
    ]) {
      const r = await api('POST', '/v1/webhook-endpoints', { url });
      assert.equal(r.status, 422, url);
      assert.deepEqual(
        r.body.errors.map((e: { field: string }) => e.field),
        ['url'],
        url,
      );
    }
    const ok = await api('POST', '/v1/webhook-endpoints', { url: 'https://hooks.example/in' });
    assert.equal(ok.status, 201);
    const patched = await api('PATCH', `/v1/webhook-endpoints/${ok.body.id}`, { url: 'http://[::ffff:7f00:1]:5432/' });
    assert.equal(patched.status, 422);
    await api('PATCH', `/v1/webhook-endpoints/${ok.body.id}`, { status: 'disabled' });

    const step = await api('POST', '/v1/payment-steps', {
      conversation_id: 'conv-ssrf',
      connection: 'netopia',
      callback_url: 'http://0x7f.1:8080/cb',
      Payment: { Amount: '10.00', Currency: 'RON', FirstName: 'Ana', LastName: 'Pop', Email: 'ana@example.ro' },
    });
    assert.equal(step.status, 422, JSON.stringify(step.body));
    assert.ok(
      step.body.errors.some((e: { field: string }) => e.field === 'callback_url'),
      JSON.stringify(step.body),
    );

    for (const endpoint of [`http://127.0.0.1:${loop.port}`, 'https://attacker.example', 'http://secure.mobilpay.ro', 'https://169.254.169.254']) {
      const c = await api('POST', '/v1/connections', {
        code: `ep-${Math.random().toString(36).slice(2, 8)}`,
        provider: 'netopia-v1',
        environment: 'sandbox',
        credentials: sandboxCredentials(),
        settings: { endpoint },
      });
      assert.equal(c.status, 422, endpoint);
      assert.deepEqual(
        c.body.errors.map((e: { field: string }) => e.field),
        ['settings.endpoint'],
        endpoint,
      );
    }
    const known = await api('POST', '/v1/connections', {
      code: 'known-host',
      provider: 'netopia-v1',
      environment: 'sandbox',
      credentials: sandboxCredentials(),
      settings: { endpoint: 'https://secure.mobilpay.ro' },
    });
    assert.equal(known.status, 201, JSON.stringify(known.body));
    const emulator = await api('POST', '/v1/connections', {
      code: 'emulated',
      provider: 'netopia-v1',
      environment: 'sandbox',
      credentials: sandboxCredentials(),
      settings: { endpoint: `${hub.url}/sandbox/netopia/v1` },
    });
    assert.equal(emulator.status, 201, JSON.stringify(emulator.body));
    const moved = await api('PATCH', '/v1/connections/known-host', { settings: { endpoint: 'https://mobilpay.attacker.example' } });
    assert.equal(moved.status, 422);
    assert.equal(loop.connections, 0);
  });

  it('never connects to a webhook URL whose name resolves to loopback; the delivery fails at once, not retried, its reason in the log', async () => {
    // The hub's resolver for this test: one name that points at the loopback listener.
    const original = hub.ctx.outbound;
    hub.ctx.outbound = new Outbound({
      trustedPrefixes: [`${hub.url}/sandbox/`],
      resolver: async (name) => (name === 'hooks.rebind.example' ? [{ address: '127.0.0.1', family: 4 }] : []),
    });
    try {
      const we = await api('POST', '/v1/webhook-endpoints', { url: `http://hooks.rebind.example:${loop.port}/hooks`, events: ['payment.created'] });
      assert.equal(we.status, 201, 'a name passes the creation check: the connect-time check is the one that counts');
      const p = await api('POST', '/v1/payments', {
        connection: 'netopia',
        order_id: 'SSRF-DNS',
        amount: 100,
        currency: 'RON',
        description: 'x',
        billing: { first_name: 'A', last_name: 'B', email: 'a@b.ro' },
      });
      assert.equal(p.status, 201);
      const delivery = await eventually(
        async () => {
          const log = await api('GET', `/v1/webhook-endpoints/${we.body.id}/deliveries`);
          return log.body.data.find((d: { attempts: number }) => d.attempts >= 1);
        },
        10_000,
        'an attempt',
      );
      // A refusal by the guard is permanent: failed at its first attempt, nothing scheduled (the retry schedule here is
      // shortened to milliseconds, so a retried delivery would be at its second or third attempt by now).
      assert.equal(delivery.status, 'failed');
      assert.equal(delivery.attempts, 1);
      assert.equal(delivery.next_attempt_at, null);
      assert.match(delivery.last_error, /^not retried: refused: hooks\.rebind\.example resolves to an address that is not public \(loopback/);
      assert.equal(delivery.last_status_code, null);
      await new Promise((r) => setTimeout(r, 1500));
      const later = await api('GET', `/v1/webhook-deliveries/${delivery.id}`);
      assert.equal(later.body.status, 'failed');
      assert.equal(later.body.attempt_log.length, 1, 'no retry followed');
      assert.match(later.body.attempt_log[0].error, /^not retried: refused: hooks\.rebind\.example resolves/);
      // The console's delivery log and the delivery's page say why.
      const user = await makeUser(hub.url, hub.adminKey, `ssrf-${Date.now()}@shop.ro`, 'admin', merchantId);
      const cookie = await loginCookie(hub.url, user.email);
      const logPage = await (await fetch(`${hub.url}/console/webhooks/deliveries`, { headers: { cookie } })).text();
      assert.match(logPage, /failed<\/td><td class="num">1<\/td><td>not retried: refused: hooks\.rebind\.example resolves/);
      const deliveryPage = await fetch(`${hub.url}/console/webhooks/deliveries/${delivery.id}`, { headers: { cookie } });
      assert.equal(deliveryPage.status, 200);
      assert.match(await deliveryPage.text(), /not retried: refused: hooks\.rebind\.example resolves to an address that is not public/);
      await api('PATCH', `/v1/webhook-endpoints/${we.body.id}`, { status: 'disabled' });
    } finally {
      hub.ctx.outbound = original;
    }
    assert.equal(loop.connections, 0);
  });

  it('a settings.endpoint stored before the rule (not a processor host) is never called with the credentials', async () => {
    const c = await api('POST', '/v1/connections', {
      code: 'v2-old',
      provider: 'netopia-v2',
      environment: 'sandbox',
      credentials: { api_key: 'test-api-key-0123456789', pos_signature: 'AAAA-BBBB-CCCC-DDDD-EEEE' },
    });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    // As a row written by an earlier version would hold it (a public host that is not NETOPIA's).
    await hub.store.db
      .updateTable('connections')
      .set({ settings: JSON.stringify({ endpoint: 'https://netopia.attacker.example' }), updated_at: new Date(Date.now() + 1000) })
      .where('id', '=', c.body.id)
      .execute();
    const original = hub.ctx.outbound;
    let lookups = 0;
    hub.ctx.outbound = new Outbound({
      trustedPrefixes: [`${hub.url}/sandbox/`],
      resolver: async (name) => (name.includes('attacker') && lookups++, [{ address: '93.184.215.14', family: 4 }]),
    });
    try {
      const p = await api('POST', '/v1/payments', {
        connection: 'v2-old',
        order_id: 'OLD-EP',
        amount: 1000,
        currency: 'RON',
        description: 'x',
        billing: { first_name: 'Ana', last_name: 'Pop', email: 'ana@example.ro', city: 'Cluj' },
      });
      assert.equal(p.status, 201, JSON.stringify(p.body));
      const page = await fetch(p.body.payment_url);
      assert.equal(page.status, 503, 'the payer is asked to try again');
      await page.text();
      assert.equal(lookups, 0, 'the attacker host was not even resolved');
      assert.ok(hub.logs.some((l) => String(l.msg).includes("processor call refused: the endpoint is not one of the processor's hosts")));
    } finally {
      hub.ctx.outbound = original;
    }
  });

  it("delivers to the built-in webhook inbox on the hub's own URL (emulators on)", async () => {
    const we = await api('POST', '/v1/webhook-endpoints', { url: `${hub.url}/sandbox/inbox/ssrf-${Date.now()}`, events: ['payment.created'] });
    assert.equal(we.status, 201);
    await api('POST', '/v1/payments', {
      connection: 'netopia',
      order_id: 'SSRF-INBOX',
      amount: 100,
      currency: 'RON',
      description: 'x',
      billing: { first_name: 'A', last_name: 'B', email: 'a@b.ro' },
    });
    await eventually(
      async () => {
        const log = await api('GET', `/v1/webhook-endpoints/${we.body.id}/deliveries`);
        return log.body.data.find((d: { status: string }) => d.status === 'succeeded');
      },
      10_000,
      'the inbox delivery',
    );
    await api('PATCH', `/v1/webhook-endpoints/${we.body.id}`, { status: 'disabled' });
  });
});

describe('outbound URLs through the hub with INCASSO_OUTBOUND_ALLOW=127.0.0.1', () => {
  let hub: TestHub;
  let api: ReturnType<typeof apiClient>;
  before(async () => {
    hub = await startTestHub({ emulators: false, webhookRetryScale: 0.00005, outboundAllow: '127.0.0.1' });
    const merchant = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: 'Internal SRL' });
    api = apiClient(hub.url, merchant.body.api_key);
    await api('POST', '/v1/connections', { code: 'netopia', provider: 'netopia-v1', environment: 'sandbox', credentials: sandboxCredentials() });
  });
  after(() => hub?.close());

  const deliveryOf = async (endpointId: string) =>
    eventually(
      async () => {
        const log = await api('GET', `/v1/webhook-endpoints/${endpointId}/deliveries`);
        const row = log.body.data[0];
        return row && row.attempts >= 1 ? row : undefined;
      },
      15_000,
      'a delivery attempt',
    );

  it('delivers to an allowed internal receiver; a receiver streaming a huge answer is not read past 4 KiB, and succeeds from its status line', async () => {
    const receiver = await streamingReceiver({ total: 512 * MiB, contentLength: true });
    try {
      const we = await api('POST', '/v1/webhook-endpoints', { url: receiver.url, events: ['payment.created'] });
      assert.equal(we.status, 201, JSON.stringify(we.body));
      await api('POST', '/v1/payments', {
        connection: 'netopia',
        order_id: 'HUGE-1',
        amount: 100,
        currency: 'RON',
        description: 'x',
        billing: { first_name: 'A', last_name: 'B', email: 'a@b.ro' },
      });
      const delivery = await deliveryOf(we.body.id);
      assert.equal(delivery.status, 'succeeded');
      assert.equal(delivery.last_error, null);
      assert.equal(delivery.last_status_code, 200);
      await eventually(() => receiver.state.closed >= 1, 10_000, 'the receiver sees the connection closed');
      assert.equal(receiver.state.requests, 1);
      assert.ok(receiver.state.written < BOUNDED, `the receiver wrote ${receiver.state.written} bytes before the hub hung up`);
      const detail = await api('GET', `/v1/webhook-deliveries/${delivery.id}`);
      const [attempt] = detail.body.attempt_log;
      assert.equal(attempt.status_code, 200);
      assert.equal(attempt.error, null);
      assert.equal(attempt.response_body, 'x'.repeat(256));
      await api('PATCH', `/v1/webhook-endpoints/${we.body.id}`, { status: 'disabled' });
    } finally {
      await receiver.close();
    }
  });

  it('keeps only a short printable excerpt (no control characters, no NUL the database would refuse)', async () => {
    const receiver = await streamingReceiver({ total: 64 * 1024, chunk: Buffer.from('<h1>\u0000internal\u001b[0m secret\r\n</h1>'.repeat(2000)) });
    try {
      const we = await api('POST', '/v1/webhook-endpoints', { url: receiver.url, events: ['payment.created'] });
      await api('POST', '/v1/payments', {
        connection: 'netopia',
        order_id: 'EXCERPT-1',
        amount: 100,
        currency: 'RON',
        description: 'x',
        billing: { first_name: 'A', last_name: 'B', email: 'a@b.ro' },
      });
      const delivery = await deliveryOf(we.body.id);
      assert.equal(delivery.status, 'succeeded');
      const detail = await api('GET', `/v1/webhook-deliveries/${delivery.id}`);
      const body: string = detail.body.attempt_log[0].response_body;
      assert.ok(body.length <= 256, `${body.length} characters`);
      assert.ok(body.startsWith('<h1>internal[0m secret </h1>'), body);
      assert.doesNotMatch(body, /[\u0000-\u001f\u007f]/);
      await api('PATCH', `/v1/webhook-endpoints/${we.body.id}`, { status: 'disabled' });
    } finally {
      await receiver.close();
    }
  });

  it('a 2xx whose body breaks off is a success without an error; a non-2xx is a failure with its status', async () => {
    let n = 0;
    const server = createTcpServer((socket) => {
      socket.on('error', () => {});
      socket.once('data', () => {
        n += 1;
        if (n === 1) {
          // 200 with a promised body that never comes: the connection is reset after a few bytes.
          socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\npartial');
          setTimeout(() => socket.resetAndDestroy(), 50);
        } else socket.end('HTTP/1.1 500 Internal Server Error\r\ncontent-length: 4\r\nconnection: close\r\n\r\nnope');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks`;
      const we = await api('POST', '/v1/webhook-endpoints', { url, events: ['payment.created'] });
      await api('POST', '/v1/payments', {
        connection: 'netopia',
        order_id: 'BROKEN-1',
        amount: 100,
        currency: 'RON',
        description: 'x',
        billing: { first_name: 'A', last_name: 'B', email: 'a@b.ro' },
      });
      const delivery = await deliveryOf(we.body.id);
      assert.equal(delivery.status, 'succeeded');
      assert.equal(delivery.last_error, null);
      const detail = await api('GET', `/v1/webhook-deliveries/${delivery.id}`);
      assert.deepEqual(
        detail.body.attempt_log.map((a: { status_code: number; error: string | null }) => [a.status_code, a.error]),
        [[200, null]],
      );
      const redo = await api('POST', `/v1/webhook-deliveries/${delivery.id}/redeliver`);
      assert.equal(redo.status, 202);
      const failed = await eventually(
        async () => {
          const d = await api('GET', `/v1/webhook-deliveries/${delivery.id}`);
          return d.body.attempt_log.length >= 2 ? d.body : undefined;
        },
        10_000,
        'the redelivery',
      );
      assert.deepEqual([failed.attempt_log[1].status_code, failed.attempt_log[1].error, failed.attempt_log[1].response_body], [500, 'HTTP 500', 'nope']);
      await api('PATCH', `/v1/webhook-endpoints/${we.body.id}`, { status: 'disabled' });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('a processor answer past 1 MiB is not read: the start may have been carried out, so the payer is told it is being checked', async () => {
    const receiver = await streamingReceiver({ total: 512 * MiB });
    try {
      const base = receiver.url.replace(/\/hooks$/, '');
      const c = await api('POST', '/v1/connections', {
        code: 'v2-huge',
        provider: 'netopia-v2',
        environment: 'sandbox',
        credentials: { api_key: 'test-api-key-0123456789', pos_signature: 'AAAA-BBBB-CCCC-DDDD-EEEE' },
        settings: { endpoint: base },
      });
      assert.equal(c.status, 201, JSON.stringify(c.body));
      const p = await api('POST', '/v1/payments', {
        connection: 'v2-huge',
        order_id: 'HUGE-PROC',
        amount: 1000,
        currency: 'RON',
        description: 'x',
        billing: { first_name: 'Ana', last_name: 'Pop', email: 'ana@example.ro', city: 'Cluj' },
      });
      assert.equal(p.status, 201, JSON.stringify(p.body));
      const page = await fetch(p.body.payment_url);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /Please do not pay again/);
      assert.deepEqual(
        (await api('GET', `/v1/payments/${p.body.id}`)).body.attempts.map((a: { status: string }) => a.status),
        ['unknown'],
      );
      await eventually(() => receiver.state.closed >= 1, 10_000, 'the processor double sees the connection closed');
      assert.ok(receiver.state.written < MiB + BOUNDED, `the double wrote ${receiver.state.written} bytes`);
    } finally {
      await receiver.close();
    }
  });
});
