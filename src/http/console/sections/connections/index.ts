import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FormField } from '../../../../connectors/config-schema.js';
import { ValidationError, type FieldError } from '../../../../core/validation.js';
import { html, Html } from '../../../../html/template.js';
import { testConnection, type CredentialsVerdict } from '../../../../services/connection-check.js';
import {
  connectionFormOf,
  connectionForms,
  createConnection,
  editConnection,
  getConnection,
  listConnections,
  presentConnection,
  providerAbilities,
  updateConnection,
  type ConnectionForm,
} from '../../../../services/connections.js';
import { ConflictError, NotFoundError, UnprocessableError, type HubContext } from '../../../../services/context.js';
import { listMerchants } from '../../../../services/merchants.js';
import type { Connection } from '../../../../store/schema.js';
import { common, type Language } from '../../i18n.js';
import { messagePage, page } from '../../layout.js';
import { defineSection } from '../../registry.js';
import { strings, type StringKey } from './strings.js';
import { formOf, mayChange, merchantFields, merchantInScope, one, seeOther, selected, when } from '../../kit.js';

/**
 * Connections: the merchant's processor connections (code, processor, environment, status, the credentials'
 * fingerprint), created and edited through forms generated from each connector's declared credentials and
 * settings (`connectionForms()`), disabled and enabled, and tested where the processor offers a harmless
 * authenticated call. Secret fields are write-only: never rendered back (the fingerprint stands for them); an edit
 * keeps a secret unless a new value is typed. Everything goes through the services the API uses, with the same
 * validation; its field errors are shown next to their fields in the user's language. Admins and the operator
 * change; viewers read. The operator picks the merchant (`?merchant=`).
 */

type T = ReturnType<typeof strings.in>;
type Query = Record<string, string | string[] | undefined>;
type Part = 'credentials' | 'settings';

const ID_RE = /^[A-Za-z0-9_]{1,64}$/;

/** The query that carries the operator's choice of merchant from page to page ('' for a merchant's user). */
const merchantQuery = (request: FastifyRequest, merchantId: string) =>
  request.console!.session!.role === 'operator' ? `?merchant=${encodeURIComponent(merchantId)}` : '';

const environmentLabel = (t: T, environment: string) =>
  environment === 'emulator' ? t('env_emulator') : environment === 'sandbox' ? t('env_sandbox') : environment === 'live' ? t('env_live') : environment;
const statusLabel = (t: T, status: string) => (status === 'active' ? t('status_active') : status === 'disabled' ? t('status_disabled') : status);

/** A field's label in the user's language (the connector's own title for a field the catalogue does not know). */
function fieldLabel(t: T, field: FormField): string {
  const key = `f_${field.name}`;
  return key in strings.en ? t(key as StringKey) : field.label;
}

/** A refused field's message in the user's language: the connector's own words in English, else one by the field's kind. */
function fieldMessage(t: T, language: Language, field: FormField | undefined, name: string, error: FieldError, value: string): string {
  if (language === 'en') return error.message;
  if (name === 'code') return t('err_code');
  if (name === 'provider') return t('err_provider');
  if (name === 'environment') return t('err_environment');
  if (name === 'credentials') return t('err_emulator_edit');
  if (!field) return t('err_format');
  if (value.trim() === '' && field.required) return t('err_required');
  if (field.name === 'endpoint') return t('err_endpoint');
  if (field.kind === 'choice' && field.options) return t('err_choice', { options: field.options.join(', ') });
  if (field.kind === 'number') return t('err_number', { min: field.minimum ?? 0, max: field.maximum ?? '∞' });
  if (field.kind === 'pem') return t('err_pem');
  if (field.maxLength !== undefined) return t('err_max', { max: field.maxLength });
  return t('err_format');
}

/**
 * What a form sent for one part: numbers as numbers when they read as one; blank fields left out, or, with
 * `blankClears` (the settings of an edit), sent as null, which clears the stored setting (its default applies).
 * Credentials never take `blankClears`: a secret is never shown back, so a blank one means "keep it".
 */
