// Shared fixtures of the Volt connector tests: a connection as the hub loads it, and a signer that builds
// notifications the way docs.volt.io says Volt signs them.
import { signVoltNotification } from '../../../src/connectors/volt/signature.js';
import { volt } from '../../../src/connectors/volt/connector.js';
import type { ConnectionConfig, InboundNotification } from '../../../src/connectors/types.js';
import type { VoltCredentials, VoltSettings } from '../../../src/connectors/volt/config.js';

/** The notification secret of Volt's "Testing notifications" page. */
export const DOCS_SECRET = '9c0c8c97-c224-45ed-a195-23b54b1c67e5';
/** X-Volt-Timed of the same page (2021-09-13T09:24:24Z). */
export const DOCS_TIMED = '1631525064';
export const DOCS_NOW = new Date(Number(DOCS_TIMED) * 1000);

export function config(overrides: { secret?: string; settings?: Record<string, unknown> } = {}): ConnectionConfig<VoltCredentials, VoltSettings> {
  return {
    credentials: volt.parseCredentials({
      client_id: '6b288347-5d6f-4596-b620-72dc7a88de86',
      client_secret: 'caaf7b1b-1024-4212-a55f-041007917ba8',
      username: 'd0d6a7bd-780a-498a-95e4-402ec1b89c44@volt.io',
      password: 'secretpassword',
      notification_secret: overrides.secret ?? DOCS_SECRET,
    }),
    settings: volt.parseSettings(overrides.settings ?? {}),
    environment: 'sandbox',
    endpoint: 'https://api.sandbox.volt.io',
  };
}

/** A notification signed as Volt signs it: HMAC-SHA256(secret, body|timed|version), hex. */
export function signed(
  body: string | Buffer,
  options: { secret?: string; timed?: string; version?: string; headers?: Record<string, string> } = {},
): InboundNotification {
  const timed = options.timed ?? DOCS_TIMED;
  const version = options.version ?? '2.0';
  return {
    body: Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8'),
    contentType: 'application/json',
    headers: {
      'content-type': 'application/json',
      'user-agent': `Volt/${version}`,
      'x-volt-timed': timed,
      'x-volt-signed': signVoltNotification(options.secret ?? DOCS_SECRET, body, timed, version),
      ...options.headers,
    },
  };
}
