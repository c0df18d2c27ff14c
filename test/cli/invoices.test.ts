import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { apiClient, startTestHub, type TestHub } from '../support/hub.js';

/** `incasso invoices list|show|create|issue` against a hub. */

const BIN = fileURLToPath(new URL('../../bin/incasso.js', import.meta.url));

let hub: TestHub;
let env: Record<string, string>;

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

before(async () => {
  hub = await startTestHub({ emulators: false });
  const merchant = await apiClient(hub.url, hub.adminKey)('POST', '/v1/merchants', { name: 'CLI facturi' });
  env = { INCASSO_URL: hub.url, INCASSO_API_KEY: merchant.body.api_key };
  const api = apiClient(hub.url, merchant.body.api_key);
  assert.equal(
    (await api('PUT', '/v1/seller-profile', { name: 'CLI SRL', fiscal_code: 'RO18547290', address: 'Str. Mare 1', city: 'Iași', vat_payer: true })).status,
    200,
  );
  assert.equal((await api('POST', '/v1/invoice-series', { kind: 'invoice', prefix: 'CLI', padding: 3 })).status, 201);
});
after(() => hub?.close());

describe('incasso invoices', () => {
  it('creates a draft, issues it, lists and shows it', async () => {
    const created = await cli([
      'invoices',
      'create',
      '--json',
      '--kind',
      'invoice',
      '--buyer-name',
      'Cafeaua Bună SRL',
      '--buyer-fiscal-code',
      'RO14080700',
      '--buyer-email',
      'contabilitate@cafeauabuna.ro',
      '--line',
      'Tort de ciocolată|2|12000|11|buc',
      '--line',
      'Livrare|1|2500|21',
    ]);
    assert.equal(created.code, 0, created.stderr);
    const draft = JSON.parse(created.stdout);
    assert.equal(draft.status, 'draft');
    assert.equal(draft.totals.total, 24000 + 2640 + 2500 + 525);
    const issued = await cli(['invoices', 'issue', draft.id]);
    assert.equal(issued.code, 0, issued.stderr);
    assert.match(issued.stdout, /CLI001/);
    const list = await cli(['invoices', 'list', '--status', 'issued']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /NUMBER/);
    assert.match(list.stdout, new RegExp(`${draft.id}.*CLI001.*Cafeaua Bună SRL.*29665`));
    const show = await cli(['invoices', 'show', draft.id]);
    assert.equal(JSON.parse(show.stdout).lines.length, 2);
  });

  it('refuses a malformed line or a missing option before calling the hub, and shows the hub refusal', async () => {
    const bad = await cli(['invoices', 'create', '--kind', 'invoice', '--buyer-name', 'X', '--line', 'Tort|2|120.00|11']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /minor units/);
    const missing = await cli(['invoices', 'create', '--kind', 'invoice']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--buyer-name and --line are required/);
    const refused = await cli(['invoices', 'create', '--kind', 'invoice', '--buyer-name', 'X', '--buyer-fiscal-code', 'RO123', '--line', 'Tort|1|100|11']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /fiscal_code/);
  });
});
