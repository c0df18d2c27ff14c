import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { apiClient, eventually, startTestHub, type TestHub } from '../support/hub.js';
import { formatOnpayDate } from '../../src/services/onpay/values.js';

/**
 * The OnPay partner API (seed 004) end to end, per acquirer, through the built-in emulators and a real headless
 * Chromium: get_link → the payer pays on the acquirer's page → the signed notification is verified →
 * get_notifications (both modes) → get_users → get_payment_method. Requests are built the way the seed's own
 * samples build them: curl -F (multipart), curl -d, C#'s FormUrlEncodedContent, PHP's concatenated string.
 */

const run = promisify(execFile);
let hub: TestHub;
let browser: Browser;
let key = '';
let native: ReturnType<typeof apiClient>;

/** curl, as the seed's examples call it (`-F name=value` or `-d "a=b&c=d"`). */
async function curl(path: string, args: string[]): Promise<any> {
  const { stdout } = await run('curl', ['-sS', `${hub.url}${path}`, ...args]);
  return JSON.parse(stdout);
}

/** The C# sample: FormUrlEncodedContent of the fields, POSTed. */
async function form(path: string, fields: Record<string, string>): Promise<any> {
  const r = await fetch(`${hub.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  return r.json();
}

const tomorrow = () => formatOnpayDate(new Date(Date.now() + 86_400_000)).slice(0, 10);
const inDays = (days: number) => formatOnpayDate(new Date(Date.now() + days * 86_400_000)).slice(0, 10);

async function account(gateway: string): Promise<Record<string, string>> {
  const r = await fetch(`${hub.url}/sandbox/${gateway}/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: `Studio ${gateway}` }),
  });
  assert.equal(r.status, 201);
  return r.json();
}

before(async () => {
  [hub, browser] = await Promise.all([startTestHub(), launchBrowser()]);
  const admin = apiClient(hub.url, hub.adminKey);
  const partner = await admin('POST', '/v1/onpay/partners', { name: 'Gestionale Rossi SRL' });
  assert.equal(partner.status, 201, JSON.stringify(partner.body));
  native = apiClient(hub.url, partner.body.api_key);
  // The seed's activation call: curl -d "key=XXX" …/get_onpay_key/
  const activated = await curl('/test/api/get_onpay_key/', ['-d', `key=${partner.body.activation_key}`]);
  assert.equal(activated.success, 'true', JSON.stringify(activated));
  key = activated.onpaykey;
  const again = await curl('/test/api/get_onpay_key/', ['-d', `key=${partner.body.activation_key}`]);
  assert.deepEqual([again.success, typeof again.errors], ['false', 'string'], 'a temporary key works once');
});
after(async () => {
  await browser?.close();
  await hub?.close();
});

interface Acquirer {
  gateway: 'multisafepay' | 'nexi' | 'volt';
  /** OnPay's credential fields from the emulator's test account. */
  fields(a: Record<string, string>): Record<string, string>;
  /** Pays on the acquirer's page and returns when the browser is back at the hub. */
  pay(page: Page): Promise<void>;
  /** The acquirer's own word for a payment (complete mode) and the method name it reports. */
  status: RegExp;
  method: string;
}

const backAtHub = (page: Page) =>
  page.waitForURL((u) => u.pathname.includes('/pay/') || u.pathname.startsWith('/shop') || u.host !== new URL(page.url()).host, { timeout: 15_000 });

