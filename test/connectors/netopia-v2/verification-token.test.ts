import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { SignJWT, exportJWK } from 'jose';
import { netopiaV2 } from '../../../src/connectors/netopia-v2/connector.js';
import { VERIFICATION_ERRORS } from '../../../src/connectors/netopia-v2/jwt.js';
import { verifyIpn } from '../../../src/connectors/netopia-v2/ipn.js';
import type { InboundNotification, NotificationVerdict } from '../../../src/connectors/types.js';
import {
  NETOPIA_TEST_KEY,
  POS,
  configWith,
  ipnBody,
  netopiaToken,
  newKey,
  rawRs512Token,
  sharedVector,
  standardClaims,
  unsignedToken,
  vectorPem,
} from './support.js';

const config = configWith();
const notify = (body: string | Buffer, token: string | undefined, headerName = 'verification-token'): InboundNotification => ({
  body: Buffer.isBuffer(body) ? body : Buffer.from(body),
  headers: token === undefined ? {} : { [headerName]: token },
});
const verdictOf = (body: string | Buffer, token: string | undefined, cfg = config) => netopiaV2.verifyNotification(cfg, notify(body, token));

function assertRejected(v: NotificationVerdict, code: number) {
  assert.equal(v.ok, false, 'expected a rejection');
  if (!v.ok) {
    assert.equal(v.permanent, true, `a verification failure is permanent (errorType 2): ${v.reason}`);
    assert.equal(v.code, code, `code 0x${v.code.toString(16)} (${v.reason})`);
  }
}

describe('the shared vector (python-sdk test key, RS512, claims aud/iat/iss/sub)', () => {
  const v = sharedVector();
  it('verifies with pysdk_test_pub.pem', async () => {
    const verdict = await verdictOf(
      v.body_raw,
      v.verification_token,
      configWith({ pos_signature: v.pos_signature, notify_public_keys: vectorPem('pysdk_test_pub.pem') }),
    );
    assert.equal(verdict.ok, true);
    if (!verdict.ok) return;
    assert.equal(verdict.reference, 'TEST-ORDER-1');
    assert.deepEqual(verdict.outcome, { kind: 'captured', amount: 150 });
    assert.deepEqual(verdict.expected, { amount: 150, currency: 'RON' });
    assert.equal(verdict.dedupeKey, '1234567:3');
    assert.equal(verdict.processorReference, '1234567');
  });

  it('does not verify with NETOPIA platform key (the default), nor with a fresh key', async () => {
    assertRejected(
      await verdictOf(v.body_raw, v.verification_token, configWith({ pos_signature: v.pos_signature, notify_public_keys: undefined })),
      VERIFICATION_ERRORS.signature,
    );
    assertRejected(
      await verdictOf(
        v.body_raw,
        v.verification_token,
        configWith({ pos_signature: v.pos_signature, notify_public_keys: vectorPem('netopia_ipn_jwt_pubkey.pem') }),
      ),
      VERIFICATION_ERRORS.signature,
    );
    assertRejected(
      await verdictOf(v.body_raw, v.verification_token, configWith({ pos_signature: v.pos_signature, notify_public_keys: newKey().publicPem })),
      VERIFICATION_ERRORS.signature,
    );
  });

  it('verifies when its key is one of several configured (array, or several PEM blocks in one text)', async () => {
    const platform = vectorPem('netopia_ipn_jwt_pubkey.pem');
    const pysdk = vectorPem('pysdk_test_pub.pem');
    for (const keys of [[platform, pysdk], platform + pysdk]) {
      assert.equal((await verdictOf(v.body_raw, v.verification_token, configWith({ pos_signature: v.pos_signature, notify_public_keys: keys }))).ok, true);
    }
  });

  it('is bound to its POS and to its exact body bytes', async () => {
    const cfg = configWith({ pos_signature: 'ZZZZ-BBBB-CCCC-DDDD-EEEE', notify_public_keys: vectorPem('pysdk_test_pub.pem') });
    assertRejected(await verdictOf(v.body_raw, v.verification_token, cfg), VERIFICATION_ERRORS.audience);
    const right = configWith({ pos_signature: v.pos_signature, notify_public_keys: vectorPem('pysdk_test_pub.pem') });
    assertRejected(await verdictOf(v.body_raw + ' ', v.verification_token, right), VERIFICATION_ERRORS.taintedPayload);
    assertRejected(await verdictOf(JSON.stringify(JSON.parse(v.body_raw), null, 1), v.verification_token, right), VERIFICATION_ERRORS.taintedPayload);
  });
});

