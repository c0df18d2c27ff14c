import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { apiError, type EmulatorContext } from './context.js';
import type { EmuDb } from './schema.js';

/**
 * Test accounts: one website with its API key, as the MultiSafepay test dashboard hands them out
 * (Websites → API key). Keys look like MultiSafepay's: 40 letters and digits.
 */

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function newApiKey(): string {
  const bytes = randomBytes(40);
  let key = '';
  // 256 % 62 leaves a slight bias towards the first letters; irrelevant for test keys.
  for (const b of bytes) key += KEY_ALPHABET[b % KEY_ALPHABET.length];
  return key;
}

export async function findAccount(db: EmuDb, apiKey: string): Promise<{ api_key: string; name: string } | undefined> {
  if (!/^[A-Za-z0-9]{40}$/.test(apiKey)) return undefined;
  return db.selectFrom('emu_multisafepay_accounts').select(['api_key', 'name']).where('api_key', '=', apiKey).executeTakeFirst();
}

export function registerAccountRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  app.post('/accounts', async (request, reply) => {
    const input = request.body === undefined || request.body === null ? {} : request.body;
    if (typeof input !== 'object' || Array.isArray(input)) return apiError(reply, 400, 1016, 'Missing data: the body must be a JSON object');
    const name = (input as Record<string, unknown>).name ?? 'Test website';
    if (typeof name !== 'string' || name.trim() === '' || name.length > 100)
      return apiError(reply, 400, 1016, 'Missing data: name must be a non-empty string of at most 100 characters');
    const account = await ctx.db
      .insertInto('emu_multisafepay_accounts')
      .values({ api_key: newApiKey(), name: name.trim() })
      .returningAll()
      .executeTakeFirstOrThrow();
    return reply.code(201).send({ api_key: account.api_key, name: account.name, api_url: `${ctx.baseUrl}/v1/json/` });
  });
}
