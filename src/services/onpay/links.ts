import { isKnownCurrency } from '../../core/money.js';
import { isHttpUrl } from '../../core/validation.js';
import { connectorFor } from '../../connectors/registry.js';
import type { HubContext } from '../context.js';
import { lastAttemptOf, openPaymentPage } from '../payments.js';
import { cancelPayment, createPayment } from '../ledger/index.js';
import { paymentPageUrl } from '../hub-urls.js';
import { inTransaction } from '../unit-of-work.js';
import { deleteOnpayLink, insertOnpayLink, lockOnpayLink } from '../../store/queries/onpay.js';
import { OnpayError } from './errors.js';
import { missingGatewayFields, onpayUserFor, type GatewayFields, type OnpayGateway, type OnpaySide } from './users.js';
import { formatOnpayDate, minorToOnpayAmount, onpayAmountToMinor, parseOnpayDate } from './values.js';
import { checkPaymentAgainstConnector } from '../payment-requirements.js';

/**
 * `get_link`: one payment link per call. The link is a payment of the partner in the hub's ledger, opened at once
 * with the acquirer (its `orderId` and `link` are the acquirer's), and recorded under the end user's `extId`,
 * unique per quadruple.
 */

export interface GetLinkInput extends GatewayFields {
  gateway: OnpayGateway;
  extId: string;
  orderAmount: number;
  orderCurrency: string;
  orderDescription: string;
  expDate: string;
  completedUrl: string;
  canceledUrl: string;
}

/** A link is made before anyone pays it: it knows nothing of the payer. */
const LINK_BILLING = { first_name: '', last_name: '', email: '' };

