import { readFileSync } from 'node:fs';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ValidationError } from '../../core/validation.js';
import { NotFoundError, type HubContext } from '../../services/context.js';
import {
  DEFAULT_SESSION_LIFETIME,
  endSession,
  login,
  passwordLinkOwner,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  sessionIsLive,
  sessionOf,
  setPasswordWithLink,
  setUserLanguage,
  type SessionLifetime,
} from '../../services/users.js';
import { isDatabaseUnavailable } from '../../store/store.js';
import { safeEqual } from '../../security/api-keys.js';
import { html } from '../../html/template.js';
import { FailedAuthBudget } from '../auth-failures.js';
import type { NavItem } from './context.js';
import { common, isLanguage, languageFromHeader, type Language } from './i18n.js';
import { CONSOLE_CSS, CONSOLE_CSS_PATH, HTMX_FILE, HTMX_PATH, messagePage, page } from './layout.js';
import type { ConsoleSection } from './registry.js';
import { SECTIONS } from './sections/index.js';
import { formOf, seeOther } from './kit.js';

/**
 * The web console under /console/: logging in and out, one-time links to set a password, the language, and the
 * sections (sections/<name>/, listed in sections/index.ts), each behind its roles. Sessions live in the database
 * (services/users.ts): the cookie holds a random token, HttpOnly, SameSite=Lax, Secure when the request came over
 * https (as the trusted proxy says, INCASSO_TRUST_PROXY) or the hub's public URL is https. Every state-changing
 * request must come from the console's own origin (Origin, else Referer) and, with a session, carry the session's
 * anti-forgery token. Logins are throttled per account (in the database) and per source address.
 */

export interface ConsoleOptions {
  ctx: HubContext;
  lifetime?: SessionLifetime;
  /** Failed logins per source address per 15 minutes before the address must wait (default 30; 0 = off). */
  loginFailuresPerAddress?: number;
  /** The sections to mount (default: all of sections/index.ts). */
  sections?: readonly ConsoleSection[];
}

export const SESSION_COOKIE = 'incasso_console';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function cookieValue(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Where a login may send the browser afterwards: a console path only (never another site, never `//host`). */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/console\/[A-Za-z0-9_\-/.?=&%+:]*$/.test(next) && !next.includes('//') && next.length < 1000 ? next : '/console/';
}

