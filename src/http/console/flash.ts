import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import './context.js';

/**
 * What a form made and may show once (a new API key, a webhook signing secret, a one-time link), held for the
 * page that shows it: the form's POST puts it here and answers 303 to a GET naming it (`?shown=<id>`); that GET
 * takes it, so it shows once, and a reload (or the browser's history) finds nothing and makes nothing again (the
 * POST is not repeated). An item belongs to the session that made it (keyed by the session's anti-forgery token,
 * which is the session's own), lasts a few minutes, and lives in this process's memory only: it is never written
 * anywhere, and a process that restarts forgets it (the page then says the secret is no longer shown).
 */
export interface Flash<T> {
  /** Keeps a value for the request's session; answers the id to put in the GET's address. */
  put(request: FastifyRequest, value: T): string;
  /** The value the id names, if this session put it and it was not taken yet (taking it removes it). */
  take(request: FastifyRequest, id: unknown): T | undefined;
}

const TTL_MS = 5 * 60_000;
const MAX_ITEMS = 10_000;

export function createFlash<T>(options: { ttlMs?: number; now?: () => number } = {}): Flash<T> {
  const ttl = options.ttlMs ?? TTL_MS;
  const now = options.now ?? Date.now;
  const items = new Map<string, { owner: string; value: T; expires: number }>();
  const owner = (request: FastifyRequest) => request.console!.session!.csrfToken;
  const prune = () => {
    const t = now();
    for (const [id, item] of items) if (item.expires <= t) items.delete(id);
    // Map keeps insertion order: the oldest go first when too many wait.
    for (const id of items.keys()) {
      if (items.size < MAX_ITEMS) break;
      items.delete(id);
    }
  };
  return {
    put(request, value) {
      prune();
      const id = randomBytes(16).toString('base64url');
      items.set(id, { owner: owner(request), value, expires: now() + ttl });
      return id;
    },
    take(request, id) {
      if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{22}$/.test(id)) return undefined;
      const item = items.get(id);
      if (!item || item.owner !== owner(request)) return undefined;
      items.delete(id);
      return item.expires > now() ? item.value : undefined;
    },
  };
}
