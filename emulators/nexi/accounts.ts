import { randomInt } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { NexiContext } from './context.js';
import { findAccount } from './links.js';

/**
 * Test terminals, the way Nexi's test area hands them out: an alias (`ALIAS_WEB_` + 8 digits) and a MAC key
 * of 32 upper-case letters and digits ("chiave segreta per calcolo MAC").
 */

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function newAlias(): string {
  return `ALIAS_WEB_${String(randomInt(100_000_000)).padStart(8, '0')}`;
}

function newMacKey(): string {
  let key = '';
  for (let i = 0; i < 32; i++) key += KEY_ALPHABET[randomInt(KEY_ALPHABET.length)];
  return key;
}

export function registerAccountRoutes(app: FastifyInstance, ctx: NexiContext): void {
  app.post('/accounts', async (request, reply) => {
    const body = request.body ?? {};
    const name = typeof body === 'object' && !Array.isArray(body) ? ((body as Record<string, unknown>).name ?? 'Sandbox shop') : undefined;
    if (typeof name !== 'string' || name.trim() === '' || name.length > 100) {
      return reply.code(400).send({ esito: 'KO', errore: { codice: 3, messaggio: 'name must be a non-empty string of at most 100 characters' } });
    }
    for (;;) {
      const account = await ctx.db
        .insertInto('emu_nexi_accounts')
        .values({ alias: newAlias(), name: name.trim(), mac_key: newMacKey() })
        .onConflict((oc) => oc.column('alias').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (account) return reply.code(201).send({ alias: account.alias, mac_key: account.mac_key, name: account.name, api_base: ctx.baseUrl });
    }
  });

  app.get<{ Params: { alias: string } }>('/accounts/:alias', async (request, reply) => {
    const account = await findAccount(ctx.db, request.params.alias);
    if (!account) return reply.code(404).send({ esito: 'KO', errore: { codice: 4, messaggio: 'Alias non valido' } });
    return { alias: account.alias, name: account.name, api_base: ctx.baseUrl };
  });
}
