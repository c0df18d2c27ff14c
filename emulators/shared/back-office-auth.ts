import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import { html, type Html } from '../../src/html/template.js';
import { sendHtml } from './page-layout.js';
import { ensureEmulatorTables } from './schema.js';

/**
 * The sandbox login of an emulator's back office, as a processor's merchant console has one: an account gets a
 * back-office password when it is opened (shown once, like the account's other credentials), and the operator
 * pages act only for the account that is logged in. Browsers log in with a form and carry an HttpOnly,
 * SameSite=Lax session cookie scoped to the emulator's mount point; every state-changing form carries a CSRF
 * token tied to the session. Scripts send `Authorization: Basic <login:password>` instead (no cookie, so no
 * CSRF token). Sessions and password hashes live in the database, so several processes share them.
 */

const DDL = [
  `CREATE TABLE IF NOT EXISTS emu_back_office_logins (
    processor text NOT NULL,
    login text NOT NULL,
    password_hash text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (processor, login)
  )`,
  `CREATE TABLE IF NOT EXISTS emu_back_office_sessions (
    id_hash text PRIMARY KEY,
    processor text NOT NULL,
    login text NOT NULL,
    csrf text NOT NULL,
    expires_at timestamptz NOT NULL
  )`,
  'CREATE INDEX IF NOT EXISTS emu_back_office_sessions_expiry ON emu_back_office_sessions (expires_at)',
];