describe('claims: iss "NETOPIA Payments", aud = POS signature, sub = base64(SHA-512(raw body))', () => {
  const body = ipnBody({});
  it('accepts a token as NETOPIA issues it', async () => {
    assert.equal((await verdictOf(body, await netopiaToken(body))).ok, true);
  });

  it('refuses another audience, an empty one, and a missing one', async () => {
    for (const aud of ['AAAA-BBBB-CCCC-DDDD-FFFF', '', undefined, ['XXXX-BBBB-CCCC-DDDD-EEEE'], [], 42]) {
      assertRejected(await verdictOf(body, await netopiaToken(body, { aud })), VERIFICATION_ERRORS.audience);
    }
  });

  it('accepts aud as an array that contains the POS signature', async () => {
    assert.equal((await verdictOf(body, await netopiaToken(body, { aud: [POS] }))).ok, true);
    assert.equal((await verdictOf(body, await netopiaToken(body, { aud: ['XXXX-XXXX-XXXX-XXXX-XXXX', POS] }))).ok, true);
  });

  it('refuses another issuer', async () => {
    assertRejected(await verdictOf(body, await netopiaToken(body, { iss: 'Someone' })), VERIFICATION_ERRORS.general);
    assertRejected(await verdictOf(body, await netopiaToken(body, { iss: undefined })), VERIFICATION_ERRORS.general);
  });

  it('refuses a body changed after signing (tainted payload)', async () => {
    const token = await netopiaToken(body);
    assertRejected(await verdictOf(body.replace('159.9', '1.59'), token), VERIFICATION_ERRORS.taintedPayload);
    assertRejected(await verdictOf(body + '\n', token), VERIFICATION_ERRORS.taintedPayload);
    assertRejected(await verdictOf(body, await netopiaToken(body, { sub: undefined })), VERIFICATION_ERRORS.taintedPayload);
    assertRejected(await verdictOf(body, await netopiaToken(body, { sub: 'x'.repeat(88) })), VERIFICATION_ERRORS.taintedPayload);
  });

  it('accepts the base64url form of sub (the May-2021 token had it)', async () => {
    const { createHash } = await import('node:crypto');
    const digest = createHash('sha512').update(body).digest();
    assert.equal((await verdictOf(body, await netopiaToken(body, { sub: digest.toString('base64url') }))).ok, true);
  });
});

describe('time claims: seconds or milliseconds, exp and nbf enforced with a small leeway', () => {
  const body = ipnBody({});
  const nowS = () => Math.floor(Date.now() / 1000);
  it('accepts iat/nbf/exp in milliseconds (the PHP SDKs run their JWT clock in ms)', async () => {
    assert.equal((await verdictOf(body, await netopiaToken(body, { iat: Date.now(), nbf: Date.now() - 1000, exp: Date.now() + 60_000 }))).ok, true);
  });

  it('refuses an expired token, in seconds and in milliseconds', async () => {
    assertRejected(await verdictOf(body, await netopiaToken(body, { exp: nowS() - 3600 })), VERIFICATION_ERRORS.expired);
    assertRejected(await verdictOf(body, await netopiaToken(body, { exp: Date.now() - 3_600_000 })), VERIFICATION_ERRORS.expired);
  });

  it('tolerates a clock skew of a minute on exp and nbf', async () => {
    assert.equal((await verdictOf(body, await netopiaToken(body, { exp: nowS() - 60, nbf: nowS() + 60 }))).ok, true);
  });

  it('refuses a token that is not valid yet (nbf)', async () => {
    assertRejected(await verdictOf(body, await netopiaToken(body, { nbf: nowS() + 3600 })), VERIFICATION_ERRORS.nbfIat);
    assertRejected(await verdictOf(body, await netopiaToken(body, { nbf: Date.now() + 3_600_000 })), VERIFICATION_ERRORS.nbfIat);
  });

  it('judges exp against the verification time', async () => {
    const token = await netopiaToken(body, { exp: nowS() + 600 });
    assert.equal((await verifyIpn(config, notify(body, token), new Date())).ok, true);
    assertRejected(await verifyIpn(config, notify(body, token), new Date(Date.now() + 3_600_000)), VERIFICATION_ERRORS.expired);
  });

  it('refuses time claims that are not numbers', async () => {
    assertRejected(await verdictOf(body, await netopiaToken(body, { exp: 'tomorrow' })), VERIFICATION_ERRORS.general);
    assertRejected(await verdictOf(body, await netopiaToken(body, { iat: -5 })), VERIFICATION_ERRORS.general);
  });
});

