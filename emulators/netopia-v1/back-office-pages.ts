import { V1_ERROR_CODES } from '../../src/connectors/netopia-v1/errors.js';
import { toDecimalString } from '../../src/core/money.js';
import { ronText } from './amounts.js';
import { html, layout, type Html } from './html.js';
import type { Attempt, Delivery } from './ipn.js';
import type { Order } from './orders.js';
import type { AttemptOutcome } from './schema.js';

/** The operator's pages: NETOPIA's admin "Orders > Card" list and order detail with its IPN log. */

const time = (d: Date | string | null) => (d ? new Date(d).toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '');
const invoiceAmount = (o: Order) => `${toDecimalString(o.amount_minor, o.currency)} ${o.currency}`;

/** The operations an order's state allows, as the list offers them (each for the whole amount still available). */
function listActions(o: Order): Array<{ operation: 'capture' | 'cancel' | 'credit'; label: string }> {
  if (o.status === 'preauthorized')
    return [
      { operation: 'capture', label: 'Capture' },
      { operation: 'cancel', label: 'Cancel' },
    ];
  if (o.status === 'confirmed' && o.captured_ron > o.credited_ron) return [{ operation: 'credit', label: 'Credit' }];
  return [];
}

/**
 * NETOPIA's "Orders > Card" list. Each row carries its actions as buttons: View (the order and its IPN log),
 * and the operations the order's state allows (Capture and Cancel a preauthorised order, Credit a confirmed
 * one, for all that is still available; partial amounts are typed on the order's page). Each operation is a
 * form with the session's CSRF token that comes back to this list with a flash message.
 */
export function orderListPage(input: {
  orders: Order[];
  orderUrl: (o: Order) => string;
  actionUrl: (o: Order, operation: string) => string;
  csrfInput: Html;
  flash?: { ok: boolean; text: string };
  logout: Html;
}): string {
  const { orders, orderUrl, actionUrl, csrfInput } = input;
  const rows = orders.map(
    (o) => html`<tr><td><a href="${orderUrl(o)}">${o.purchase}</a></td><td>${o.order_id}</td><td>${o.signature}</td>
<td>${invoiceAmount(o)}</td><td>${o.status}</td><td>${time(o.created_at)}</td>
<td class="actions"><form method="get" action="${orderUrl(o)}" class="inline"><button type="submit" class="secondary" aria-label="View order ${o.order_id}">View</button></form>${listActions(
      o,
    ).map(
      (a) =>
        html`<form method="post" action="${actionUrl(o, a.operation)}" class="inline">${csrfInput}<input type="hidden" name="from" value="list"><button type="submit" aria-label="${a.label} order ${o.order_id}">${a.label}</button></form>`,
    )}</td></tr>`,
  );
  const flash = input.flash && (input.flash.ok ? html`<p class="notice" role="status">${input.flash.text}</p>` : html`<p role="alert">${input.flash.text}</p>`);
  const body = html`${input.logout}<h1>Orders</h1>${flash}${
    orders.length === 0
      ? html`<p>No orders yet.</p>`
      : html`<table><thead><tr><th>Purchase</th><th>Order id</th><th>Account</th><th>Amount</th><th>Status</th><th>Created</th><th>Actions</th></tr></thead>
<tbody>${rows}</tbody></table>`
  }`;
  return layout({ title: 'Orders', body });
}

const IPN_OUTCOME_TEXT: Readonly<Record<AttemptOutcome, string>> = {
  delivered: 'the merchant acknowledged the IPN',
  retry: 'the merchant did not acknowledge the IPN; it will be retried',
  failed: 'the IPN failed permanently',
  gave_up: 'the IPN was not acknowledged and will not be retried',
};

/** Flash messages come from fixed wording chosen by query keys, so a crafted link cannot inject text. */
export function flashMessage(query: { done?: string; ipn?: string; refused?: string; order?: string }): { ok: boolean; text: string } | undefined {
  // On the list, the order the message is about (only a purchase number, shown as a number).
  const about = query.order !== undefined && /^\d{1,15}$/.test(query.order) ? `Purchase ${query.order}: ` : '';
  if (query.refused !== undefined) {
    const code = Number(query.refused);
    const message = V1_ERROR_CODES[code];
    return message ? { ok: false, text: `${about}Refused: ${message} (${code})` } : undefined;
  }
  const operation = { capture: 'Capture', cancel: 'Cancel', credit: 'Credit', resend: 'Resend IPN' }[query.done ?? ''];
  if (!operation) return undefined;
  const ipn = IPN_OUTCOME_TEXT[query.ipn as AttemptOutcome];
  return { ok: true, text: `${about}${operation} done${ipn ? `; ${ipn}` : ''}.` };
}

