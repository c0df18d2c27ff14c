import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { newId } from '../../src/core/ids.js';
import { apiClient, eventually, startTestHub, type ApiResponse, type TestHub } from '../support/hub.js';
import { sandboxCredentials } from '../support/netopia-v1.js';
import { startWebhookListener } from '../support/webhook-listener.js';

/**
 * The authorization matrix of the native API. Every route the hub documents under /v1 is called by every kind of
 * caller, on real resources owned by merchant A ("the owner"):
 *
 *   none            no Authorization header                                → 401
 *   wrong           a well-formed key nobody has                           → 401
 *   other           merchant B's key                                       → operator routes 403; A's resources 404
 *                                                                            (exactly like a resource that does not
 *                                                                            exist); collections list only B's data
 *   admin           the operator key without Incasso-Merchant              → operator routes allowed; merchant routes 403
 *   adminForOwner   the operator key naming A in Incasso-Merchant          → allowed everywhere, acting as A
 *   adminForOther   the operator key naming B                              → as `other`
 *   owner           A's key                                                → operator routes 403; everything else allowed
 *   ownerNamingOther A's key with Incasso-Merchant: B (must be ignored)    → as `owner`
 *
 * The routes come from the hub's own OpenAPI document: a route that appears there without a row in this matrix
 * fails the suite, so new routes get their authorization tested when they are added.
 */

const PRINCIPALS = ['none', 'wrong', 'other', 'admin', 'adminForOwner', 'adminForOther', 'owner', 'ownerNamingOther'] as const;
type Principal = (typeof PRINCIPALS)[number];

type Kind = 'operator' | 'self' | 'collection-read' | 'collection-create' | 'resource';

interface Case {
  /** Concrete path. */
  path: string;
  body?: unknown;
  /** The id of A's resource in the path or body, replaced by a never-issued id for the "does not exist" comparison. */
  ownedId?: string;
  /** After a refused call: the call had no effect. */
  unchanged?: () => Promise<void>;
  /** After an allowed call: it acted for the right merchant. */
  actedFor?: (merchant: 'A' | 'B', response: ApiResponse) => Promise<void>;
}

interface Endpoint {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** The OpenAPI path template. */
  route: string;
  kind: Kind;
  /** Status of an allowed call. */
  ok: number;
  /** Status when B (or the operator acting for B) names A's resource in a body rather than the path. */
  otherStatus?: number;
  /** Builds the request for one principal (fresh resources for routes that change them). */
  make: (who: Principal) => Promise<Case>;
  /** For collection reads: ids of A's that must be listed for A and never for B. */
  listed?: () => string[];
}

let hub: TestHub;
let listener: Awaited<ReturnType<typeof startWebhookListener>>;
let admin: ReturnType<typeof apiClient>;
const A = { id: '', key: '' };
const B = { id: '', key: '' };
let asA: ReturnType<typeof apiClient>;
let asB: ReturnType<typeof apiClient>;
/** A's resources. */
const owned = {
  connection: '',
  connectionCode: 'netopia',
  payment: '',
  endpoint: '',
  delivery: '',
  event: '',
  conversation: '',
  user: '',
  apiKey: '',
  invoice: '',
  series: '',
};

const sellerBody = (who: string) => ({ name: `Vânzător ${who}`, fiscal_code: 'RO18547290', address: 'Str. Mare 1', city: 'Iași', vat_payer: true });
const invoiceBody = (kind: 'invoice' | 'proforma') => ({
  kind,
  buyer: { type: 'company', name: 'Cumpărător SRL', fiscal_code: 'RO14080700' },
  lines: [{ description: 'Tort', quantity: 1, unit_price: 10000, vat_rate: 11 }],
});

/** A fresh document of A's: a draft, or issued. */
async function freshInvoice(kind: 'invoice' | 'proforma', issue: boolean): Promise<string> {
  const r = await asA('POST', '/v1/invoices', invoiceBody(kind));
  assert.equal(r.status, 201, JSON.stringify(r.body));
  if (issue) assert.equal((await asA('POST', `/v1/invoices/${r.body.id}/issue`)).status, 200);
  return r.body.id;
}

const billing = { first_name: 'Ana', last_name: 'Pop', email: 'ana@example.ro' };
const unique = () => randomBytes(4).toString('hex');

function headersFor(who: Principal): Record<string, string> {
  switch (who) {
    case 'none':
      return {};
    case 'wrong':
      return { authorization: `Bearer sk_${randomBytes(32).toString('base64url')}` };
    case 'other':
      return { authorization: `Bearer ${B.key}` };
    case 'admin':
      return { authorization: `Bearer ${hub.adminKey}` };
    case 'adminForOwner':
      return { authorization: `Bearer ${hub.adminKey}`, 'incasso-merchant': A.id };
    case 'adminForOther':
      return { authorization: `Bearer ${hub.adminKey}`, 'incasso-merchant': B.id };
    case 'owner':
      return { authorization: `Bearer ${A.key}` };
    case 'ownerNamingOther':
      return { authorization: `Bearer ${A.key}`, 'incasso-merchant': B.id };
  }
}

/** Which merchant an allowed call acts for. */
const actingAs = (who: Principal): 'A' | 'B' => (who === 'other' || who === 'adminForOther' ? 'B' : 'A');
const isAdmin = (who: Principal) => who === 'admin' || who === 'adminForOwner' || who === 'adminForOther';