const DESCRIPTION_RE = /^[\p{L}\p{N} .,;:'()/_#+-]*$/u;
const DESCRIPTION_CHAR_RE = /^[\p{L}\p{N} .,;:'()/_#+-]$/u;

/** The characters of a description that are refused, each once, in order, as `"°" (U+00B0)`; at most five. */
function refusedCharacters(text: string): string[] {
  const refused = [...new Set([...text].filter((c) => !DESCRIPTION_CHAR_RE.test(c)))];
  const named = refused.slice(0, 5).map((c) => {
    const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    // Invisible and control characters are named by their code point only.
    return /^[\p{L}\p{N}\p{P}\p{S}]$/u.test(c) ? `${JSON.stringify(c)} (${code})` : code;
  });
  return refused.length > 5 ? [...named, `and ${refused.length - 5} more`] : named;
}

/** How long a link may live at this acquirer, when its connector declares a limit: past it the link would close early. */
function checkLinkLife(gateway: OnpayGateway, expiresAt: Date) {
  const maxHours = connectorFor(gateway)!.capabilities.maxLinkLifetimeHours;
  if (maxHours === undefined) return;
  const latest = new Date(Date.now() + maxHours * 3600_000);
  if (expiresAt.getTime() > latest.getTime())
    throw new OnpayError(
      `expDate must be at most ${maxHours / 24} days ahead for ${gateway} (a ${gateway} link lives at most ${maxHours} hours: the latest expDate now is ${formatOnpayDate(latest)})`,
    );
}

/** Lengths are checked with the other varchar limits, at the HTTP edge. */
function checkUrl(value: string, field: string) {
  if (value && !isHttpUrl(value, Infinity)) throw new OnpayError(`${field} must be an http(s) URL`);
}

/** The documented checks, each with its own message, before anything is created. */
function validate(input: GetLinkInput): { amount: number; expiresAt: Date } {
  const missing = missingGatewayFields(input.gateway, input);
  if (missing.length) throw new OnpayError(`${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} required for ${input.gateway}`);
  const { capabilities } = connectorFor(input.gateway)!;
  if (!isKnownCurrency(input.orderCurrency) || checkPaymentAgainstConnector(capabilities, { currency: input.orderCurrency }).length) {
    throw new OnpayError(`orderCurrency ${input.orderCurrency} is not accepted by ${input.gateway} (allowed: ${capabilities.currencies.join(', ')})`);
  }
  if (input.orderAmount <= 0) throw new OnpayError('orderAmount must be a positive integer (the amount × 100: 100,50 EUR is 10050)');
  const amount = onpayAmountToMinor(input.orderAmount, input.orderCurrency);
  // What the gateway's connector requires of a payment (its largest amount; payer fields, which get_link does
  // not carry): refused now, in OnPay's words, rather than when the link is opened.
  for (const problem of checkPaymentAgainstConnector(capabilities, { amount, currency: input.orderCurrency, billing: LINK_BILLING })) {
    if (problem.kind === 'amount_too_large')
      throw new OnpayError(`orderAmount must be at most ${minorToOnpayAmount(problem.max, input.orderCurrency)} for ${input.gateway} (the amount × 100)`);
    if (problem.kind === 'missing') throw new OnpayError(`${input.gateway} requires the payer's ${problem.field}, which get_link does not carry`);
    if (problem.kind === 'amount_too_small')
      throw new OnpayError(`orderAmount must be at least ${minorToOnpayAmount(problem.min, input.orderCurrency)} for ${input.gateway} (the amount × 100)`);
    if (problem.kind === 'flow_not_supported') throw new OnpayError(`${input.gateway} does not take payments by link`);
  }
  if (input.orderDescription.length > 200) throw new OnpayError('orderDescription must be at most 200 characters');
  if (!DESCRIPTION_RE.test(input.orderDescription))
    throw new OnpayError(
      `orderDescription must be letters, digits, spaces and simple punctuation (. , ; : ' ( ) / _ # + -) only; refused: ${refusedCharacters(input.orderDescription).join(', ')}`,
    );
  const expiresAt = parseOnpayDate(input.expDate, 'expDate', { endOfDay: true });
  if (expiresAt.getTime() <= Date.now()) throw new OnpayError('expDate must be in the future');
  checkLinkLife(input.gateway, expiresAt);
  checkUrl(input.completedUrl, 'completedUrl');
  checkUrl(input.canceledUrl, 'canceledUrl');
  return { amount, expiresAt };
}

export interface LinkAnswer {
  orderId: string;
  link: string;
}

export async function getOnpayLink(ctx: HubContext, merchantId: string, side: OnpaySide, input: GetLinkInput): Promise<LinkAnswer> {
  const { amount, expiresAt } = validate(input);
  const user = await onpayUserFor(ctx, merchantId, side, input.gateway, input);
  const payment = await inTransaction(ctx, async (trx) => {
    const taken = await lockOnpayLink(trx, user.id, input.extId);
    if (taken) throw new OnpayError(`extId ${input.extId} was already used for a link of this user`);
    const created = await createPayment(ctx, trx, merchantId, {
      connection: user.connection_id,
      order_id: input.extId.slice(0, 200),
      amount,
      currency: input.orderCurrency,
      description: input.orderDescription || `Link ${input.extId}`.slice(0, 200),
      billing: LINK_BILLING,
      return_url: input.completedUrl || undefined,
      expires_at: expiresAt.toISOString(),
      metadata: { onpay_ext_id: input.extId.slice(0, 500), ...(input.canceledUrl ? { canceled_url: input.canceledUrl } : {}) },
    });
    // A concurrent duplicate waits on the primary key here and then fails: one link per extId.
    const inserted = await insertOnpayLink(trx, user.id, input.extId, created.id);
    if (!inserted) throw new OnpayError(`extId ${input.extId} was already used for a link of this user`);
    return created;
  });

  const page = await openPaymentPage(ctx, payment.id);
  const attempt = await lastAttemptOf(ctx, payment.id);
  if (page.kind === 'redirect' && attempt?.processor_reference) {
    return { orderId: attempt.processor_reference, link: page.redirect.method === 'GET' ? page.redirect.url : paymentPageUrl(ctx, payment.id) };
  }
  // The acquirer refused or could not be reached: no link exists, so the extId stays free for a retry; the
  // payment stays in the ledger, canceled, with the attempt that says why.
  const reason =
    page.kind === 'unavailable'
      ? page.message
      : page.kind === 'unpayable'
        ? `cannot open this payment (${page.problems.map((x) => x.field).join(', ')})`
        : (attempt?.error_message ?? 'the acquirer did not create the link');
  await releaseFailedLink(ctx, user.id, input.extId, payment.id);
  throw new OnpayError(`${input.gateway}: ${reason}`);
}

async function releaseFailedLink(ctx: HubContext, userId: string, extId: string, paymentId: string) {
  await inTransaction(ctx, async (trx) => {
    await deleteOnpayLink(trx, userId, extId);
    await cancelPayment(ctx, trx, paymentId);
  });
}
