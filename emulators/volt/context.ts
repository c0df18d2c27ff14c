import type { VoltNotifier } from './notifier.js';
import type { EmuVoltDb } from './schema.js';

/** What every route module of one Volt emulator instance shares. */
export interface VoltEmulatorContext {
  db: EmuVoltDb;
  notifier: VoltNotifier;
  /** Absolute URL of the emulator's root (the API base), no trailing slash: publicUrl + prefix. */
  baseUrl: string;
  /** Lifetime of an access token, in seconds (Volt: 3600). */
  tokenTtlSeconds: number;
}
