/**
 * The hub's own URLs, as processors, payers and merchants are given them: built here only, so a route that moves
 * moves in one place (the routes themselves are in `http/pages/pay.ts` and `http/compat/notify.ts`).
 */

/** Where a hub is reachable: its public base URL, no trailing slash. */
export interface HubBase {
  publicUrl: string;
}

/** The hosted payment page (`GET /pay/{payment}`). */
export function paymentPageUrl(hub: HubBase, paymentId: string): string {
  return `${hub.publicUrl}/pay/${paymentId}`;
}

/** An invoice's pay link (`GET /i/{pay_token}`): the buyer's view of the document, with its pay buttons. */
export function invoicePayUrl(hub: HubBase, payToken: string): string {
  return `${hub.publicUrl}/i/${payToken}`;
}

/** Where the processor sends the payer back (`/pay/{payment}/return`); `canceled` when the payer gave up there. */
export function paymentReturnUrl(hub: HubBase, paymentId: string, canceled = false): string {
  return `${paymentPageUrl(hub, paymentId)}/return${canceled ? '?canceled=1' : ''}`;
}

/** The path a connection's processor posts its notifications to (`/notify/{provider}/{connection}`). */
export function notificationPath(provider: string, connectionId: string): string {
  return `/notify/${provider}/${connectionId}`;
}

/** Where a connection's processor posts its notifications (`/notify/{provider}/{connection}`). */
export function notificationUrl(hub: HubBase, provider: string, connectionId: string): string {
  return `${hub.publicUrl}${notificationPath(provider, connectionId)}`;
}

/** The console's one-time link to set a password (`/console/set-password?token=…`). */
export function setPasswordUrl(hub: HubBase, token: string): string {
  return `${hub.publicUrl}/console/set-password?token=${encodeURIComponent(token)}`;
}
