import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { registerNetopiaV1Emulator } from './netopia-v1/index.js';
import { registerNetopiaV2Emulator } from './netopia-v2/index.js';
import { registerMultisafepayEmulator } from './multisafepay/index.js';
import { registerNexiEmulator } from './nexi/index.js';
import { registerVoltEmulator } from './volt/index.js';
import { registerWebhookInbox } from './webhook-inbox/index.js';

/** Mounts every processor emulator under /sandbox/… on the hub's server (server wiring only). */
export async function registerEmulators(app: FastifyInstance, options: { db: Kysely<any>; publicUrl: string }): Promise<{ stop(): Promise<void> }> {
  const running = [
    await registerNetopiaV1Emulator(app, options),
    await registerNetopiaV2Emulator(app, options),
    await registerMultisafepayEmulator(app, options),
    await registerNexiEmulator(app, options),
    await registerVoltEmulator(app, options),
  ];
  await registerWebhookInbox(app, options);
  return { stop: async () => void (await Promise.all(running.map((r) => r.stop()))) };
}
