// Where the time goes: single-threaded, in-process costs of the CPU-heavy steps of the hub's NETOPIA v1 paths,
// measured in the benchmark process on real IPN bodies of the run.
import { constants, privateDecrypt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { netopiaV1 } from '../src/connectors/netopia-v1/connector.js';
import { loadPrivateKey, openEnvelope } from '../src/connectors/netopia-v1/envelope.js';
import { BILLING } from './common.js';
import { sandboxCredentials, VANILO_KEY } from './netopia.js';

export interface MicroCosts {
  rawRsaUs: number;
  openEnvelopeUs: number;
  verifyNotificationUs: number;
  createRedirectUs: number;
  pgRoundTripWallUs?: number;
  pgRoundTripClientCpuUs?: number;
}

/** `ipnBodies`: form-encoded IPN bodies (as posted to the hub) from the run. */
export function microCosts(ipnBodies: string[] | undefined): MicroCosts | undefined {
  if (!ipnBodies?.length) return undefined;
  const credentials = netopiaV1.parseCredentials(sandboxCredentials());
  const config = {
    credentials,
    settings: netopiaV1.parseSettings({}),
    environment: 'sandbox' as const,
    endpoint: netopiaV1.defaultEndpoint('sandbox', 'http://127.0.0.1'),
  };
  const key = loadPrivateKey(VANILO_KEY);
  const bodies = ipnBodies.map((b) => Buffer.from(b));
  const forms = ipnBodies.map((b) => Object.fromEntries(new URLSearchParams(b)));
  const time = (n: number, fn: (i: number) => void) => {
    for (let i = 0; i < Math.min(n, 50); i++) fn(i);
    const t = performance.now();
    for (let i = 0; i < n; i++) fn(i);
    return ((performance.now() - t) * 1000) / n;
  };
  const ciphertext = Buffer.from(forms[0]!.env_key!, 'base64');
  const rawRsaUs = time(300, () => privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, ciphertext));
  const openEnvelopeUs = time(bodies.length, (i) => openEnvelope(forms[i]!, key));
  const verifyNotificationUs = time(bodies.length, (i) => {
    const v = netopiaV1.verifyNotification(config, { body: bodies[i]!, contentType: 'application/x-www-form-urlencoded', headers: {} });
    if (!v.ok) throw new Error(`micro: IPN did not verify: ${v.reason}`);
  });
  const createRedirectUs = time(1000, (i) =>
    netopiaV1.createRedirect!(config, {
      reference: `att_${String(i).padStart(26, '0')}`,
      amount: 1000 + i,
      currency: 'RON',
      description: 'Cafea boabe 1kg',
      billing: BILLING,
      metadata: {},
      urls: { notify: 'http://127.0.0.1/notify/netopia-v1/con_x', return: 'http://127.0.0.1/pay/pay_x/return' },
      now: new Date(),
    }),
  );
  return { rawRsaUs, openEnvelopeUs, verifyNotificationUs, createRedirectUs };
}
