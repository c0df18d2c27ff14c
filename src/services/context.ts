import type { Logger } from 'pino';
import type { Db } from '../store/store.js';
import type { Vault } from '../security/vault.js';
import type { Outbound } from '../security/outbound.js';
import type { ProcessorOperation } from '../connectors/types.js';
import type { NotificationVerifier } from './verify-pool.js';
import type { LedgerHook } from './ledger/hooks.js';
import type { HubCaches } from './hub-caches.js';

/** What every use case needs: the database, the vault, where the hub is reachable, and a logger. */
export interface HubContext {
  db: Db;
  vault: Vault;
  /** The hub's public base URL (no trailing slash): payment pages and notification URLs are built on it. */
  publicUrl: string;
  logger: Logger;
  /** Called after a commit that queued webhook deliveries, so the worker does not wait for its next poll. */
  onOutboxWrite?: () => void;
  /** The surfaces told about ledger changes inside the ledger's transaction (registered where the hub is built). */
  ledgerHooks: readonly LedgerHook[];
  /** What this hub remembers between requests (caches, turn batches), built at start-up: see hub-caches.ts. */
  caches: HubCaches;
  /** Verification threads for notifications; without it, verification runs on the calling thread. */
  verifier?: NotificationVerifier;
  /** Outbound HTTP for processor calls made by the hub (emulator provisioning, later status checks). */
  fetch?: typeof fetch;
  /**
   * Outbound HTTP to merchant-chosen and processor URLs (webhooks, callbacks, processor calls): public
   * addresses only, unless the operator allows more; without it, the strictest policy (no exceptions).
   */
  outbound?: Outbound;
  /** The built-in emulators are mounted: test-side traffic (OnPay's /test/api) goes to them. */
  emulators?: boolean;
  /** Deadlines of processor calls (ms per operation) that override every connector's own: for tests that make a processor slow. */
  processorDeadlinesMs?: Partial<Record<ProcessorOperation, number>>;
}

/** Errors a use case raises for the HTTP layer to map: not found (404), conflict (409), refused (422/400). */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
}
export class ConflictError extends Error {
  override name = 'ConflictError';
}
export class UnprocessableError extends Error {
  override name = 'UnprocessableError';
}
