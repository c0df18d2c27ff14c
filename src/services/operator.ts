import { newId } from '../core/ids.js';
import { insertUser } from '../store/queries/users.js';
import {
  anyOperator,
  lockFirstOperator,
  selectMerchantSummaries,
  selectOnpayPartners,
  selectOperatorsForFirstStart,
  type MerchantSummaryRow,
  type OnpayPartnerRow,
} from '../store/queries/operator.js';
import type { HubContext } from './context.js';
import { inTransaction } from './unit-of-work.js';
import { newPasswordLink, normalizeEmail } from './users.js';

/**
 * The operator's views of the hub: every merchant with what it has, the OnPay partners, and the first start's
 * operator (a hub nobody can log into yet gets one operator and one link to set its password).
 */

/** Every merchant, newest first, with its payments, active connections and console users counted. */
export function merchantSummaries(ctx: Pick<HubContext, 'db'>): Promise<MerchantSummaryRow[]> {
  return selectMerchantSummaries(ctx.db);
}

/** Every OnPay partner, newest first, with whether it has traded its activation key yet. */
export function onpayPartners(ctx: Pick<HubContext, 'db'>): Promise<OnpayPartnerRow[]> {
  return selectOnpayPartners(ctx.db);
}

/** The default e-mail of the operator the first start creates (INCASSO_OPERATOR_EMAIL overrides it). */
export const DEFAULT_OPERATOR_EMAIL = 'operator@localhost';

export type FirstOperator =
  /** A link to set the operator's password: the operator was just made, or none has a password nor a live link. */
  | { kind: 'link'; email: string; created: boolean; setPasswordUrl: string; expiresAt: Date }
  /** The e-mail belongs to a merchant's user: no operator was made. */
  | { kind: 'email_taken'; email: string };

/**
 * On a hub nobody can log into as the operator: when no operator exists, makes one (with `email`) and a one-time
 * link to set its password; when operators exist but none has a password nor a link still usable (the first link
 * expired unused), a new link for the oldest. Otherwise nothing. Several processes starting together on one
 * database make one operator and one link between them (an advisory lock held for the transaction).
 */
export async function ensureFirstOperator(ctx: Pick<HubContext, 'db' | 'publicUrl' | 'onOutboxWrite'>, email: string): Promise<FirstOperator | undefined> {
  // The usual start (an operator who has logged in) takes no lock and writes nothing.
  const now = new Date();
  const known = await selectOperatorsForFirstStart(ctx.db, now);
  if (known.some((o) => o.has_password || o.has_live_link)) return undefined;
  return inTransaction(ctx, async (trx) => {
    await lockFirstOperator(trx);
    const operators = await selectOperatorsForFirstStart(trx, new Date());
    if (operators.some((o) => o.has_password || o.has_live_link)) return undefined;
    const first = operators[0];
    if (first) {
      const link = await newPasswordLink({ db: trx, publicUrl: ctx.publicUrl }, first.id);
      return { kind: 'link', email: first.email, created: false, ...link };
    }
    // Only disabled operators: someone chose that; do not make another behind their back.
    if (await anyOperator(trx)) return undefined;
    const address = normalizeEmail(email);
    const user = await insertUser(trx, { id: newId('usr'), email: address, role: 'operator', merchant_id: null, language: 'en' });
    if (!user) return { kind: 'email_taken', email: address };
    const link = await newPasswordLink({ db: trx, publicUrl: ctx.publicUrl }, user.id);
    return { kind: 'link', email: address, created: true, ...link };
  });
}