function readPart(form: Record<string, string>, fields: readonly FormField[], part: Part, blankClears = false): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const raw = form[`${part}.${f.name}`];
    if (typeof raw !== 'string') continue;
    if (raw.trim() === '') {
      if (blankClears && part === 'settings') out[f.name] = null;
      continue;
    }
    out[f.name] = f.kind === 'number' && /^-?\d{1,15}$/.test(raw.trim()) ? Number(raw.trim()) : raw;
  }
  return out;
}

interface FormState {
  /** The values to show again (never a secret's). */
  values: Record<string, string>;
  /** Field errors by form field name (`code`, `credentials.api_key`, …). */
  errors: Map<string, string>;
  /** An error that belongs to no field. */
  alert?: string;
}

/** The field errors of a refused save, each under the form field it is about (`credentials.keys[1]` under `credentials.keys`). */
function mapErrors(t: T, language: Language, e: unknown, form: ConnectionForm | undefined, sent: Record<string, string>): FormState['errors'] | string {
  const errors = new Map<string, string>();
  if (e instanceof ConflictError) {
    errors.set('code', t('err_code_taken'));
    return errors;
  }
  if (e instanceof UnprocessableError) return t('err_emulator');
  if (!(e instanceof ValidationError)) throw e;
  const unplaced: string[] = [];
  for (const error of e.errors) {
    const name = error.field.replace(/\[\d+\]$/, '');
    const [part, fieldName] = name.split('.') as [string, string | undefined];
    const field = fieldName && form && (part === 'credentials' || part === 'settings') ? form[part].find((f) => f.name === fieldName) : undefined;
    if (!field && fieldName !== undefined) {
      unplaced.push(language === 'en' ? `${error.field}: ${error.message}` : t('err_format'));
      continue;
    }
    const message = fieldMessage(t, language, field, name, error, sent[name] ?? '');
    errors.set(name, errors.has(name) ? `${errors.get(name)} ${message}` : message);
  }
  if (unplaced.length) errors.set('', unplaced.join(' '));
  return errors;
}

/** One generated field: its label, the control its kind asks for, its hint and its error, tied together for assistive technology. */
function fieldHtml(t: T, field: FormField, part: Part, state: FormState, options: { editing: boolean; fingerprint?: string }): Html {
  const name = `${part}.${field.name}`;
  const id = `${part}-${field.name}`;
  const error = state.errors.get(name);
  // A secret is never rendered back, nor is a credential the API does not show back (a certificate): a blank keeps it.
  const writeOnly = part === 'credentials' && !field.shownBack;
  const value = writeOnly ? '' : (state.values[name] ?? (field.default !== undefined && !options.editing ? String(field.default) : ''));
  const hints: string[] = [];
  if (writeOnly && options.editing) hints.push(t('secret_keep'), t('secret_stored', { fingerprint: options.fingerprint ?? '' }));
  const hintId = hints.length ? `${id}-hint` : '';
  const errorId = error ? `${id}-error` : '';
  const describedBy = [hintId, errorId].filter(Boolean).join(' ');
  const required = field.required && !(writeOnly && options.editing);
  const attrs = new Html(`${required ? ' required' : ''}${describedBy ? ` aria-describedby="${describedBy}"` : ''}${error ? ' aria-invalid="true"' : ''}`);
  let control: Html;
  if (field.kind === 'choice' && field.options) {
    control = html`<select id="${id}" name="${name}"${attrs}>${field.required || field.default !== undefined ? '' : html`<option value=""></option>`}${field.options.map(
      (o) => html`<option value="${o}"${selected(o === value)}>${o}</option>`,
    )}</select>`;
  } else if (field.kind === 'pem') {
    control = html`<textarea id="${id}" name="${name}" rows="6" cols="64" spellcheck="false" autocomplete="off"${attrs}>${value}</textarea>`;
  } else if (field.kind === 'secret') {
    control = html`<input id="${id}" name="${name}" type="password" autocomplete="new-password" spellcheck="false"${attrs}>`;
  } else if (field.kind === 'number') {
    control = html`<input id="${id}" name="${name}" type="number" inputmode="numeric"${new Html(
      `${field.minimum !== undefined ? ` min="${field.minimum}"` : ''}${field.maximum !== undefined ? ` max="${field.maximum}"` : ''}`,
    )} value="${value}"${attrs}>`;
  } else {
    control = html`<input id="${id}" name="${name}" type="text" spellcheck="false"${field.maxLength !== undefined ? new Html(` maxlength="${field.maxLength}"`) : ''} value="${value}"${attrs}>`;
  }
  return html`<div class="field${error ? ' invalid' : ''}"><label for="${id}">${fieldLabel(t, field)}${field.required ? '' : html` <span class="muted">${t('optional')}</span>`}</label>${control}${
    hints.length ? html`<p id="${hintId}" class="muted hint">${hints.join(' ')}</p>` : ''
  }${error ? html`<p id="${errorId}" class="field-error">${error}</p>` : ''}</div>`;
}