describe('the algorithm is pinned to RS512', () => {
  const body = ipnBody({});
  it('refuses alg "none" with or without a signature', async () => {
    for (const alg of ['none', 'None', 'NONE']) {
      assertRejected(await verdictOf(body, unsignedToken({ alg, typ: 'JWT' }, standardClaims(body))), VERIFICATION_ERRORS.general);
      assertRejected(await verdictOf(body, unsignedToken({ alg, typ: 'JWT' }, standardClaims(body), 'AAAA')), VERIFICATION_ERRORS.signature);
    }
  });

  it('refuses HS512 signed with the public key PEM as the HMAC secret (key confusion)', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'HS512', typ: 'JWT' })).toString('base64url');
    const claims = Buffer.from(JSON.stringify(standardClaims(body))).toString('base64url');
    const mac = createHmac('sha512', NETOPIA_TEST_KEY.publicPem).update(`${header}.${claims}`).digest('base64url');
    assertRejected(await verdictOf(body, `${header}.${claims}.${mac}`), VERIFICATION_ERRORS.signature);
  });

  it('refuses RS256 and PS512 even when signed by the trusted key', async () => {
    assertRejected(await verdictOf(body, await netopiaToken(body, {}, NETOPIA_TEST_KEY.privateKey, 'RS256')), VERIFICATION_ERRORS.signature);
    assertRejected(await verdictOf(body, await netopiaToken(body, {}, NETOPIA_TEST_KEY.privateKey, 'PS512')), VERIFICATION_ERRORS.signature);
  });

  it('refuses every other algorithm jose knows, whoever signed it (RS384, PS256, ES512, EdDSA, HS256)', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    assertRejected(await verdictOf(body, await netopiaToken(body, {}, NETOPIA_TEST_KEY.privateKey, 'RS384')), VERIFICATION_ERRORS.signature);
    assertRejected(await verdictOf(body, await netopiaToken(body, {}, NETOPIA_TEST_KEY.privateKey, 'PS256')), VERIFICATION_ERRORS.signature);
    assertRejected(
      await verdictOf(body, await netopiaToken(body, {}, generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey, 'ES512')),
      VERIFICATION_ERRORS.signature,
    );
    assertRejected(await verdictOf(body, await netopiaToken(body, {}, generateKeyPairSync('ed25519').privateKey, 'EdDSA')), VERIFICATION_ERRORS.signature);
    const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
    const claims = Buffer.from(JSON.stringify(standardClaims(body))).toString('base64url');
    const mac = createHmac('sha256', NETOPIA_TEST_KEY.publicPem).update(`${header}.${claims}`).digest('base64url');
    assertRejected(await verdictOf(body, `${header}.${claims}.${mac}`), VERIFICATION_ERRORS.signature);
  });

  it('still verifies RS512 by a 1024-bit POS key (NETOPIA signed with those in 2021; jose itself takes 2048 bits and up)', async () => {
    const legacy = newKey(1024);
    const cfg = configWith({ notify_public_keys: legacy.publicPem });
    assert.equal((await verdictOf(body, rawRs512Token({ alg: 'RS512', typ: 'JWT' }, standardClaims(body), legacy.privateKey), cfg)).ok, true);
    assertRejected(
      await verdictOf(body, rawRs512Token({ alg: 'RS512', typ: 'JWT' }, standardClaims(body), newKey(1024).privateKey), cfg),
      VERIFICATION_ERRORS.signature,
    );
    assertRejected(
      await verdictOf(body + ' ', rawRs512Token({ alg: 'RS512', typ: 'JWT' }, standardClaims(body), legacy.privateKey), cfg),
      VERIFICATION_ERRORS.taintedPayload,
    );
  });

  it('never takes a key from the token (embedded jwk, jku, kid)', async () => {
    const attacker = newKey();
    const jwk = await exportJWK((await import('node:crypto')).createPublicKey(attacker.publicPem));
    const token = await new SignJWT(standardClaims(body))
      .setProtectedHeader({ alg: 'RS512', typ: 'JWT', jwk, jku: 'https://attacker.example/jwks', kid: 'x' })
      .sign(attacker.privateKey);
    assertRejected(await verdictOf(body, token), VERIFICATION_ERRORS.signature);
  });

  it('requires typ JWT and refuses critical extensions', async () => {
    assertRejected(await verdictOf(body, rawRs512Token({ alg: 'RS512' }, standardClaims(body))), VERIFICATION_ERRORS.general);
    assertRejected(await verdictOf(body, rawRs512Token({ alg: 'RS512', typ: 'JOSE' }, standardClaims(body))), VERIFICATION_ERRORS.general);
    assertRejected(await verdictOf(body, rawRs512Token({ alg: 'RS512', typ: 'JWT', crit: ['exp'] }, standardClaims(body))), VERIFICATION_ERRORS.general);
    assert.equal((await verdictOf(body, rawRs512Token({ alg: 'RS512', typ: 'JWT' }, standardClaims(body)))).ok, true);
  });

  it('refuses a signature made by a key the connection does not trust', async () => {
    assertRejected(await verdictOf(body, await netopiaToken(body, {}, newKey().privateKey)), VERIFICATION_ERRORS.signature);
  });
});

