import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { loadPublicKey, sealEnvelope } from '../../../src/connectors/netopia-v1/envelope.js';
import { buildOrderXml } from '../../../src/connectors/netopia-v1/order-xml.js';
import { openTestStore } from '../../support/store.js';
import type { Store } from '../../../src/store/store.js';
import { createAccount, Merchant, order, postForm, sealOrder, sealXml, startEmulator, type Account, type Emulator } from './harness.js';

let store: Store;
let emulator: Emulator;
let merchant: Merchant;
let account: Account;

before(async () => {
  store = await openTestStore();
  emulator = await startEmulator(store);
  merchant = await Merchant.start();
  account = await createAccount(emulator);
});

after(async () => {
  await emulator?.stop();
  await merchant?.close();
  await store?.close();
});

/** Posts to the payment endpoint and checks NETOPIA's error page: HTTP 400, HTML, the expected heading. */
async function expectErrorPage(response: Response, heading: string | RegExp): Promise<string> {
  const body = await response.text();
  assert.equal(response.status, 400, body);
  assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
  const h1 = /<h1>(.*?)<\/h1>/.exec(body)?.[1] ?? '';
  if (typeof heading === 'string') assert.equal(h1, heading);
  else assert.match(h1, heading);
  return body;
}

const pay = (fields: Record<string, string>) => postForm(emulator.base + '/', fields);
const xmlOf = (overrides: Parameters<typeof order>[2] = {}) => buildOrderXml(order(account, merchant, overrides));

