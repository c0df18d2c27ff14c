import { createHash, randomBytes } from 'node:crypto';
import { newId } from '../core/ids.js';
import { FieldErrors, ValidationError } from '../core/validation.js';
import { hashPassword, needsRehash, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, verifyPassword } from '../security/passwords.js';
import type { Transaction } from 'kysely';
import type { Database, User } from '../store/schema.js';
import { findMerchant } from '../store/queries/merchants.js';
import {
  consumePasswordToken,
  countOtherEnabledAdmins,
  deleteExpiredSessions,
  deleteSession,
  deleteUserSessions,
  expireUsablePasswordTokens,
  insertPasswordToken,
  insertSession,
  insertUser,
  lockMerchantForUserChanges,
  lockUserForPasswordLinks,
  recordFailedLogin,
  recordLogin,
  selectLiveSession,
  selectUsablePasswordToken,
  selectUserByEmail,
  selectUserOf,
  selectUsersOf,
  touchSession,
  updatePasswordHash,
  updateUserDisabled,
  updateUserLanguage,
  updateUserRole,
} from '../store/queries/users.js';
import { ConflictError, NotFoundError, UnprocessableError, type HubContext } from './context.js';
import { inTransaction } from './unit-of-work.js';
import { setPasswordUrl } from './hub-urls.js';

/**
 * The console's people and their sessions: users (the operator, a merchant's admins and viewers), one-time links to
 * set a password, logins (throttled per account in the database, so every hub process counts the same failures)
 * and sessions (stored hashed in the database, so several hub processes share them).
 */

export type Role = User['role'];
export type Language = User['language'];
export const ROLES: readonly Role[] = ['operator', 'admin', 'viewer'];
export const LANGUAGES: readonly Language[] = ['ro', 'en', 'it'];

/** How long a session lives: since it was last used (idle) and since login (absolute). */
export interface SessionLifetime {
  idleMs: number;
  absoluteMs: number;
}
export const DEFAULT_SESSION_LIFETIME: SessionLifetime = { idleMs: 30 * 60_000, absoluteMs: 12 * 3_600_000 };

/** A one-time link lives three days. */
export const PASSWORD_LINK_TTL_MS = 72 * 3_600_000;

/** Failed logins in a row an account may make freely; then it waits 30 s, doubled per further failure, at most 15 min. */
export const LOGIN_FREE_FAILURES = 5;
const LOGIN_BASE_DELAY_MS = 30_000;
const LOGIN_MAX_DELAY_MS = 15 * 60_000;

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const newToken = () => randomBytes(32).toString('base64url');

export interface NewUserInput {
  email: unknown;
  role: unknown;
  merchant_id?: unknown;
  language?: unknown;
}

/** Who is creating a user: the operator (any user), or a merchant (users of its own merchant only). */
export type Creator = { kind: 'operator' } | { kind: 'merchant'; merchantId: string };

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

