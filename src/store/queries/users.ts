import { sql, type Insertable, type Kysely, type Transaction } from 'kysely';
import type { Database, User, UsersTable } from '../schema.js';

type Db = Kysely<Database>;

/** Adds a user; answers undefined when the e-mail is taken (by anyone: e-mails are unique across the hub). */
export function insertUser(db: Db, user: Insertable<UsersTable>): Promise<User | undefined> {
  return db
    .insertInto('users')
    .values(user)
    .onConflict((oc) => oc.column('email').doNothing())
    .returningAll()
    .executeTakeFirst();
}

export function selectUserByEmail(db: Db, email: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
}

export function selectUser(db: Db, id: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

/** A merchant's users, or (null) the operator's, oldest first. */
export function selectUsersOf(db: Db, merchantId: string | null): Promise<User[]> {
  let q = db.selectFrom('users').selectAll();
  q = merchantId === null ? q.where('merchant_id', 'is', null) : q.where('merchant_id', '=', merchantId);
  return q.orderBy('id').execute();
}

/**
 * Counts a failed login: one more in a row, and, from `freeFailures` on, the account waits `baseDelayMs` doubled for
 * each further failure (at most `maxDelayMs`) before it may try again. Answers the new row.
 */
export function recordFailedLogin(db: Db, userId: string, freeFailures: number, baseDelayMs: number, maxDelayMs: number): Promise<User | undefined> {
  return db
    .updateTable('users')
    .set({
      failed_logins: sql<number>`failed_logins + 1`,
      login_blocked_until: sql<Date | null>`CASE WHEN failed_logins + 1 >= ${freeFailures}::integer
        THEN now() + make_interval(secs => LEAST(${maxDelayMs}::float8, ${baseDelayMs}::float8 * power(2, LEAST(failed_logins + 1 - ${freeFailures}::integer, 30))) / 1000.0)
        ELSE NULL END`,
    })
    .where('id', '=', userId)
    .returningAll()
    .executeTakeFirst();
}

/** A successful login: the count of failures starts again, and the login's time is kept. */
export async function recordLogin(db: Db, userId: string): Promise<void> {
  await db.updateTable('users').set({ failed_logins: 0, login_blocked_until: null, last_login_at: sql<Date>`now()` }).where('id', '=', userId).execute();
}

/** One of a merchant's users (another merchant's answers nothing, like one that does not exist). */
export function selectUserOf(db: Db, merchantId: string, userId: string): Promise<User | undefined> {
  return db.selectFrom('users').selectAll().where('merchant_id', '=', merchantId).where('id', '=', userId).executeTakeFirst();
}

/** Holds a merchant's row until the transaction ends: changes to its users' roles and status run one at a time. */
export async function lockMerchantForUserChanges(db: Db, merchantId: string): Promise<boolean> {
  return (await db.selectFrom('merchants').select('id').where('id', '=', merchantId).forUpdate().executeTakeFirst()) !== undefined;
}

/** How many enabled admins a merchant has besides one user. */
export async function countOtherEnabledAdmins(db: Db, merchantId: string, exceptUserId: string): Promise<number> {
  const r = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('merchant_id', '=', merchantId)
    .where('role', '=', 'admin')
    .where('disabled_at', 'is', null)
    .where('id', '!=', exceptUserId)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export function updateUserRole(db: Db, userId: string, role: 'admin' | 'viewer'): Promise<User | undefined> {
  return db.updateTable('users').set({ role }).where('id', '=', userId).returningAll().executeTakeFirst();
}

/** Disables a user (now) or enables it again. */
export function updateUserDisabled(db: Db, userId: string, disabled: boolean): Promise<User | undefined> {
  return db
    .updateTable('users')
    .set({ disabled_at: disabled ? sql<Date>`COALESCE(disabled_at, now())` : null })
    .where('id', '=', userId)
    .returningAll()
    .executeTakeFirst();
}

export async function updateUserLanguage(db: Db, userId: string, language: 'ro' | 'en' | 'it'): Promise<void> {
  await db.updateTable('users').set({ language }).where('id', '=', userId).execute();
}

// Sessions

export async function insertSession(db: Db, s: { token_hash: string; user_id: string; expires_at: Date }): Promise<void> {
  await db.insertInto('user_sessions').values(s).execute();
}

/** A live session (not past its absolute expiry, nor idle longer than `idleMs`) with its user, if enabled. */
export function selectLiveSession(db: Db, tokenHash: string, idleMs: number) {
  return db
    .selectFrom('user_sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select(['s.token_hash', 's.created_at', 's.last_seen_at', 's.expires_at'])
    .select(['u.id as user_id', 'u.email', 'u.role', 'u.merchant_id', 'u.language'])
    .where('s.token_hash', '=', tokenHash)
    .where('s.expires_at', '>', sql<Date>`now()`)
    .where('s.last_seen_at', '>', sql<Date>`now() - make_interval(secs => ${idleMs}::bigint / 1000.0)`)
    .where('u.disabled_at', 'is', null)
    .executeTakeFirst();
}

/** Marks a session seen now (the idle expiry counts from here). */
export async function touchSession(db: Db, tokenHash: string): Promise<void> {
  await db.updateTable('user_sessions').set({ last_seen_at: sql<Date>`now()` }).where('token_hash', '=', tokenHash).execute();
}

export async function deleteSession(db: Db, tokenHash: string): Promise<void> {
  await db.deleteFrom('user_sessions').where('token_hash', '=', tokenHash).execute();
}

/** Ends every session of a user (a new password, a disabled user). */
export async function deleteUserSessions(db: Db, userId: string): Promise<void> {
  await db.deleteFrom('user_sessions').where('user_id', '=', userId).execute();
}

/** Sessions past their absolute expiry, or idle longer than `idleMs`, removed; answers how many. */
export async function deleteExpiredSessions(db: Db, idleMs: number): Promise<number> {
  const r = await db
    .deleteFrom('user_sessions')
    .where((eb) =>
      eb.or([eb('expires_at', '<=', sql<Date>`now()`), eb('last_seen_at', '<=', sql<Date>`now() - make_interval(secs => ${idleMs}::bigint / 1000.0)`)]),
    )
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

// One-time password links

export async function insertPasswordToken(db: Db, t: { token_hash: string; user_id: string; expires_at: Date }): Promise<void> {
  await db.insertInto('user_password_tokens').values(t).execute();
}

/** Holds a user's row until the transaction ends (links issued for one user, one after the other). */
export async function lockUserForPasswordLinks(trx: Transaction<Database>, userId: string): Promise<void> {
  await trx.selectFrom('users').select('id').where('id', '=', userId).forNoKeyUpdate().execute();
}

/** Ends a user's links that are still usable (they expire now; `used_at` stays empty: they were never used). */
export async function expireUsablePasswordTokens(db: Db, userId: string): Promise<number> {
  const r = await db
    .updateTable('user_password_tokens')
    .set({ expires_at: sql<Date>`now()` })
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .where('expires_at', '>', sql<Date>`now()`)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** A link that is neither used nor expired, with its (enabled) user's e-mail. */
export function selectUsablePasswordToken(db: Db, tokenHash: string) {
  return db
    .selectFrom('user_password_tokens as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .select(['t.token_hash', 't.user_id', 'u.email', 'u.language'])
    .where('t.token_hash', '=', tokenHash)
    .where('t.used_at', 'is', null)
    .where('t.expires_at', '>', sql<Date>`now()`)
    .where('u.disabled_at', 'is', null)
    .executeTakeFirst();
}

/**
 * Uses a link and sets its user's password in one statement: only the first of two concurrent uses succeeds
 * (answers the user's id, or undefined when the link was used, expired or unknown).
 */
export async function consumePasswordToken(db: Db, tokenHash: string, passwordHash: string): Promise<string | undefined> {
  const r = await sql<{ id: string }>`
    WITH used AS (
      UPDATE user_password_tokens SET used_at = now()
      WHERE token_hash = ${tokenHash} AND used_at IS NULL AND expires_at > now()
      RETURNING user_id
    )
    UPDATE users SET password_hash = ${passwordHash}, failed_logins = 0, login_blocked_until = NULL
    WHERE id = (SELECT user_id FROM used) AND disabled_at IS NULL
    RETURNING id`.execute(db);
  return r.rows[0]?.id;
}

/** Replaces a password hash made with older parameters (at a successful login). */
export async function updatePasswordHash(db: Db, userId: string, passwordHash: string): Promise<void> {
  await db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).execute();
}