const SESSION_TTL_MS = 8 * 3600_000;
const LOGIN_FORM_TTL_S = 3600;
const TOKEN_RE = /^[A-Za-z0-9_-]{20,100}$/;

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');
const token = () => randomBytes(32).toString('base64url');

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function field(body: unknown, name: string): string | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const value = (body as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

export interface BackOfficeOptions {
  db: Kysely<any>;
  /** The emulator's name in the shared tables and in its cookies' names, e.g. 'netopia_v1'. */
  processor: string;
  /** The mount point: the cookies' path, e.g. /sandbox/netopia/v1. */
  prefix: string;
  /** The absolute URL of the mount point. */
  baseUrl: string;
  /** What the login is called on the form, e.g. "POS signature". */
  loginLabel: string;
  /** The login as stored (e.g. upper-cased), or undefined when it cannot be one. */
  normalizeLogin(login: string): string | undefined;
  /** Where a browser goes after logging in when it asked for no page, relative to the prefix, e.g. /orders. */
  landing: string;
  /** A complete page in the emulator's layout. */
  page(title: string, body: Html): string;
  wantsJson(request: FastifyRequest): boolean;
  /** The emulator's JSON error body for a refused script. */
  sendJsonError(reply: FastifyReply, status: number, message: string): FastifyReply;
}

/** Who a back-office request acts for. `csrf` is the session's form token (absent for a script's Basic login). */
export interface BackOfficeSession {
  login: string;
  csrf?: string;
}

export class BackOfficeAuth {
  private readonly sessionCookie: string;
  private readonly loginCookie: string;
  private readonly secure: boolean;

  private constructor(private readonly o: BackOfficeOptions) {
    this.sessionCookie = `sandbox_${o.processor}_session`;
    this.loginCookie = `sandbox_${o.processor}_login`;
    this.secure = o.baseUrl.startsWith('https:');
  }

  static async open(options: BackOfficeOptions): Promise<BackOfficeAuth> {
    await ensureEmulatorTables(options.db, 'emu_back_office_schema', DDL);
    return new BackOfficeAuth(options);
  }

  /** Issues the back-office password of a newly opened account; only its hash is kept. */
  async issueLogin(login: string): Promise<string> {
    const password = randomBytes(24).toString('base64url');
    await this.o.db
      .insertInto('emu_back_office_logins')
      .values({ processor: this.o.processor, login, password_hash: sha256(password) })
      .onConflict((oc: any) => oc.columns(['processor', 'login']).doUpdateSet({ password_hash: sha256(password) }))
      .execute();
    return password;
  }

  private async checkPassword(login: string, password: string): Promise<string | undefined> {
    const normalized = this.o.normalizeLogin(login);
    if (!normalized || password === '' || password.length > 200) return undefined;
    const row = await this.o.db
      .selectFrom('emu_back_office_logins')
      .select('password_hash')
      .where('processor', '=', this.o.processor)
      .where('login', '=', normalized)
      .executeTakeFirst();
    return row && sameText(row.password_hash as string, sha256(password)) ? normalized : undefined;
  }

  private cookie(name: string, value: string, maxAgeSeconds: number): string {
    return `${name}=${value}; Path=${this.o.prefix}; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${this.secure ? '; Secure' : ''}`;
  }

  /** The account a request acts for, from its Basic login or its session cookie; undefined when there is none. */
  private async identify(request: FastifyRequest): Promise<BackOfficeSession | 'bad-key' | undefined> {
    const authorization = request.headers.authorization;
    if (typeof authorization === 'string' && authorization !== '') {
      const match = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(authorization);
      if (!match) return 'bad-key';
      const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const login = colon > 0 ? await this.checkPassword(decoded.slice(0, colon), decoded.slice(colon + 1)) : undefined;
      return login ? { login } : 'bad-key';
    }
    const id = readCookie(request, this.sessionCookie);
    if (!id || !TOKEN_RE.test(id)) return undefined;
    const row = await this.o.db
      .selectFrom('emu_back_office_sessions')
      .select(['login', 'csrf'])
      .where('id_hash', '=', sha256(id))
      .where('processor', '=', this.o.processor)
      .where('expires_at', '>', new Date())
      .executeTakeFirst();
    return row ? { login: row.login as string, csrf: row.csrf as string } : undefined;
  }

  /**
   * The account a back-office request acts for. Without one the request is answered (401 with the login page,
   * or the emulator's JSON error) and undefined returned. A state-changing request made with a session cookie
   * must carry the session's CSRF token (form field `_csrf` or header `x-csrf-token`), or it is refused (403).
   */
  async require(request: FastifyRequest, reply: FastifyReply): Promise<BackOfficeSession | undefined> {
    const who = await this.identify(request);
    if (who === undefined || who === 'bad-key') {
      const message = who === 'bad-key' ? 'wrong back-office login or password' : 'log in to the sandbox back office first';
      if (this.o.wantsJson(request)) this.o.sendJsonError(reply, 401, message);
      else await this.sendLoginPage(request, reply, 401, request.method === 'GET' ? request.url : undefined);
      return undefined;
    }
    if (who.csrf !== undefined && request.method !== 'GET' && request.method !== 'HEAD') {
      const given = field(request.body, '_csrf') ?? (typeof request.headers['x-csrf-token'] === 'string' ? request.headers['x-csrf-token'] : undefined);
      if (given === undefined || !sameText(given, who.csrf)) {
        const message = "the form is missing its CSRF token or the token is not this session's; reload the page and try again";
        if (this.o.wantsJson(request)) this.o.sendJsonError(reply, 403, message);
        else
          sendHtml(
            reply,
            403,
            this.o.page('Refused', html`<h1>Refused</h1><p role="alert">${message}.</p><p><a href="${this.o.baseUrl}${this.o.landing}">Back</a></p>`),
          );
        return undefined;
      }
    }
    return who;
  }

  /** The hidden form field that carries the session's CSRF token (nothing for a Basic login). */
  csrfInput(session: BackOfficeSession): Html {
    return session.csrf === undefined ? html`` : html`<input type="hidden" name="_csrf" value="${session.csrf}">`;
  }

  /** A logout button for the pages of a logged-in account. */
  logoutForm(session: BackOfficeSession): Html {
    if (session.csrf === undefined) return html`<p>Account ${session.login}</p>`;
    return html`<form method="post" action="${this.o.baseUrl}/logout" class="inline">${this.csrfInput(session)}<span>Logged in as ${session.login}</span>
<button type="submit" class="secondary">Log out</button></form>`;
  }

  /** Where to go after logging in: a page of this emulator (never another site, never the login itself). */
  private nextPath(next: string | undefined): string {
    const landing = this.o.prefix + this.o.landing;
    if (!next || next.length > 2000 || !next.startsWith(this.o.prefix + '/')) return landing;
    if (/[\\\r\n\0]|\/\/|\/\.\.?(\/|$|\?)/.test(next) || next.startsWith(`${this.o.prefix}/log`)) return landing;
    return next;
  }

  private async sendLoginPage(
    _request: FastifyRequest,
    reply: FastifyReply,
    status: number,
    next: string | undefined,
    problem?: string,
  ): Promise<FastifyReply> {
    const formToken = token();
    reply.header('set-cookie', this.cookie(this.loginCookie, formToken, LOGIN_FORM_TTL_S));
    const body = html`<h1>Sandbox back office: log in</h1>
${problem ? html`<p role="alert">${problem}</p>` : ''}
<p>Log in with the back-office login of your sandbox account. The hub shows it for an emulator connection:
<code>incasso connections get CODE</code> (<code>sandbox_back_office</code>).</p>
<form method="post" action="${this.o.baseUrl}/login">
<input type="hidden" name="_csrf" value="${formToken}">
<input type="hidden" name="next" value="${this.nextPath(next)}">
<label for="login">${this.o.loginLabel}</label><input id="login" name="login" autocomplete="username" required>
<label for="password">Back-office password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Log in</button>
</form>`;
    return sendHtml(reply, status, this.o.page('Log in', body));
  }

  /** GET/POST /login and POST /logout under the emulator's prefix. */
  register(app: FastifyInstance): void {
    app.get<{ Querystring: { next?: string } }>('/login', async (request, reply) => this.sendLoginPage(request, reply, 200, request.query?.next));

    app.post('/login', async (request, reply) => {
      const next = field(request.body, 'next');
      const formToken = readCookie(request, this.loginCookie);
      const given = field(request.body, '_csrf');
      if (!formToken || !given || !TOKEN_RE.test(formToken) || !sameText(formToken, given)) {
        return this.sendLoginPage(request, reply, 403, next, 'The login form expired or did not come from this site; log in again.');
      }
      const login = await this.checkPassword(field(request.body, 'login')?.trim() ?? '', field(request.body, 'password') ?? '');
      if (!login) return this.sendLoginPage(request, reply, 401, next, 'Wrong login or password.');
      const id = token();
      await this.o.db.deleteFrom('emu_back_office_sessions').where('expires_at', '<', new Date()).execute();
      await this.o.db
        .insertInto('emu_back_office_sessions')
        .values({ id_hash: sha256(id), processor: this.o.processor, login, csrf: token(), expires_at: new Date(Date.now() + SESSION_TTL_MS) })
        .execute();
      reply.header('set-cookie', [this.cookie(this.sessionCookie, id, SESSION_TTL_MS / 1000), this.cookie(this.loginCookie, '', 0)]);
      return reply.redirect(this.nextPath(next), 303);
    });

    app.post('/logout', async (request, reply) => {
      const session = await this.require(request, reply);
      if (!session) return reply;
      const id = readCookie(request, this.sessionCookie);
      if (id) await this.o.db.deleteFrom('emu_back_office_sessions').where('id_hash', '=', sha256(id)).execute();
      reply.header('set-cookie', this.cookie(this.sessionCookie, '', 0));
      return reply.redirect(`${this.o.prefix}/login`, 303);
    });
  }
}
