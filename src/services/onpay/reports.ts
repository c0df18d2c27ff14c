import type { HubContext } from '../context.js';
import { paymentMethodCodes } from '../payment-methods.js';
import { OnpayError } from './errors.js';
import { findOnpayUser, type OnpayGateway, type OnpaySide } from './users.js';
import { instantOfWallClock } from '../../core/wall-clock.js';
import { formatOnpayDate, minorToOnpayAmount, parseOnpayDate } from './values.js';
import { onpayLinkNotifications, onpayUserReport } from '../../store/queries/onpay.js';

/**
 * `get_notifications` and `get_users`, read from the ledger. Notifications are the acquirer statements the hub
 * verified and applied (a notification, or the acquirer's answer to a status check): basic mode reports only the
 * payment (`completed`), complete mode every status in the acquirer's own words.
 *
 * Dates: `notification_date` is when the acquirer says the status happened (its own timestamp, else when the hub
 * received it); `validation_date` is when the hub verified it (signature checked, applied to the ledger).
 */

export interface NotificationsQuery {
  gateway: OnpayGateway;
  gatewayApiKey: string;
  gatewaySecretKey: string;
  extId: string;
  date: string;
  allnotifications: boolean;
}

export interface OnpayNotification {
  extId: string;
  gateway: string;
  status: string;
  orderAmount: string;
  orderCurrency: string;
  notification_date: string;
  validation_date: string;
  payment_type: string;
}

/**
 * The zone of each acquirer's own clock, for its timestamps that carry no offset: MultiSafepay writes Amsterdam
 * wall-clock time (`2022-09-07T11:19:59`); Nexi's and Volt's reach the summary as UTC instants already.
 */
const ACQUIRER_TIME_ZONES: Readonly<Record<OnpayGateway, string>> = { multisafepay: 'Europe/Amsterdam', nexi: 'Europe/Rome', volt: 'UTC' };

const ZONED_RE = /\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;
const WALL_CLOCK_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?$/;

/**
 * The instant an acquirer's timestamp names: with an offset (or `Z`) as written; without one, as a clock in
 * `timeZone` shows it (DST-correct, whatever the server's own zone). Undefined when it is not a timestamp.
 */
export function acquirerInstant(text: string, timeZone: string): Date | undefined {
  const t = text.trim();
  if (ZONED_RE.test(t)) {
    const ms = Date.parse(t);
    return Number.isNaN(ms) ? undefined : new Date(ms);
  }
  const m = WALL_CLOCK_RE.exec(t);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number) as [number, number, number, number, number, number];
  return instantOfWallClock({ year, month, day, hour, minute, second }, timeZone);
}

export async function onpayNotifications(ctx: HubContext, merchantId: string, side: OnpaySide, q: NotificationsQuery): Promise<OnpayNotification[]> {
  const since = q.date ? parseOnpayDate(q.date, 'date') : undefined;
  const user = await findOnpayUser(ctx, merchantId, side, q.gateway, q.gatewayApiKey, q.gatewaySecretKey);
  if (!user) return [];
  const rows = await onpayLinkNotifications(ctx.db, user.id, q.extId || null, since ?? null, q.allnotifications);
  const methods = await paymentMethodCodes(ctx.db, [...new Set(rows.map((r) => r.summary?.payment_method).filter((m): m is string => typeof m === 'string'))]);
  return rows.map((r) => {
    const summary = r.summary ?? {};
    const method = typeof summary.payment_method === 'string' ? methods.get(summary.payment_method.trim().slice(0, 100)) : undefined;
    const happened =
      (typeof summary.processor_time === 'string' ? acquirerInstant(summary.processor_time, ACQUIRER_TIME_ZONES[q.gateway]) : undefined) ??
      new Date(r.received_at);
    const acquirerStatus = typeof summary.processor_status === 'string' ? summary.processor_status : (r.outcome ?? 'unknown');
    return {
      extId: r.ext_id,
      gateway: q.gateway,
      status: q.allnotifications ? acquirerStatus : 'completed',
      orderAmount: String(minorToOnpayAmount(Number(r.amount), r.currency)),
      orderCurrency: r.currency,
      notification_date: formatOnpayDate(happened),
      validation_date: formatOnpayDate(new Date(r.processed_at ?? r.received_at)),
      payment_type: method === undefined ? '' : String(method),
    };
  });
}

export interface UsersQuery {
  gateway: string;
  gatewayApiKey: string;
  gatewaySecretKey: string;
  datefrom: string;
  dateto: string;
}

/** A secret shown back to the partner: only enough to tell keys apart (see docs/onpay.md). */
export function maskSecret(secret: string): string {
  if (!secret) return '';
  return secret.length <= 8 ? '*'.repeat(secret.length) : `${'*'.repeat(Math.min(secret.length - 4, 12))}${secret.slice(-4)}`;
}

export async function onpayUsers(ctx: HubContext, merchantId: string, side: OnpaySide, q: UsersQuery) {
  if (!q.datefrom || !q.dateto) throw new OnpayError('datefrom and dateto are required');
  const from = parseOnpayDate(q.datefrom, 'datefrom');
  const to = parseOnpayDate(q.dateto, 'dateto', { endOfDay: true });
  if (to < from) throw new OnpayError('dateto must not be before datefrom');
  let only: string | undefined;
  if (q.gatewayApiKey) {
    if (!q.gateway) throw new OnpayError('gateway is required with gatewayApiKey');
    const user = await findOnpayUser(ctx, merchantId, side, q.gateway as OnpayGateway, q.gatewayApiKey, q.gatewaySecretKey);
    if (!user) return [];
    only = user.id;
  }
  const rows = await onpayUserReport(ctx.db, merchantId, side, from, to, q.gateway || null, only ?? null);
  return rows.map((r) => {
    const c = JSON.parse(ctx.vault.decrypt(r.credentials_encrypted, `connection:${r.connection_id}`)) as Record<string, string>;
    const apiKey = c.api_key ?? c.alias ?? c.client_id ?? '';
    const secretKey = c.mac_key ?? c.client_secret ?? '';
    const paid = (r.amount_paid ?? []).reduce((sum, x) => sum + minorToOnpayAmount(Number(x.amount), x.currency), 0);
    return {
      gateway: r.gateway,
      gatewayApiKey: apiKey,
      gatewaySecretKey: maskSecret(secretKey),
      gatewayUsername: c.username ?? '',
      gatewayPassword: maskSecret(c.password ?? ''),
      nrlink: String(r.nrlink),
      datafirstlink: formatOnpayDate(new Date(r.first_link)),
      datalastlink: formatOnpayDate(new Date(r.last_link)),
      nrlink_paid: String(r.nrlink_paid),
      amount_paid: String(paid),
    };
  });
}
