import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nexi } from '../../../src/connectors/nexi/connector.js';
import { ESITO_MEANINGS, outcomeOfEsito } from '../../../src/connectors/nexi/esito.js';
import { NEXI_NOTIFICATION_ERRORS } from '../../../src/connectors/nexi/notification.js';
import { romeDataOrario, romeToIso } from '../../../src/connectors/nexi/rome-time.js';
import { currencyFromDivisa } from '../../../src/connectors/nexi/currencies.js';
import type { NotificationVerdict, VerifiedNotification } from '../../../src/connectors/types.js';
import { OTHER_MAC_KEY, REFERENCE, config, posted, result } from './support.js';

function verified(v: NotificationVerdict): VerifiedNotification {
  assert.equal(v.ok, true, v.ok ? '' : v.reason);
  return v as VerifiedNotification;
}

function rejected(v: NotificationVerdict, code: number): void {
  assert.equal(v.ok, false);
  if (!v.ok) {
    assert.equal(v.code, code, v.reason);
    assert.equal(v.permanent, true);
  }
}

describe('urlpost result: "codTrans, esito, importo, divisa, data, orario, codAut, mac" verified with the MAC key', () => {
  it('an OK is a capture of importo (TCONTAB=C), for the attempt named by codTrans', () => {
    const v = verified(nexi.verifyNotification(config(), posted(result())));
    assert.equal(v.reference, REFERENCE);
    assert.deepEqual(v.outcome, { kind: 'captured', amount: 5000 });
    assert.deepEqual(v.expected, { amount: 5000, currency: 'EUR' });
    assert.equal(v.dedupeKey, `${REFERENCE}:captured`);
  });

  it('with deferred accounting (TCONTAB=D) an OK only authorizes', () => {
    const v = verified(nexi.verifyNotification(config({ accounting: 'D' }), posted(result())));
    assert.deepEqual(v.outcome, { kind: 'authorized', amount: 5000 });
    assert.equal(v.dedupeKey, `${REFERENCE}:authorized`);
  });

  it('the summary says processor_status, payment_method (brand), processor_time (data + orario, Europe/Rome) and action', () => {
    const v = verified(nexi.verifyNotification(config(), posted(result())));
    assert.equal(v.summary.processor_status, 'OK');
    assert.equal(v.summary.payment_method, 'VISA');
    assert.equal(v.summary.processor_time, '2024-01-15T09:35:12.000Z');
    assert.equal(v.summary.action, 'paid');
    assert.equal(v.summary.codAut, 'A1B2C3');
    assert.equal(v.summary.pan, '453997******0006');
  });

  it("payment_method is XPay's own brand word: MasterCard, Maestro, Amex", () => {
    for (const brand of ['MasterCard', 'Maestro', 'Amex'])
      assert.equal(verified(nexi.verifyNotification(config(), posted(result({ brand })))).summary.payment_method, brand);
  });

  it("a KO (empty codAut, still in the MAC) is a failed try with XPay's codiceEsito and messaggio", () => {
    const v = verified(nexi.verifyNotification(config(), posted(result({ esito: 'KO', codAut: '', codiceEsito: '116', messaggio: 'Auth. Denied' }))));
    assert.deepEqual(v.outcome, { kind: 'failed', code: 'KO:116', message: 'Auth. Denied' });
    assert.equal(v.dedupeKey, `${REFERENCE}:KO:20240115103512`);
  });

  it('each KO is its own fact (XPay allows three tries per codTrans); the same KO again is the same fact', () => {
    const a = verified(nexi.verifyNotification(config(), posted(result({ esito: 'KO', codAut: '' }))));
    const b = verified(nexi.verifyNotification(config(), posted(result({ esito: 'KO', codAut: '', orario: '103940' }))));
    const again = verified(nexi.verifyNotification(config(), posted(result({ esito: 'KO', codAut: '' }))));
    assert.notEqual(a.dedupeKey, b.dedupeKey);
    assert.equal(a.dedupeKey, again.dedupeKey);
  });

  it('a result missing codAut altogether is read as an empty codAut', () => {
    const fields = result({ esito: 'KO', codAut: '' });
    delete fields.codAut;
    verified(nexi.verifyNotification(config(), posted(fields)));
  });

  it("reads the same fields from the return URL's query string (GET on url) when there is no body", () => {
    const v = nexi.verifyNotification(config(), { body: Buffer.alloc(0), headers: {}, query: new URLSearchParams(result()).toString() });
    assert.equal(verified(v).reference, REFERENCE);
  });

  it('accepts the numeric divisa (978) as EUR', () => {
    assert.equal(verified(nexi.verifyNotification(config(), posted(result({ divisa: '978' })))).expected.currency, 'EUR');
  });

  it('the reply is HTTP 200 for a recorded result, also for a KO; 200 for what can never be accepted; 503 to be sent again', () => {
    assert.equal(nexi.replyToNotification({ kind: 'recorded' }).statusCode, 200);
    assert.equal(nexi.replyToNotification({ kind: 'permanent_error', code: 2, message: 'bad MAC' }).statusCode, 200);
    assert.equal(nexi.replyToNotification({ kind: 'temporary_error', code: 9, message: 'db down' }).statusCode, 503);
  });
});

