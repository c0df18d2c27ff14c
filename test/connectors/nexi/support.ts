// Shared fixtures of the Nexi connector tests: a connection config and results signed the way XPay signs them.
import { nexi, type NexiCredentials, type NexiSettings } from '../../../src/connectors/nexi/connector.js';
import { computeMac, resultMacPairs } from '../../../src/connectors/nexi/mac.js';
import type { ConnectionConfig, InboundNotification } from '../../../src/connectors/types.js';

export const ALIAS = 'ALIAS_WEB_00012345';
export const MAC_KEY = 'JW7O76VCXA01QF1GUIUBNNSTI2IZSK2S';
export const OTHER_MAC_KEY = 'Q2W3E4R5T6Y7U8I9O0PASDFGHJKLZXCV';
export const REFERENCE = 'att_01jd5x8k2m3n4p5q6r7s8t9v0w';

export function config(settings: Record<string, unknown> = {}, credentials: Record<string, unknown> = {}): ConnectionConfig<NexiCredentials, NexiSettings> {
  return {
    credentials: nexi.parseCredentials({ alias: ALIAS, mac_key: MAC_KEY, ...credentials }),
    settings: nexi.parseSettings(settings),
    environment: 'emulator',
    endpoint: 'http://127.0.0.1:9999/sandbox/nexi',
  };
}

/** A result as XPay posts it to urlpost: every field the codice base documents, signed with `key`. */
export function result(overrides: Record<string, string> = {}, key = MAC_KEY): Record<string, string> {
  const fields: Record<string, string> = {
    alias: ALIAS,
    codTrans: REFERENCE,
    esito: 'OK',
    importo: '5000',
    divisa: 'EUR',
    data: '20240115',
    orario: '103512',
    codAut: 'A1B2C3',
    codiceEsito: '0',
    messaggio: 'Message OK',
    brand: 'VISA',
    nazionalita: 'ITA',
    pan: '453997******0006',
    scadenza_pan: '203012',
    languageId: 'ITA',
    ...overrides,
  };
  fields.mac =
    overrides.mac ??
    computeMac(
      resultMacPairs({
        codTrans: fields.codTrans!,
        esito: fields.esito!,
        importo: fields.importo!,
        divisa: fields.divisa!,
        data: fields.data!,
        orario: fields.orario!,
        codAut: fields.codAut ?? '',
      }),
      key,
    );
  return fields;
}

export function posted(fields: Record<string, string>): InboundNotification {
  return {
    body: Buffer.from(new URLSearchParams(fields).toString()),
    contentType: 'application/x-www-form-urlencoded',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  };
}