const errorSummary = (t: T, state: FormState) =>
  state.alert
    ? html`<div class="alert" role="alert">${state.alert}</div>`
    : state.errors.size
      ? html`<div class="alert" role="alert"><p>${t('errors_intro')}</p>${[state.errors.get(''), state.errors.get('provider')]
          .filter((m): m is string => Boolean(m))
          .map((m) => html`<p>${m}</p>`)}</div>`
      : '';

const emptyState = (): FormState => ({ values: {}, errors: new Map() });

/** The values a form sent that may be shown again: every field but the write-only credentials (never echoed). */
function echoValues(sent: Record<string, string>, form: ConnectionForm): Record<string, string> {
  const values: Record<string, string> = {};
  for (const key of ['code', 'environment']) if (typeof sent[key] === 'string') values[key] = sent[key]!.slice(0, 200);
  for (const part of ['credentials', 'settings'] as const)
    for (const f of form[part]) {
      const key = `${part}.${f.name}`;
      if (typeof sent[key] === 'string' && !(part === 'credentials' && !f.shownBack)) values[key] = sent[key]!.slice(0, 64 * 1024);
    }
  return values;
}

async function listPage(ctx: HubContext, request: FastifyRequest<{ Querystring: Query }>, reply: FastifyReply) {
  const t = strings.in(request.console!.language);
  const session = request.console!.session!;
  const merchantId = (await merchantInScope(ctx, request))?.id;
  let picker: Html | string = '';
  if (session.role === 'operator') {
    const merchants = await listMerchants(ctx);
    picker = html`<form class="filters" method="get" action="/console/connections"><div><label for="merchant">${t('choose_merchant')}</label><select id="merchant" name="merchant">${merchants.map(
      (m) => html`<option value="${m.id}"${selected(m.id === merchantId)}>${m.name} (${m.id})</option>`,
    )}</select></div><div><button type="submit">${t('show')}</button></div></form>`;
    if (!merchantId)
      return page(request, reply, { title: t('title'), section: 'connections', body: html`<h1>${t('title')}</h1>${picker}<p>${t('pick_merchant_text')}</p>` });
  }
  if (!merchantId) throw new NotFoundError('no merchant');
  const rows = await listConnections(ctx, merchantId);
  const q = merchantQuery(request, merchantId);
  const table = rows.length
    ? html`<table><caption class="muted">${t('caption')}</caption><thead><tr><th scope="col">${t('code')}</th><th scope="col">${t('provider')}</th><th scope="col">${t('environment')}</th><th scope="col">${t('status')}</th><th scope="col">${t('fingerprint')}</th><th scope="col">${t('created')}</th><th scope="col">${t('updated')}</th></tr></thead><tbody>${rows.map(
        (c) =>
          html`<tr><td><a href="${`/console/connections/${c.id}${q}`}">${c.code}</a></td><td>${connectionFormOf(c.provider)?.displayName ?? c.provider}</td><td>${environmentLabel(t, c.environment)}</td><td class="status">${statusLabel(t, c.status)}</td><td><code>${c.credentials_fingerprint}</code></td><td>${when(c.created_at)}</td><td>${when(c.updated_at)}</td></tr>`,
      )}</tbody></table>`
    : html`<p role="status">${t('none')}</p>`;
  return page(request, reply, {
    title: t('title'),
    section: 'connections',
    body: html`<h1>${t('title')}</h1>${picker}${mayChange(request) ? html`<p><a class="button" href="${`/console/connections/new${q}`}">${t('new_connection')}</a></p>` : ''}${table}`,
  });
}