/** The rule this suite enforces, per kind of route. */
function expectedStatus(e: Endpoint, who: Principal): number {
  if (who === 'none' || who === 'wrong') return 401;
  if (e.kind === 'operator') return isAdmin(who) ? e.ok : 403;
  if (who === 'admin') return 403;
  if (actingAs(who) === 'B') {
    if (e.kind === 'resource') return 404;
    if (e.otherStatus !== undefined) return e.otherStatus;
  }
  return e.ok;
}

async function call(method: string, path: string, who: Principal, body?: unknown): Promise<ApiResponse> {
  return apiClient(hub.url)(method, path, body, headersFor(who));
}

async function freshConnection(): Promise<{ id: string; code: string }> {
  const code = `c-${unique()}`;
  const r = await asA('POST', '/v1/connections', { code, provider: 'netopia-v1', environment: 'sandbox', credentials: sandboxCredentials() });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return { id: r.body.id, code };
}

async function freshEndpoint(): Promise<string> {
  const r = await asA('POST', '/v1/webhook-endpoints', { url: `${listener.url}?fresh=${unique()}`, events: ['payment.paid'] });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.id;
}

const ownerOf = async (path: string): Promise<'A' | 'B' | 'none'> => {
  if ((await asA('GET', path)).status === 200) return 'A';
  if ((await asB('GET', path)).status === 200) return 'B';
  return 'none';
};

