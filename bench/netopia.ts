// NETOPIA's side of a sandbox account, for the benchmark: the vanilo key pair from the shared test vectors plays
// both NETOPIA's certificate (the hub seals requests to it) and the merchant's IPN key (IPNs are sealed to it),
// exactly as the tests do. IPN bodies are built the way NETOPIA builds them: the original order XML with a
// <mobilpay> element, sealed (RSA + AES-256-CBC), form-encoded.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadPrivateKey, loadPublicKey, openEnvelope, sealEnvelope } from '../src/connectors/netopia-v1/envelope.js';
import { buildIpnXml } from '../src/connectors/netopia-v1/ipn-xml.js';

const vectors = process.env.BENCH_VECTORS_DIR ?? fileURLToPath(new URL('../../shared/test-vectors/', import.meta.url));

export const VANILO_CERT = readFileSync(`${vectors}/vanilo_server.crt`, 'utf8');
export const VANILO_KEY = readFileSync(`${vectors}/vanilo_server.key`, 'utf8');
export const SIGNATURE = 'TEST-ABCD-1234-EFGH-5678';

export function sandboxCredentials() {
  return { signature: SIGNATURE, certificate: VANILO_CERT, private_key: VANILO_KEY };
}

const privateKey = loadPrivateKey(VANILO_KEY);
const publicKey = loadPublicKey(VANILO_CERT);

/** Opens the hub's sealed request (what NETOPIA does when the browser posts the form): the order XML. */
export function openRequest(fields: Record<string, string>): string {
  return openEnvelope(fields, privateKey).toString('utf8');
}

/** A `confirmed` (captured) IPN for the order, for the full amount, with its own crc and purchase id. */
export function confirmedIpnBody(orderXml: string, amount: string, crc: string, purchase: string): string {
  const xml = buildIpnXml(orderXml, {
    timestamp: '20261123120000',
    crc,
    action: 'confirmed',
    purchase,
    original_amount: amount,
    processed_amount: amount,
    pan_masked: '9****5098',
    error: { code: 0, message: 'Tranzactia aprobata' },
  });
  const sealed = sealEnvelope(xml, publicKey, 'aes-256-cbc');
  return new URLSearchParams({ env_key: sealed.env_key, data: sealed.data, cipher: sealed.cipher, ...(sealed.iv ? { iv: sealed.iv } : {}) }).toString();
}

/** Reads `<crc error_type=".." error_code="..">message</crc>`. */
export function crcOf(xml: string): { errorType: number; errorCode: number; message: string } | undefined {
  const m = /<crc(?:\s+error_type="(\d)")?(?:\s+error_code="(\d+)")?\s*>([\s\S]*)<\/crc>/.exec(xml);
  return m ? { errorType: Number(m[1] ?? 0), errorCode: Number(m[2] ?? 0), message: m[3]! } : undefined;
}
