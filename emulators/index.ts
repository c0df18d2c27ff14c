import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { registerNetopiaV1Emulator } from './netopia-v1/index.js';
import { registerWebhookInbox } from './webhook-inbox/index.js';

/** Mounts every processor emulator under /sandbox/… on the hub's server (server wiring only). */
export async function registerEmulators(app: FastifyInstance, options: { db: Kysely<any>; publicUrl: string }): Promise<{ stop(): Promise<void> }> {
  const netopiaV1 = await registerNetopiaV1Emulator(app, options);
  await registerWebhookInbox(app, options);
  return { stop: () => netopiaV1.stop() };
}
