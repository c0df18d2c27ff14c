import type { Notifier } from './notifier.js';
import type { EmuNexiDb } from './schema.js';

/** What every route module of one emulator instance shares. */
export interface NexiContext {
  db: EmuNexiDb;
  notifier: Notifier;
  /** Absolute URL of the emulator's root (publicUrl + prefix), no trailing slash: XPay's host. */
  baseUrl: string;
}