const MATRIX: Endpoint[] = [
  // ---- operator
  {
    method: 'POST',
    route: '/v1/merchants',
    kind: 'operator',
    ok: 201,
    make: async (who) => {
      const name = `authz-${who}-${unique()}`;
      return {
        path: '/v1/merchants',
        body: { name },
        unchanged: async () =>
          assert.ok(!(await admin('GET', '/v1/merchants')).body.data.some((m: { name: string }) => m.name === name), 'a refused call created a merchant'),
      };
    },
  },
  { method: 'GET', route: '/v1/merchants', kind: 'operator', ok: 200, make: async () => ({ path: '/v1/merchants' }) },
  {
    method: 'POST',
    route: '/v1/onpay/partners',
    kind: 'operator',
    ok: 201,
    make: async () => {
      const name = `partner-${unique()}`;
      return {
        path: '/v1/onpay/partners',
        body: { name },
        unchanged: async () =>
          assert.ok(!(await admin('GET', '/v1/merchants')).body.data.some((m: { name: string }) => m.name === name), 'a refused call registered a partner'),
      };
    },
  },
  {
    method: 'POST',
    route: '/v1/merchants/{id}/rotate-key',
    kind: 'operator',
    ok: 200,
    make: async () => {
      const target = await admin('POST', '/v1/merchants', { name: `rotate-target-${unique()}` });
      return {
        path: `/v1/merchants/${target.body.id}/rotate-key`,
        unchanged: async () =>
          assert.equal((await apiClient(hub.url, target.body.api_key)('GET', '/v1/merchant')).status, 200, 'a refused call rotated the key'),
      };
    },
  },
  // ---- console users
  {
    method: 'POST',
    route: '/v1/users',
    kind: 'operator',
    ok: 201,
    make: async (who) => {
      const email = `authz-${who.toLowerCase()}-${unique()}@ops.example`;
      return {
        path: '/v1/users',
        body: { email, role: 'operator' },
        unchanged: async () => assert.equal((await admin('POST', '/v1/users', { email, role: 'operator' })).status, 201, 'a refused call created the user'),
      };
    },
  },
  {
    method: 'POST',
    route: '/v1/merchant/users',
    kind: 'collection-create',
    ok: 201,
    make: async (who) => {
      const email = `authz-${who.toLowerCase()}-${unique()}@merchant.example`;
      const listedFor = async (api: ReturnType<typeof apiClient>) =>
        (await api('GET', '/v1/merchant/users')).body.data.some((u: { email: string }) => u.email === email);
      return {
        path: '/v1/merchant/users',
        body: { email, role: 'viewer' },
        unchanged: async () => assert.ok(!(await listedFor(asA)) && !(await listedFor(asB)), 'a refused call created a user'),
        actedFor: async (m) => assert.deepEqual([await listedFor(asA), await listedFor(asB)], m === 'A' ? [true, false] : [false, true]),
      };
    },
  },
  {
    method: 'GET',
    route: '/v1/merchant/users',
    kind: 'collection-read',
    ok: 200,
    make: async () => ({ path: '/v1/merchant/users' }),
    listed: () => [owned.user],
  },
  // ---- API keys
  {
    method: 'GET',
    route: '/v1/merchant/api-keys',
    kind: 'collection-read',
    ok: 200,
    make: async () => ({ path: '/v1/merchant/api-keys' }),
    listed: () => [owned.apiKey],
  },
  {
    method: 'POST',
    route: '/v1/merchant/api-keys',
    kind: 'collection-create',
    ok: 201,
    make: async (who) => {
      const name = `authz-${who}-${unique()}`;
      const listedFor = async (api: ReturnType<typeof apiClient>) =>
        (await api('GET', '/v1/merchant/api-keys')).body.data.some((k: { name: string }) => k.name === name);
      return {
        path: '/v1/merchant/api-keys',
        body: { name },
        unchanged: async () => assert.ok(!(await listedFor(asA)) && !(await listedFor(asB)), 'a refused call created a key'),
        actedFor: async (m, r) => {
          assert.deepEqual([await listedFor(asA), await listedFor(asB)], m === 'A' ? [true, false] : [false, true]);
          assert.equal((await apiClient(hub.url, r.body.api_key)('GET', '/v1/merchant')).body.id, m === 'A' ? A.id : B.id, 'the new key works');
        },
      };
    },
  },
  {
    method: 'DELETE',
    route: '/v1/merchant/api-keys/{id}',
    kind: 'resource',
    ok: 200,
    make: async () => {
      const fresh = await asA('POST', '/v1/merchant/api-keys', { name: `to-revoke-${unique()}` });
      assert.equal(fresh.status, 201, JSON.stringify(fresh.body));
      return {
        path: `/v1/merchant/api-keys/${fresh.body.id}`,
        ownedId: fresh.body.id,
        unchanged: async () =>
          assert.equal((await apiClient(hub.url, fresh.body.api_key)('GET', '/v1/merchant')).status, 200, 'a refused call revoked the key'),
        actedFor: async () => assert.equal((await apiClient(hub.url, fresh.body.api_key)('GET', '/v1/merchant')).status, 401, 'the revoked key still works'),
      };
    },
  },
  // ---- the caller's own merchant
  {
    method: 'GET',
    route: '/v1/merchant',
    kind: 'self',
    ok: 200,
    make: async () => ({ path: '/v1/merchant', actedFor: async (m, r) => assert.equal(r.body.id, m === 'A' ? A.id : B.id) }),
  },
  // ---- connections
  {
    method: 'POST',
    route: '/v1/connections',
    kind: 'collection-create',
    ok: 201,
    make: async () => {
      const code = `authz-${unique()}`;
      return {
        path: '/v1/connections',
        body: { code, provider: 'netopia-v1', environment: 'sandbox', credentials: sandboxCredentials() },
        unchanged: async () => assert.equal(await ownerOf(`/v1/connections/${code}`), 'none', 'a refused call created a connection'),
        actedFor: async (m) => assert.equal(await ownerOf(`/v1/connections/${code}`), m),
      };
    },
  },
  {
    method: 'GET',
    route: '/v1/connections',
    kind: 'collection-read',
    ok: 200,
    make: async () => ({ path: '/v1/connections' }),
    listed: () => [owned.connection],
  },
  {
    method: 'GET',
    route: '/v1/connections/{id}',
    kind: 'resource',
    ok: 200,
    make: async () => ({ path: `/v1/connections/${owned.connection}`, ownedId: owned.connection }),
  },
  {
    method: 'PATCH',
    route: '/v1/connections/{id}',
    kind: 'resource',
    ok: 200,
    make: async () => {
      const c = await freshConnection();
      return {
        path: `/v1/connections/${c.id}`,
        body: { settings: { language: 'de' } },
        ownedId: c.id,
        unchanged: async () => assert.equal((await asA('GET', `/v1/connections/${c.id}`)).body.settings.language, 'ro', 'a refused call changed the settings'),
        actedFor: async () => assert.equal((await asA('GET', `/v1/connections/${c.id}`)).body.settings.language, 'de'),
      };
    },
  },
  {
    method: 'POST',
    route: '/v1/connections/{id}/disable',
    kind: 'resource',
    ok: 200,
    make: async () => {
      const c = await freshConnection();
      return {
        path: `/v1/connections/${c.id}/disable`,
        ownedId: c.id,
        unchanged: async () => assert.equal((await asA('GET', `/v1/connections/${c.id}`)).body.status, 'active', 'a refused call disabled the connection'),
        actedFor: async () => assert.equal((await asA('GET', `/v1/connections/${c.id}`)).body.status, 'disabled'),
      };
    },
  },
  // ---- payments
  {
    method: 'POST',
    route: '/v1/payments',
    kind: 'collection-create',
    ok: 201,
    otherStatus: 422,
    make: async () => {
      const order = `authz-${unique()}`;
      return {
        path: '/v1/payments',
        // A's connection by id: for B it must be "not one of your connections", exactly as an id that does not exist
        body: { connection: owned.connection, order_id: order, amount: 1500, currency: 'RON', description: 'Ceai', billing },
        ownedId: owned.connection,
        unchanged: async () => {
          assert.equal((await asA('GET', `/v1/payments?order_id=${order}`)).body.data.length, 0, 'a refused call created a payment for A');
          assert.equal((await asB('GET', `/v1/payments?order_id=${order}`)).body.data.length, 0, 'a refused call created a payment for B');
        },
        actedFor: async (m, r) => assert.equal(await ownerOf(`/v1/payments/${r.body.id}`), m),
      };
    },
  },
  { method: 'GET', route: '/v1/payments', kind: 'collection-read', ok: 200, make: async () => ({ path: '/v1/payments' }), listed: () => [owned.payment] },
  {
    method: 'GET',
    route: '/v1/payments/{id}',
    kind: 'resource',
    ok: 200,
    make: async () => ({ path: `/v1/payments/${owned.payment}`, ownedId: owned.payment }),
  },
  {
    method: 'POST',
    route: '/v1/payments/{id}/cancel',
    kind: 'resource',
    ok: 200,
    make: async () => {
      // A fresh pending payment of A's each time: a refused call must leave it pending, an allowed one cancel it.
      const r = await asA('POST', '/v1/payments', {
        connection: owned.connection,
        order_id: `authz-cancel-${unique()}`,
        amount: 1500,
        currency: 'RON',
        description: 'Ceai',
        billing,
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const id = r.body.id as string;
      return {
        path: `/v1/payments/${id}/cancel`,
        ownedId: id,
        unchanged: async () => assert.equal((await asA('GET', `/v1/payments/${id}`)).body.status, 'pending', 'a refused call canceled the payment'),
        actedFor: async (_m, response) => {
          assert.equal(response.body.status, 'canceled');
          assert.equal((await asA('GET', `/v1/payments/${id}`)).body.status, 'canceled');
        },
      };
    },
  },
  // ---- webhooks
  {
    method: 'POST',
    route: '/v1/webhook-endpoints',
    kind: 'collection-create',
    ok: 201,
    make: async () => {
      const url = `${listener.url}?authz=${unique()}`;
      const ownersOfUrl = async () => {
        const a = (await asA('GET', '/v1/webhook-endpoints')).body.data.some((e: { url: string }) => e.url === url);
        const b = (await asB('GET', '/v1/webhook-endpoints')).body.data.some((e: { url: string }) => e.url === url);
        return a ? 'A' : b ? 'B' : 'none';
      };
      return {
        path: '/v1/webhook-endpoints',
        body: { url, events: ['payment.paid'] },
        unchanged: async () => assert.equal(await ownersOfUrl(), 'none', 'a refused call created a webhook endpoint'),
        actedFor: async (m, r) => {
          assert.match(r.body.secret, /^whsec_/);
          assert.equal(await ownersOfUrl(), m);
        },
      };
    },
  },
  {
    method: 'GET',
    route: '/v1/webhook-endpoints',
    kind: 'collection-read',
    ok: 200,
    make: async () => ({ path: '/v1/webhook-endpoints' }),
    listed: () => [owned.endpoint],
  },
  {
    method: 'GET',
    route: '/v1/webhook-endpoints/{id}',
    kind: 'resource',
    ok: 200,
    make: async () => ({ path: `/v1/webhook-endpoints/${owned.endpoint}`, ownedId: owned.endpoint }),
  },
  {
    method: 'PATCH',
    route: '/v1/webhook-endpoints/{id}',
    kind: 'resource',
    ok: 200,
    make: async () => {
      const id = await freshEndpoint();
      return {
        path: `/v1/webhook-endpoints/${id}`,
        body: { url: 'https://attacker.example/hooks' },
        ownedId: id,
        unchanged: async () =>
          assert.notEqual(
            (await asA('GET', `/v1/webhook-endpoints/${id}`)).body.url,
            'https://attacker.example/hooks',
            'a refused call redirected the webhooks',
          ),
        actedFor: async () => assert.equal((await asA('GET', `/v1/webhook-endpoints/${id}`)).body.url, 'https://attacker.example/hooks'),
      };
    },
  },
  {
    method: 'POST',
    route: '/v1/webhook-endpoints/{id}/rotate-secret',
    kind: 'resource',
    ok: 200,
    make: async () => {
      const id = await freshEndpoint();
      const before = (await asA('GET', `/v1/webhook-endpoints/${id}`)).body.updated_at;
      return {
        path: `/v1/webhook-endpoints/${id}/rotate-secret`,
        ownedId: id,
        unchanged: async () => assert.equal((await asA('GET', `/v1/webhook-endpoints/${id}`)).body.updated_at, before, 'a refused call rotated the secret'),
      };
    },
  },
  {
    method: 'GET',
    route: '/v1/webhook-endpoints/{id}/deliveries',
    kind: 'resource',
    ok: 200,
    make: async () => ({ path: `/v1/webhook-endpoints/${owned.endpoint}/deliveries`, ownedId: owned.endpoint }),
  },
  {
    method: 'GET',
    route: '/v1/webhook-deliveries/{id}',
    kind: 'resource',
    ok: 200,
    make: async () => ({ path: `/v1/webhook-deliveries/${owned.delivery}`, ownedId: owned.delivery }),
  },
  {
    method: 'POST',
    route: '/v1/webhook-deliveries/{id}/redeliver',
    kind: 'resource',
    ok: 202,
    make: async () => {
      // settled first, so that an earlier allowed redelivery cannot change it under the check
      const before = await eventually(
        async () => {
          const d = (await asA('GET', `/v1/webhook-deliveries/${owned.delivery}`)).body;
          return d.status === 'succeeded' && d;
        },
        10_000,
        'the delivery to settle',
      );
      return {
        path: `/v1/webhook-deliveries/${owned.delivery}/redeliver`,
        ownedId: owned.delivery,
        unchanged: async () => {
          const now = (await asA('GET', `/v1/webhook-deliveries/${owned.delivery}`)).body;
          assert.deepEqual([now.status, now.attempts], [before.status, before.attempts], 'a refused call queued a redelivery');
        },
      };
    },
  },
  { method: 'GET', route: '/v1/events', kind: 'collection-read', ok: 200, make: async () => ({ path: '/v1/events' }), listed: () => [owned.event] },
  {
    // A's payment is unpaid, so even A is refused (422) — after authorization, which B never passes (404).
    method: 'POST',
    route: '/v1/payments/{id}/refunds',
    kind: 'resource',
    ok: 422,
    make: async () => ({
      path: `/v1/payments/${owned.payment}/refunds`,
      body: { amount: 100 },
      ownedId: owned.payment,
      unchanged: async () => assert.equal((await asA('GET', `/v1/payments/${owned.payment}/refunds`)).body.data.length, 0, 'a refused call wrote a refund'),
    }),
  },
  {
    method: 'GET',
    route: '/v1/payments/{id}/refunds',
    kind: 'resource',
    ok: 200,
    make: async () => ({ path: `/v1/payments/${owned.payment}/refunds`, ownedId: owned.payment }),
  },
  {
    method: 'POST',
    route: '/v1/payment-steps',
    kind: 'collection-create',
    ok: 201,
    make: async () => {
      const conversation = `conv_${unique()}`;
      const stepOf = async (api: typeof asA) => (await api('GET', `/v1/payment-steps/${conversation}`)).status;
      return {
        path: '/v1/payment-steps',
        body: { connection: owned.connectionCode, conversation_id: conversation, Payment: STEP_FIELDS },
        unchanged: async () => assert.deepEqual([await stepOf(asA), await stepOf(asB)], [404, 404], 'a refused call created a payment step'),
        actedFor: async (m, r) => assert.equal(await ownerOf(`/v1/payments/${r.body.payment_id}`), m),
      };
    },
  },
  {
    method: 'GET',
    route: '/v1/payment-steps/{conversation_id}',
    kind: 'resource',
    ok: 200,
    make: async () => ({ path: `/v1/payment-steps/${owned.conversation}`, ownedId: owned.conversation }),
  },
  // ---- invoices
  {
    method: 'POST',
    route: '/v1/invoices',
    kind: 'collection-create',
    ok: 201,
    make: async () => {
      const notes = `authz-${unique()}`;
      const mine = async (api: ReturnType<typeof apiClient>) =>
        (await api('GET', '/v1/invoices?status=draft&limit=100')).body.data.some((i: { notes: string }) => i.notes === notes);
      return {
        path: '/v1/invoices',
        body: { ...invoiceBody('invoice'), notes },
        unchanged: async () => assert.ok(!(await mine(asA)) && !(await mine(asB)), 'a refused call created an invoice'),
        actedFor: async (m, r) => assert.equal(await ownerOf(`/v1/invoices/${r.body.id}`), m),
      };
    },
  },
  { method: 'GET', route: '/v1/invoices', kind: 'collection-read', ok: 200, make: async () => ({ path: '/v1/invoices' }), listed: () => [owned.invoice] },
  {
    method: 'GET',
    route: '/v1/invoices/{id}',
    kind: 'resource',
    ok: 200,
    make: async () => ({ path: `/v1/invoices/${owned.invoice}`, ownedId: owned.invoice }),
  },
  {
    method: 'PATCH',
    route: '/v1/invoices/{id}',
    kind: 'resource',
    ok: 200,
    make: async () => {
      const id = await freshInvoice('invoice', false);
      return {
        path: `/v1/invoices/${id}`,
        body: { notes: 'schimbat' },
        ownedId: id,
        unchanged: async () => assert.equal((await asA('GET', `/v1/invoices/${id}`)).body.notes, null, 'a refused call changed the draft'),
        actedFor: async () => assert.equal((await asA('GET', `/v1/invoices/${id}`)).body.notes, 'schimbat'),
      };
    },
  },
  {
    method: 'DELETE',
    route: '/v1/invoices/{id}',
    kind: 'resource',
    ok: 200,
    make: async () => {
      const id = await freshInvoice('invoice', false);
      return {
        path: `/v1/invoices/${id}`,
        ownedId: id,
        unchanged: async () => assert.equal((await asA('GET', `/v1/invoices/${id}`)).status, 200, 'a refused call deleted the draft'),
        actedFor: async () => assert.equal((await asA('GET', `/v1/invoices/${id}`)).status, 404),
      };
    },
  },
  {
    method: 'POST',
    route: '/v1/invoices/{id}/issue',
    kind: 'resource',
    ok: 200,
    make: async () => {
      const id = await freshInvoice('invoice', false);
      return {
        path: `/v1/invoices/${id}/issue`,
        ownedId: id,
        unchanged: async () => assert.equal((await asA('GET', `/v1/invoices/${id}`)).body.status, 'draft', 'a refused call issued the draft'),
        actedFor: async () => assert.equal((await asA('GET', `/v1/invoices/${id}`)).body.status, 'issued'),
      };
    },
  },
  {
    method: 'POST',
    route: '/v1/invoices/{id}/cancel',
    kind: 'resource',
    ok: 200,
    make: async () => {
      const id = await freshInvoice('proforma', true);
      return {
        path: `/v1/invoices/${id}/cancel`,
        ownedId: id,
        unchanged: async () => assert.equal((await asA('GET', `/v1/invoices/${id}`)).body.status, 'issued', 'a refused call canceled the proforma'),
        actedFor: async () => assert.equal((await asA('GET', `/v1/invoices/${id}`)).body.status, 'canceled'),
      };
    },
  },
  {
    method: 'POST',
    route: '/v1/invoices/{id}/storno',
    kind: 'resource',
    ok: 201,
    make: async () => {
      const id = await freshInvoice('invoice', true);
      return {
        path: `/v1/invoices/${id}/storno`,
        ownedId: id,
        unchanged: async () =>
          assert.equal(
            (await asA('GET', '/v1/invoices?limit=100')).body.data.filter((i: { storno_of_id: string }) => i.storno_of_id === id).length,
            0,
            'a refused call made a storno',
          ),
        actedFor: async (_m, r) => assert.equal((await asA('GET', `/v1/invoices/${r.body.id}`)).body.storno_of_id, id),
      };
    },
  },
  {
    method: 'POST',
    route: '/v1/invoices/{id}/convert',
    kind: 'resource',
    ok: 201,
    make: async () => {
      const id = await freshInvoice('proforma', true);
      return {
        path: `/v1/invoices/${id}/convert`,
        ownedId: id,
        unchanged: async () => assert.equal((await asA('GET', `/v1/invoices/${id}`)).body.related_invoice_id, null, 'a refused call converted the proforma'),
        actedFor: async (_m, r) => assert.equal((await asA('GET', `/v1/invoices/${id}`)).body.related_invoice_id, r.body.id),
      };
    },
  },
  {
    method: 'GET',
    route: '/v1/invoices/{id}/collections',
    kind: 'resource',
    ok: 200,
    make: async () => ({ path: `/v1/invoices/${owned.invoice}/collections`, ownedId: owned.invoice }),
  },
  {
    method: 'GET',
    route: '/v1/invoices/{id}/attempts',
    kind: 'resource',
    ok: 200,
    make: async () => ({ path: `/v1/invoices/${owned.invoice}/attempts`, ownedId: owned.invoice }),
  },
  {
    method: 'POST',
    route: '/v1/invoice-series',
    kind: 'collection-create',
    ok: 201,
    make: async () => {
      const prefix = `Z${unique()}`;
      const holder = async (): Promise<'A' | 'B' | 'none'> => {
        const has = async (api: ReturnType<typeof apiClient>) =>
          (await api('GET', '/v1/invoice-series')).body.data.some((x: { prefix: string }) => x.prefix === prefix);
        return (await has(asA)) ? 'A' : (await has(asB)) ? 'B' : 'none';
      };
      return {
        path: '/v1/invoice-series',
        body: { kind: 'invoice', prefix },
        unchanged: async () => assert.equal(await holder(), 'none', 'a refused call created a series'),
        actedFor: async (m) => assert.equal(await holder(), m),
      };
    },
  },
  {
    method: 'GET',
    route: '/v1/invoice-series',
    kind: 'collection-read',
    ok: 200,
    make: async () => ({ path: '/v1/invoice-series' }),
    listed: () => [owned.series],
  },
  {
    method: 'GET',
    route: '/v1/invoice-series/{id}',
    kind: 'resource',
    ok: 200,
    make: async () => ({ path: `/v1/invoice-series/${owned.series}`, ownedId: owned.series }),
  },
  {
    method: 'PATCH',
    route: '/v1/invoice-series/{id}',
    kind: 'resource',
    ok: 200,
    make: async () => {
      const r = await asA('POST', '/v1/invoice-series', { kind: 'proforma', prefix: `P${unique()}` });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const id = r.body.id;
      return {
        path: `/v1/invoice-series/${id}`,
        body: { padding: 5 },
        ownedId: id,
        unchanged: async () => assert.equal((await asA('GET', `/v1/invoice-series/${id}`)).body.padding, 0, 'a refused call changed the series'),
        actedFor: async () => assert.equal((await asA('GET', `/v1/invoice-series/${id}`)).body.padding, 5),
      };
    },
  },
  {
    method: 'GET',
    route: '/v1/invoice-settings',
    kind: 'self',
    ok: 200,
    make: async () => ({
      path: '/v1/invoice-settings',
      // A's settings have card payment on; B's are as new
      actedFor: async (m, r) => assert.equal(r.body.card_payment_default, m === 'A'),
    }),
  },
  {
    method: 'PUT',
    route: '/v1/invoice-settings',
    kind: 'self',
    ok: 200,
    make: async () => ({
      path: '/v1/invoice-settings',
      body: { auto_collection: true },
      unchanged: async () => assert.equal((await asA('GET', '/v1/invoice-settings')).body.auto_collection, false, 'a refused call changed the settings'),
      actedFor: async (m) => {
        const api = m === 'A' ? asA : asB;
        assert.equal((await api('GET', '/v1/invoice-settings')).body.auto_collection, true);
        await api('PUT', '/v1/invoice-settings', { auto_collection: false });
      },
    }),
  },
  {
    method: 'GET',
    route: '/v1/seller-profile',
    kind: 'self',
    ok: 200,
    make: async () => ({ path: '/v1/seller-profile', actedFor: async (m, r) => assert.equal(r.body.name, `Vânzător ${m}`) }),
  },
  {
    method: 'PUT',
    route: '/v1/seller-profile',
    kind: 'self',
    ok: 200,
    make: async () => ({
      path: '/v1/seller-profile',
      body: sellerBody('X'),
      unchanged: async () => assert.equal((await asA('GET', '/v1/seller-profile')).body.name, 'Vânzător A', 'a refused call changed the profile'),
      actedFor: async (m) => {
        const api = m === 'A' ? asA : asB;
        assert.equal((await api('GET', '/v1/seller-profile')).body.name, 'Vânzător X');
        await api('PUT', '/v1/seller-profile', sellerBody(m));
      },
    }),
  },
];

/** A conversation's collected billing fields, in the chat flow's names. */
const STEP_FIELDS = {
  Amount: '25.99',
  Currency: 'RON',
  Email: 'ana@example.ro',
  Phone: '+40712345678',
  FirstName: 'Ana',
  LastName: 'Pop',
  City: 'Cluj-Napoca',
  Country: 642,
  State: 'Cluj',
  ZipCode: '400001',
  Details: 'Str. Memorandumului 1',
};

const matrixKey = (method: string, route: string) => `${method.toUpperCase()} ${route}`;

before(async () => {
  [hub, listener] = await Promise.all([startTestHub({ emulators: false, outboundAllow: '127.0.0.1' }), startWebhookListener()]);
  admin = apiClient(hub.url, hub.adminKey);
  for (const [m, name] of [
    [A, 'Merchant A'],
    [B, 'Merchant B'],
  ] as const) {
    const r = await admin('POST', '/v1/merchants', { name });
    assert.equal(r.status, 201);
    m.id = r.body.id;
    m.key = r.body.api_key;
  }
  asA = apiClient(hub.url, A.key);
  asB = apiClient(hub.url, B.key);
  // Both merchants have a connection with the same code, a webhook endpoint and a payment: B's data must
  // never show up for A and the other way round.
  for (const api of [asA, asB]) {
    const c = await api('POST', '/v1/connections', {
      code: owned.connectionCode,
      provider: 'netopia-v1',
      environment: 'sandbox',
      credentials: sandboxCredentials(),
    });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const e = await api('POST', '/v1/webhook-endpoints', { url: listener.url });
    assert.equal(e.status, 201);
    const p = await api('POST', '/v1/payments', {
      connection: owned.connectionCode,
      order_id: 'AUTHZ-1',
      amount: 2599,
      currency: 'RON',
      description: 'Abonament',
      billing,
    });
    assert.equal(p.status, 201, JSON.stringify(p.body));
    if (api === asA) Object.assign(owned, { connection: c.body.id, endpoint: e.body.id, payment: p.body.id });
  }
  owned.conversation = `conv_${unique()}`;
  const user = await asA('POST', '/v1/merchant/users', { email: `owner-${unique()}@a.example`, role: 'viewer' });
  assert.equal(user.status, 201, JSON.stringify(user.body));
  owned.user = user.body.id;
  owned.apiKey = (await asA('GET', '/v1/merchant/api-keys')).body.data[0].id;
  const step = await asA('POST', '/v1/payment-steps', { connection: owned.connectionCode, conversation_id: owned.conversation, Payment: STEP_FIELDS });
  assert.equal(step.status, 201, JSON.stringify(step.body));
  const delivery = await eventually(
    async () => (await asA('GET', `/v1/webhook-endpoints/${owned.endpoint}/deliveries`)).body.data.at(-1),
    10_000,
    "a delivery of A's payment.created",
  );
  owned.delivery = delivery.id;
  owned.event = delivery.event_id;
  await eventually(async () => (await asA('GET', `/v1/webhook-deliveries/${owned.delivery}`)).body.status === 'succeeded', 10_000, 'the delivery to settle');
  // Invoices: both merchants have a seller profile and series; A has card payment on by default and an invoice.
  for (const [api, who] of [
    [asA, 'A'],
    [asB, 'B'],
  ] as const) {
    assert.equal((await api('PUT', '/v1/seller-profile', sellerBody(who))).status, 200);
    for (const kind of ['invoice', 'proforma'])
      assert.equal((await api('POST', '/v1/invoice-series', { kind, prefix: kind === 'invoice' ? 'F' : 'PF' })).status, 201);
  }
  owned.series = (await asA('GET', '/v1/invoice-series')).body.data[0].id;
  assert.equal((await asA('PUT', '/v1/invoice-settings', { card_payment_default: true })).status, 200);
  owned.invoice = await freshInvoice('invoice', true);
});

after(async () => {
  await hub?.close();
  await listener?.close();
});

/** A's ids, which B must never see. */
const aIds = () => [
  A.id,
  owned.connection,
  owned.payment,
  owned.endpoint,
  owned.delivery,
  owned.event,
  owned.conversation,
  owned.user,
  owned.apiKey,
  owned.invoice,
  owned.series,
];

/** The same answer with ids masked, for "looks like it does not exist". */
const masked = (r: ApiResponse, ids: string[]) => {
  let text = JSON.stringify(r.body);
  for (const id of ids) text = text.split(id).join('<id>');
  return { status: r.status, body: text };
};

describe('the route list comes from the hub', () => {
  it('every /v1 route of the OpenAPI document has a row in the matrix, and every row is still a documented route', async () => {
    const spec = await apiClient(hub.url)('GET', '/openapi.json');
    assert.equal(spec.status, 200);
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries(spec.body.paths as Record<string, Record<string, unknown>>)) {
      if (!path.startsWith('/v1/')) continue;
      for (const method of Object.keys(ops)) if (['get', 'post', 'put', 'patch', 'delete'].includes(method)) documented.add(matrixKey(method, path));
    }
    const covered = new Set(MATRIX.map((e) => matrixKey(e.method, e.route)));
    assert.deepEqual(
      [...documented].filter((k) => !covered.has(k)).sort(),
      [],
      'routes without authorization rows: add them to MATRIX in test/hostile/authorization.test.ts',
    );
    assert.deepEqual([...covered].filter((k) => !documented.has(k)).sort(), [], 'rows for routes the hub no longer documents');
    assert.equal(covered.size, MATRIX.length, 'one row per route');
  });

  it('no /v1 route is hidden from the OpenAPI document (where the matrix would not see it)', async () => {
    const spec = await apiClient(hub.url)('GET', '/openapi.json');
    const documented = new Set(Object.keys(spec.body.paths).filter((p) => p.startsWith('/v1/')));
    // printRoutes draws a tree; rebuild each full path from the indentation.
    const registered = new Set<string>();
    const stack: string[] = [];
    for (const line of hub.app.printRoutes({ commonPrefix: false }).split('\n')) {
      const m = /^([│ ]*)[├└]── (.*?)(?: \(([^)]*)\))?$/.exec(line);
      if (!m) continue;
      const depth = m[1]!.length / 4;
      stack.length = depth;
      const full = (stack[depth - 1] ?? '') + m[2];
      stack[depth] = full;
      const methods = (m[3] ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s && s !== 'HEAD');
      if (full.startsWith('/v1/') && methods.length) registered.add(full.replace(/:([A-Za-z_]+)/g, '{$1}'));
    }
    assert.ok(registered.has('/v1/payments/{id}') && registered.size >= 10, `could not read the route tree: ${[...registered].join(', ')}`);
    assert.deepEqual([...registered].filter((p) => !documented.has(p)).sort(), []);
  });
});

