import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ValidationError } from '../../../../core/validation.js';
import { html, Html } from '../../../../html/template.js';
import { ConflictError, NotFoundError, UnprocessableError, type HubContext } from '../../../../services/context.js';
import { createApiKey, listApiKeys, listMerchants, revokeApiKey, type ApiKeyListing } from '../../../../services/merchants.js';
import {
  changeUserRole,
  createUser,
  disableUser,
  enableUser,
  getMerchantUser,
  LastAdminError,
  listUsers,
  newMerchantUserPasswordLink,
} from '../../../../services/users.js';
import type { Merchant, User } from '../../../../store/schema.js';
import { isLanguage, LANGUAGE_NAMES, LANGUAGES, type Language } from '../../i18n.js';
import { page } from '../../layout.js';
import { defineSection } from '../../registry.js';
import { strings } from './strings.js';
import { createFlash } from '../../flash.js';
import { formOf, merchantFields, merchantInScope, merchantLink, requireMerchant, seeOther, selected, when } from '../../kit.js';

/**
 * Team: a merchant's API keys (create: the key is shown once; revoke: it stops working at once; revoking the last
 * live key is allowed after a warning) and its console users (invite with a one-time link shown once, change role,
 * disable: their sessions end at once, enable, a new password link). A merchant's admin manages its own merchant;
 * the operator picks the merchant (`?merchant=`, and a hidden field in each form). Viewers may not open it. Every
 * action goes through the same services as the API (`services/merchants.ts`, `services/users.ts`); another
 * merchant's key or user by URL answers 404 like one that does not exist.
 */

type T = ReturnType<typeof strings.in>;

const BASE = '/console/team';

const ID = /^[A-Za-z0-9_]{1,64}$/;

/** Where the team page of a merchant is, with what just happened (`done`, and the key or user it happened to). */
function teamUrl(request: FastifyRequest, merchant: Merchant, extra: Record<string, string> = {}): string {
  return merchantLink(request, merchant.id, BASE, extra);
}

/** A secret a form made, held for the one page that shows it (see flash.ts), with the merchant it is of. */
type HeldSecret = NonNullable<Shown['secret']> & { merchantId: string };

interface Shown {
  status?: number;
  notice?: string;
  alert?: string;
  /** A secret shown once: the new API key or a one-time link. */
  secret?: { intro: string; label: string; value: string; after?: string };
}

function keysPart(request: FastifyRequest, t: T, merchant: Merchant, keys: ApiKeyListing[]): Html {
  const live = keys.filter((k) => k.revoked_at === null);
  const rows = keys.map(
    (k) =>
      html`<tr><td>${k.name}</td><td><code>${k.prefix}…</code></td><td>${when(k.created_at)}</td><td>${k.last_used_at ? when(k.last_used_at) : t('never')}</td><td class="status">${
        k.revoked_at ? t('key_revoked', { time: when(k.revoked_at) }) : t('key_live')
      }</td><td>${
        k.revoked_at
          ? ''
          : html`<form method="post" action="${`${BASE}/keys/${k.id}/revoke`}" class="inline">${merchantFields(request, merchant.id)}<button type="submit" class="danger" aria-label="${t('revoke_key_named', { name: k.name })}">${t('revoke')}</button></form>`
      }</td></tr>`,
  );
  return html`<section aria-labelledby="keys-title"><h2 id="keys-title">${t('keys')}</h2><p class="muted">${t('keys_intro')}</p>
${live.length === 0 ? html`<div class="alert" role="alert">${t('no_live_keys')}</div>` : ''}
${keys.length ? html`<table><caption class="muted">${t('keys_caption')}</caption><thead><tr><th scope="col">${t('key_name')}</th><th scope="col">${t('key_prefix')}</th><th scope="col">${t('created')}</th><th scope="col">${t('last_used')}</th><th scope="col">${t('status')}</th><th scope="col">${t('actions')}</th></tr></thead><tbody>${rows}</tbody></table>` : ''}
<h3>${t('new_key')}</h3><form method="post" action="${`${BASE}/keys`}" class="filters">${merchantFields(request, merchant.id)}<div><label for="key-name">${t('new_key_name')}</label><input id="key-name" name="name" required maxlength="100" aria-describedby="key-name-help"><span id="key-name-help" class="muted">${t('new_key_name_help')}</span></div><div><button type="submit">${t('create_key')}</button></div></form></section>`;
}

