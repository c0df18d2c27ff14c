import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../support/browser.js';
import { startTestHub, type TestHub } from '../support/hub.js';

/**
 * What someone who just started the hub finds: `/` names the documentation (a page for a browser, a small JSON
 * document for any other client), and /docs is the merchant API alone, titled, tagged, with examples that make
 * sense for a Romanian shop, rendered from the hub's own files without a framework's logo.
 */

let hub: TestHub;
let browser: Browser;

before(async () => {
  hub = await startTestHub();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await hub?.close();
});

type Operation = { tags?: string[]; summary?: string; requestBody?: any };

async function openapi(): Promise<any> {
  const response = await fetch(`${hub.url}/openapi.json`);
  assert.equal(response.status, 200);
  return response.json();
}

describe('/ names the documentation', () => {
  it('a browser gets a page linking /docs, the sandbox index, the walkthrough and the health endpoints', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    try {
      const response = await page.goto(`${hub.url}/`);
      assert.equal(response?.status(), 200);
      assert.match(response?.headers()['content-type'] ?? '', /^text\/html/);
      assert.match(response?.headers()['content-security-policy'] ?? '', /default-src 'none'/);
      await page.getByRole('heading', { name: 'incasso', level: 1 }).waitFor();
      const links = await page.getByRole('link').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).getAttribute('href')));
      for (const href of ['/console/', '/docs', '/openapi.json', '/sandbox/', '/healthz', '/readyz']) assert.ok(links.includes(href), `a link to ${href}`);
      assert.match((await page.textContent('main')) ?? '', /README\.md.*A five-minute walkthrough/s);
      // Each link leads somewhere: the docs render, the sandbox index is there, health answers.
      await Promise.all([page.waitForURL(/\/docs\/?$/), page.getByRole('link', { name: 'API reference' }).click()]);
      await page.waitForSelector('.swagger-ui .info .title', { timeout: 30_000 });
      await page.goto(`${hub.url}/`);
      await Promise.all([page.waitForURL(/\/sandbox\/$/), page.getByRole('link', { name: 'Sandbox' }).click()]);
      await page.getByRole('heading', { name: 'Sandbox', level: 1 }).waitFor();
      await page.goto(`${hub.url}/`);
      await Promise.all([page.waitForURL(/\/healthz$/), page.getByRole('link', { name: '/healthz' }).click()]);
      assert.match((await page.textContent('body')) ?? '', /"status":"ok"/);
    } finally {
      await page.close();
    }
  });

  it('a JSON client (or one that names no type) gets a small JSON document, never a 404', async () => {
    for (const accept of ['application/json', '*/*', undefined]) {
      const response = await fetch(`${hub.url}/`, { headers: accept ? { accept } : {} });
      assert.equal(response.status, 200, String(accept));
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      const body = await response.json();
      assert.equal(body.name, 'incasso');
      assert.deepEqual(body.links, {
        console: '/console/',
        docs: '/docs',
        openapi: '/openapi.json',
        sandbox: '/sandbox/',
        healthz: '/healthz',
        readyz: '/readyz',
      });
    }
  });
});

