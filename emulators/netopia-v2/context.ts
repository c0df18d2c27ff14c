import type { IpnSender } from './ipn-sender.js';
import type { Order } from './orders.js';
import type { PlatformSigningKey } from './platform-key.js';
import type { EmuV2Db } from './schema.js';

/** What every route module of one emulator instance shares. */
export interface EmulatorV2Context {
  db: EmuV2Db;
  platform: PlatformSigningKey;
  sender: IpnSender;
  /** Absolute URL of the emulator's root, no trailing slash: publicUrl + prefix (NETOPIA's API base). */
  baseUrl: string;
}

/** The hosted card page of an order: NETOPIA's `payment.paymentURL`. */
export function paymentUrlOf(ctx: EmulatorV2Context, order: Order): string {
  return `${ctx.baseUrl}/ui/card/${order.page_token}`;
}

/** The sandbox ACS (`customerAction.url`), as on secure.sandbox.netopia-payments.com/sandbox/authorize. */
export function authorizeUrlOf(ctx: EmulatorV2Context): string {
  return `${ctx.baseUrl}/sandbox/authorize`;
}
