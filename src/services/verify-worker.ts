import { parentPort } from 'node:worker_threads';
import { connectorFor } from '../connectors/registry.js';
import type { ConnectionConfig, Environment, NotificationVerdict } from '../connectors/types.js';

/**
 * A verification thread: opens and reads processor notifications (RSA, XML, JWT) off the main thread.
 * It holds no state but a cache of parsed connection keys; the main thread decides what the verdict means.
 */

export interface VerifyRequest {
  id: number;
  provider: string;
  connection: { id: string; stamp: number; credentials: string; settings: unknown; environment: Environment; endpoint: string };
  body: Uint8Array;
  contentType?: string;
  headers: Record<string, string | string[] | undefined>;
}

export type VerifyResponse = { id: number; verdict: NotificationVerdict } | { id: number; error: string };

const configs = new Map<string, { stamp: number; config: ConnectionConfig<unknown, unknown> }>();

function configFor(request: VerifyRequest): ConnectionConfig<unknown, unknown> {
  const c = request.connection;
  const hit = configs.get(c.id);
  if (hit && hit.stamp === c.stamp) return hit.config;
  const connector = connectorFor(request.provider)!;
  const config = { credentials: connector.parseCredentials(JSON.parse(c.credentials)), settings: connector.parseSettings(c.settings), environment: c.environment, endpoint: c.endpoint };
  if (configs.size > 1000) configs.clear();
  configs.set(c.id, { stamp: c.stamp, config });
  return config;
}

parentPort!.on('message', (request: VerifyRequest) => {
  let response: VerifyResponse;
  try {
    const connector = connectorFor(request.provider);
    if (!connector) throw new Error(`no connector ${request.provider}`);
    const verdict = connector.verifyNotification(configFor(request), { body: Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength), contentType: request.contentType, headers: request.headers });
    response = { id: request.id, verdict };
  } catch (e) {
    response = { id: request.id, error: e instanceof Error ? e.message : String(e) };
  }
  parentPort!.postMessage(response);
});