export async function consoleRoutes(app: FastifyInstance, opts: ConsoleOptions) {
  const { ctx } = opts;
  const lifetime = opts.lifetime ?? DEFAULT_SESSION_LIFETIME;
  const sections = [...(opts.sections ?? SECTIONS)].sort((a, b) => a.order - b.order);
  const addressFailures = new FailedAuthBudget(opts.loginFailuresPerAddress ?? 30, 15 * 60_000);
  let publicOrigin = '';
  try {
    publicOrigin = new URL(ctx.publicUrl).origin;
  } catch {
    // a public URL that is not a URL: only the request's own origin counts
  }
  const secureCookies = ctx.publicUrl.startsWith('https:');
  const htmx = readFileSync(HTMX_FILE);

  const setSessionCookie = (request: FastifyRequest, reply: FastifyReply, value: string, maxAgeS: number) =>
    reply.header(
      'set-cookie',
      `${SESSION_COOKIE}=${value}; Path=/console; HttpOnly; SameSite=Lax; Max-Age=${maxAgeS}${secureCookies || request.protocol === 'https' ? '; Secure' : ''}`,
    );

  const navFor = (role: string, language: Language): NavItem[] =>
    sections
      .filter((s) => (s.roles as readonly string[]).includes(role))
      .map((s) => ({ name: s.name, href: `/console/${s.name}`, label: s.navLabel(language) }));

  /** The request comes from a page of this console: its Origin (else its Referer) is the hub's. */
  const sameOrigin = (request: FastifyRequest): boolean => {
    let origin = request.headers.origin;
    if (typeof origin !== 'string' || origin === 'null') {
      const referer = request.headers.referer;
      if (typeof referer !== 'string') return false;
      try {
        origin = new URL(referer).origin;
      } catch {
        return false;
      }
    }
    return origin === publicOrigin || origin === `${request.protocol}://${request.host}`;
  };

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_request, body, done) => {
    const fields: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(body as string)) if (!(k in fields) && Object.keys(fields).length < 100) fields[k] = v;
    done(null, fields);
  });

  app.addHook('preHandler', async (request, reply) => {
    const token = cookieValue(request, SESSION_COOKIE);
    const session = token ? await sessionOf(ctx, token, lifetime) : undefined;
    const language = session?.language ?? languageFromHeader(request.headers['accept-language']);
    request.console = {
      session,
      language,
      nav: session ? navFor(session.role, language) : [],
      stillLive: token && session ? () => sessionIsLive(ctx, token, lifetime) : undefined,
    };
    const t = common.in(language);
    const isPublic = request.routeOptions.config?.consolePublic === true;
    if (UNSAFE.has(request.method)) {
      if (!sameOrigin(request)) return messagePage(request, reply, 403, t('refused_title'), t('csrf_text'));
      if (session && !isPublic) {
        const sent = formOf(request)._csrf ?? request.headers['x-csrf-token'];
        if (typeof sent !== 'string' || !safeEqual(sent, session.csrfToken)) return messagePage(request, reply, 403, t('refused_title'), t('csrf_text'));
      }
    }
    if (!session && !isPublic) {
      if (token) setSessionCookie(request, reply, '', 0);
      const query = new URLSearchParams();
      if (token) query.set('expired', '1');
      if (request.method === 'GET') query.set('next', request.url);
      const text = query.toString();
      return seeOther(request, reply, `/console/login${text ? `?${text}` : ''}`);
    }
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const t = common.in(request.console?.language ?? 'en');
    if (error instanceof NotFoundError) return messagePage(request, reply, 404, t('not_found_title'), t('not_found_text'));
    if (error instanceof ValidationError)
      return messagePage(request, reply, 400, t('bad_request_title'), error.errors.map((e) => `${e.field}: ${e.message}`).join('; '));
    if (isDatabaseUnavailable(error)) {
      reply.header('retry-after', '5');
      return messagePage(request, reply, 503, t('error_title'), t('unavailable_text'));
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) return messagePage(request, reply, status, t('bad_request_title'), error.message);
    request.log.error({ err: error }, 'console request failed');
    return messagePage(request, reply, 500, t('error_title'), t('error_text'));
  });
  app.setNotFoundHandler((request, reply) => {
    const t = common.in(request.console?.language ?? languageFromHeader(request.headers['accept-language']));
    return messagePage(request, reply, 404, t('not_found_title'), t('not_found_text'));
  });

  // Assets: versioned paths, cached for a year.
  const longCache = 'public, max-age=31536000, immutable';
  app.get(CONSOLE_CSS_PATH.slice('/console'.length), { config: { consolePublic: true }, schema: { hide: true } }, async (_request, reply) =>
    reply.header('cache-control', longCache).type('text/css; charset=utf-8').send(CONSOLE_CSS),
  );
  app.get(HTMX_PATH.slice('/console'.length), { config: { consolePublic: true }, schema: { hide: true } }, async (_request, reply) =>
    reply.header('cache-control', longCache).type('text/javascript; charset=utf-8').send(htmx),
  );
  // The sections' own assets (one route per file name: two sections may ship the same library).
  for (const asset of new Map(sections.flatMap((s) => s.assets ?? []).map((a) => [a.file, a])).values()) {
    app.get(`/assets/${asset.file}`, { config: { consolePublic: true }, schema: { hide: true } }, async (_request, reply) =>
      reply.header('cache-control', longCache).type(asset.type).send(asset.body),
    );
  }

  app.get('/', { schema: { hide: true } }, async (request, reply) => {
    const first = request.console!.nav[0];
    if (first) return seeOther(request, reply, first.href);
    const t = common.in(request.console!.language);
    return messagePage(request, reply, 403, t('forbidden_title'), t('forbidden_text'));
  });

  const loginForm = (
    request: FastifyRequest,
    reply: FastifyReply,
    options: { status?: number; alert?: string; notice?: string; email?: string; next?: string },
  ) => {
    const t = common.in(request.console!.language);
    return page(request, reply, {
      title: t('login_title'),
      narrow: true,
      status: options.status,
      body: html`<h1>${t('login_title')}</h1>${options.alert ? html`<div class="alert" role="alert">${options.alert}</div>` : ''}${options.notice ? html`<div class="ok" role="status">${options.notice}</div>` : ''}
<form method="post" action="/console/login"><input type="hidden" name="next" value="${safeNext(options.next)}">
<label for="email">${t('email')}</label><input id="email" name="email" type="email" autocomplete="username" required value="${options.email ?? ''}">
<label for="password">${t('password')}</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<p><button type="submit">${t('log_in')}</button></p></form>`,
    });
  };

  app.get<{ Querystring: { next?: string; expired?: string; bye?: string } }>(
    '/login',
    { config: { consolePublic: true }, schema: { hide: true } },
    async (request, reply) => {
      if (request.console!.session) return seeOther(request, reply, safeNext(request.query.next));
      const t = common.in(request.console!.language);
      const notice = request.query.bye === '1' ? t('logged_out') : request.query.expired === '1' ? t('session_expired') : undefined;
      return loginForm(request, reply, { next: request.query.next, notice });
    },
  );

  app.post('/login', { config: { consolePublic: true }, schema: { hide: true } }, async (request, reply) => {
    const form = formOf(request);
    const t = common.in(request.console!.language);
    const email = typeof form.email === 'string' ? form.email.slice(0, 254) : '';
    const wait = addressFailures.retryAfter(request.ip);
    if (wait > 0) {
      reply.header('retry-after', String(wait));
      return loginForm(request, reply, { status: 429, alert: t('login_blocked', { seconds: wait }), email, next: form.next });
    }
    const result = await login(ctx, email, typeof form.password === 'string' ? form.password : '', lifetime);
    if (result.kind === 'blocked') {
      reply.header('retry-after', String(result.retryAfterS));
      return loginForm(request, reply, { status: 429, alert: t('login_blocked', { seconds: result.retryAfterS }), email, next: form.next });
    }
    if (result.kind === 'refused') {
      addressFailures.fail(request.ip);
      request.log.info({ console: 'login refused' }, 'a console login was refused');
      return loginForm(request, reply, { status: 401, alert: t('login_refused'), email, next: form.next });
    }
    setSessionCookie(request, reply, result.token, Math.floor(lifetime.absoluteMs / 1000));
    return seeOther(request, reply, safeNext(form.next));
  });

  app.post('/logout', { schema: { hide: true } }, async (request, reply) => {
    const token = cookieValue(request, SESSION_COOKIE);
    if (token) await endSession(ctx, token);
    setSessionCookie(request, reply, '', 0);
    return seeOther(request, reply, '/console/login?bye=1');
  });

  app.post('/language', { schema: { hide: true } }, async (request, reply) => {
    const language = formOf(request).language;
    if (!isLanguage(language)) throw new ValidationError([{ field: 'language', message: 'must be one of "ro", "en", "it"' }]);
    await setUserLanguage(ctx, request.console!.session!.userId, language);
    let back = '/console/';
    try {
      const referer = new URL(String(request.headers.referer));
      back = safeNext(referer.pathname + referer.search);
    } catch {
      // no usable Referer: the console's first page
    }
    return seeOther(request, reply, back);
  });

  const setPasswordForm = (request: FastifyRequest, reply: FastifyReply, token: string, email: string, options: { status?: number; alert?: string } = {}) => {
    const t = common.in(request.console!.language);
    return page(request, reply, {
      title: t('set_password_title'),
      narrow: true,
      status: options.status,
      body: html`<h1>${t('set_password_title')}</h1><p>${t('set_password_for', { email })}</p>${options.alert ? html`<div class="alert" role="alert">${options.alert}</div>` : ''}
<form method="post" action="/console/set-password"><input type="hidden" name="token" value="${token}">
<input type="hidden" name="username" autocomplete="username" value="${email}">
<label for="password">${t('new_password')}</label><input id="password" name="password" type="password" autocomplete="new-password" required minlength="${PASSWORD_MIN_LENGTH}" maxlength="${PASSWORD_MAX_LENGTH}" aria-describedby="password-hint">
<p id="password-hint" class="muted">${t('password_hint', { min: PASSWORD_MIN_LENGTH })}</p>
<label for="repeat">${t('repeat_password')}</label><input id="repeat" name="repeat" type="password" autocomplete="new-password" required>
<p><button type="submit">${t('save_password')}</button></p></form>`,
    });
  };

  const invalidLink = (request: FastifyRequest, reply: FastifyReply) => {
    const t = common.in(request.console!.language);
    return messagePage(request, reply, 404, t('set_password_title'), t('link_invalid'));
  };

  app.get<{ Querystring: { token?: string } }>('/set-password', { config: { consolePublic: true }, schema: { hide: true } }, async (request, reply) => {
    const token = typeof request.query.token === 'string' ? request.query.token : '';
    const owner = token ? await passwordLinkOwner(ctx, token) : undefined;
    if (!owner) return invalidLink(request, reply);
    // The link's language, not the browser's: the person was invited in it.
    if (!request.console!.session) request.console!.language = owner.language;
    return setPasswordForm(request, reply, token, owner.email);
  });

  app.post('/set-password', { config: { consolePublic: true }, schema: { hide: true } }, async (request, reply) => {
    const form = formOf(request);
    const token = typeof form.token === 'string' ? form.token : '';
    const owner = token ? await passwordLinkOwner(ctx, token) : undefined;
    if (!owner) return invalidLink(request, reply);
    if (!request.console!.session) request.console!.language = owner.language;
    const t = common.in(request.console!.language);
    const password = typeof form.password === 'string' ? form.password : '';
    if (password !== form.repeat) return setPasswordForm(request, reply, token, owner.email, { status: 400, alert: t('password_mismatch') });
    const result = await setPasswordWithLink(ctx, token, password);
    if (result.kind === 'weak')
      return setPasswordForm(request, reply, token, owner.email, { status: 400, alert: t('password_weak', { min: result.minLength, max: result.maxLength }) });
    if (result.kind === 'invalid_link') return invalidLink(request, reply);
    return page(request, reply, {
      title: t('set_password_title'),
      narrow: true,
      body: html`<h1>${t('set_password_title')}</h1><div class="ok" role="status">${t('password_set')}</div><p><a class="button" href="/console/login">${t('go_to_login')}</a></p>`,
    });
  });

  for (const section of sections) {
    await app.register(
      async (scoped) => {
        scoped.addHook('preHandler', async (request, reply) => {
          const session = request.console?.session;
          if (session && !(section.roles as readonly string[]).includes(session.role)) {
            const t = common.in(request.console!.language);
            return messagePage(request, reply, 403, t('forbidden_title'), t('forbidden_text'));
          }
        });
        await section.routes(scoped, { ctx });
      },
      { prefix: `/${section.name}` },
    );
  }
}
