import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

type Db = Kysely<Database>;

/** The hand-off stored on an attempt (null when none is), or nothing if there is no such attempt. */
export function attemptRedirect(db: Db, attemptId: string) {
  return db.selectFrom('payment_attempts').select('redirect').where('id', '=', attemptId).executeTakeFirst();
}

/** A payment's latest attempt. */
export function latestAttempt(db: Db, paymentId: string) {
  return db.selectFrom('payment_attempts').selectAll().where('payment_id', '=', paymentId).orderBy('number', 'desc').limit(1).executeTakeFirst();
}

/** The summary of the latest report an attempt's start left in the inbox. */
export function latestStartSummary(db: Db, attemptId: string) {
  return db
    .selectFrom('notifications')
    .select('summary')
    .where('attempt_id', '=', attemptId)
    .where('source', '=', 'start')
    .orderBy('received_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}
