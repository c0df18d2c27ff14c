import { connectorFor } from '../connectors/registry.js';
import type { ConnectionConfig, Environment, InboundNotification, NotificationVerdict } from '../connectors/types.js';

/**
 * A verification thread (run by piscina): opens and reads processor notifications (RSA, XML, JWT) off the main
 * thread. It holds no state but a cache of parsed connection keys; the main thread decides what the verdict means.
 */

export interface VerifyJob {
  connection: { id: string; provider: string; stamp: number; credentials: string; settings: unknown; environment: Environment; endpoint: string };
  /** The notification as the main thread has it; its body arrives as a Uint8Array (structured clone drops Buffer). */
  notification: Omit<InboundNotification, 'body'> & { body: Uint8Array };
}

const configs = new Map<string, { stamp: number; config: ConnectionConfig<unknown, unknown> }>();

function configFor(job: VerifyJob): ConnectionConfig<unknown, unknown> {
  const c = job.connection;
  const hit = configs.get(c.id);
  if (hit && hit.stamp === c.stamp) return hit.config;
  const connector = connectorFor(c.provider)!;
  const config = {
    credentials: connector.parseCredentials(JSON.parse(c.credentials)),
    settings: connector.parseSettings(c.settings),
    environment: c.environment,
    endpoint: c.endpoint,
  };
  if (configs.size > 1000) configs.clear();
  configs.set(c.id, { stamp: c.stamp, config });
  return config;
}

export default async function verify(job: VerifyJob): Promise<NotificationVerdict> {
  const connector = connectorFor(job.connection.provider);
  if (!connector) throw new Error(`no connector ${job.connection.provider}`);
  const { body } = job.notification;
  return connector.verifyNotification(configFor(job), { ...job.notification, body: Buffer.from(body.buffer, body.byteOffset, body.byteLength) });
}
