import { jsonAmount } from './amounts.js';
import type { Order } from './orders.js';

/**
 * The `payment` object NETOPIA returns in start, verify-auth, status and credit answers and sends in IPNs
 * (protocols/netopia.md §2.5, §2.7; the seed's response examples).
 *
 * DECISION shared with the hub's NETOPIA v2 connector: for status 8 (credit) `payment.amount` is the TOTAL
 * credited on the order so far, in the credit answer, the status answer and the IPN alike — credits of 10 and
 * 15 on a 100 order report 10 then 25. Like v1's cumulative `processed_amount`, this makes a replayed or
 * reordered credit IPN harmless. Any other status reports the order amount.
 */

/** Issuer fields of NETOPIA's sandbox (the seed's example: "Netopia GB", "642"). */
export const SANDBOX_ISSUER = 'Netopia GB';
export const SANDBOX_ISSUER_COUNTRY = '642';

export function reportedAmountMinor(order: Order): number {
  return order.status === 8 ? order.credited_minor : order.amount_minor;
}

/** `payment.data`: the authorisation's details once a card was tried; absent before (e.g. at the 3-D Secure step). */
function cardData(order: Order): Record<string, string> | undefined {
  if (order.bin === null || order.status === 1 || order.status === 15) return undefined;
  const data: Record<string, string> = {};
  if (order.auth_code) data.AuthCode = order.auth_code;
  data.BIN = order.bin;
  data.ISSUER = SANDBOX_ISSUER;
  data.ISSUER_COUNTRY = SANDBOX_ISSUER_COUNTRY;
  if (order.rrn) data.RRN = order.rrn;
  return data;
}

/** The `payment` object of API answers. `paymentURL` is there while the order waits on the hosted page. */
export function paymentView(order: Order, paymentUrl: string): Record<string, unknown> {
  const payment: Record<string, unknown> = {
    amount: jsonAmount(reportedAmountMinor(order), order.currency),
    currency: order.currency,
    ntpID: String(order.ntp_id),
    status: order.status,
  };
  if (order.status === 1) payment.paymentURL = paymentUrl;
  const data = cardData(order);
  if (data) payment.data = data;
  if (order.token) payment.token = order.token;
  if (order.token && order.exp_month !== null && order.exp_year !== null) {
    payment.binding = { token: order.token, expireMonth: order.exp_month, expireYear: order.exp_year };
  }
  if (order.pan_masked) payment.instrument = { panMasked: order.pan_masked };
  return payment;
}

/**
 * The IPN body, key for key in the order of the logged sandbox IPNs (§2.7):
 * `{"order":{"orderID","data"},"payment":{"amount","currency","ntpID","status","code","message","token","data",
 * "binding","instrument"}}`. A decline carries its code and message and status 12.
 */
export function ipnBody(order: Order): string {
  const payment: Record<string, unknown> = {
    amount: jsonAmount(reportedAmountMinor(order), order.currency),
    currency: order.currency,
    ntpID: String(order.ntp_id),
    status: order.status,
    code: order.error_code,
    message: order.error_message,
  };
  if (order.token) payment.token = order.token;
  const data = cardData(order);
  if (data) payment.data = data;
  if (order.token && order.exp_month !== null && order.exp_year !== null) {
    payment.binding = { token: order.token, expireMonth: order.exp_month, expireYear: order.exp_year };
  }
  if (order.pan_masked) payment.instrument = { panMasked: order.pan_masked };
  return JSON.stringify({ order: { orderID: order.order_id, data: order.order_data }, payment });
}

/** `customerAction` for an order waiting for 3-D Secure that the merchant drives itself; `{}` otherwise. */
export function customerAction(order: Order, authorizeUrl: string): Record<string, unknown> {
  if (order.status !== 15 || order.mode !== 'direct' || !order.pa_req || !order.authentication_token) return {};
  return {
    type: 'Authentication3D',
    url: authorizeUrl,
    authenticationToken: order.authentication_token,
    formData: { backUrl: order.redirect_url, paReq: order.pa_req },
  };
}