function attemptRows(log: Attempt[]) {
  return log.map(
    (a) => html`<tr><td>${a.attempt}</td><td>${time(a.started_at)}</td><td>${a.http_status ?? '—'}</td><td>${a.duration_ms} ms</td>
<td>${a.outcome}</td><td>${a.error ?? ''}</td><td>${time(a.next_retry_at)}</td><td><pre>${a.reply ?? ''}</pre></td></tr>`,
  );
}

function deliverySection(d: Delivery & { log: Attempt[] }) {
  return html`<h3>IPN #${String(d.id)}: ${d.action}, error ${d.error_code}, processed ${d.mobilpay.processed_amount} RON</h3>
<p>crc ${d.crc} · ${d.status} · ${d.attempts} attempt(s)${d.next_attempt_at && d.status === 'pending' ? html` · next attempt ${time(d.next_attempt_at)}` : ''}</p>
${
  d.log.length > 0 &&
  html`<table><thead><tr><th>#</th><th>Time</th><th>HTTP</th><th>Took</th><th>Outcome</th><th>Error</th><th>Next retry</th><th>Reply</th></tr></thead>
<tbody>${attemptRows(d.log)}</tbody></table>`
}`;
}

export function orderPage(input: {
  order: Order;
  deliveries: Array<Delivery & { log: Attempt[] }>;
  actionUrl: (operation: string) => string;
  listUrl: string;
  flash?: { ok: boolean; text: string };
  /** The session's CSRF token as a hidden field, in every form. */
  csrfInput: Html;
  logout: Html;
}): string {
  const csrf = input.csrfInput;
  const o = input.order;
  const flash = input.flash && (input.flash.ok ? html`<p class="notice" role="status">${input.flash.text}</p>` : html`<p role="alert">${input.flash.text}</p>`);
  const body = html`${input.logout}<p><a href="${input.listUrl}">← Orders</a></p>
<h1>Order ${o.order_id} · purchase ${o.purchase}</h1>
${flash}
<dl>
<dt>Status</dt><dd>${o.status}</dd>
<dt>Account</dt><dd>${o.signature} (capture ${o.capture})</dd>
<dt>Details</dt><dd>${o.details}</dd>
<dt>Amount</dt><dd>${invoiceAmount(o)} = ${ronText(o.amount_ron)} RON</dd>
<dt>Captured</dt><dd>${ronText(o.captured_ron)} RON</dd>
<dt>Credited</dt><dd>${ronText(o.credited_ron)} RON</dd>
<dt>Card</dt><dd>${o.pan_masked ?? '—'}</dd>
<dt>Result</dt><dd>${o.error_code === null ? '—' : `${o.error_code} ${V1_ERROR_CODES[o.error_code] ?? ''}`}</dd>
<dt>IPN cipher</dt><dd>${o.ipn_cipher}</dd>
<dt>Confirm URL</dt><dd>${o.confirm_url}</dd>
<dt>Return URL</dt><dd>${o.return_url}</dd>
<dt>Created</dt><dd>${time(o.created_at)}</dd>
</dl>
<h2>Operations</h2>
<form method="post" action="${input.actionUrl('capture')}" class="inline">${csrf}
<label for="capture_amount">Capture amount (RON)</label><input id="capture_amount" name="amount" value="${ronText(o.amount_ron)}">
<button type="submit">Capture</button></form>
<form method="post" action="${input.actionUrl('cancel')}" class="inline">${csrf}<button type="submit">Cancel</button></form>
<form method="post" action="${input.actionUrl('credit')}" class="inline">${csrf}
<label for="credit_amount">Credit amount (RON)</label><input id="credit_amount" name="amount" value="${ronText(o.captured_ron - o.credited_ron)}">
<button type="submit">Credit</button></form>
<form method="post" action="${input.actionUrl('resend')}" class="inline">${csrf}<button type="submit">Resend IPN</button></form>
<h2>IPN deliveries</h2>
${input.deliveries.length === 0 ? html`<p>No IPN sent yet.</p>` : input.deliveries.map(deliverySection)}`;
  return layout({ title: `Order ${o.order_id}`, body });
}