const EMAIL = /^[^\s@<>"]{1,64}@[^\s@<>"]{1,190}\.[^\s@<>".]{2,}$/;

/**
 * Creates a user without a password and a one-time link to set it (shown once: only its hash is stored).
 * A merchant creates only admins and viewers of its own merchant.
 */
export async function createUser(
  ctx: Pick<HubContext, 'db' | 'publicUrl'>,
  creator: Creator,
  input: NewUserInput,
): Promise<{ user: User; setPasswordUrl: string; expiresAt: Date }> {
  const errors = new FieldErrors();
  const email = typeof input.email === 'string' ? normalizeEmail(input.email) : '';
  if (!EMAIL.test(email) || email.length > 254) errors.add('email', 'must be an e-mail address');
  const role = input.role as Role;
  if (!ROLES.includes(role)) errors.add('role', 'must be one of "operator", "admin", "viewer"');
  const language = (input.language ?? 'en') as Language;
  if (!LANGUAGES.includes(language)) errors.add('language', 'must be one of "ro", "en", "it"');
  let merchantId = input.merchant_id === undefined || input.merchant_id === null || input.merchant_id === '' ? null : input.merchant_id;
  if (creator.kind === 'merchant') {
    if (role === 'operator') errors.add('role', 'a merchant creates only "admin" and "viewer" users');
    if (merchantId !== null && merchantId !== creator.merchantId) errors.add('merchant_id', 'a merchant creates users of its own merchant only');
    merchantId = creator.merchantId;
  }
  if (merchantId !== null && typeof merchantId !== 'string') errors.add('merchant_id', 'must be a merchant id');
  else if (role === 'operator' && merchantId !== null) errors.add('merchant_id', 'the operator belongs to no merchant');
  else if ((role === 'admin' || role === 'viewer') && merchantId === null)
    errors.add('merchant_id', `an ${role === 'admin' ? 'admin' : 'viewer'} needs a merchant`);
  else if (typeof merchantId === 'string' && !(await findMerchant(ctx.db, merchantId))) errors.add('merchant_id', `no merchant ${JSON.stringify(merchantId)}`);
  errors.throwIfAny();
  const user = await insertUser(ctx.db, { id: newId('usr'), email, role, merchant_id: merchantId as string | null, language });
  if (!user) throw new ConflictError(`a user with the e-mail ${email} exists already`);
  const link = await newPasswordLink(ctx, user.id);
  return { user, ...link };
}

/**
 * A new one-time link for a user to set (or reset) its password. The user's older links that were not used yet stop
 * working: only the latest link sent to someone opens the form (one that leaked, or sits in an old e-mail, does not).
 */
export async function newPasswordLink(ctx: Pick<HubContext, 'db' | 'publicUrl'>, userId: string): Promise<{ setPasswordUrl: string; expiresAt: Date }> {
  const token = newToken();
  const expiresAt = new Date(Date.now() + PASSWORD_LINK_TTL_MS);
  const issue = async (trx: Transaction<Database>) => {
    // Links for one user are issued one after the other, so two issued at once cannot both stay usable.
    await lockUserForPasswordLinks(trx, userId);
    await expireUsablePasswordTokens(trx, userId);
    await insertPasswordToken(trx, { token_hash: sha256(token), user_id: userId, expires_at: expiresAt });
  };
  // Within the caller's transaction when given one (the first start issues the operator's link inside its own).
  if (ctx.db.isTransaction) await issue(ctx.db as Transaction<Database>);
  else await ctx.db.transaction().execute(issue);
  return { setPasswordUrl: setPasswordUrl(ctx, token), expiresAt };
}

/** Whose a one-time link is, if it can still be used. */
export function passwordLinkOwner(ctx: Pick<HubContext, 'db'>, token: string) {
  if (token.length > 100) return Promise.resolve(undefined);
  return selectUsablePasswordToken(ctx.db, sha256(token));
}

export type SetPasswordResult = { kind: 'set'; userId: string } | { kind: 'invalid_link' } | { kind: 'weak'; minLength: number; maxLength: number };

/** Sets a password through a one-time link (used once), and ends the user's sessions. */
export async function setPasswordWithLink(ctx: Pick<HubContext, 'db'>, token: string, password: string): Promise<SetPasswordResult> {
  if (password.length < PASSWORD_MIN_LENGTH || password.length > PASSWORD_MAX_LENGTH)
    return { kind: 'weak', minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH };
  if (token.length > 100 || !(await passwordLinkOwner(ctx, token))) return { kind: 'invalid_link' };
  const userId = await consumePasswordToken(ctx.db, sha256(token), await hashPassword(password));
  if (!userId) return { kind: 'invalid_link' };
  await deleteUserSessions(ctx.db, userId);
  return { kind: 'set', userId };
}

export type LoginResult =
  | { kind: 'ok'; token: string; user: User }
  | { kind: 'refused' }
  /** The account failed too often: it may try again in `retryAfterS` seconds (even with the right password). */
  | { kind: 'blocked'; retryAfterS: number };

/**
 * Checks an e-mail and password and opens a session. An unknown e-mail, a disabled user or one without a password
 * costs the same scrypt work as a wrong password, and is refused the same way.
 */
export async function login(ctx: Pick<HubContext, 'db'>, email: string, password: string, lifetime: SessionLifetime): Promise<LoginResult> {
  const user = email.length <= 254 && password.length <= PASSWORD_MAX_LENGTH ? await selectUserByEmail(ctx.db, normalizeEmail(email)) : undefined;
  const usable = user && user.disabled_at === null && user.password_hash !== null ? user : undefined;
  const blockedFor = (u: User) => (u.login_blocked_until ? Math.ceil((new Date(u.login_blocked_until).getTime() - Date.now()) / 1000) : 0);
  if (usable && blockedFor(usable) > 0) return { kind: 'blocked', retryAfterS: blockedFor(usable) };
  const ok = await verifyPassword(password.slice(0, PASSWORD_MAX_LENGTH), usable?.password_hash ?? null);
  if (!usable || !ok) {
    if (usable) await recordFailedLogin(ctx.db, usable.id, LOGIN_FREE_FAILURES, LOGIN_BASE_DELAY_MS, LOGIN_MAX_DELAY_MS);
    return { kind: 'refused' };
  }
  await recordLogin(ctx.db, usable.id);
  if (needsRehash(usable.password_hash!)) await updatePasswordHash(ctx.db, usable.id, await hashPassword(password));
  const token = newToken();
  await insertSession(ctx.db, { token_hash: sha256(token), user_id: usable.id, expires_at: new Date(Date.now() + lifetime.absoluteMs) });
  return { kind: 'ok', token, user: usable };
}

/** Who a session belongs to, as the console uses it. */
export interface ConsoleSession {
  userId: string;
  email: string;
  role: Role;
  /** Null for the operator. */
  merchantId: string | null;
  language: Language;
  /** The anti-forgery token of this session's forms (derived from the session's token, which is never stored). */
  csrfToken: string;
}

/** The session a cookie's token opens, if it is live; its idle expiry starts again (written at most once a minute). */
export async function sessionOf(ctx: Pick<HubContext, 'db'>, token: string, lifetime: SessionLifetime): Promise<ConsoleSession | undefined> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return undefined;
  const hash = sha256(token);
  const row = await selectLiveSession(ctx.db, hash, lifetime.idleMs);
  if (!row) return undefined;
  if (Date.now() - new Date(row.last_seen_at).getTime() > Math.min(60_000, lifetime.idleMs / 10)) await touchSession(ctx.db, hash);
  return {
    userId: row.user_id,
    email: row.email,
    role: row.role,
    merchantId: row.merchant_id,
    language: row.language,
    csrfToken: createHash('sha256').update(`incasso console csrf\u0000${token}`).digest('base64url'),
  };
}

