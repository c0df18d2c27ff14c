import type { FastifyReply, FastifyRequest } from 'fastify';
import { toDecimalString } from '../../core/money.js';
import { html, Html } from '../../html/template.js';
import { NotFoundError, type HubContext } from '../../services/context.js';
import { getMerchant } from '../../services/merchants.js';
import type { Merchant } from '../../store/schema.js';
import './context.js';

/**
 * What every section's pages use: reading a query or a form, answering a form post, the user's rights, and the
 * way the console writes times, amounts and the anti-forgery field. Sections import these from here (not from
 * `index.ts`, which imports the sections).
 */

/** The first value of a query or form parameter, trimmed ('' when absent). */
export const one = (v: unknown): string => (Array.isArray(v) ? v[0] : v)?.toString().trim() ?? '';

/** A form's fields (the console parses forms into one value per name). */
export function formOf(request: FastifyRequest): Record<string, string> {
  return request.body !== null && typeof request.body === 'object' ? (request.body as Record<string, string>) : {};
}

/** Sends the browser elsewhere after a form post (303); htmx is told with HX-Redirect so it leaves the page instead of swapping a fragment. */
export function seeOther(request: FastifyRequest, reply: FastifyReply, url: string) {
  if (request.headers['hx-request'] === 'true') return reply.header('hx-redirect', url).code(204).send();
  return reply.redirect(url, 303);
}

/** Whether the logged-in user may change things (admins and the operator; viewers only read). */
export const mayChange = (request: FastifyRequest): boolean => request.console?.session?.role !== 'viewer';

/** The merchant whose data the user may see: a merchant user's own; null for the operator (every merchant). */
export function scopeOf(request: FastifyRequest): string | null {
  const session = request.console!.session!;
  return session.role === 'operator' ? null : session.merchantId;
}

/**
 * The one merchant a page or a form of a section is about, resolved the same way by every section: a merchant
 * user's own; for the operator, the one named by `merchant` (the query, else the form's hidden field). Null: the
 * operator named none yet (the section shows its choice of merchant). A name that is not an existing merchant
 * answers 404, like any other thing that does not exist.
 */
export async function merchantInScope(ctx: Pick<HubContext, 'db'>, request: FastifyRequest): Promise<Merchant | null> {
  const session = request.console!.session!;
  const named =
    session.role === 'operator'
      ? one((request.query as Record<string, unknown> | undefined)?.merchant) || one(formOf(request).merchant)
      : (session.merchantId ?? '');
  if (!named) {
    if (session.role !== 'operator') throw new NotFoundError('no merchant');
    return null;
  }
  const merchant = /^[A-Za-z0-9_]{1,64}$/.test(named) ? await getMerchant(ctx, named) : undefined;
  if (!merchant) throw new NotFoundError('no such merchant');
  return merchant;
}

/** The merchant in scope, which the route needs (404 when the operator named none). */
export async function requireMerchant(ctx: Pick<HubContext, 'db'>, request: FastifyRequest): Promise<Merchant> {
  const merchant = await merchantInScope(ctx, request);
  if (!merchant) throw new NotFoundError('no merchant chosen');
  return merchant;
}

/** The anti-forgery field every state-changing form carries. */
export const csrfField = (request: FastifyRequest): Html => html`<input type="hidden" name="_csrf" value="${request.console!.session!.csrfToken}">`;

/** A time as the console writes it without script: UTC, to the second. */
export const when = (d: Date | string | null): string => (d ? `${new Date(d).toISOString().slice(0, 19).replace('T', ' ')} UTC` : '');

/** A `<time>` with its UTC value, which the console's script shows in the browser's time zone. */
export const timeTag = (d: Date | string | null): Html | string => (d ? html`<time datetime="${new Date(d).toISOString()}">${when(d)}</time>` : '');

/** An amount in minor units, written in its currency's major units. */
export const money = (amount: number, currency: string): string => `${toDecimalString(amount, currency)} ${currency}`;

/** The ` selected` of the option that is chosen. */
export const selected = (yes: boolean): Html | string => (yes ? new Html(' selected') : '');

/**
 * The hidden fields of a form that acts on one merchant's data: the anti-forgery token and, for the operator (who
 * picks the merchant; a merchant's user is held to its own), the merchant.
 */
export function merchantFields(request: FastifyRequest, merchantId: string): Html {
  const session = request.console!.session!;
  return html`${csrfField(request)}${session.role === 'operator' ? html`<input type="hidden" name="merchant" value="${merchantId}">` : ''}`;
}

/** A console path with the operator's choice of merchant (and other parameters) in its query. */
export function merchantLink(request: FastifyRequest, merchantId: string, path: string, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  if (request.console!.session!.role === 'operator') params.set('merchant', merchantId);
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  const query = params.toString();
  return query ? `${path}?${query}` : path;
}
