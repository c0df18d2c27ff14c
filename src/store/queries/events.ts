import { sql, type Kysely, type RawBuilder } from 'kysely';
import { newId } from '../../core/ids.js';
import type { EventType } from '../../core/transitions.js';
import type { Database } from '../schema.js';

/** An event to record: its type, the payment it is about, and its `data`. */
export interface NewEvent {
  merchantId: string;
  type: EventType;
  paymentId: string | null;
  data: Record<string, unknown>;
}

/** A new event's id, time and payload (what its deliveries carry, byte for byte). */
export function newEventRow(event: NewEvent): { id: string; created_at: Date; payload: string } {
  const id = newId('evt');
  const now = new Date();
  return { id, created_at: now, payload: JSON.stringify({ id, type: event.type, timestamp: now.toISOString(), data: event.data }) };
}

/** What an insert into `events` returns for `deliveriesCte`. */
export const EVENT_COLUMNS_FOR_DELIVERIES = sql.raw('id, merchant_id, type, payment_id, created_at');

/**
 * A common table expression named `name` that queues one delivery per subscribed, active endpoint for each event
 * that the CTE `events` inserted (returning `EVENT_COLUMNS_FOR_DELIVERIES`).
 */
export function deliveriesCte(name: string, events: string): RawBuilder<unknown> {
  // Delivery ids keep the event's time prefix, so they sort like the events they carry.
  return sql`${sql.raw(name)} AS (
      INSERT INTO webhook_deliveries (id, event_id, endpoint_id, merchant_id, status, next_attempt_at)
      SELECT 'whd_' || substr(ev.id, 5, 10) || substr(md5(random()::text || e.id), 1, 16), ev.id, e.id, ev.merchant_id, 'pending', ev.created_at
      FROM ${sql.raw(events)} ev JOIN webhook_endpoints e ON e.merchant_id = ev.merchant_id AND e.status = 'active' AND (e.events ? '*' OR e.events ? ev.type)
        AND (e.payment_id IS NULL OR e.payment_id = ev.payment_id)
    )`;
}

/**
 * The common table expressions that record an event and queue one delivery per subscribed endpoint, named
 * `<name>` and `<name>_deliveries`, for a statement that makes a state change to carry them (so that the event
 * exists if and only if the change does). `guard` is a condition on the rest of that statement (the event is
 * recorded only where it holds).
 */
export function eventCtes(name: string, event: NewEvent, guard: RawBuilder<unknown> = sql`true`): RawBuilder<unknown> {
  const row = newEventRow(event);
  const cte = sql.raw(name);
  return sql`
    ${cte} AS (
      INSERT INTO events (id, merchant_id, type, payment_id, payload, created_at)
      SELECT ${row.id}, ${event.merchantId}, ${event.type}, ${event.paymentId}, ${row.payload}, ${row.created_at} WHERE ${guard}
      RETURNING ${EVENT_COLUMNS_FOR_DELIVERIES}
    ), ${deliveriesCte(`${name}_deliveries`, name)}`;
}

/** Records an event and queues its deliveries, in one statement (inside the caller's transaction). */
export async function insertEvent(db: Kysely<Database>, event: NewEvent): Promise<void> {
  await sql`WITH ${eventCtes('event', event)} SELECT 1`.execute(db);
}

/** A merchant's latest events, newest first, as their deliveries carry them. */
export async function recentEvents(db: Kysely<Database>, merchantId: string, limit: number): Promise<unknown[]> {
  const rows = await db.selectFrom('events').select('payload').where('merchant_id', '=', merchantId).orderBy('id', 'desc').limit(limit).execute();
  return rows.map((r) => JSON.parse(r.payload));
}