describe('authorization matrix: every /v1 route × every kind of caller', () => {
  for (const e of MATRIX) {
    it(`${e.method} ${e.route}`, async () => {
      const wrong: string[] = [];
      for (const who of PRINCIPALS) {
        const c = await e.make(who);
        const expected = expectedStatus(e, who);
        const r = await call(e.method, c.path, who, c.body);
        const where = `${who}: ${e.method} ${c.path}`;
        if (r.status !== expected) {
          wrong.push(`${where} → ${r.status} (expected ${expected}) ${JSON.stringify(r.body).slice(0, 160)}`);
          continue;
        }
        if (expected >= 400) {
          if (!/^application\/problem\+json/.test(r.headers.get('content-type') ?? '') || r.body.status !== expected)
            wrong.push(`${where} → ${expected} but not as a problem document`);
          if (expected === 401 && r.headers.get('www-authenticate') !== 'Bearer realm="incasso"') wrong.push(`${where} → 401 without WWW-Authenticate: Bearer`);
          await c.unchanged?.();
        }
        // B must not be able to tell A's resource from one that was never created.
        if (actingAs(who) === 'B' && expected !== e.ok && c.ownedId) {
          const phantom = newId(c.ownedId.split('_')[0]!);
          const body = c.body === undefined ? undefined : JSON.parse(JSON.stringify(c.body).split(c.ownedId).join(phantom));
          const p = await call(e.method, c.path.split(c.ownedId).join(phantom), who, body);
          const [seen, never] = [masked(r, [c.ownedId]), masked(p, [phantom])];
          if (JSON.stringify(seen) !== JSON.stringify(never))
            wrong.push(`${where}: A's resource answers ${JSON.stringify(seen)}, a never-created one ${JSON.stringify(never)}`);
        }
        if (expected === e.ok && e.kind !== 'operator') {
          const text = JSON.stringify(r.body);
          if (actingAs(who) === 'B') {
            const leaked = aIds().filter((id) => text.includes(id));
            if (leaked.length) wrong.push(`${where} acting for B shows A's ids ${leaked.join(', ')}`);
          } else {
            const missing = (e.listed?.() ?? []).filter((id) => !text.includes(id));
            if (missing.length) wrong.push(`${where} acting for A does not list A's ${missing.join(', ')}`);
          }
          await c.actedFor?.(actingAs(who), r);
        }
        // HEAD mirrors GET's authorization.
        if (e.method === 'GET') {
          const h = await fetch(hub.url + c.path, { method: 'HEAD', headers: headersFor(who) });
          if (h.status !== expected) wrong.push(`${who}: HEAD ${c.path} → ${h.status} (expected ${expected})`);
        }
      }
      assert.deepEqual(wrong, []);
    });
  }
});

