import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The ledger's house rules, read from the sources: only the ledger (through its statements in store/queries)
 * writes payment and attempt state; the statements import nothing but core, kysely and the store's schema; the
 * HTTP layer never touches the database; the hub's own URLs are built in one module.
 */

const root = new URL('../../', import.meta.url).pathname;
function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(join(root, dir))) {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) sources(path, out);
    else if (path.endsWith('.ts')) out.push(path);
  }
  return out;
}
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const offenders = (files: string[], pattern: RegExp) => files.filter((f) => pattern.test(read(f)));

describe('ledger boundaries', () => {
  const src = sources('src');

  it('only services/ledger/ and its statements write payments and payment_attempts', () => {
    const writes = /(updateTable|insertInto|deleteFrom)\(\s*'(payments|payment_attempts)'|(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(payments|payment_attempts)\b/;
    const allowed = (f: string) =>
      f.startsWith('src/services/ledger/') || f === 'src/store/queries/payments.ts' || f === 'src/store/queries/ledger.ts' || f === 'src/store/migrations.ts';
    // The reconciler's own schedule (`reconciled_at`, when an attempt was last checked) is not payment state.
    const schedule = /UPDATE payment_attempts SET reconciled_at = now\(\)\s+WHERE/g;
    assert.deepEqual(
      src.filter((f) => !allowed(f) && writes.test(read(f).replace(schedule, ''))),
      [],
    );
    // The statements that write them are called from the ledger only.
    const writers = /\b(insertPayment|insertPaymentBatch|insertAttempt|updatePaymentStatus|storeFirstHandOff|replaceHandOff|applyChange)\b/;
    assert.deepEqual(
      offenders(
        src.filter((f) => !f.startsWith('src/services/ledger/') && !f.startsWith('src/store/queries/')),
        writers,
      ),
      [],
    );
  });

  it('store/queries imports only core, kysely and the store schema', () => {
    const files = sources('src/store/queries');
    assert.ok(files.length >= 5);
    for (const f of files) {
      for (const [, from] of read(f).matchAll(/from\s+'([^']+)'/g)) {
        assert.ok(
          from === 'kysely' || from.startsWith('../../core/') || from === '../schema.js' || (from.startsWith('./') && !from.includes('/..')),
          `${relative(root, f)} imports ${from}`,
        );
      }
    }
  });

  it('no service holds SQL: every statement lives in store/queries/ (services keep the decisions and the transactions)', () => {
    assert.deepEqual(
      offenders(
        sources('src/services'),
        /selectFrom\(|updateTable\(|insertInto\(|deleteFrom\(|\bsql`|\bsql<|import \{[^}]*\b(sql|Kysely)\b[^}]*\} from 'kysely'/,
      ),
      [],
    );
  });

  it('http/ never touches the database: no ctx.db, no transaction, no query builder or SQL', () => {
    assert.deepEqual(
      offenders(sources('src/http'), /ctx\.db\b|\.transaction\(\)|selectFrom\(|updateTable\(|insertInto\(|deleteFrom\(|\bsql`|from 'kysely'/),
      [],
    );
  });

  it("the hub's own URLs (/pay/…, /notify/…) are built in services/hub-urls.ts only", () => {
    const built = /publicUrl\}\/(pay|notify)\//;
    assert.deepEqual(
      offenders(
        src.filter((f) => f !== 'src/services/hub-urls.ts'),
        built,
      ),
      [],
    );
  });

  it('the ledger imports no surface (payment steps, OnPay, the inbox, HTTP)', () => {
    for (const f of sources('src/services/ledger')) {
      assert.doesNotMatch(read(f), /from '\.\.\/(payment-steps|onpay\/|inbox\/|payments\.js|attempt-start|refunds)|from '\.\.\/\.\.\/http\//, f);
    }
  });
});