function userStatus(t: T, u: User): string {
  if (u.disabled_at) return t('user_disabled');
  return u.password_hash === null ? t('user_invited') : t('user_active');
}

function usersPart(request: FastifyRequest, t: T, merchant: Merchant, users: User[]): Html {
  const me = request.console!.session!.userId;
  const roleLabel = (r: string) => (r === 'admin' ? t('role_admin') : t('role_viewer'));
  const rows = users.map((u) => {
    const action = (what: string) => `${BASE}/users/${u.id}/${what}`;
    const roleForm = html`<form method="post" action="${action('role')}" class="inline">${merchantFields(request, merchant.id)}<select name="role" aria-label="${t('role_of', { email: u.email })}">${(
      ['admin', 'viewer'] as const
    ).map(
      (r) => html`<option value="${r}"${selected(u.role === r)}>${roleLabel(r)}</option>`,
    )}</select><button type="submit">${t('change_role')}</button></form>`;
    const toggle = u.disabled_at
      ? html`<form method="post" action="${action('enable')}" class="inline">${merchantFields(request, merchant.id)}<button type="submit" aria-label="${t('enable_named', { email: u.email })}">${t('enable')}</button></form>`
      : html`<form method="post" action="${action('disable')}" class="inline">${merchantFields(request, merchant.id)}<button type="submit" class="danger" aria-label="${t('disable_named', { email: u.email })}">${t('disable')}</button></form>`;
    const reset = u.disabled_at
      ? ''
      : html`<form method="post" action="${action('password-link')}" class="inline">${merchantFields(request, merchant.id)}<button type="submit" aria-label="${t('reset_link_named', { email: u.email })}">${t('reset_link')}</button></form>`;
    return html`<tr><td>${u.email}${u.id === me ? html` <span class="muted">${t('you')}</span>` : ''}</td><td>${roleLabel(u.role)}</td><td>${LANGUAGE_NAMES[u.language]}</td><td>${u.last_login_at ? when(u.last_login_at) : t('never')}</td><td class="status">${userStatus(t, u)}</td><td><div class="actions">${roleForm}${toggle}${reset}</div></td></tr>`;
  });
  const language = request.console!.language;
  return html`<section aria-labelledby="users-title"><h2 id="users-title">${t('users')}</h2>
${users.length ? html`<table><caption class="muted">${t('users_caption')}</caption><thead><tr><th scope="col">${t('email')}</th><th scope="col">${t('role')}</th><th scope="col">${t('language')}</th><th scope="col">${t('last_login')}</th><th scope="col">${t('status')}</th><th scope="col">${t('actions')}</th></tr></thead><tbody>${rows}</tbody></table>` : ''}
<h3>${t('invite')}</h3><p class="muted">${t('invite_help')}</p><form method="post" action="${`${BASE}/users`}" class="filters">${merchantFields(request, merchant.id)}
<div><label for="invite-email">${t('email')}</label><input id="invite-email" name="email" type="email" required maxlength="254" autocomplete="off"></div>
<div><label for="invite-role">${t('role')}</label><select id="invite-role" name="role"><option value="viewer">${t('role_viewer')}</option><option value="admin">${t('role_admin')}</option></select></div>
<div><label for="invite-language">${t('language')}</label><select id="invite-language" name="language">${LANGUAGES.map(
    (l) => html`<option value="${l}"${selected(l === language)}>${LANGUAGE_NAMES[l]}</option>`,
  )}</select></div>
<div><button type="submit">${t('invite_button')}</button></div></form></section>`;
}

/** The operator's choice of merchant (a GET form: works without script). */
async function merchantPicker(ctx: HubContext, t: T, current: Merchant | null): Promise<Html> {
  const merchants = await listMerchants(ctx);
  if (!merchants.length) return html`<p role="status">${t('no_merchants')}</p>`;
  return html`<form method="get" action="${BASE}" class="filters"><div><label for="pick-merchant">${t('pick_merchant')}</label><select id="pick-merchant" name="merchant" aria-describedby="pick-help">${merchants.map(
    (m) => html`<option value="${m.id}"${selected(current?.id === m.id)}>${m.name} (${m.id})</option>`,
  )}</select><span id="pick-help" class="muted">${t('pick_merchant_help')}</span></div><div><button type="submit">${t('show')}</button></div></form>`;
}

