// The incasso command on commander (issue 15): help per command, unknown options refused with a suggestion,
// every missing required option named at once, a closed pipe ends quietly, the list filters and pagination
// reach the API, events, shell completion, and `listen` receiving real deliveries from a hub.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { apiClient, eventually, startTestHub, type TestHub } from '../support/hub.js';

const BIN = fileURLToPath(new URL('../../bin/incasso.js', import.meta.url));
const baseEnv = () => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' });

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...baseEnv(), ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

let hub: TestHub;
let env: Record<string, string>;
let api: ReturnType<typeof apiClient>;
const children: ChildProcess[] = [];
const servers: Server[] = [];

const payment = (connection: string, orderId: string) => ({
  connection,
  order_id: orderId,
  amount: 1500,
  currency: 'RON',
  description: 'Ceai',
  billing: { first_name: 'Ana', last_name: 'Pop', email: 'ana@example.ro' },
});

before(async () => {
  // 127.0.0.1 allowed: `listen --via direct` registers a loopback listener (the default `inbox` needs nothing).
  hub = await startTestHub({ outboundAllow: '127.0.0.1' });
  const merchant = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: 'CLI commands' });
  env = { INCASSO_URL: hub.url, INCASSO_API_KEY: merchant.body.api_key };
  api = apiClient(hub.url, merchant.body.api_key);
  for (const code of ['shop', 'app']) {
    const c = await api('POST', '/v1/connections', { code, provider: 'netopia-v1', environment: 'emulator' });
    assert.equal(c.status, 201, JSON.stringify(c.body));
  }
  for (const [conn, order] of [
    ['shop', 'A-1'],
    ['shop', 'A-2'],
    ['app', 'B-1'],
    ['shop', 'A-3'],
    ['app', 'B-2'],
  ]) {
    const p = await api('POST', '/v1/payments', payment(conn!, order!));
    assert.equal(p.status, 201, JSON.stringify(p.body));
  }
});
after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const s of servers) s.close();
  await hub?.close();
});

describe('help, unknown options, missing options', () => {
  it('prints help per command and per subcommand', async () => {
    const group = await cli(['payments', '--help']);
    assert.equal(group.code, 0);
    assert.match(group.stdout, /Usage: incasso payments/);
    for (const sub of ['create', 'list', 'get', 'cancel']) assert.match(group.stdout, new RegExp(`^\\s+${sub}\\b`, 'm'));
    assert.doesNotMatch(group.stdout, /connections|--order-id/);
    const create = await cli(['payments', 'create', '--help']);
    assert.equal(create.code, 0);
    assert.match(create.stdout, /Usage: incasso payments create/);
    assert.match(create.stdout, /--order-id <id>\s+your order's reference \(required\)/);
    for (const flag of [
      '--city',
      '--country',
      '--phone',
      '--expires-at',
      '--metadata',
      '--language',
      '--cancel-url',
      '--return-url',
      '--shipping-city',
      '--idempotency-key',
    ])
      assert.match(create.stdout, new RegExp(`${flag} <`));
    assert.doesNotMatch(create.stdout, /--forward-to|webhooks/);
    const list = await cli(['help', 'payments', 'list']);
    assert.match(list.stdout, /--created-gte <date>[\s\S]*--starting-after <id>[\s\S]*--all/);
  });

  it('refuses an unknown option with a suggestion, exit 2, and calls nothing', async () => {
    const typo = await cli(['payments', 'create', '--amout', '5'], env);
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /unknown option '--amout'\s*\(Did you mean --amount\?\)/);
    assert.equal(typo.stdout, '');
    const listTypo = await cli(['payments', 'list', '--stauts', 'paid'], env);
    assert.equal(listTypo.code, 2);
    assert.match(listTypo.stderr, /unknown option '--stauts'\s*\(Did you mean --status\?\)/);
    assert.equal(listTypo.stdout, '');
    const command = await cli(['paymnets', 'list'], env);
    assert.equal(command.code, 2);
    assert.match(command.stderr, /unknown command 'paymnets'\s*\(Did you mean payments\?\)/);
  });

  it('names every missing required option at once', async () => {
    const r = await cli(['payments', 'create', '--connection', 'shop', '--email', 'a@b.ro'], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--order-id, --amount, --description, --first-name and --last-name are required/);
    assert.equal(r.stdout, '');
    const conn = await cli(['connections', 'create'], env);
    assert.match(conn.stderr, /--code, --provider and --environment are required/);
  });
});

