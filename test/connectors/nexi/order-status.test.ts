import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nexi } from '../../../src/connectors/nexi/connector.js';
import { backOfficeResponseMacPairs, computeMac, orderStatusMacPairs } from '../../../src/connectors/nexi/mac.js';
import { STATO_MEANINGS } from '../../../src/connectors/nexi/order-status.js';
import type { AttemptReference, OperationReport } from '../../../src/connectors/types.js';
import { ALIAS, MAC_KEY, OTHER_MAC_KEY, REFERENCE, config } from './support.js';

const attempt: AttemptReference = { reference: REFERENCE, processorReference: '7654321', amount: 5000, currency: 'EUR' };

function answer(report: unknown[], key = MAC_KEY) {
  const head = { esito: 'OK', idOperazione: '99', timeStamp: 1705311000999 };
  return { status: 200, headers: {}, body: JSON.stringify({ ...head, mac: computeMac(backOfficeResponseMacPairs(head), key), report }) };
}

function order(stato: string, extra: Record<string, unknown> = {}) {
  return {
    codiceTransazione: REFERENCE,
    importo: 5000,
    divisa: 'EUR',
    stato,
    brand: 'MasterCard',
    dataTransazione: '2024-01-15 10:35:12',
    pan: '525500******0001',
    dettaglio: [{ stato, operazioni: [] }],
    ...extra,
  };
}

function report(res: ReturnType<typeof answer>): OperationReport {
  const r = nexi.statusCheck!.response(config(), attempt, res);
  assert.ok(!('kind' in r), JSON.stringify(r));
  return r as OperationReport;
}

describe('situazioneOrdine request', () => {
  it('POSTs apiKey, codiceTransazione, timeStamp and the MAC over them to ecomm/api/bo/situazioneOrdine', () => {
    const request = nexi.statusCheck!.request(config(), attempt);
    assert.equal(request.url, 'http://127.0.0.1:9999/sandbox/nexi/ecomm/api/bo/situazioneOrdine');
    const json = JSON.parse(request.body!);
    assert.equal(json.apiKey, ALIAS);
    assert.equal(json.codiceTransazione, REFERENCE);
    assert.equal(json.mac, computeMac(orderStatusMacPairs({ apiKey: ALIAS, codiceTransazione: REFERENCE, timeStamp: json.timeStamp }), MAC_KEY));
  });
});

describe('situazioneOrdine report: stato of report[0]', () => {
  it('Contabilizzato is captured and shares its key with the urlpost OK of a TCONTAB=C link', () => {
    const r = report(answer([order('Contabilizzato')]));
    assert.deepEqual(r.outcome, { kind: 'captured', amount: 5000 });
    assert.equal(r.dedupeKey, `${REFERENCE}:captured`);
    assert.equal(r.summary.processor_status, 'Contabilizzato');
    assert.equal(r.summary.payment_method, 'MasterCard');
    assert.equal(r.summary.processor_time, '2024-01-15T09:35:12.000Z');
  });

  it('Autorizzato is authorized', () => {
    assert.deepEqual(report(answer([order('Autorizzato')])).outcome, { kind: 'authorized', amount: 5000 });
  });

  it('Rimborsato Parz. is the refunded total of the STORNO operations', () => {
    const r = report(
      answer([
        order('Rimborsato Parz.', {
          dettaglio: [
            {
              stato: 'Rimborsato Parz.',
              operazioni: [
                { tipoOperazione: 'CONTAB.', importo: 5000, stato: 'Contabilizzato', dataOperazione: '2024-01-15 10:35:12.0' },
                { tipoOperazione: 'STORNO', importo: 1200, stato: 'Rimborsato', dataOperazione: '2024-01-16 09:00:00.0' },
                { tipoOperazione: 'STORNO', importo: 300, stato: 'Rimborsato', dataOperazione: '2024-01-17 09:00:00.0' },
              ],
            },
          ],
        }),
      ]),
    );
    assert.deepEqual(r.outcome, { kind: 'refunded', totalRefunded: 1500 });
  });

  it('Autor. Negata is a failed try; Annullato is canceled; In Corso is under review', () => {
    assert.equal(report(answer([order('Autor. Negata')])).outcome.kind, 'failed');
    assert.equal(report(answer([order('Annullato')])).outcome.kind, 'canceled');
    assert.equal(report(answer([order('In Corso')])).outcome.kind, 'pending_review');
  });

  it('no report (nothing paid on the link yet) is informational', () => {
    const r = report(answer([]));
    assert.deepEqual(r.outcome, { kind: 'informational' });
  });

  it('an unknown stato is informational', () => {
    assert.deepEqual(report(answer([order('Boh')])).outcome, { kind: 'informational' });
  });

  it('every stato in the table maps to an outcome that is not informational', () => {
    for (const stato of Object.keys(STATO_MEANINGS)) assert.notEqual(report(answer([order(stato)])).outcome.kind, 'informational', stato);
  });

  it('refuses an answer signed with another key, a report in another currency, or for more than the attempt', () => {
    const other = nexi.statusCheck!.response(config(), attempt, answer([order('Contabilizzato')], OTHER_MAC_KEY));
    assert.equal('kind' in other && other.code, 'response_mac_mismatch');
    const gbp = nexi.statusCheck!.response(config(), attempt, answer([order('Contabilizzato', { divisa: 'GBP' })]));
    assert.equal('kind' in gbp && gbp.code, 'currency_mismatch');
    const more = nexi.statusCheck!.response(config(), attempt, answer([order('Contabilizzato', { importo: 5001 })]));
    assert.equal('kind' in more && more.code, 'amount_mismatch');
  });

  it("esito KO is Nexi's refusal", () => {
    const r = nexi.statusCheck!.response(config(), attempt, {
      status: 200,
      headers: {},
      body: JSON.stringify({ esito: 'KO', errore: { codice: 5, messaggio: 'MAC errato' } }),
    });
    assert.deepEqual(r, { kind: 'error', failure: 'refused', code: 'nexi_5', message: 'MAC errato' });
  });
});
