import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { loadPrivateKey, loadPublicKey, openEnvelope, sealEnvelope, type EnvelopeCipher } from '../../src/connectors/netopia-v1/envelope.js';
import { buildIpnXml, type V1Mobilpay } from '../../src/connectors/netopia-v1/ipn-xml.js';
import { vectorPath } from './vectors.js';

/**
 * NETOPIA's side of a sandbox account for tests that do not use the emulator: the vanilo key pair plays both
 * NETOPIA's certificate (requests are sealed to it) and the merchant's IPN key (NETOPIA seals IPNs to it).
 */
export const VANILO_CERT = readFileSync(vectorPath('vanilo_server.crt'), 'utf8');
export const VANILO_KEY = readFileSync(vectorPath('vanilo_server.key'), 'utf8');
export const TEST_SIGNATURE = 'TEST-ABCD-1234-EFGH-5678';

export function sandboxCredentials() {
  return { signature: TEST_SIGNATURE, certificate: VANILO_CERT, private_key: VANILO_KEY };
}

/** Opens the hub's sealed request (what NETOPIA does when the browser posts the form). */
export function openRequest(fields: Record<string, string>): string {
  return openEnvelope(fields, loadPrivateKey(VANILO_KEY)).toString('utf8');
}

/** NETOPIA's IPN for an order: the original XML with a <mobilpay> element, sealed to the merchant's key, form-encoded. */
export function ipnBody(orderXml: string, mobilpay: Partial<V1Mobilpay> & Pick<V1Mobilpay, 'action'>, cipher: EnvelopeCipher = 'aes-256-cbc'): string {
  const full: V1Mobilpay = {
    timestamp: '20261123120000',
    crc: randomBytes(16).toString('hex'),
    purchase: '1203859',
    original_amount: '10.00',
    processed_amount: '10.00',
    pan_masked: '9****5098',
    error: { code: 0, message: 'Tranzactia aprobata' },
    ...mobilpay,
  };
  const sealed = sealEnvelope(buildIpnXml(orderXml, full), loadPublicKey(VANILO_CERT), cipher);
  return new URLSearchParams({ env_key: sealed.env_key, data: sealed.data, cipher: sealed.cipher, ...(sealed.iv ? { iv: sealed.iv } : {}) }).toString();
}

export async function postIpn(url: string, body: string, contentType = 'application/x-www-form-urlencoded') {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text: await response.text() };
}

/** Reads `<crc error_type=".." error_code="..">` from the hub's reply. */
export function crcOf(xml: string): { errorType: number; errorCode: number; message: string } {
  const m = /<crc(?:\s+error_type="(\d)")?(?:\s+error_code="(\d+)")?\s*>([\s\S]*)<\/crc>/.exec(xml);
  if (!m) throw new Error(`not a crc reply: ${xml}`);
  return { errorType: Number(m[1] ?? 0), errorCode: Number(m[2] ?? 0), message: m[3]! };
}