async function teamPage(ctx: HubContext, request: FastifyRequest, reply: FastifyReply, merchant: Merchant | null, shown: Shown = {}) {
  const t = strings.in(request.console!.language);
  const operator = request.console!.session!.role === 'operator';
  const picker = operator ? await merchantPicker(ctx, t, merchant) : '';
  const title = merchant ? t('title_of', { merchant: merchant.name }) : t('title');
  const messages = html`${shown.alert ? html`<div class="alert" role="alert">${shown.alert}</div>` : ''}${shown.notice ? html`<div class="ok" role="status">${shown.notice}</div>` : ''}${
    shown.secret
      ? html`<div class="ok secret" role="status"><p>${shown.secret.intro}</p><label for="shown-secret">${shown.secret.label}</label><input id="shown-secret" type="text" readonly value="${shown.secret.value}" autocomplete="off" spellcheck="false">${shown.secret.after ? html`<p class="muted">${shown.secret.after}</p>` : ''}</div>`
      : ''
  }`;
  if (!merchant) return page(request, reply, { title, section: 'team', status: shown.status, body: html`<h1>${title}</h1>${messages}${picker}` });
  const [keys, users] = await Promise.all([listApiKeys(ctx, merchant.id), listUsers(ctx, merchant.id)]);
  return page(request, reply, {
    title,
    section: 'team',
    status: shown.status,
    body: html`<h1>${title}</h1>${picker}${messages}${keysPart(request, t, merchant, keys)}${usersPart(request, t, merchant, users)}`,
  });
}

/** A refusal the page explains (a field, a taken e-mail, the last admin), shown on the team page itself. */
function explain(t: T, error: unknown): { status: number; alert: string } | undefined {
  if (error instanceof LastAdminError) return { status: 409, alert: t('last_admin') };
  if (error instanceof ConflictError) return { status: 409, alert: t('email_taken') };
  if (error instanceof ValidationError) return { status: 400, alert: t('invalid', { what: error.errors.map((e) => `${e.field}: ${e.message}`).join('; ') }) };
  if (error instanceof UnprocessableError) return { status: 422, alert: t('disabled_no_link') };
  return undefined;
}

type WithId = FastifyRequest<{ Params: { id: string } }>;