/** Whether a session is still open (not logged out, not expired), without counting this as activity. */
export async function sessionIsLive(ctx: Pick<HubContext, 'db'>, token: string, lifetime: SessionLifetime): Promise<boolean> {
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return false;
  return (await selectLiveSession(ctx.db, sha256(token), lifetime.idleMs)) !== undefined;
}

/** Ends a session (logout). */
export async function endSession(ctx: Pick<HubContext, 'db'>, token: string): Promise<void> {
  if (token.length <= 100) await deleteSession(ctx.db, sha256(token));
}

export async function setUserLanguage(ctx: Pick<HubContext, 'db'>, userId: string, language: Language): Promise<void> {
  await updateUserLanguage(ctx.db, userId, language);
}

/** The janitor's part: sessions past their absolute expiry are deleted. */
export function purgeExpiredSessions(ctx: Pick<HubContext, 'db'>): Promise<number> {
  return deleteExpiredSessions(ctx.db, DEFAULT_SESSION_LIFETIME.absoluteMs);
}

/** A merchant's console users, or (null) the operator's. */
export function listUsers(ctx: Pick<HubContext, 'db'>, merchantId: string | null): Promise<User[]> {
  return selectUsersOf(ctx.db, merchantId);
}

// A merchant's team (the console's Team section): one user of a merchant, its role, its status, a new link.