describe('payments', () => {
  it('list filters and pagination reach the API', async () => {
    const orders = async (args: string[]) => {
      const r = await cli(['payments', 'list', ...args, '--json'], env);
      assert.equal(r.code, 0, r.stderr);
      const body = JSON.parse(r.stdout);
      return { orders: body.data.map((p: { order_id: string }) => p.order_id), body };
    };
    assert.deepEqual((await orders(['--order-id', 'A-2'])).orders, ['A-2']);
    assert.deepEqual((await orders(['--connection', 'app'])).orders, ['B-2', 'B-1']);
    assert.deepEqual((await orders(['--status', 'paid'])).orders, []);
    assert.equal((await orders(['--status', 'pending'])).orders.length, 5);
    assert.deepEqual((await orders(['--created-gte', '2999-01-01'])).orders, []);
    assert.deepEqual((await orders(['--created-lte', '2000-01-01'])).orders, []);
    assert.equal((await orders(['--created-gte', '2000-01-01', '--created-lte', '2999-12-31'])).orders.length, 5);
    const first = await orders(['--limit', '2']);
    assert.deepEqual(first.orders, ['B-2', 'A-3']);
    assert.equal(first.body.has_more, true);
    assert.deepEqual((await orders(['--limit', '2', '--starting-after', first.body.next_cursor])).orders, ['B-1', 'A-2']);
    // --all walks every page (here two at a time).
    assert.deepEqual((await orders(['--all', '--limit', '2'])).orders, ['B-2', 'A-3', 'B-1', 'A-2', 'A-1']);
    const table = await cli(['payments', 'list', '--connection', 'shop', '--order-id', 'A-1'], env);
    assert.match(table.stdout, /^ID\s+ORDER_ID\s+STATUS/);
    assert.equal(table.stdout.trim().split('\n').length, 2);
    assert.doesNotMatch(table.stdout, /\x1b\[/, 'no colors when stdout is not a terminal');
    const bad = await cli(['payments', 'list', '--limit', '500'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--limit must be an integer from 1 to 100/);
    const badStatus = await cli(['payments', 'list', '--status', 'done'], env);
    assert.equal(badStatus.code, 2);
    assert.match(badStatus.stderr, /Allowed choices are pending, processing/);
  });

  it('create sends every field of POST /v1/payments', async () => {
    const r = await cli(
      [
        'payments',
        'create',
        '--connection',
        'shop',
        '--order-id',
        'FULL-1',
        '--amount',
        '2500',
        '--currency',
        'ron',
        '--description',
        'Cafea',
        '--first-name',
        'Ana',
        '--last-name',
        'Pop',
        '--email',
        'ana@example.ro',
        '--phone',
        '+40 721 000 000',
        '--city',
        'Iași',
        '--country',
        'ro',
        '--zip-code',
        '700001',
        '--shipping-first-name',
        'Ion',
        '--shipping-last-name',
        'Pop',
        '--shipping-email',
        'ion@example.ro',
        '--shipping-city',
        'Cluj',
        '--return-url',
        'https://shop.example/return',
        '--expires-at',
        '2099-01-01T00:00:00Z',
        '--metadata',
        '{"cart":7,"gift":true}',
        '--metadata',
        'channel=web',
        '--language',
        'ro',
        '--cancel-url',
        'https://shop.example/cart',
        '--json',
      ],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
    const created = JSON.parse(r.stdout);
    assert.equal(created.return_url, 'https://shop.example/return');
    assert.equal(created.expires_at, '2099-01-01T00:00:00.000Z');
    assert.deepEqual(created.metadata, { cart: 7, gift: true, channel: 'web', language: 'ro', canceled_url: 'https://shop.example/cart' });
    assert.equal(created.currency, 'RON');
    const badMeta = await cli(['payments', 'create', '--metadata', 'nokey', '--connection', 'shop'], env);
    assert.equal(badMeta.code, 2);
    assert.match(badMeta.stderr, /--metadata takes a JSON object or key=value/);
  });

  it('cancel cancels a pending payment (POST /v1/payments/{id}/cancel), answers a canceled one as it is, and says why it cannot', async () => {
    const p = await api('POST', '/v1/payments', payment('shop', 'CANCEL-CLI'));
    assert.equal(p.status, 201, JSON.stringify(p.body));
    const table = await cli(['payments', 'cancel', p.body.id], env);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^ID\s+ORDER_ID\s+STATUS\s+AMOUNT\s+CURRENCY/);
    assert.match(table.stdout, new RegExp(`${p.body.id}\\s+CANCEL-CLI\\s+canceled\\s+1500\\s+RON`));
    assert.equal((await api('GET', `/v1/payments/${p.body.id}`)).body.status, 'canceled');
    const again = await cli(['payments', 'cancel', p.body.id, '--json'], env);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).status, 'canceled');
    const unknown = await cli(['payments', 'cancel', 'pay_00000000000000000000000000'], env);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /404/);
    const missing = await cli(['payments', 'cancel'], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /missing required argument 'id'/);
  });

  it('colors the table only on a terminal, and not with NO_COLOR', async () => {
    // `script` (util-linux) runs the command on a pseudo-terminal, as a person's shell does.
    const onTerminal = (extra: Record<string, string>) =>
      new Promise<string>((resolve, reject) =>
        execFile(
          'script',
          ['-qec', `"${process.execPath}" "${BIN}" payments list --order-id A-1`, '/dev/null'],
          { env: { ...baseEnv(), ...env, ...extra } },
          (e, stdout) => (e ? reject(e) : resolve(stdout)),
        ),
      );
    const colored = await onTerminal({});
    assert.match(colored, /\x1b\[1mID\x1b\[0m/);
    assert.match(colored, /\x1b\[33mpending\x1b\[0m/);
    const plain = await onTerminal({ NO_COLOR: '1' });
    assert.match(plain, /A-1\s+pending/);
    assert.doesNotMatch(plain, /\x1b\[[0-9;]*m/);
  });

  it('shows progress on stderr while it waits, on a terminal only', async () => {
    // A slow hub: the answer comes after 600 ms.
    const slow = createServer((_req, res) => {
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[],"has_more":false}'), 600);
    });
    servers.push(slow);
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const slowEnv = { ...env, INCASSO_URL: `http://127.0.0.1:${(slow.address() as { port: number }).port}` };
    const onTerminal = await new Promise<string>((resolve, reject) =>
      execFile('script', ['-qec', `"${process.execPath}" "${BIN}" payments list`, '/dev/null'], { env: { ...baseEnv(), ...slowEnv } }, (e, stdout) =>
        e ? reject(e) : resolve(stdout),
      ),
    );
    assert.match(onTerminal, /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] GET \/v1\/payments/);
    assert.match(onTerminal, /\(none\)/);
    const piped = await cli(['payments', 'list'], slowEnv);
    assert.equal(piped.code, 0);
    assert.equal(piped.stderr, '');
  });

  it('a closed pipe ends the command quietly with exit 0, no EPIPE stack', async () => {
    const child = spawn(process.execPath, [BIN, 'payments', 'list', '--all'], { env: { ...baseEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    // The reader goes away before the command writes a line (as `head` does after its lines).
    child.stdout!.destroy();
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    assert.equal(stderr, '');
    assert.equal(code, 0);
  });
});

describe('events', () => {
  it("lists the merchant's events, filtered by type and payment", async () => {
    const all = await cli(['events', 'list', '--json'], env);
    assert.equal(all.code, 0, all.stderr);
    const events = JSON.parse(all.stdout).data as Array<{ id: string; type: string; data: Record<string, unknown> }>;
    assert.ok(events.length >= 5);
    assert.ok(events.every((e) => e.id.startsWith('evt_')));
    const listed = await api('GET', '/v1/payments?order_id=A-2');
    const paymentId = listed.body.data[0].id as string;
    const mine = await cli(['events', 'list', '--payment', paymentId, '--type', 'payment.created', '--json'], env);
    const onlyMine = JSON.parse(mine.stdout).data as Array<{ type: string }>;
    assert.equal(onlyMine.length, 1);
    assert.equal(onlyMine[0]!.type, 'payment.created');
    const table = await cli(['events', 'list', '--limit', '2'], env);
    assert.match(table.stdout, /^ID\s+TYPE\s+TIMESTAMP\s+PAYMENT/);
    assert.equal(table.stdout.trim().split('\n').length, 3);
    assert.match(table.stdout, /evt_\S+\s+payment\.created\s+\S+\s+pay_/);
  });
});

describe('completion', () => {
  const complete = async (shell: string, words: string[]) => {
    const script = (await cli(['completion', shell])).stdout;
    const line = `incasso ${words.join(' ')}`;
    const program = `${script}\nCOMP_WORDS=(incasso ${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length}; COMP_LINE='${line}'; _incasso_complete; echo "\${COMPREPLY[*]}"`;
    return new Promise<string>((resolve, reject) =>
      execFile('bash', ['-c', program], (e, stdout, stderr) => (e ? reject(new Error(stderr)) : resolve(stdout.trim()))),
    );
  };
  it('completes commands, subcommands, flags and choices in bash', async () => {
    assert.equal(await complete('bash', ['pay']), 'payments');
    assert.equal(await complete('bash', ['payments', '']), 'create list get cancel');
    assert.match(await complete('bash', ['payments', 'list', '--']), /--status .*--order-id .*--all .*--json/);
    assert.equal(await complete('bash', ['payments', 'list', '--status', 'pa']), 'paid partially_refunded');
    assert.equal(await complete('bash', ['--hub', 'http://h', 'webhooks', 're']), 'redeliver');
    assert.equal(await complete('bash', ['completion', '']), 'bash zsh');
  });
  it('prints a zsh script, and refuses other shells', async () => {
    const zsh = await cli(['completion', 'zsh']);
    assert.equal(zsh.code, 0);
    assert.match(zsh.stdout, /bashcompinit/);
    assert.match(zsh.stdout, /complete -F _incasso_complete incasso/);
    const fish = await cli(['completion', 'fish']);
    assert.equal(fish.code, 2);
    assert.match(fish.stderr, /Allowed choices are bash, zsh/);
  });
});

/** A local receiver that records what it is sent. */
async function receiver(status: number): Promise<{ url: string; got: Array<{ headers: IncomingHttpHeaders; body: string }> }> {
  const got: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.writeHead(status).end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hooks`, got };
}

/** `incasso listen` in a real process, its JSON lines collected. */
function startListen(args: string[]) {
  const child = spawn(process.execPath, [BIN, 'listen', '--json', ...args], { env: { ...baseEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const lines = () =>
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { child, lines, stderr: () => err, exited };
}

const sign = (secret: string, id: string, ts: string, body: string) =>
  'v1,' +
  createHmac('sha256', Buffer.from(secret.replace(/^whsec_/, ''), 'base64'))
    .update(`${id}.${ts}.${body}`)
    .digest('base64');

describe('listen', () => {
  for (const via of ['inbox', 'direct'] as const) {
    it(`--via ${via}: prints the hub's deliveries with the signature checked, forwards them, disables its endpoint on Ctrl-C`, async () => {
      const local = await receiver(204);
      const l = startListen(['--via', via, '--forward-to', local.url, '--interval', '100', '--events', 'payment.created']);
      const ready = await eventually(() => l.lines()[0], 30_000, `listen ready (${l.stderr()})`);
      assert.equal(ready.object, 'listen');
      assert.match(ready.secret, /^whsec_/);
      const endpoint = await api('GET', `/v1/webhook-endpoints/${ready.endpoint_id}`);
      assert.equal(endpoint.body.status, 'active');
      if (via === 'inbox') assert.match(endpoint.body.url, new RegExp(`^${hub.url}/sandbox/inbox/cli-listen-`));
      else assert.match(endpoint.body.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);

      const created = await api('POST', '/v1/payments', payment('shop', `LISTEN-${via}`));
      assert.equal(created.status, 201);
      const line = await eventually(
        () => l.lines().find((x) => x.event?.data?.id === created.body.id || x.event?.data?.payment?.id === created.body.id),
        30_000,
        'the event printed',
      );
      assert.equal(line.type, 'payment.created');
      assert.equal(line.signature_valid, true);
      assert.equal(line.forward.status, 204);
      // The local receiver got the hub's body and signature headers, and the signature holds with the secret listen printed.
      const forwarded = local.got.find((g) => g.headers['webhook-id'] === line.webhook_id);
      assert.ok(forwarded, 'forwarded to the local receiver');
      assert.equal(JSON.parse(forwarded.body).id, line.webhook_id);
      assert.equal(
        forwarded.headers['webhook-signature'],
        sign(ready.secret, String(forwarded.headers['webhook-id']), String(forwarded.headers['webhook-timestamp']), forwarded.body),
      );

      if (via === 'direct') {
        // A delivery that the hub did not sign is refused (400) and not forwarded.
        const forged = JSON.stringify({ id: 'evt_forged', type: 'payment.paid', data: {} });
        const ts = String(Math.floor(Date.now() / 1000));
        const r = await fetch(ready.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'webhook-id': 'evt_forged',
            'webhook-timestamp': ts,
            'webhook-signature': sign('whsec_' + Buffer.alloc(32, 1).toString('base64'), 'evt_forged', ts, forged),
          },
          body: forged,
        });
        assert.equal(r.status, 400);
        const refused = await eventually(() => l.lines().find((x) => x.webhook_id === 'evt_forged'), 5000, 'the forged delivery printed');
        assert.equal(refused.signature_valid, false);
        assert.equal(refused.forward, undefined);
        assert.ok(!local.got.some((g) => g.headers['webhook-id'] === 'evt_forged'));
      }

      l.child.kill('SIGINT');
      assert.equal(await l.exited, 0);
      assert.match(l.stderr(), new RegExp(`Disabled webhook endpoint ${ready.endpoint_id}`));
      assert.equal((await api('GET', `/v1/webhook-endpoints/${ready.endpoint_id}`)).body.status, 'disabled');
    });
  }

  it('refuses a --forward-to that is not an http(s) URL', async () => {
    const r = await cli(['listen', '--forward-to', 'localhost:3000'], env);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--forward-to must be an http\(s\) URL/);
  });
});
