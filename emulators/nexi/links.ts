import { randomBytes, randomInt } from 'node:crypto';
import { sql, type Selectable } from 'kysely';
import { computeMac, resultMacPairs } from '../../src/connectors/nexi/mac.js';
import { ORDER_REFERENCE_PARAM } from '../../src/connectors/nexi/paymail.js';
import { romeDataOrario } from '../../src/connectors/nexi/rome-time.js';
import type { EmuNexiDb, EmuNexiTables } from './schema.js';

/**
 * PayMail links and what happens on them: a card try (OK/KO), the customer's cancel (ANNULLO), expiry. Each
 * result is one transaction: the try is recorded, the link moves on, and the signed result is queued for
 * `urlpost` — so a crash can never leave a payment without its notification.
 */

export type Link = Selectable<EmuNexiTables['emu_nexi_links']>;
export type Account = Selectable<EmuNexiTables['emu_nexi_accounts']>;

/** XPay allows a codTrans three tries: after the third KO the link is closed. */
export const MAX_TRIES = 3;

export async function findAccount(db: EmuNexiDb, alias: string): Promise<Account | undefined> {
  // A text column cannot hold NUL (PostgreSQL refuses the query): such an alias names no terminal.
  if (alias.includes('\0') || alias.length > 100) return undefined;
  return db.selectFrom('emu_nexi_accounts').selectAll().where('alias', '=', alias).executeTakeFirst();
}

export function newLinkToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Finds a link by its token; an open link past its deadline is closed as expired on the way. */
export async function findLinkByToken(db: EmuNexiDb, token: string): Promise<Link | undefined> {
  if (!/^[A-Za-z0-9_-]{32}$/.test(token)) return undefined;
  await db
    .updateTable('emu_nexi_links')
    .set({ status: 'expired', updated_at: new Date() })
    .where('token', '=', token)
    .where('status', '=', 'open')
    .where('expires_at', '<=', new Date())
    .execute();
  return db.selectFrom('emu_nexi_links').selectAll().where('token', '=', token).executeTakeFirst();
}

export interface TryResult {
  esito: 'OK' | 'KO' | 'ANNULLO';
  codiceEsito: string;
  messaggio: string;
  brand?: string;
  pan?: string;
  scadenza?: string;
}

function authorizationCode(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';
  let code = '';
  for (let i = 0; i < 6; i++) code += alphabet[randomInt(alphabet.length)];
  return code;
}

/** The result fields of the codice base (url, url_back and urlpost carry the same), signed with the MAC key. */
export function resultFields(link: Link, macKey: string, r: TryResult & { codAut: string; data: string; orario: string }): Record<string, string> {
  const core = {
    codTrans: link.cod_trans,
    esito: r.esito,
    importo: String(link.importo),
    divisa: link.divisa,
    data: r.data,
    orario: r.orario,
    codAut: r.codAut,
  };
  const fields: Record<string, string> = { alias: link.alias, ...core, codiceEsito: r.codiceEsito, messaggio: r.messaggio };
  if (r.brand) fields.brand = r.brand;
  if (r.pan) {
    fields.pan = r.pan;
    fields.nazionalita = 'ITA';
  }
  if (r.scadenza) fields.scadenza_pan = r.scadenza;
  fields.languageId = link.language_id ?? 'ITA';
  if (link.mail) fields.mail = link.mail;
  if (link.nome) fields.nome = link.nome;
  if (link.cognome) fields.cognome = link.cognome;
  if (link.descrizione) fields.descrizione = link.descrizione;
  // XPay returns the merchant's custom parameters with the result.
  if (link.order_reference) fields[ORDER_REFERENCE_PARAM] = link.order_reference;
  fields.mac = computeMac(resultMacPairs(core), macKey);
  return fields;
}

export interface Settled {
  link: Link;
  fields: Record<string, string>;
  notificationId?: number;
}

/**
 * Records one outcome on an open link, under a row lock: a card try (OK, KO) or the customer's cancel
 * (ANNULLO). Returns undefined when the link is no longer open (paid, closed, expired meanwhile).
 */
export async function settle(db: EmuNexiDb, linkId: number, macKey: string, r: TryResult, leaseMs: number): Promise<Settled | undefined> {
  return db.transaction().execute(async (trx) => {
    const link = await trx.selectFrom('emu_nexi_links').selectAll().where('id', '=', linkId).forUpdate().executeTakeFirst();
    if (!link || link.status !== 'open' || new Date(link.expires_at).getTime() <= Date.now()) return undefined;
    const now = new Date();
    const { data, orario } = romeDataOrario(now);
    const codAut = r.esito === 'OK' ? authorizationCode() : '';
    const tries = link.tries + (r.esito === 'ANNULLO' ? 0 : 1);
    const status = r.esito === 'OK' ? 'paid' : r.esito === 'ANNULLO' ? 'canceled' : tries >= MAX_TRIES ? 'declined' : 'open';
    const updated = await trx
      .updateTable('emu_nexi_links')
      .set({ status, tries, updated_at: now })
      .where('id', '=', linkId)
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('emu_nexi_payments')
      .values({
        link_id: linkId,
        esito: r.esito,
        codice_esito: r.codiceEsito,
        messaggio: r.messaggio,
        cod_aut: codAut,
        brand: r.brand ?? null,
        pan: r.pan ?? null,
        scadenza_pan: r.scadenza ?? null,
        data,
        orario,
      })
      .execute();
    const fields = resultFields(updated, macKey, { ...r, codAut, data, orario });
    let notificationId: number | undefined;
    if (updated.url_post) {
      // Queued with a lease: the request that caused it makes the first attempt (deliverNow), the worker the rest.
      const row = await trx
        .insertInto('emu_nexi_notifications')
        .values({
          link_id: linkId,
          fields: JSON.stringify(fields),
          url_post: updated.url_post,
          status: 'pending',
          next_attempt_at: sql<Date>`now() + ${leaseMs} * interval '1 millisecond'`,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      notificationId = Number(row.id);
    }
    return { link: updated, fields, notificationId };
  });
}

/** The sandbox's "let the link expire": closes an open link now. */
export async function expireNow(db: EmuNexiDb, linkId: number): Promise<boolean> {
  const r = await db
    .updateTable('emu_nexi_links')
    .set({ status: 'expired', expires_at: new Date(), updated_at: new Date() })
    .where('id', '=', linkId)
    .where('status', '=', 'open')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Where XPay sends the browser: the merchant's URL with the result fields appended to its own query string. */
export function withResult(url: string, fields: Record<string, string>): string {
  const target = new URL(url);
  for (const [name, value] of Object.entries(fields)) target.searchParams.append(name, value);
  return target.toString();
}