/** One of a merchant's users; another merchant's (or the operator) answers NotFoundError, like one that does not exist. */
export async function getMerchantUser(ctx: Pick<HubContext, 'db'>, merchantId: string, userId: string): Promise<User> {
  const user = userId.length <= 64 ? await selectUserOf(ctx.db, merchantId, userId) : undefined;
  if (!user) throw new NotFoundError(`no user ${JSON.stringify(userId)}`);
  return user;
}

/** Refused because the merchant would be left without an enabled admin. */
export class LastAdminError extends UnprocessableError {
  override name = 'LastAdminError';
}

/**
 * A change to one of a merchant's users, run with the merchant's row locked (two admins demoting each other at once
 * cannot both succeed), refused when it would leave the merchant without an enabled admin.
 */
async function changeMerchantUser(
  ctx: Pick<HubContext, 'db'>,
  merchantId: string,
  userId: string,
  leavesAdmin: (user: User) => boolean,
  change: (db: Parameters<typeof updateUserRole>[0], user: User) => Promise<User | undefined>,
): Promise<User> {
  return inTransaction(ctx, async (trx) => {
    if (!(await lockMerchantForUserChanges(trx, merchantId))) throw new NotFoundError(`no user ${JSON.stringify(userId)}`);
    const user = userId.length <= 64 ? await selectUserOf(trx, merchantId, userId) : undefined;
    if (!user) throw new NotFoundError(`no user ${JSON.stringify(userId)}`);
    const isEnabledAdmin = user.role === 'admin' && user.disabled_at === null;
    if (isEnabledAdmin && !leavesAdmin(user) && (await countOtherEnabledAdmins(trx, merchantId, user.id)) === 0)
      throw new LastAdminError('the merchant would have no enabled admin left');
    return (await change(trx, user))!;
  });
}

/** Makes one of a merchant's users an admin or a viewer; the merchant keeps at least one enabled admin. */
export async function changeUserRole(ctx: Pick<HubContext, 'db'>, merchantId: string, userId: string, role: unknown): Promise<User> {
  if (role !== 'admin' && role !== 'viewer') throw new ValidationError([{ field: 'role', message: 'must be "admin" or "viewer"' }]);
  return changeMerchantUser(
    ctx,
    merchantId,
    userId,
    () => role === 'admin',
    (db, user) => (user.role === role ? Promise.resolve(user) : updateUserRole(db, user.id, role)),
  );
}

/**
 * Disables one of a merchant's users: it cannot log in, its sessions end at once (deleted, and a session of a
 * disabled user is not live anyway) and its one-time links stop working. The merchant keeps at least one enabled admin.
 */
export async function disableUser(ctx: Pick<HubContext, 'db'>, merchantId: string, userId: string): Promise<User> {
  return changeMerchantUser(
    ctx,
    merchantId,
    userId,
    () => false,
    async (db, user) => {
      const disabled = await updateUserDisabled(db, user.id, true);
      await deleteUserSessions(db, user.id);
      return disabled;
    },
  );
}

/** Enables a disabled user of a merchant again (it logs in with its password, or sets one through a new link). */
export async function enableUser(ctx: Pick<HubContext, 'db'>, merchantId: string, userId: string): Promise<User> {
  const user = await getMerchantUser(ctx, merchantId, userId);
  return (await updateUserDisabled(ctx.db, user.id, false))!;
}

/** A new one-time link for one of a merchant's (enabled) users to set a new password; shown once. */
export async function newMerchantUserPasswordLink(
  ctx: Pick<HubContext, 'db' | 'publicUrl'>,
  merchantId: string,
  userId: string,
): Promise<{ user: User; setPasswordUrl: string; expiresAt: Date }> {
  const user = await getMerchantUser(ctx, merchantId, userId);
  if (user.disabled_at !== null) throw new UnprocessableError('a disabled user gets no password link; enable it first');
  return { user, ...(await newPasswordLink(ctx, user.id)) };
}

export { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../security/passwords.js';
