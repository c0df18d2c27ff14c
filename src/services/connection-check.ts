import type { HubContext } from './context.js';
import { getConnection, loadConnection } from './connections.js';
import { checkCredentials, type CredentialsVerdict } from './processor-calls.js';

/**
 * "Test connection": asks the connection's processor whether it accepts the stored credentials, with the
 * connector's harmless authenticated call (`credentialsCheck`), through the checked outbound path. Nothing is
 * created at the processor and nothing is written in the hub. A disabled connection may be tested too.
 */
export async function testConnection(ctx: HubContext, merchantId: string, idOrCode: string): Promise<CredentialsVerdict> {
  const row = await getConnection(ctx, merchantId, idOrCode);
  return checkCredentials(ctx, loadConnection(ctx, row));
}

export type { CredentialsVerdict };
