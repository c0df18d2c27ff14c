// XPay's legacy MAC. Nexi's specifications give the concatenation rule but no worked digest, so these vectors
// were computed outside the project (coreutils `sha1sum` over the concatenation written by hand) with the
// values of Nexi's own samples (github.com/NexiPayments/XPay): they check the field order and the encoding.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  backOfficeResponseMacPairs,
  computeMac,
  macInput,
  macMatches,
  orderStatusMacPairs,
  payMailMacPairs,
  resultMacPairs,
  startMacPairs,
} from '../../../src/connectors/nexi/mac.js';

const KEY = 'JW7O76VCXA01QF1GUIUBNNSTI2IZSK2S';

describe('Nexi XPay MAC: sha1 over name=value pairs in the documented order, then the MAC key', () => {
  it('richiestaPayMail: apiKey, codiceTransazione, importo, timeStamp', () => {
    const pairs = payMailMacPairs({ apiKey: 'ALIAS_WEB_00012345', codiceTransazione: 'APIBO_20240115103000', importo: 5000, timeStamp: 1705311000000 });
    assert.equal(macInput(pairs), 'apiKey=ALIAS_WEB_00012345codiceTransazione=APIBO_20240115103000importo=5000timeStamp=1705311000000');
    assert.equal(computeMac(pairs, KEY), '7029a2ac3de5ee16ed15c9d9dfd183f75fe814c3');
  });

  it('back-office response: esito, idOperazione, timeStamp', () => {
    assert.equal(
      computeMac(backOfficeResponseMacPairs({ esito: 'OK', idOperazione: '1234567', timeStamp: '1705311000123' }), KEY),
      'b3f22bddd6e6b8f9e18efff5ceb4e6de0c83d90e',
    );
  });

  it('payment result: codTrans, esito, importo, divisa, data, orario, codAut', () => {
    const ok = { codTrans: 'APIBO_20240115103000', esito: 'OK', importo: '5000', divisa: 'EUR', data: '20240115', orario: '103512', codAut: 'A1B2C3' };
    assert.equal(computeMac(resultMacPairs(ok), KEY), '01ec25035e5cdcaef5a9ce5c240c61bd82f10fde');
  });

  it('"codAut may be empty on KO but still takes part": codAut= with nothing after it', () => {
    const ko = { codTrans: 'APIBO_20240115103000', esito: 'KO', importo: '5000', divisa: 'EUR', data: '20240115', orario: '103512', codAut: '' };
    assert.match(macInput(resultMacPairs(ko)), /codAut=$/);
    assert.equal(computeMac(resultMacPairs(ko), KEY), '9b55b8c08a0f8eb1a819fed23084ef4aee0f98ae');
  });

  it('situazioneOrdine: apiKey, codiceTransazione, timeStamp', () => {
    assert.equal(
      computeMac(orderStatusMacPairs({ apiKey: 'ALIAS_WEB_00012345', codiceTransazione: 'APIBO_20240115103000', timeStamp: 1705311000000 }), KEY),
      'ece67bd6710bad86a2ec279d63e216b6c0ecc7af',
    );
  });

  it('codice base start: codTrans, divisa, importo', () => {
    assert.equal(
      computeMac(startMacPairs({ codTrans: 'TESTPS_20240115103000', divisa: 'EUR', importo: 5000 }), KEY),
      'fcfd6496ccb07dfbe5fdd5771385a750399bd7e5',
    );
  });
});

describe('MAC comparison', () => {
  const mac = '01ec25035e5cdcaef5a9ce5c240c61bd82f10fde';
  it('accepts the same digest in either case', () => {
    assert.equal(macMatches(mac, mac), true);
    assert.equal(macMatches(mac.toUpperCase(), mac), true);
  });
  it('refuses another digest, a shorter one and an empty one', () => {
    assert.equal(macMatches(mac.replace(/^0/, '1'), mac), false);
    assert.equal(macMatches(mac.slice(0, 39), mac), false);
    assert.equal(macMatches('', mac), false);
  });
});
