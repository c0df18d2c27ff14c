import type { BackOfficeAuth } from '../shared/back-office-auth.js';
import type { IpnSender } from './ipn-sender.js';
import type { PlatformKey } from './platform-key.js';
import type { EmuDb } from './schema.js';

/** What every route module of one emulator instance shares. */
export interface EmulatorContext {
  db: EmuDb;
  platform: PlatformKey;
  sender: IpnSender;
  /** Absolute URL of the emulator's root, no trailing slash: publicUrl + prefix. */
  baseUrl: string;
  /** Where merchants post payment requests (NETOPIA's `https://sandboxsecure.mobilpay.ro/`). */
  paymentUrl: string;
  /** The back office's sandbox login: who its pages and operations act for. */
  backOffice: BackOfficeAuth;
}
