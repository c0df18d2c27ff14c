// Shared fixtures for the NETOPIA v2 connector tests: a connection config, RSA keys generated per run, and a
// NETOPIA-style IPN signer (jose, RS512) plus a raw signer for tokens jose would refuse to make.
import { createHash, createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignJWT } from 'jose';
import { netopiaV2, type NetopiaV2Credentials, type NetopiaV2Settings } from '../../../src/connectors/netopia-v2/connector.js';
import type { ConnectionConfig, InboundResponse } from '../../../src/connectors/types.js';
import { vectorPath } from '../../support/vectors.js';

export const POS = 'AAAA-BBBB-CCCC-DDDD-EEEE';

export interface TestKey {
  privateKey: KeyObject;
  publicPem: string;
}

export function newKey(bits = 2048): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  return { privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** One key per test process: generating RSA keys is slow. */
export const NETOPIA_TEST_KEY = newKey();

export function configWith(
  credentials: Record<string, unknown> = {},
  settings: Record<string, unknown> = {},
): ConnectionConfig<NetopiaV2Credentials, NetopiaV2Settings> {
  return {
    credentials: netopiaV2.parseCredentials({
      api_key: 'ntp-test-api-key-0001',
      pos_signature: POS,
      notify_public_keys: NETOPIA_TEST_KEY.publicPem,
      ...credentials,
    }),
    settings: netopiaV2.parseSettings(settings),
    environment: 'sandbox',
    endpoint: 'https://secure.sandbox.netopia-payments.com',
  };
}

export const sha512b64 = (body: string | Buffer) => createHash('sha512').update(body).digest('base64');

/** A token as NETOPIA issues it (RS512, iss/aud/iat/sub), with claim overrides; `undefined` removes a claim. */
export async function netopiaToken(
  body: string | Buffer,
  claims: Record<string, unknown> = {},
  key: KeyObject = NETOPIA_TEST_KEY.privateKey,
  alg = 'RS512',
): Promise<string> {
  const payload: Record<string, unknown> = { iss: 'NETOPIA Payments', aud: POS, iat: Math.floor(Date.now() / 1000), sub: sha512b64(body), ...claims };
  for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
  return new SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT' }).sign(key);
}

const b64url = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** A token signed RSA-SHA512 over any header, for header tricks jose refuses to produce. */
export function rawRs512Token(header: Record<string, unknown>, claims: Record<string, unknown>, key: KeyObject = NETOPIA_TEST_KEY.privateKey): string {
  const input = `${b64url(header)}.${b64url(claims)}`;
  const signature = createSign('sha512').update(input).sign(key).toString('base64url');
  return `${input}.${signature}`;
}

export function unsignedToken(header: Record<string, unknown>, claims: Record<string, unknown>, signature = ''): string {
  return `${b64url(header)}.${b64url(claims)}.${signature}`;
}

export function standardClaims(body: string | Buffer, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss: 'NETOPIA Payments', aud: POS, iat: Math.floor(Date.now() / 1000), sub: sha512b64(body), ...extra };
}

export interface SharedVector {
  body_raw: string;
  sub: string;
  pos_signature: string;
  verification_token: string;
}

export const sharedVector = (): SharedVector => JSON.parse(readFileSync(vectorPath('v2_ipn_vector.json'), 'utf8')) as SharedVector;
export const vectorPem = (name: string) => readFileSync(vectorPath(name), 'utf8');

/** An IPN body as NETOPIA sends it (compact JSON, no Content-Type). */
export function ipnBody(payment: Record<string, unknown>, orderID = 'att_123'): string {
  return JSON.stringify({
    order: { orderID, data: {} },
    payment: { amount: 159.9, currency: 'RON', ntpID: '1309088', status: 3, code: '00', message: 'Approved', ...payment },
  });
}

export function json(status: number, body: unknown): InboundResponse {
  return { status, headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) };
}