describe('authentication comes first', () => {
  /** A request that is invalid in some other way as well: a bad body, a too-long id, a bad query. */
  function invalidRequest(e: Endpoint): { path: string; body?: unknown } {
    const longId = 'x'.repeat(65);
    const path = e.route.replace('{id}', longId);
    if (e.method === 'GET') return { path: path === e.route ? `${path}?limit=0&bogus=1` : path };
    return { path, body: { bogus: true } };
  }

  it('a caller without a valid key gets 401 before the request is validated (no schema feedback for strangers)', async () => {
    const wrong: string[] = [];
    for (const e of MATRIX) {
      const req = invalidRequest(e);
      for (const who of ['none', 'wrong'] as const) {
        const r = await call(e.method, req.path, who, req.body);
        if (r.status !== 401) wrong.push(`${who}: ${e.method} ${req.path.slice(0, 50)} → ${r.status} ${r.body?.title ?? ''}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('a merchant key on an operator route gets 403 before the request is validated', async () => {
    const wrong: string[] = [];
    for (const e of MATRIX.filter((x) => x.kind === 'operator')) {
      const req = invalidRequest(e);
      const r = await call(e.method, req.path, 'owner', req.body);
      if (r.status !== 403) wrong.push(`owner: ${e.method} ${req.path.slice(0, 50)} → ${r.status} ${r.body?.title ?? ''}`);
    }
    assert.deepEqual(wrong, []);
  });

  it('malformed Authorization headers are 401, never a match by prefix or a 5xx', async () => {
    const variants = [
      'Bearer',
      'Bearer ',
      `Basic ${Buffer.from(`${A.key}:`).toString('base64')}`,
      `Token ${A.key}`,
      `Bearer ${A.key} ${A.key}`,
      `Bearer ${A.key.slice(0, -1)}`,
      `Bearer ${A.key}x`,
      `Bearer ${A.key.toUpperCase()}`,
      `Bearer ${hub.adminKey.slice(0, -1)}`,
      'Bearer sk_',
      'Bearer adm_',
      `Bearer ${'A'.repeat(8000)}`,
    ];
    const wrong: string[] = [];
    for (const authorization of variants) {
      for (const path of ['/v1/payments', '/v1/merchants', '/v1/merchant']) {
        const r = await fetch(hub.url + path, { headers: { authorization } });
        if (r.status !== 401) wrong.push(`${authorization.slice(0, 40)}… on ${path} → ${r.status}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('the operator naming a merchant that does not exist gets 404, and acts for nobody', async () => {
    for (const name of ['mer_00000000000000000000000000', '', A.id.toUpperCase(), `${A.id}x`, `${A.id},${A.id}`]) {
      const r = await apiClient(hub.url, hub.adminKey)('GET', '/v1/payments', undefined, { 'incasso-merchant': name });
      assert.ok(r.status === 404 || r.status === 403, `Incasso-Merchant ${JSON.stringify(name)} → ${r.status}`);
      assert.ok(!JSON.stringify(r.body).includes(owned.payment));
    }
  });
});
