import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startTestHub, type TestHub } from '../support/hub.js';

const BIN = fileURLToPath(new URL('../../bin/incasso.js', import.meta.url));

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

let hub: TestHub;
before(async () => {
  hub = await startTestHub();
});
after(() => hub?.close());

describe('the incasso command talks to a running hub over HTTP', () => {
  it('walks through merchant → emulator connection → webhook → payment, with --json for scripts and tables for people', async () => {
    const base = { INCASSO_URL: hub.url };
    const merchant = await cli(['merchants', 'create', '--name', 'CLI Shop', '--json'], { ...base, INCASSO_ADMIN_KEY: hub.adminKey });
    assert.equal(merchant.code, 0, merchant.stderr);
    const apiKey = JSON.parse(merchant.stdout).api_key as string;
    const env = { ...base, INCASSO_API_KEY: apiKey };

    const conn = await cli(['connections', 'create', '--code', 'netopia', '--provider', 'netopia-v1', '--environment', 'emulator'], env);
    assert.equal(conn.code, 0, conn.stderr);
    assert.match(conn.stdout, /^ID\s+CODE\s+PROVIDER\s+ENVIRONMENT\s+STATUS/m);
    assert.match(conn.stdout, /netopia\s+netopia-v1\s+emulator\s+active/);
    // README step 7: the back office's login is what `connections get` shows.
    const shown = await cli(['connections', 'get', 'netopia'], env);
    assert.equal(shown.code, 0, shown.stderr);
    const login = JSON.parse(shown.stdout).sandbox_back_office;
    assert.equal(login.url, `${hub.url}/sandbox/netopia/v1/orders`);
    assert.match(login.login, /^[A-Z0-9]{4}(-[A-Z0-9]{4}){4}$/);
    assert.equal(typeof login.password, 'string');

    const hook = await cli(['webhooks', 'create', '--url', `${hub.url}/sandbox/inbox/cli`, '--json'], env);
    assert.match(JSON.parse(hook.stdout).secret, /^whsec_/);

    const pay = await cli(
      [
        'payments',
        'create',
        '--connection',
        'netopia',
        '--order-id',
        'CLI-1',
        '--amount',
        '4990',
        '--currency',
        'RON',
        '--description',
        'Cafea',
        '--first-name',
        'Ana',
        '--last-name',
        'Pop',
        '--email',
        'ana@example.ro',
        '--json',
      ],
      env,
    );
    assert.equal(pay.code, 0, pay.stderr);
    const payment = JSON.parse(pay.stdout);
    assert.equal(payment.payment_url, `${hub.url}/pay/${payment.id}`);

    const list = await cli(['payments', 'list'], env);
    assert.match(list.stdout, new RegExp(`${payment.id}\\s+CLI-1\\s+pending\\s+4990\\s+RON`));
  });

  it('a NETOPIA v2 payment needs --city: without it the hub refuses it naming billing.city, with it the payer reaches NETOPIA', async () => {
    const merchant = await cli(['merchants', 'create', '--name', 'CLI v2 Shop', '--json'], { INCASSO_URL: hub.url, INCASSO_ADMIN_KEY: hub.adminKey });
    const env = { INCASSO_URL: hub.url, INCASSO_API_KEY: JSON.parse(merchant.stdout).api_key as string };
    const conn = await cli(['connections', 'create', '--code', 'app', '--provider', 'netopia-v2', '--environment', 'emulator'], env);
    assert.equal(conn.code, 0, conn.stderr);
    const args = [
      'payments',
      'create',
      '--connection',
      'app',
      '--order-id',
      'CLI-V2',
      '--amount',
      '4990',
      '--currency',
      'RON',
      '--description',
      'Cafea',
      '--first-name',
      'Ana',
      '--last-name',
      'Pop',
      '--email',
      'ana@example.ro',
    ];
    const refused = await cli(args, env);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /422 Validation failed\n\s+billing\.city: is required by netopia-v2$/m);
    const pay = await cli([...args, '--city', 'Iași', '--country', 'ro', '--json'], env);
    assert.equal(pay.code, 0, pay.stderr);
    const payment = JSON.parse(pay.stdout);
    const stored = await (await fetch(`${hub.url}/v1/payments/${payment.id}`, { headers: { authorization: `Bearer ${env.INCASSO_API_KEY}` } })).json();
    assert.deepEqual([stored.order_id, stored.amount], ['CLI-V2', 4990]);
    // The payer is handed to NETOPIA's hosted page (no failed attempt, no "Invalid request").
    const page = await fetch(payment.payment_url, { redirect: 'manual' });
    assert.equal(page.status, 303);
    assert.match(page.headers.get('location') ?? '', /\/sandbox\/netopia\/v2\//);
  });

  it('registers an OnPay partner whose activation key works once; refunds say why they are refused', async () => {
    const admin = { INCASSO_URL: hub.url, INCASSO_ADMIN_KEY: hub.adminKey };
    const partner = await cli(['onpay-partners', 'create', '--name', 'Gestionale Bianchi', '--json'], admin);
    assert.equal(partner.code, 0, partner.stderr);
    const { activation_key, api_key } = JSON.parse(partner.stdout);
    const trade = async () => (await fetch(`${hub.url}/api/get_onpay_key/`, { method: 'POST', body: new URLSearchParams({ key: activation_key }) })).json();
    const first = await trade();
    assert.equal(first.success, 'true');
    assert.match(first.onpaykey, /^opk_/);
    assert.equal((await trade()).success, 'false');
    const refund = await cli(['refunds', 'create', 'pay_0000000000000000000000000'], { INCASSO_URL: hub.url, INCASSO_API_KEY: api_key });
    assert.equal(refund.code, 1);
    assert.match(refund.stderr, /no payment/);
  });

  it('explains mistakes instead of crashing', async () => {
    const noKey = await cli(['payments', 'list'], { INCASSO_URL: hub.url });
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /no API key/);
    const bad = await cli(
      [
        'payments',
        'create',
        '--connection',
        'x',
        '--order-id',
        'o',
        '--amount',
        '12.5',
        '--description',
        'd',
        '--first-name',
        'a',
        '--last-name',
        'b',
        '--email',
        'e@x.ro',
      ],
      { INCASSO_URL: hub.url, INCASSO_API_KEY: 'sk_x' },
    );
    assert.match(bad.stderr, /integer number of minor units/);
    const invalid = await cli(['merchants', 'create', '--name', ''], { INCASSO_URL: hub.url, INCASSO_ADMIN_KEY: hub.adminKey });
    assert.match(invalid.stderr, /--name is required/);
    const down = await cli(['payments', 'list'], { INCASSO_URL: 'http://127.0.0.1:1', INCASSO_API_KEY: 'sk_x' });
    assert.match(down.stderr, /cannot reach the hub/);
    const unknown = await cli(['frobnicate']);
    assert.equal(unknown.code, 2);
    const help = await cli(['--help']);
    assert.match(help.stdout, /Usage: incasso/);
  });
});