describe('forged results are refused', () => {
  it('a wrong MAC', () => {
    rejected(nexi.verifyNotification(config(), posted(result({ mac: '0'.repeat(40) }))), NEXI_NOTIFICATION_ERRORS.badMac);
  });

  it("a result signed with another account's MAC key", () => {
    rejected(nexi.verifyNotification(config(), posted(result({}, OTHER_MAC_KEY))), NEXI_NOTIFICATION_ERRORS.badMac);
  });

  it('a tampered amount (importo changed after signing)', () => {
    const fields = result();
    fields.importo = '1';
    rejected(nexi.verifyNotification(config(), posted(fields)), NEXI_NOTIFICATION_ERRORS.badMac);
  });

  it('a tampered esito (KO turned into OK)', () => {
    const fields = result({ esito: 'KO', codAut: '' });
    fields.esito = 'OK';
    rejected(nexi.verifyNotification(config(), posted(fields)), NEXI_NOTIFICATION_ERRORS.badMac);
  });

  it('a result for another alias, even with a valid MAC', () => {
    rejected(nexi.verifyNotification(config(), posted(result({ alias: 'ALIAS_WEB_99999999' }))), NEXI_NOTIFICATION_ERRORS.otherAlias);
  });

  it('missing MAC fields', () => {
    const fields = result();
    delete fields.mac;
    rejected(nexi.verifyNotification(config(), posted(fields)), NEXI_NOTIFICATION_ERRORS.missingFields);
  });

  it('unreadable amount or currency, even if signed', () => {
    rejected(nexi.verifyNotification(config(), posted(result({ importo: '12.50' }))), NEXI_NOTIFICATION_ERRORS.badAmount);
    rejected(nexi.verifyNotification(config(), posted(result({ divisa: 'XXX' }))), NEXI_NOTIFICATION_ERRORS.badCurrency);
  });

  it('never throws, whatever the bytes', () => {
    for (const body of [Buffer.from([0xff, 0xfe, 0x00]), Buffer.from('%%%&&&==='), Buffer.from('mac=' + '%E0%A4%A'.repeat(50)), Buffer.alloc(0)]) {
      const v = nexi.verifyNotification(config(), { body, headers: {} });
      assert.equal(v.ok, false);
    }
  });
});

describe('esito: OK, KO, ANNULLO, ERRORE, PEN', () => {
  const d = { amount: 700, accounting: 'C' as const };
  it('the table covers every esito XPay sends', () => {
    assert.deepEqual(Object.keys(ESITO_MEANINGS).sort(), ['ANNULLO', 'ERRORE', 'KO', 'OK', 'PEN']);
  });
  it('OK captures (C) or authorizes (D)', () => {
    assert.deepEqual(outcomeOfEsito('OK', d), { kind: 'captured', amount: 700 });
    assert.deepEqual(outcomeOfEsito('OK', { ...d, accounting: 'D' }), { kind: 'authorized', amount: 700 });
  });
  it('KO and ERRORE are failed tries; ANNULLO (the customer gave up) too, so the payment stays payable', () => {
    assert.equal(outcomeOfEsito('KO', d).kind, 'failed');
    assert.equal(outcomeOfEsito('ERRORE', d).kind, 'failed');
    assert.deepEqual(outcomeOfEsito('ANNULLO', d), { kind: 'failed', code: 'ANNULLO', message: 'the customer canceled the payment on the XPay page' });
  });
  it('PEN is under review; anything else is recorded and changes nothing', () => {
    assert.deepEqual(outcomeOfEsito('PEN', d), { kind: 'pending_review' });
    assert.deepEqual(outcomeOfEsito('MAYBE', d), { kind: 'informational' });
  });
});

describe('data + orario are Italian local time (Europe/Rome)', () => {
  it('winter is UTC+1, summer UTC+2', () => {
    assert.equal(romeToIso('20240115', '103512'), '2024-01-15T09:35:12.000Z');
    assert.equal(romeToIso('20240715', '103512'), '2024-07-15T08:35:12.000Z');
  });
  it('the autumn hour that happens twice is read as summer time; impossible dates are refused', () => {
    assert.equal(romeToIso('20241027', '023000'), '2024-10-27T00:30:00.000Z');
    assert.equal(romeToIso('20240231', '120000'), undefined);
    assert.equal(romeToIso('2024011', '120000'), undefined);
  });
  it("round-trips with the emulator's side", () => {
    const t = new Date('2024-03-31T00:59:59.000Z');
    const { data, orario } = romeDataOrario(t);
    assert.deepEqual([data, orario], ['20240331', '015959']);
    assert.equal(romeToIso(data, orario), t.toISOString());
  });
});

describe('divisa: alphabetic or numeric ISO 4217', () => {
  it('maps both to the alphabetic code and refuses others', () => {
    assert.equal(currencyFromDivisa('EUR'), 'EUR');
    assert.equal(currencyFromDivisa('978'), 'EUR');
    assert.equal(currencyFromDivisa('392'), 'JPY');
    assert.equal(currencyFromDivisa('36'), 'AUD');
    assert.equal(currencyFromDivisa('XBT'), undefined);
  });
});
