import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { certificateSerialHex, newRsaKeyPair, selfSignedCertificate } from '../../../emulators/netopia-v1/platform-key.js';

describe('NETOPIA v1 emulator: the platform certificate', () => {
  let keys: { privateKeyPem: string; publicKeyPem: string };
  before(async () => {
    keys = await newRsaKeyPair();
  });

  // The random first bytes that once made OpenSSL refuse the certificate ("illegal padding"), and the edges.
  const firstBytes = [0x00, 0x01, 0x7f, 0x80, 0xff];
  for (const first of firstBytes) {
    it(`parses in OpenSSL whatever the serial's random bytes (first byte 0x${first.toString(16).padStart(2, '0')})`, () => {
      const random = Buffer.alloc(16, 0x00);
      random[0] = first;
      const serial = certificateSerialHex(random);
      const certificate = new X509Certificate(selfSignedCertificate(keys.privateKeyPem, keys.publicKeyPem, serial));
      assert.equal(certificate.serialNumber.toLowerCase().replace(/^0+/, ''), serial.replace(/^0+/, ''));
      assert.equal(certificate.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    });
  }

  it('serials are 16 bytes, positive and minimally encoded, and differ from one certificate to the next', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const serial = certificateSerialHex();
      assert.match(serial, /^[0-7][0-9a-f]{31}$/);
      assert.notEqual(serial.slice(0, 2), '00');
      seen.add(serial);
    }
    assert.equal(seen.size, 10_000);
  });
});