/** The first step of a new connection: which processor (each has its own generated form). */
function chooseProviderPage(request: FastifyRequest, reply: FastifyReply, merchantId: string) {
  const t = strings.in(request.console!.language);
  const q = merchantQuery(request, merchantId);
  const sep = q ? '&' : '?';
  return page(request, reply, {
    title: t('new_connection'),
    section: 'connections',
    body: html`<p><a href="${`/console/connections${q}`}">${t('back')}</a></p><h1>${t('new_connection')}</h1><h2>${t('choose_provider')}</h2><p>${t('choose_provider_text')}</p><ul>${connectionForms().map(
      (f) => html`<li><a href="${`/console/connections/new${q}${sep}provider=${encodeURIComponent(f.provider)}`}">${f.displayName}</a></li>`,
    )}</ul>`,
  });
}

function createForm(ctx: HubContext, request: FastifyRequest, reply: FastifyReply, merchantId: string, form: ConnectionForm, state: FormState, status = 200) {
  const t = strings.in(request.console!.language);
  const q = merchantQuery(request, merchantId);
  const abilities = providerAbilities(ctx, form.provider);
  const environments = [...(abilities.emulator ? (['emulator'] as const) : []), 'sandbox', 'live'] as const;
  const chosen = state.values.environment ?? environments[0];
  const codeError = state.errors.get('code');
  const envError = state.errors.get('environment');
  const credentialsError = state.errors.get('credentials');
  const title = t('create_title', { provider: form.displayName });
  return page(request, reply, {
    title,
    section: 'connections',
    status,
    body: html`<p><a href="${`/console/connections${q}`}">${t('back')}</a></p><h1>${title}</h1>${errorSummary(t, state)}
<form method="post" action="/console/connections/new" class="connection-form" novalidate>${merchantFields(request, merchantId)}<input type="hidden" name="provider" value="${form.provider}">
<div class="field${codeError ? ' invalid' : ''}"><label for="code">${t('code')}</label><input id="code" name="code" type="text" required maxlength="64" spellcheck="false" value="${state.values.code ?? ''}" aria-describedby="${`code-hint${codeError ? ' code-error' : ''}`}"${codeError ? new Html(' aria-invalid="true"') : ''}><p id="code-hint" class="muted hint">${t('code_hint')}</p>${codeError ? html`<p id="code-error" class="field-error">${codeError}</p>` : ''}</div>
<div class="field${envError ? ' invalid' : ''}"><label for="environment">${t('environment')}</label><select id="environment" name="environment"${abilities.emulator ? new Html(' aria-describedby="environment-hint"') : ''}>${environments.map(
      (e) => html`<option value="${e}"${selected(e === chosen)}>${environmentLabel(t, e)}</option>`,
    )}</select>${abilities.emulator ? html`<p id="environment-hint" class="muted hint">${t('env_emulator_hint')}</p>` : ''}${envError ? html`<p class="field-error">${envError}</p>` : ''}</div>
<fieldset><legend>${t('credentials')}</legend>${credentialsError ? html`<p class="field-error">${credentialsError}</p>` : ''}${form.credentials.map((f) => fieldHtml(t, f, 'credentials', state, { editing: false }))}</fieldset>
<fieldset><legend>${t('settings')}</legend>${form.settings.map((f) => fieldHtml(t, f, 'settings', state, { editing: false }))}</fieldset>
<p><button type="submit">${t('create')}</button></p></form>`,
  });
}