export const teamSection = defineSection({
  name: 'team',
  roles: ['operator', 'admin'],
  order: 80,
  navLabel: (language: Language) => strings.in(language)('nav'),
  routes: async (app: FastifyInstance, { ctx }) => {
    /** Runs an action for the form's merchant; a refusal it can explain is shown on the team page. */
    const act = async (request: FastifyRequest, reply: FastifyReply, run: (merchant: Merchant, t: T) => Promise<unknown>) => {
      const t = strings.in(request.console!.language);
      const merchant = await requireMerchant(ctx, request);
      try {
        return await run(merchant, t);
      } catch (error) {
        const shown = explain(t, error);
        if (!shown) throw error;
        return teamPage(ctx, request, reply, merchant, shown);
      }
    };
    const flash = createFlash<HeldSecret>();
    /** Answers a form that made a secret: 303 to the team page, which shows it once (a reload does not make another). */
    const showOnce = (request: FastifyRequest, reply: FastifyReply, merchant: Merchant, secret: NonNullable<Shown['secret']>) =>
      seeOther(request, reply, teamUrl(request, merchant, { shown: flash.put(request, { ...secret, merchantId: merchant.id }) }));
    const checkId = (id: string) => {
      if (!ID.test(id)) throw new NotFoundError('no such resource');
      return id;
    };

    app.get<{ Querystring: Record<string, string | undefined> }>('/', { schema: { hide: true } }, async (request, reply) => {
      const t = strings.in(request.console!.language);
      const merchant = await merchantInScope(ctx, request);
      let notice: string | undefined;
      const { done, key, user, shown } = request.query;
      if (merchant && shown !== undefined) {
        const held = flash.take(request, shown);
        if (held && held.merchantId === merchant.id) {
          const { merchantId: _, ...secret } = held;
          return teamPage(ctx, request, reply, merchant, { secret });
        }
        notice = t('shown_gone');
      } else if (merchant && done === 'revoked' && key) {
        const k = (await listApiKeys(ctx, merchant.id)).find((x) => x.id === key);
        if (k) notice = t('key_revoked_done', { name: k.name });
      } else if (merchant && user && (done === 'role' || done === 'disabled' || done === 'enabled') && ID.test(user)) {
        const u = await getMerchantUser(ctx, merchant.id, user).catch(() => undefined);
        if (u)
          notice =
            done === 'role'
              ? t('role_done', { email: u.email, role: u.role === 'admin' ? t('role_admin') : t('role_viewer') })
              : t(done === 'disabled' ? 'disabled_done' : 'enabled_done', { email: u.email });
      }
      return teamPage(ctx, request, reply, merchant, { notice });
    });

    app.post('/keys', { schema: { hide: true } }, (request, reply) =>
      act(request, reply, async (merchant, t) => {
        const created = await createApiKey(ctx, merchant.id, { name: formOf(request).name });
        return showOnce(request, reply, merchant, { intro: t('key_created', { name: created.key.name }), label: t('key_value'), value: created.secret });
      }),
    );

    app.post<{ Params: { id: string } }>('/keys/:id/revoke', { schema: { hide: true } }, (request: WithId, reply) =>
      act(request, reply, async (merchant, t) => {
        const id = checkId(request.params.id);
        const keys = await listApiKeys(ctx, merchant.id);
        const key = keys.find((k) => k.id === id);
        if (!key) throw new NotFoundError('no such key');
        const live = keys.filter((k) => k.revoked_at === null);
        if (key.revoked_at === null && live.length === 1 && formOf(request).confirm !== 'yes') {
          // The last live key: the merchant would lose API access. Say so, and ask again (a form: no script needed).
          return page(request, reply, {
            title: t('last_key_title'),
            section: 'team',
            status: 409,
            body: html`<h1>${t('last_key_title')}</h1><div class="alert" role="alert">${t('last_key_text', { name: key.name })}</div>
<form method="post" action="${`${BASE}/keys/${key.id}/revoke`}" class="inline">${merchantFields(request, merchant.id)}<input type="hidden" name="confirm" value="yes"><button type="submit" class="danger">${t('last_key_confirm')}</button></form>
<p><a href="${teamUrl(request, merchant)}">${t('cancel')}</a></p>`,
          });
        }
        await revokeApiKey(ctx, merchant.id, id);
        return seeOther(request, reply, teamUrl(request, merchant, { done: 'revoked', key: id }));
      }),
    );

    app.post('/users', { schema: { hide: true } }, (request, reply) =>
      act(request, reply, async (merchant, t) => {
        const form = formOf(request);
        const created = await createUser(
          ctx,
          { kind: 'merchant', merchantId: merchant.id },
          { email: form.email, role: form.role, language: isLanguage(form.language) ? form.language : request.console!.language },
        );
        return showOnce(request, reply, merchant, {
          intro: t('invited', { email: created.user.email }),
          label: t('link_label'),
          value: created.setPasswordUrl,
          after: t('link_expires', { time: when(created.expiresAt) }),
        });
      }),
    );

    app.post<{ Params: { id: string } }>('/users/:id/role', { schema: { hide: true } }, (request: WithId, reply) =>
      act(request, reply, async (merchant) => {
        const user = await changeUserRole(ctx, merchant.id, checkId(request.params.id), formOf(request).role);
        return seeOther(request, reply, teamUrl(request, merchant, { done: 'role', user: user.id }));
      }),
    );

    app.post<{ Params: { id: string } }>('/users/:id/disable', { schema: { hide: true } }, (request: WithId, reply) =>
      act(request, reply, async (merchant) => {
        const user = await disableUser(ctx, merchant.id, checkId(request.params.id));
        return seeOther(request, reply, teamUrl(request, merchant, { done: 'disabled', user: user.id }));
      }),
    );

    app.post<{ Params: { id: string } }>('/users/:id/enable', { schema: { hide: true } }, (request: WithId, reply) =>
      act(request, reply, async (merchant) => {
        const user = await enableUser(ctx, merchant.id, checkId(request.params.id));
        return seeOther(request, reply, teamUrl(request, merchant, { done: 'enabled', user: user.id }));
      }),
    );

    app.post<{ Params: { id: string } }>('/users/:id/password-link', { schema: { hide: true } }, (request: WithId, reply) =>
      act(request, reply, async (merchant, t) => {
        const link = await newMerchantUserPasswordLink(ctx, merchant.id, checkId(request.params.id));
        return showOnce(request, reply, merchant, {
          intro: t('reset_done', { email: link.user.email }),
          label: t('link_label'),
          value: link.setPasswordUrl,
          after: t('link_expires', { time: when(link.expiresAt) }),
        });
      }),
    );
  },
});