describe('the Verification-token header', () => {
  const body = ipnBody({});
  it('is required', async () => {
    assertRejected(await verdictOf(body, undefined), VERIFICATION_ERRORS.general);
    assertRejected(await verdictOf(body, ''), VERIFICATION_ERRORS.general);
  });

  it('is found whatever the case of its name', async () => {
    const token = await netopiaToken(body);
    for (const name of ['verification-token', 'Verification-token', 'VERIFICATION-TOKEN']) {
      assert.equal((await netopiaV2.verifyNotification(config, notify(body, token, name))).ok, true, name);
    }
    assert.equal((await netopiaV2.verifyNotification(config, { body: Buffer.from(body), headers: { 'verification-token': [token] } })).ok, true);
  });

  it('refuses two different tokens', async () => {
    const token = await netopiaToken(body);
    assertRejected(
      await netopiaV2.verifyNotification(config, { body: Buffer.from(body), headers: { 'verification-token': [token, token + 'x'] } }),
      VERIFICATION_ERRORS.general,
    );
  });

  it('refuses garbage', async () => {
    const token = await netopiaToken(body);
    for (const garbage of [
      'abc',
      'a.b',
      'a.b.c.d',
      '..',
      '...',
      `Bearer ${token}`,
      token.replace('.', '.\n'),
      `${token}.`,
      'e30.e30.e30',
      'eyJ.eyJ.eyJ',
      '\u0000',
      'x'.repeat(20000),
    ]) {
      const v = await verdictOf(body, garbage);
      assert.equal(v.ok, false, JSON.stringify(garbage).slice(0, 60));
      if (!v.ok) assert.equal(v.permanent, true);
    }
  });
});
