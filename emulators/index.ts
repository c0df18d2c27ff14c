import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { registerNetopiaV1Emulator } from './netopia-v1/index.js';
import { registerNetopiaV2Emulator } from './netopia-v2/index.js';
import { registerMultisafepayEmulator } from './multisafepay/index.js';
import { registerNexiEmulator } from './nexi/index.js';
import { registerVoltEmulator } from './volt/index.js';
import { registerWebhookInbox } from './webhook-inbox/index.js';
import { registerSandboxIndex, SANDBOX_PREFIXES } from './sandbox-index.js';

/** Mounts every processor emulator under /sandbox/… on the hub's server, with their index at /sandbox/ (server wiring only). */
export async function registerEmulators(app: FastifyInstance, options: { db: Kysely<any>; publicUrl: string }): Promise<{ stop(): Promise<void> }> {
  const running = [
    await registerNetopiaV1Emulator(app, { ...options, prefix: SANDBOX_PREFIXES.netopiaV1 }),
    await registerNetopiaV2Emulator(app, { ...options, prefix: SANDBOX_PREFIXES.netopiaV2 }),
    await registerMultisafepayEmulator(app, { ...options, prefix: SANDBOX_PREFIXES.multisafepay }),
    await registerNexiEmulator(app, { ...options, prefix: SANDBOX_PREFIXES.nexi }),
    await registerVoltEmulator(app, { ...options, prefix: SANDBOX_PREFIXES.volt }),
  ];
  await registerWebhookInbox(app, options);
  // The index of what is mounted above, at /sandbox/.
  registerSandboxIndex(app, options);
  return { stop: async () => void (await Promise.all(running.map((r) => r.stop()))) };
}
