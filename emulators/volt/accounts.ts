import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { VoltEmulatorContext } from './context.js';
import { sendException } from './replies.js';
import type { Account, EmuVoltDb } from './schema.js';
import { isHttpUrl } from './validation.js';

/**
 * Sandbox accounts, as Fuzebox hands them out: an application (client id and secret, notification secret)
 * and its API user (username and password).
 */

function secret(): string {
  return randomBytes(24).toString('base64url');
}

export async function findAccount(db: EmuVoltDb, clientId: string): Promise<Account | undefined> {
  return db.selectFrom('emu_volt_accounts').selectAll().where('client_id', '=', clientId).executeTakeFirst();
}

function parseCreateBody(body: unknown): { name: string; notificationUrl: string | null } | string {
  const input = body === undefined || body === null ? {} : body;
  if (typeof input !== 'object' || Array.isArray(input)) return 'body must be a JSON object';
  const { name = 'Sandbox merchant', notification_url: url = null } = input as Record<string, unknown>;
  if (typeof name !== 'string' || name.trim() === '' || name.length > 100) return 'name must be a non-empty string of at most 100 characters';
  if (url !== null && (typeof url !== 'string' || !isHttpUrl(url))) return 'notification_url must be an http(s) URL';
  return { name: name.trim(), notificationUrl: url };
}

export function registerAccountRoutes(app: FastifyInstance, ctx: VoltEmulatorContext): void {
  app.post('/accounts', async (request, reply) => {
    const parsed = parseCreateBody(request.body);
    if (typeof parsed === 'string') return sendException(reply, 400, 'Validation exception', [{ property: 'name', message: parsed }]);
    const clientId = randomUUID();
    const account = await ctx.db
      .insertInto('emu_volt_accounts')
      .values({
        client_id: clientId,
        client_secret: randomUUID(),
        username: `${randomUUID()}@sandbox.volt.io`,
        password: secret(),
        notification_secret: randomUUID(),
        name: parsed.name,
        notification_url: parsed.notificationUrl,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return reply.code(201).send({
      name: account.name,
      client_id: account.client_id,
      client_secret: account.client_secret,
      username: account.username,
      password: account.password,
      notification_secret: account.notification_secret,
      notification_url: account.notification_url,
      api_url: ctx.baseUrl,
    });
  });
}
