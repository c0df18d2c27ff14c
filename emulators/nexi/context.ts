import type { Notifier } from './notifier.js';
import type { EmuNexiDb } from './schema.js';

/** What every route module of one emulator instance shares. */
export interface NexiContext {
  db: EmuNexiDb;
  notifier: Notifier;
  /** Absolute URL of the emulator's root (publicUrl + prefix), no trailing slash: XPay's host. */
  baseUrl: string;
  /** How late a PayMail request for an amount ending in 408 is answered (LATE_ANSWER_AMOUNT_SUFFIX). */
  lateAnswerMs: number;
}