describe("NETOPIA v1 emulator: hostile payment requests get NETOPIA's 400 error page, never a 500", () => {
  it('missing fields and bad base64 → "Failed decrypting data"', async () => {
    const sealed = sealOrder(account, order(account, merchant));
    await expectErrorPage(await pay({}), 'Failed decrypting data');
    await expectErrorPage(await pay({ env_key: sealed.env_key! }), 'Failed decrypting data');
    await expectErrorPage(await pay({ ...sealed, env_key: '!!not base64!!' }), 'Failed decrypting data');
    await expectErrorPage(await pay({ ...sealed, data: 'QQ' }), 'Failed decrypting data');
    await expectErrorPage(await pay({ ...sealed, iv: '' }), 'Failed decrypting data');
    await expectErrorPage(await pay({ ...sealed, cipher: 'des-ede3' }), 'Failed decrypting data');
  });

  it('an envelope sealed for another key, or with tampered data, does not open into an order', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    for (const cipher of ['rc4', 'aes-256-cbc'] as const) {
      const foreign = sealEnvelope(xmlOf(), publicKey, cipher);
      await expectErrorPage(await pay({ ...foreign, ...(foreign.iv ? { iv: foreign.iv } : {}) }), /^(Failed decrypting data|signature is missing)$/);

      const sealed = sealOrder(account, order(account, merchant), cipher);
      const data = Buffer.from(sealed.data!, 'base64');
      for (let i = 0; i < data.length; i += 7) data[i]! ^= 0x5a;
      await expectErrorPage(await pay({ ...sealed, data: data.toString('base64') }), /^(Failed decrypting data|signature is missing)$/);
    }
  });

  it('DOCTYPE/ENTITY documents, non-UTF-8 bytes and other roots are not orders → "signature is missing"', async () => {
    const billionLaughs = `<?xml version="1.0"?><!DOCTYPE order [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><order type="card" id="x"><signature>${account.signature}</signature><invoice currency="RON" amount="1.00"><details>&b;</details></invoice><url><confirm>http://x/c</confirm><return>http://x/r</return></url></order>`;
    const body = await expectErrorPage(await pay(sealXml(account, billionLaughs)), 'signature is missing');
    assert.match(body, /DOCTYPE/);
    const external = xmlOf().replace('<order', '<!DOCTYPE order SYSTEM "file:///etc/passwd"><order');
    await expectErrorPage(await pay(sealXml(account, external)), 'signature is missing');
    const latin1 = Buffer.from(xmlOf({ invoice: { details: 'x' } }).replace('x', 'caf\u00e9'), 'latin1');
    const sealed = sealEnvelope(latin1, loadPublicKey(account.certificate), 'aes-256-cbc');
    await expectErrorPage(await pay({ env_key: sealed.env_key, data: sealed.data, cipher: sealed.cipher, iv: sealed.iv! }), 'signature is missing');
    await expectErrorPage(await pay(sealXml(account, '<?xml version="1.0"?><crc>hello</crc>')), 'signature is missing');
    await expectErrorPage(await pay(sealXml(account, xmlOf().replace(/<signature>.*<\/signature>/, ''))), 'signature is missing');
  });

  it('an unknown signature, a non-card order and broken order fields → "invalid request (48)"', async () => {
    await expectErrorPage(await pay(sealXml(account, xmlOf({ signature: 'ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ' }))), 'invalid request (48)');
    await expectErrorPage(await pay(sealXml(account, xmlOf().replace('type="card"', 'type="sms"'))), 'invalid request (48)');
    await expectErrorPage(await pay(sealXml(account, xmlOf().replace(/ id="[^"]+"/, ` id="${'x'.repeat(65)}"`))), 'invalid request (48)');
    const ftp = order(account, merchant, { url: { confirm: 'ftp://example.com/confirm', return: `${merchant.url}/return` } });
    await expectErrorPage(await pay(sealOrder(account, ftp)), 'invalid request (48)');
    const noReturn = xmlOf().replace(/<return>.*<\/return>/, '');
    await expectErrorPage(await pay(sealXml(account, noReturn)), 'invalid request (48)');
    const badCipher = xmlOf({ ipn_cipher: 'aes-256-cbc' }).replace('<ipn_cipher>aes-256-cbc</ipn_cipher>', '<ipn_cipher>des</ipn_cipher>');
    await expectErrorPage(await pay(sealXml(account, badCipher)), 'invalid request (48)');
  });

  it('amounts over 99999.00, negative or with three decimals → "incorrect amount (32)"; unknown currencies → 33', async () => {
    for (const amount of ['100000.00', '-1.00', '12.345', '1e3', 'abc']) {
      const xml = xmlOf().replace('amount="25.00"', `amount="${amount}"`);
      await expectErrorPage(await pay(sealXml(account, xml)), 'incorrect amount (32)');
    }
    for (const currency of ['XYZ', 'ron', 'MDL']) {
      await expectErrorPage(await pay(sealOrder(account, order(account, merchant, { invoice: { currency } }))), 'incorrect currency (33)');
    }
  });

  it('the largest allowed amount and a zero-amount card check are accepted', async () => {
    for (const amount of ['99999.00', '0.00']) {
      const response = await pay(sealOrder(account, order(account, merchant, { invoice: { amount } })));
      assert.equal(response.status, 303, amount);
    }
  });

  it('same order id with another amount while open → "generic error (99)"', async () => {
    const first = order(account, merchant);
    assert.equal((await pay(sealOrder(account, first))).status, 303);
    const changed = { ...first, invoice: { ...first.invoice, amount: '26.00' } };
    await expectErrorPage(await pay(sealOrder(account, changed)), 'generic error (99)');
  });

  it('a body over 1 MiB, a JSON body and a multipart body are refused with the error page', async () => {
    await expectErrorPage(await pay({ env_key: 'A'.repeat(1024 * 1024 + 10), data: 'x' }), 'invalid request (48)');
    const json = await fetch(emulator.base + '/', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(sealOrder(account, order(account, merchant))),
    });
    const jsonBody = await json.text();
    assert.equal(json.status, 400);
    assert.match(jsonBody, /form post/);
    const multipart = new FormData();
    multipart.set('env_key', 'x');
    await expectErrorPage(await fetch(emulator.base + '/', { method: 'POST', body: multipart }), 'invalid request (48)');
  });

  it('unknown paths and purchases are HTML 404 pages', async () => {
    for (const path of ['/card/abc', '/card/999999999', '/3ds/0', '/nowhere', '/e-n']) {
      const response = await fetch(emulator.base + path);
      assert.equal(response.status, 404, path);
      assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    }
    // The back office answers strangers with its login page before it looks anything up.
    const anonymous = await fetch(emulator.base + '/orders/12x');
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('content-type') ?? '', /^text\/html/);
    const post = await postForm(emulator.base + '/card/1/cancel', {});
    assert.equal(post.status, 404);
    assert.equal((await postForm(emulator.base + '/xyz', sealOrder(account, order(account, merchant)))).status, 404);
  });

  it('a card form posted to a finished order changes nothing', async () => {
    const response = await pay(sealOrder(account, order(account, merchant)));
    const cardUrl = response.headers.get('location')!;
    merchant.addKey(account.private_key);
    const paid = await postForm(cardUrl, { card_number: '9900004810225098', expiry: '12/40', cvv: '111' });
    assert.equal(paid.status, 303);
    // The order's pages speak its language: Romanian, posted on the default path.
    const again = await postForm(cardUrl, { card_number: '9900541631437790', expiry: '12/40', cvv: '111' });
    await expectErrorPage(again, 'cerere duplicată (56)');
    const threeDs = await postForm(cardUrl.replace('/card/', '/3ds/'), { result: 'fail' });
    await expectErrorPage(threeDs, 'cerere duplicată (56)');
  });
});