const ACQUIRERS: Acquirer[] = [
  {
    gateway: 'multisafepay',
    fields: (a) => ({ gatewayApiKey: a.api_key!, gatewaySecretKey: '' }),
    async pay(page) {
      await page.getByRole('group', { name: 'Card brand' }).getByRole('radio', { name: 'Mastercard' }).check();
      await page.getByLabel('Card number', { exact: true }).fill('5500 0000 0000 0004');
      await page.getByLabel('Expiry date', { exact: true }).fill('12/30');
      await page.getByLabel('CVV', { exact: true }).fill('123');
      await Promise.all([page.waitForURL((u) => u.pathname.includes('/pay/')), page.getByRole('button', { name: 'Pay', exact: true }).click()]);
    },
    status: /^completed$/,
    method: 'MASTERCARD',
  },
  {
    gateway: 'nexi',
    fields: (a) => ({ gatewayApiKey: a.alias!, gatewaySecretKey: a.mac_key! }),
    async pay(page) {
      await page.getByRole('radio', { name: 'MasterCard' }).check();
      await page.getByLabel('Card number', { exact: true }).fill('5255 0000 0000 0001');
      await page.getByLabel('Expiry date', { exact: true }).fill('12/30');
      await page.getByLabel('CVV', { exact: true }).fill('123');
      await Promise.all([page.waitForURL((u) => u.pathname.includes('/pay/')), page.getByRole('button', { name: 'Pay', exact: true }).click()]);
    },
    status: /^OK$/,
    method: 'MasterCard',
  },
  {
    gateway: 'volt',
    fields: (a) => ({
      gatewayApiKey: a.client_id!,
      gatewaySecretKey: a.client_secret!,
      gatewayUsername: a.username!,
      gatewayPassword: a.password!,
      gatewayNotificationKey: a.notification_secret!,
    }),
    async pay(page) {
      await page.getByRole('group', { name: 'Choose your bank' }).getByRole('radio').first().check();
      await Promise.all([page.waitForURL(/\/bank\//), page.getByRole('button', { name: 'Continue' }).click()]);
      await Promise.all([page.waitForURL((u) => u.pathname.includes('/pay/')), page.getByRole('button', { name: 'Authorise payment' }).click()]);
    },
    status: /^COMPLETED$/,
    method: '',
  },
];

for (const acquirer of ACQUIRERS) {
  describe(`${acquirer.gateway}: link → payment → notification → reports`, () => {
    let creds: Record<string, string> = {};
    const extId = `ORD-${acquirer.gateway}-${Date.now()}`;
    let link = '';

    before(async () => {
      creds = acquirer.fields(await account(acquirer.gateway));
    });

    it("get_link answers the acquirer's order id and link, as the seed's samples call it", async () => {
      const fields = {
        key,
        gateway: acquirer.gateway,
        ...creds,
        extId,
        orderAmount: '25000',
        orderCurrency: 'EUR',
        orderDescription: 'testIOS',
        expDate: tomorrow(),
        completedUrl: '',
        canceledUrl: '',
      };
      // Volt like the seed's curl -F line (multipart, lower-case gatewayusername); the others like its C# sample.
      const answer =
        acquirer.gateway === 'volt'
          ? await curl(
              '/test/api/get_link/',
              Object.entries({ ...fields, gatewayusername: creds.gatewayUsername!, gatewayUsername: undefined })
                .filter(([, v]) => v !== undefined)
                .flatMap(([k, v]) => ['-F', `${k}=${v}`]),
            )
          : await form('/test/api/get_link/', fields);
      assert.equal(answer.success, 'true', JSON.stringify(answer));
      assert.equal(answer.extId, extId);
      assert.ok(answer.orderId, "the acquirer's id of the link");
      assert.match(answer.link, new RegExp(`^${hub.url}/sandbox/${acquirer.gateway}/`), 'a direct link to the acquirer');
      link = answer.link;
      const duplicate = await form('/test/api/get_link/', fields);
      assert.deepEqual([duplicate.success, duplicate.link], ['false', null]);
      assert.match(duplicate.error, /extId .* already used/);
    });

    it("the payer pays on the acquirer's page; the verified notification marks the link paid in the ledger", async () => {
      const page = await browser.newPage();
      try {
        await page.goto(link);
        await acquirer.pay(page);
      } finally {
        await page.close();
      }
      const payment = await eventually(
        async () => {
          const list = (await native('GET', `/v1/payments?order_id=${encodeURIComponent(extId)}`)).body.data;
          return list[0]?.status === 'paid' && list[0];
        },
        15_000,
        'the payment to be paid',
      );
      assert.equal(payment.amount, 25000);
      assert.equal(payment.currency, 'EUR');
    });

    it('get_notifications: basic mode reports "completed", complete mode the acquirer\'s own statuses', async () => {
      const ask = (extra: Record<string, string>) =>
        form('/test/api/get_notifications/', {
          key,
          gateway: acquirer.gateway,
          gatewayApiKey: creds.gatewayApiKey!,
          gatewaySecretKey: creds.gatewaySecretKey!,
          ...extra,
        });
      const basic = await ask({ extId });
      assert.equal(basic.success, 'true', JSON.stringify(basic));
      assert.equal(basic.notifications.length, 1);
      const n = basic.notifications[0];
      assert.deepEqual([n.extId, n.gateway, n.status, n.orderAmount, n.orderCurrency], [extId, acquirer.gateway, 'completed', '25000', 'EUR']);
      assert.match(n.notification_date, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      assert.match(n.validation_date, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
      assert.match(n.payment_type, /^\d+$/, 'the code_number of the method');
      // The acquirer's timestamp (MultiSafepay's: Amsterdam time without an offset) is read in the acquirer's zone,
      // whatever the server's: the same dates under every TZ, and the notification never after its validation.
      const seconds = (text: string) => Date.parse(`${text.replace(' ', 'T')}Z`) / 1000;
      const lag = seconds(n.validation_date) - seconds(n.notification_date);
      assert.ok(lag >= 0 && lag < 300, `notification_date ${n.notification_date} vs validation_date ${n.validation_date}`);
      const zone = process.env.TZ;
      try {
        for (const tz of ['UTC', 'America/New_York', 'Asia/Tokyo']) {
          process.env.TZ = tz;
          assert.deepEqual((await ask({ extId })).notifications, basic.notifications, `TZ=${tz}`);
        }
      } finally {
        if (zone === undefined) delete process.env.TZ;
        else process.env.TZ = zone;
      }
      const complete = await ask({ extId, allnotifications: 'true' });
      assert.ok(complete.notifications.length >= 1);
      assert.ok(
        complete.notifications.some((x: { status: string }) => acquirer.status.test(x.status)),
        JSON.stringify(complete.notifications),
      );
      const since = await ask({ date: tomorrow() });
      assert.equal(since.notifications.length, 0, 'nothing since tomorrow');
      const methods = await form('/test/api/get_payment_method/', { key });
      const method = methods.payment_method_list.find((m: { code_number: string }) => m.code_number === n.payment_type);
      assert.ok(method, JSON.stringify(methods));
      if (acquirer.method) assert.equal(method.code_description, acquirer.method);
    });

    it('get_users counts the link and what it collected', async () => {
      const users = await curl('/test/api/get_users/', [
        '-d',
        `key=${key}&datefrom=${formatOnpayDate(new Date(Date.now() - 3_600_000))}&dateto=${formatOnpayDate(new Date(Date.now() + 3_600_000))}`,
      ]);
      assert.equal(users.success, 'true', JSON.stringify(users));
      const mine = users.userslist.find((u: { gatewayApiKey: string }) => u.gatewayApiKey === creds.gatewayApiKey);
      assert.ok(mine, JSON.stringify(users.userslist));
      assert.deepEqual([mine.gateway, mine.nrlink, mine.nrlink_paid, mine.amount_paid], [acquirer.gateway, '1', '1', '25000']);
      if (creds.gatewaySecretKey) assert.ok(!JSON.stringify(users).includes(creds.gatewaySecretKey), 'secrets are masked');
    });
  });
}

describe("the seed's PHP sample: a body concatenated by hand, not encoded", () => {
  it("creates the link (the sample's own expDate, 2021-10-25, is past, so a future one is used)", async () => {
    const a = await account('multisafepay');
    const [gateway, gatewayApiKey, gatewaySecretKey, extId, orderAmount, orderCurrency, orderDescription, expDate] = [
      'multisafepay',
      a.api_key!,
      '',
      `20210927A_${Date.now()}`,
      25000,
      'EUR',
      'testIOS',
      tomorrow(),
    ];
    const body =
      'key=' +
      key +
      '&gateway=' +
      gateway +
      '&gatewayApiKey=' +
      gatewayApiKey +
      '&gatewaySecretKey=' +
      gatewaySecretKey +
      '&extId=' +
      extId +
      '&orderAmount=' +
      orderAmount +
      '&orderCurrency=' +
      orderCurrency +
      '&orderDescription=' +
      orderDescription +
      '&expDate=' +
      expDate;
    const r = await fetch(`${hub.url}/test/api/get_link/`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body });
    const answer = await r.json();
    assert.equal(answer.success, 'true', JSON.stringify(answer));
    assert.equal(answer.extId, extId);
  });
});

describe("a payer who cancels on the acquirer's page", () => {
  it("lands on the hub, is told nothing was charged, and is offered the partner's canceledUrl", async () => {
    const a = await account('multisafepay');
    const extId = `CANCEL-${Date.now()}`;
    const answer = await form('/test/api/get_link/', {
      key,
      gateway: 'multisafepay',
      gatewayApiKey: a.api_key!,
      extId,
      orderAmount: '1500',
      expDate: tomorrow(),
      canceledUrl: 'https://erp.example.it/annullato',
      completedUrl: 'https://erp.example.it/pagato',
    });
    assert.equal(answer.success, 'true', JSON.stringify(answer));
    const page = await browser.newPage();
    try {
      await page.goto(answer.link);
      await Promise.all([page.waitForURL((u) => u.pathname.endsWith('/return')), page.getByRole('button', { name: 'Cancel', exact: true }).click()]);
      assert.match(await page.getByRole('status').innerText(), /Nothing was charged/);
      const back = new URL((await page.getByRole('link', { name: 'Back to the shop' }).getAttribute('href'))!);
      assert.equal(`${back.origin}${back.pathname}`, 'https://erp.example.it/annullato');
      assert.equal(await page.getByRole('link', { name: 'Pay now' }).count(), 1, 'the link stays payable');
    } finally {
      await page.close();
    }
  });
});

describe('get_payment_method merges one method across acquirers', () => {
  it('"MASTERCARD" (MultiSafepay) and "MasterCard" (Nexi) have their own codes and one merged code', async () => {
    const list = (await form('/test/api/get_payment_method/', { key })).payment_method_list as Array<{
      code_number: string;
      code_description: string;
      code_number_merged: string;
    }>;
    const msp = list.find((m) => m.code_description === 'MASTERCARD');
    const nexi = list.find((m) => m.code_description === 'MasterCard');
    assert.ok(msp && nexi, JSON.stringify(list));
    assert.notEqual(msp.code_number, nexi.code_number);
    assert.equal(msp.code_number_merged, nexi.code_number_merged);
  });
});

describe('refusals are JSON with the message, never an error page', () => {
  const base = (over: Record<string, string> = {}) => ({
    key,
    gateway: 'multisafepay',
    gatewayApiKey: 'whatever',
    extId: `E-${Math.random()}`,
    orderAmount: '1000',
    expDate: tomorrow(),
    ...over,
  });
  const cases: Array<[string, Record<string, string>, RegExp]> = [
    ['a wrong partner key', { key: 'opk_nope' }, /invalid key/],
    ['no extId', { extId: '' }, /extId is required/],
    ['an unknown gateway', { gateway: 'paypal' }, /gateway must be one of/],
    ['an amount with a decimal comma', { orderAmount: '100,50' }, /orderAmount must be an integer/],
    [
      'GBP through Volt',
      { gateway: 'volt', gatewaySecretKey: 's', gatewayUsername: 'u', gatewayPassword: 'p', gatewayNotificationKey: 'n', orderCurrency: 'GBP' },
      /GBP is not accepted by volt/,
    ],
    ['Nexi without its secret key', { gateway: 'nexi' }, /gatewaySecretKey is required for nexi/],
    ['an expiry in the past', { expDate: '2021-10-25' }, /expDate must be in the future/],
    ['an expiry that is not a date', { expDate: '30/09/2022' }, /expDate must be a date/],
    ['special characters in the description', { orderDescription: 'caffè <b>' }, /orderDescription .*refused: "<" \(U\+003C\), ">" \(U\+003E\)$/],
    ['"°" in the description, named', { orderDescription: 'Fattura n° 12' }, /orderDescription .*refused: "°" \(U\+00B0\)$/],
    ['an invisible character, named by its code point', { orderDescription: 'Fattura\u200b12' }, /refused: U\+200B$/],
    [
      'a Nexi link meant to live past what Nexi is asked for (a year)',
      { gateway: 'nexi', gatewaySecretKey: 'k', expDate: inDays(400) },
      /expDate must be at most 365 days ahead for nexi \(a nexi link lives at most 8760 hours: the latest expDate now is \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\)/,
    ],
    // Within the year the checks pass and the link is asked of Nexi (whose emulator refuses the unknown alias).
    ['a Nexi link within the year reaches Nexi', { gateway: 'nexi', gatewaySecretKey: 'k', expDate: inDays(300) }, /^nexi: /],
    ['a description longer than 200', { orderDescription: 'a'.repeat(201) }, /at most 200/],
    ['an amount above what MultiSafepay takes', { orderAmount: '100000000000' }, /orderAmount must be at most 99999999999 for multisafepay/],
    [
      'an amount above what Volt takes',
      { gateway: 'volt', gatewaySecretKey: 's', gatewayUsername: 'u', gatewayPassword: 'p', gatewayNotificationKey: 'n', orderAmount: '10000000000' },
      /orderAmount must be at most 9999999999 for volt/,
    ],
    ['an amount above what Nexi takes', { gateway: 'nexi', gatewaySecretKey: 'k', orderAmount: '100000000' }, /orderAmount must be at most 99999999 for nexi/],
    ['JPY with cents', { gateway: 'nexi', gatewaySecretKey: 'k', orderCurrency: 'JPY', orderAmount: '150050' }, /must end in 00 for JPY/],
    ['credentials the acquirer refuses', {}, /multisafepay:/],
  ];
  for (const [name, over, message] of cases) {
    it(name, async () => {
      const r = await form('/test/api/get_link/', base(over));
      assert.deepEqual([r.success, r.link], ['false', null], JSON.stringify(r));
      assert.match(r.error, message);
    });
  }

  it('an unknown call, a GET, a broken multipart body: JSON too', async () => {
    for (const [path, init] of [
      ['/test/api/get_everything/', { method: 'POST' }],
      ['/api/get_link/', { method: 'GET' }],
      ['/test/api/get_link/', { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x\r\nbroken' }],
    ] as const) {
      const r = await fetch(`${hub.url}${path}`, init as RequestInit);
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/, path);
      assert.equal((await r.json()).success, 'false');
    }
  });

  it('get_users needs its period', async () => {
    const r = await form('/test/api/get_users/', { key });
    assert.deepEqual([r.success, r.errors], ['false', 'datefrom and dateto are required']);
  });
});