describe('/docs: the merchant API only, titled, tagged, with examples', () => {
  it('no emulator or sandbox path is in the document; every operation has a declared tag', async () => {
    const doc = await openapi();
    assert.equal(doc.info.title, 'incasso merchant API');
    const paths = Object.keys(doc.paths);
    assert.deepEqual(
      paths.filter((p) => p.startsWith('/sandbox') || p.startsWith('/notify') || p === '/'),
      [],
    );
    assert.ok(paths.includes('/v1/payments') && paths.includes('/healthz'));
    const declared = new Set((doc.tags as Array<{ name: string; description: string }>).map((t) => t.name));
    for (const t of doc.tags) assert.ok(t.description.length > 10, `tag ${t.name} is described`);
    for (const [path, operations] of Object.entries<Record<string, Operation>>(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        assert.ok(operation.tags?.length, `${method} ${path} has a tag`);
        for (const tag of operation.tags!) assert.ok(declared.has(tag), `${method} ${path}: tag ${tag} is declared`);
        assert.ok(operation.summary, `${method} ${path} has a summary`);
      }
    }
    // The emulators are still mounted: hidden from the document, not gone.
    assert.equal(
      (await fetch(`${hub.url}/sandbox/netopia/v1/accounts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status,
      201,
    );
  });

  it('the payment, party and refund schemas carry examples: RON, 4990, +40712345678, RO', async () => {
    const doc = await openapi();
    const create = doc.paths['/v1/payments'].post.requestBody.content['application/json'].schema;
    assert.deepEqual(create.properties.amount.examples, [4990]);
    assert.deepEqual(create.properties.currency.examples, ['RON']);
    assert.ok(create.properties.order_id.examples?.length && create.properties.description.examples?.length);
    // The payer's fields live in the shared Party schema, kept under its own name.
    assert.equal(create.properties.billing.$ref, '#/components/schemas/Party');
    const party = doc.components.schemas.Party;
    assert.deepEqual(party.properties.phone.examples, ['+40712345678']);
    assert.deepEqual(party.properties.country.examples, ['RO']);
    assert.ok(party.properties.email.examples?.[0]?.endsWith('.ro'));
    const refund = doc.paths['/v1/payments/{id}/refunds'].post.requestBody.content['application/json'].schema;
    assert.ok(Number.isInteger(refund.properties.amount.examples?.[0]));
  });

  it('the page is titled, has no framework logo or top bar, loads nothing from elsewhere, and shows the examples', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const requested: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    try {
      const response = await page.goto(`${hub.url}/docs/`);
      assert.match(response?.headers()['content-security-policy'] ?? '', /default-src 'none'/);
      await page.waitForSelector('.swagger-ui .info .title', { timeout: 30_000 });
      assert.equal(await page.title(), 'incasso merchant API');
      assert.match((await page.textContent('.swagger-ui .info .title')) ?? '', /incasso merchant API/);
      assert.equal(await page.locator('.topbar').filter({ visible: true }).count(), 0, 'no top bar');
      assert.equal(await page.locator('img').filter({ visible: true }).count(), 0, 'no logo image');
      const icons = await page.locator('link[rel="icon"]').evaluateAll((ls) => ls.map((l) => (l as HTMLLinkElement).href));
      assert.ok(icons.length > 0 && icons.every((href) => href.endsWith('/docs/static/theme/favicon.svg')), icons.join());
      assert.deepEqual(
        requested.filter((url) => !url.startsWith(hub.url) && !url.startsWith('data:')),
        [],
        'everything comes from the hub',
      );
      for (const tag of ['payments', 'refunds', 'connections', 'webhooks']) await page.locator(`.opblock-tag[data-tag="${tag}"]`).waitFor();
      await page.click('.opblock-post .opblock-summary-path[data-path="/v1/payments"]');
      const example = (await page.locator('.opblock.is-open .body-param__example, .opblock.is-open .microlight').first().textContent()) ?? '';
      assert.match(example, /"currency": "RON"/);
      assert.match(example, /"amount": 4990/);
      assert.match(example, /"phone": "\+40712345678"/);
    } finally {
      await page.close();
    }
  });
});

describe('/ without the sandbox', () => {
  it('a hub with the emulators off names no sandbox', async () => {
    const plain = await startTestHub({ emulators: false });
    try {
      const body = await (await fetch(`${plain.url}/`, { headers: { accept: 'application/json' } })).json();
      assert.equal(body.links.sandbox, undefined);
      const page = await (await fetch(`${plain.url}/`, { headers: { accept: 'text/html' } })).text();
      assert.ok(!page.includes('href="/sandbox/"'));
      assert.match(page, /INCASSO_EMULATORS=0/);
    } finally {
      await plain.close();
    }
  });
});