/** The verdict of a "test connection", as the page says it. */
function verdictHtml(t: T, verdict: CredentialsVerdict, processor: string): Html {
  const text = {
    accepted: t('test_accepted', { processor }),
    refused: t('test_refused', { processor }),
    unreachable: t('test_unreachable', { processor }),
    unsupported: t('test_unsupported', { processor }),
  }[verdict.verdict];
  return html`<div class="${verdict.verdict === 'accepted' ? 'ok' : 'alert'} verdict" role="status"><p><strong>${text}</strong></p><p class="muted">${t('test_detail')} <span lang="en">${verdict.message}</span></p></div>`;
}

async function detailPage(
  ctx: HubContext,
  request: FastifyRequest,
  reply: FastifyReply,
  row: Connection,
  merchantId: string,
  options: { state?: FormState; status?: number; notice?: string; verdict?: CredentialsVerdict } = {},
) {
  const t = strings.in(request.console!.language);
  const q = merchantQuery(request, merchantId);
  const form = connectionFormOf(row.provider);
  const shown = presentConnection(ctx, row);
  const processor = form?.displayName ?? row.provider;
  const abilities = providerAbilities(ctx, row.provider);
  const fact = (label: string, value: Html | string) => html`<dt>${label}</dt><dd>${value}</dd>`;
  const facts = html`<dl class="facts">${fact(t('code'), row.code)}${fact(t('provider'), processor)}${fact(t('environment'), environmentLabel(t, row.environment))}${fact(
    t('status'),
    html`<span class="status">${statusLabel(t, row.status)}</span>`,
  )}${fact(t('fingerprint'), html`<code>${row.credentials_fingerprint}</code>`)}${
    form
      ? form.credentials
          .filter((f) => f.shownBack && typeof (shown.credentials as Record<string, unknown>)[f.name] === 'string')
          .map((f) => fact(fieldLabel(t, f), String((shown.credentials as Record<string, unknown>)[f.name])))
      : ''
  }${fact(t('notification_url'), html`<code>${shown.notification_url}</code>`)}${fact(t('created'), when(row.created_at))}${fact(t('updated'), when(row.updated_at))}</dl>`;
  const base = `/console/connections/${row.id}`;
  let actions: Html | string = '';
  let editForm: Html | string = '';
  if (mayChange(request)) {
    const state = options.state ?? { values: {}, errors: new Map() };
    const values: Record<string, string> = {};
    for (const [k, v] of Object.entries(row.settings ?? {})) if (v !== null && v !== undefined) values[`settings.${k}`] = String(v);
    for (const [k, v] of Object.entries(shown.credentials)) if (k !== 'fingerprint') values[`credentials.${k}`] = String(v);
    const shownState: FormState = { ...state, values: { ...values, ...state.values } };
    const test = abilities.credentialsCheck
      ? html`<form method="post" action="${`${base}/test`}" hx-post="${`${base}/test`}" hx-target="#verdict" hx-select="#verdict" hx-swap="outerHTML">${merchantFields(request, merchantId)}<button type="submit">${t('test')}</button></form>`
      : html`<p class="muted">${t('no_test', { processor })}</p>`;
    const toggle = html`<form method="post" action="${`${base}/status`}">${merchantFields(request, merchantId)}<input type="hidden" name="status" value="${row.status === 'active' ? 'disabled' : 'active'}"><button type="submit" class="${row.status === 'active' ? 'danger' : ''}">${row.status === 'active' ? t('disable') : t('enable')}</button></form>`;
    actions = html`<div class="actions">${test}${toggle}</div>`;
    if (form) {
      const credentialsError = state.errors.get('credentials');
      const credentials =
        row.environment === 'emulator'
          ? html`<p class="muted">${t('emulator_credentials')}</p>`
          : html`${credentialsError ? html`<p class="field-error">${credentialsError}</p>` : ''}${form.credentials.map((f) =>
              fieldHtml(t, f, 'credentials', shownState, { editing: true, fingerprint: row.credentials_fingerprint }),
            )}`;
      editForm = html`<h2 id="edit">${t('edit')}</h2>${errorSummary(t, state)}<form method="post" action="${base}" class="connection-form" novalidate>${merchantFields(request, merchantId)}
<fieldset><legend>${t('credentials')}</legend>${credentials}</fieldset>
<fieldset><legend>${t('settings')}</legend>${form.settings.map((f) => fieldHtml(t, f, 'settings', shownState, { editing: true }))}</fieldset>
<p><button type="submit">${t('save')}</button></p></form>`;
    }
  }
  const verdict = html`<div id="verdict">${options.verdict ? verdictHtml(t, options.verdict, processor) : ''}</div>`;
  return page(request, reply, {
    title: `${row.code} · ${t('title')}`,
    section: 'connections',
    status: options.status,
    body: html`<p><a href="${`/console/connections${q}`}">${t('back')}</a></p><h1>${row.code}</h1>${options.notice ? html`<div class="ok" role="status">${options.notice}</div>` : ''}${
      row.status === 'disabled' ? html`<div class="alert">${t('disabled_note')}</div>` : ''
    }${verdict}<h2>${t('details')}</h2>${facts}${mayChange(request) ? actions : html`<p class="muted">${t('read_only')}</p>`}${editForm}`,
  });
}

