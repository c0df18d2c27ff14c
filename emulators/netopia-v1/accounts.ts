import { randomInt } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Selectable } from 'kysely';
import { newRsaKeyPair } from './platform-key.js';
import type { CaptureMode, EmuDb, EmuTables } from './schema.js';
import type { EmulatorContext } from './context.js';

/**
 * Seller accounts (NETOPIA's "points of sale"), created the way the admin console hands them out: a
 * signature, NETOPIA's public certificate for sealing requests, and a private key for opening IPNs.
 */

export type Account = Selectable<EmuTables['emu_netopia_v1_accounts']>;

const SIGNATURE_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
export const SIGNATURE_RE = /^[A-Z0-9]{4}(?:-[A-Z0-9]{4}){4}$/;

/** A POS signature as NETOPIA issues them, five groups of four (XXXX-XXXX-XXXX-XXXX-XXXX); API v2 uses the same. */
export function newSignature(): string {
  const groups: string[] = [];
  for (let g = 0; g < 5; g++) {
    let group = '';
    for (let i = 0; i < 4; i++) group += SIGNATURE_ALPHABET[randomInt(SIGNATURE_ALPHABET.length)];
    groups.push(group);
  }
  return groups.join('-');
}

export async function findAccount(db: EmuDb, signature: string): Promise<Account | undefined> {
  return db.selectFrom('emu_netopia_v1_accounts').selectAll().where('signature', '=', signature).executeTakeFirst();
}

function parseCreateBody(body: unknown): { name: string; capture: CaptureMode } | string {
  const input = body === undefined || body === null ? {} : body;
  if (typeof input !== 'object' || Array.isArray(input)) return 'body must be a JSON object';
  const { name = 'Sandbox seller', capture = 'auto' } = input as Record<string, unknown>;
  if (typeof name !== 'string' || name.trim() === '' || name.length > 100) return 'name must be a non-empty string of at most 100 characters';
  if (capture !== 'auto' && capture !== 'manual') return 'capture must be "auto" or "manual"';
  return { name: name.trim(), capture };
}

export function registerAccountRoutes(app: FastifyInstance, ctx: EmulatorContext): void {
  const publicView = (account: Account) => ({
    signature: account.signature,
    name: account.name,
    capture: account.capture,
    certificate: ctx.platform.certificatePem,
    payment_url: ctx.paymentUrl,
  });

  app.post('/accounts', async (request, reply) => {
    const parsed = parseCreateBody(request.body);
    if (typeof parsed === 'string') return reply.code(400).send({ ok: false, error: { code: 48, message: parsed } });
    const { privateKeyPem, publicKeyPem } = await newRsaKeyPair();
    // 36^20 signatures make a collision practically impossible; the loop only keeps the insert honest.
    for (;;) {
      const account = await ctx.db
        .insertInto('emu_netopia_v1_accounts')
        .values({ signature: newSignature(), name: parsed.name, capture: parsed.capture, ipn_public_key_pem: publicKeyPem })
        .onConflict((oc) => oc.column('signature').doNothing())
        .returningAll()
        .executeTakeFirst();
      if (!account) continue;
      // The back office's login, shown once like the private key: the signature and a password of its own.
      const password = await ctx.backOffice.issueLogin(account.signature);
      return reply.code(201).send({
        ...publicView(account),
        private_key: privateKeyPem,
        back_office: { url: `${ctx.baseUrl}/orders`, login: account.signature, password },
      });
    }
  });

  app.get<{ Params: { signature: string } }>('/accounts/:signature', async (request, reply) => {
    const signature = request.params.signature.toUpperCase();
    const account = SIGNATURE_RE.test(signature) ? await findAccount(ctx.db, signature) : undefined;
    if (!account) return reply.code(404).send({ ok: false, error: { code: 48, message: 'no seller account has this signature' } });
    return publicView(account);
  });
}
