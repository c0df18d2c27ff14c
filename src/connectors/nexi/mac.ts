import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * XPay's legacy MAC ("codice di controllo"): SHA-1, lowercase hex, over `name=value` pairs concatenated in the
 * order each message documents, with the merchant's MAC key ("chiave segreta per calcolo MAC") appended. No
 * separators, no encoding: the values as they travel, after URL/JSON decoding. Nexi's official samples
 * (github.com/NexiPayments/XPay) are the source of every field order below.
 */

export type MacPairs = ReadonlyArray<readonly [name: string, value: string | number]>;

/** The concatenation that is hashed, without the key: `codTrans=…divisa=…importo=…`. */
export function macInput(pairs: MacPairs): string {
  return pairs.map(([name, value]) => `${name}=${value}`).join('');
}

export function computeMac(pairs: MacPairs, macKey: string): string {
  return createHash('sha1')
    .update(macInput(pairs) + macKey, 'utf8')
    .digest('hex');
}

/** Compares a received MAC with the expected one in constant time (hex, case-insensitive). */
export function macMatches(received: string, expected: string): boolean {
  const a = Buffer.from(received.toLowerCase(), 'utf8');
  const b = Buffer.from(expected.toLowerCase(), 'utf8');
  // Different lengths cannot match; comparing b with itself keeps the work the same either way.
  if (a.length !== b.length) {
    timingSafeEqual(b, b);
    return false;
  }
  return timingSafeEqual(a, b);
}

/** Hosted page start (codice base): `codTrans`, `divisa`, `importo`. */
export function startMacPairs(f: { codTrans: string; divisa: string; importo: string | number }): MacPairs {
  return [
    ['codTrans', f.codTrans],
    ['divisa', f.divisa],
    ['importo', f.importo],
  ];
}

/** Result on `url` / `url_back` / `urlpost`: `codAut` takes part even when empty (a KO has none). */
export function resultMacPairs(f: {
  codTrans: string;
  esito: string;
  importo: string | number;
  divisa: string;
  data: string;
  orario: string;
  codAut: string;
}): MacPairs {
  return [
    ['codTrans', f.codTrans],
    ['esito', f.esito],
    ['importo', f.importo],
    ['divisa', f.divisa],
    ['data', f.data],
    ['orario', f.orario],
    ['codAut', f.codAut],
  ];
}

/** Back-office `richiestaPayMail` request: `apiKey`, `codiceTransazione`, `importo`, `timeStamp`. */
export function payMailMacPairs(f: { apiKey: string; codiceTransazione: string; importo: string | number; timeStamp: string | number }): MacPairs {
  return [
    ['apiKey', f.apiKey],
    ['codiceTransazione', f.codiceTransazione],
    ['importo', f.importo],
    ['timeStamp', f.timeStamp],
  ];
}

/** Back-office `situazioneOrdine` request: `apiKey`, `codiceTransazione`, `timeStamp`. */
export function orderStatusMacPairs(f: { apiKey: string; codiceTransazione: string; timeStamp: string | number }): MacPairs {
  return [
    ['apiKey', f.apiKey],
    ['codiceTransazione', f.codiceTransazione],
    ['timeStamp', f.timeStamp],
  ];
}

/** Every back-office response: `esito`, `idOperazione`, `timeStamp`. */
export function backOfficeResponseMacPairs(f: { esito: string; idOperazione: string | number; timeStamp: string | number }): MacPairs {
  return [
    ['esito', f.esito],
    ['idOperazione', f.idOperazione],
    ['timeStamp', f.timeStamp],
  ];
}