/** A viewer's POST, or a GET of a page only admins use: refused, as the registry refuses a role. */
function refuseViewer(request: FastifyRequest, reply: FastifyReply) {
  const c = common.in(request.console!.language);
  return messagePage(request, reply, 403, c('forbidden_title'), c('forbidden_text'));
}

/** The connection named in the URL, of the request's merchant: 404 for another merchant's, as for one that does not exist. */
async function connectionOf(ctx: HubContext, request: FastifyRequest<{ Params: { id: string } }>): Promise<{ row: Connection; merchantId: string }> {
  const merchantId = (await merchantInScope(ctx, request))?.id;
  if (!merchantId || !/^con_[0-9a-z]{1,40}$/.test(request.params.id)) throw new NotFoundError('no such connection');
  return { row: await getConnection(ctx, merchantId, request.params.id), merchantId };
}

const NOTICES = { created: 'created_ok', saved: 'saved_ok', disabled: 'disabled_ok', enabled: 'enabled_ok' } as const;

export const connectionsSection = defineSection({
  name: 'connections',
  roles: ['operator', 'admin', 'viewer'],
  order: 30,
  navLabel: (language) => strings.in(language)('nav'),
  routes: async (app: FastifyInstance, { ctx }) => {
    app.get<{ Querystring: Query }>('/', { schema: { hide: true } }, (request, reply) => listPage(ctx, request, reply));

    app.get<{ Querystring: Query }>('/new', { schema: { hide: true } }, async (request, reply) => {
      if (!mayChange(request)) return refuseViewer(request, reply);
      const merchantId = (await merchantInScope(ctx, request))?.id;
      if (!merchantId) throw new NotFoundError('no such merchant');
      const provider = one(request.query.provider);
      if (!provider) return chooseProviderPage(request, reply, merchantId);
      const form = connectionFormOf(provider);
      if (!form) throw new NotFoundError('no such provider');
      return createForm(ctx, request, reply, merchantId, form, emptyState());
    });

    app.post('/new', { schema: { hide: true } }, async (request, reply) => {
      if (!mayChange(request)) return refuseViewer(request, reply);
      const merchantId = (await merchantInScope(ctx, request))?.id;
      if (!merchantId) throw new NotFoundError('no such merchant');
      const sent = formOf(request);
      const language = request.console!.language;
      const t = strings.in(language);
      const form = connectionFormOf(String(sent.provider ?? ''));
      if (!form) throw new NotFoundError('no such provider');
      try {
        const row = await createConnection(ctx, merchantId, {
          code: (sent.code ?? '').trim(),
          provider: form.provider,
          environment: sent.environment,
          credentials: readPart(sent, form.credentials, 'credentials'),
          settings: readPart(sent, form.settings, 'settings'),
        });
        const q = merchantQuery(request, merchantId);
        return seeOther(request, reply, `/console/connections/${row.id}${q}${q ? '&' : '?'}done=created`);
      } catch (e) {
        const mapped = mapErrors(t, language, e, form, sent);
        const state: FormState = { values: echoValues(sent, form), errors: typeof mapped === 'string' ? new Map() : mapped };
        if (typeof mapped === 'string') state.alert = mapped;
        return createForm(ctx, request, reply, merchantId, form, state, typeof mapped === 'string' ? 422 : 400);
      }
    });

    app.get<{ Params: { id: string }; Querystring: Query }>('/:id', { schema: { hide: true } }, async (request, reply) => {
      const { row, merchantId } = await connectionOf(ctx, request);
      const done = one(request.query.done);
      const t = strings.in(request.console!.language);
      const notice = done in NOTICES ? t(NOTICES[done as keyof typeof NOTICES]) : undefined;
      return detailPage(ctx, request, reply, row, merchantId, { notice });
    });

    app.post<{ Params: { id: string } }>('/:id', { schema: { hide: true } }, async (request, reply) => {
      if (!mayChange(request)) return refuseViewer(request, reply);
      const { row, merchantId } = await connectionOf(ctx, request);
      const form = connectionFormOf(row.provider);
      if (!form) throw new NotFoundError('no such provider');
      const sent = formOf(request);
      const language = request.console!.language;
      const t = strings.in(language);
      try {
        await editConnection(ctx, merchantId, row.id, {
          credentials: row.environment === 'emulator' ? undefined : readPart(sent, form.credentials, 'credentials'),
          // A setting emptied in the form is cleared (an optional one is unset, one with a default gets it back).
          settings: readPart(sent, form.settings, 'settings', true),
        });
        const q = merchantQuery(request, merchantId);
        return seeOther(request, reply, `/console/connections/${row.id}${q}${q ? '&' : '?'}done=saved`);
      } catch (e) {
        const mapped = mapErrors(t, language, e, form, sent);
        const state: FormState = { values: echoValues(sent, form), errors: typeof mapped === 'string' ? new Map() : mapped };
        if (typeof mapped === 'string') state.alert = mapped;
        return detailPage(ctx, request, reply, row, merchantId, { state, status: 400 });
      }
    });

    app.post<{ Params: { id: string } }>('/:id/status', { schema: { hide: true } }, async (request, reply) => {
      if (!mayChange(request)) return refuseViewer(request, reply);
      const { row, merchantId } = await connectionOf(ctx, request);
      const status = formOf(request).status;
      await updateConnection(ctx, merchantId, row.id, { status });
      const q = merchantQuery(request, merchantId);
      return seeOther(request, reply, `/console/connections/${row.id}${q}${q ? '&' : '?'}done=${status === 'disabled' ? 'disabled' : 'enabled'}`);
    });

    app.post<{ Params: { id: string } }>('/:id/test', { schema: { hide: true } }, async (request, reply) => {
      if (!mayChange(request)) return refuseViewer(request, reply);
      const { row, merchantId } = await connectionOf(ctx, request);
      const verdict = await testConnection(ctx, merchantId, row.id);
      return detailPage(ctx, request, reply, row, merchantId, { verdict });
    });
  },
});
