import { isIP } from 'node:net';
import { newId } from '../core/ids.js';
import { FieldErrors, ValidationError } from '../core/validation.js';
import { CONNECTORS, connectorFor } from '../connectors/registry.js';
import { formOf, type FormField } from '../connectors/config-schema.js';
import { ENVIRONMENTS, type Connector, type ConnectionConfig, type Environment } from '../connectors/types.js';
import { Secret } from '../security/secret.js';
import { fingerprint } from '../security/vault.js';
import type { Connection } from '../store/schema.js';
import { findConnection, insertConnection, listMerchantConnections, paymentConnection, updateConnectionRow } from '../store/queries/connections.js';
import { findMerchant } from '../store/queries/merchants.js';
import type { VerifyTarget } from './verify-pool.js';
import { ConflictError, NotFoundError, UnprocessableError, type HubContext } from './context.js';
import { cacheSlot } from './hub-caches.js';
import { notificationUrl } from './hub-urls.js';

const CODE_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface ConnectionInput {
  code?: unknown;
  provider?: unknown;
  environment?: unknown;
  credentials?: unknown;
  settings?: unknown;
}

export interface LoadedConnection {
  row: Connection;
  connector: Connector<any, any>;
  config: ConnectionConfig<any, any>;
  /** The decrypted credentials as stored (JSON). */
  credentialsJson: Secret<string>;
  /** The connection as the verification threads get it (plain data). */
  verify: VerifyTarget;
}

function isUniqueViolation(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: string }).code === '23505';
}

/** The merchant's name as an emulator account's name (at most 100 characters); the merchant's id if it has none. */
async function shopName(ctx: HubContext, merchantId: string): Promise<string> {
  const name = (await findMerchant(ctx.db, merchantId))?.name.trim() ?? '';
  return (name === '' ? merchantId : name).slice(0, 100);
}

/** Asks the built-in emulator for a sandbox account, over HTTP, exactly as a person would in NETOPIA's console. */
async function provisionEmulatorAccount(ctx: HubContext, connector: Connector<any, any>, label: string): Promise<Record<string, string>> {
  if (!connector.emulator) throw new ValidationError([{ field: 'environment', message: `${connector.provider} has no emulator` }]);
  const doFetch = ctx.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(`${ctx.publicUrl}${connector.emulator.accountPath}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: label }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    throw new UnprocessableError(
      `the built-in ${connector.provider} emulator is not reachable at ${ctx.publicUrl} (${(e as Error).message}); start the hub with INCASSO_EMULATORS=1`,
    );
  }
  if (!response.ok)
    throw new UnprocessableError(
      `the built-in ${connector.provider} emulator refused to open an account (HTTP ${response.status}); start the hub with INCASSO_EMULATORS=1`,
    );
  const account = await response.json();
  const credentials = connector.emulator.credentialsFrom(account);
  // The sandbox back office's login, if the emulator has one: kept with the credentials, shown to the merchant.
  const bo = (account as { back_office?: Record<string, unknown> } | null)?.back_office;
  if (bo && typeof bo.url === 'string' && typeof bo.login === 'string' && typeof bo.password === 'string') {
    Object.assign(credentials, { back_office_url: bo.url, back_office_login: bo.login, back_office_password: bo.password });
  }
  return credentials;
}

/** The sandbox back-office login kept for an emulator connection, if any (it only reaches the emulator). */
function sandboxBackOffice(credentialsJson: string): { url: string; login: string; password: string } | undefined {
  const c = JSON.parse(credentialsJson) as Record<string, unknown>;
  const [url, login, password] = [c.back_office_url, c.back_office_login, c.back_office_password];
  return typeof url === 'string' && typeof login === 'string' && typeof password === 'string' ? { url, login, password } : undefined;
}

/** The hosts a connector's processor answers on: those of its live and sandbox endpoints, and any it declares. */
export function processorHosts(connector: Connector<any, any>): string[] {
  const hosts = new Set<string>(connector.processorHosts ?? []);
  for (const environment of ['live', 'sandbox'] as const) hosts.add(new URL(connector.defaultEndpoint(environment, 'http://emulator.invalid')).hostname);
  return [...hosts];
}

/**
 * Who answers at a connection's endpoint: the processor itself (https on one of its hosts), the hub's own
 * emulator (mounted, under INCASSO_PUBLIC_URL/sandbox/), a host the operator allowed (INCASSO_OUTBOUND_ALLOW),
 * or nobody the hub may call (null).
 */
export function endpointKind(ctx: HubContext, connector: Connector<any, any>, endpoint: string): 'processor' | 'emulator' | 'operator' | null {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return null;
  }
  if (url.protocol === 'https:' && !url.username && !url.password && processorHosts(connector).includes(url.hostname)) return 'processor';
  const outbound = ctx.outbound;
  if (!outbound) return null;
  if (ctx.emulators && outbound.isTrusted(url)) return 'emulator';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (outbound.hostAllowedByName(url.hostname) || (isIP(host) !== 0 && outbound.addressAllowed(host))) return 'operator';
  return null;
}

/** A `settings.endpoint` override must be one of the processor's hosts, the hub's emulator, or allowed by the operator. */
function checkEndpointOverride(ctx: HubContext, connector: Connector<any, any>, settings: unknown): void {
  const endpoint = (settings as { endpoint?: unknown } | null)?.endpoint;
  if (typeof endpoint !== 'string' || endpointKind(ctx, connector, endpoint) !== null) return;
  const hosts = processorHosts(connector).map((h) => `https://${h}`);
  const emulator = ctx.emulators ? ` or the built-in emulator (${ctx.publicUrl}/sandbox/…)` : '';
  throw new ValidationError([
    {
      field: 'settings.endpoint',
      message: `must be on one of ${connector.provider}'s hosts (${hosts.join(', ')})${emulator}; the operator may allow other hosts with INCASSO_OUTBOUND_ALLOW`,
    },
  ]);
}

export async function createConnection(ctx: HubContext, merchantId: string, input: ConnectionInput): Promise<Connection> {
  const errors = new FieldErrors();
  if (typeof input.code !== 'string' || !CODE_RE.test(input.code))
    errors.add('code', 'must be 1-64 letters, digits, dot, dash or underscore, starting with a letter or digit');
  const connector = typeof input.provider === 'string' ? connectorFor(input.provider) : undefined;
  if (!connector) errors.add('provider', `is not a known provider (${Object.keys(CONNECTORS).join(', ')})`);
  const environment = input.environment ?? 'sandbox';
  if (typeof environment !== 'string' || !ENVIRONMENTS.includes(environment as Environment))
    errors.add('environment', `must be one of ${ENVIRONMENTS.join(', ')}`);
  errors.throwIfAny();
  const settings = connector!.parseSettings(input.settings);
  checkEndpointOverride(ctx, connector!, settings);
  const id = newId('con');
  let rawCredentials: Record<string, string>;
  if (environment === 'emulator') {
    // The sandbox account is named after the shop: the emulator's pages show it to the payer as the merchant.
    rawCredentials = await provisionEmulatorAccount(ctx, connector!, await shopName(ctx, merchantId));
  } else {
    connector!.parseCredentials(input.credentials);
    rawCredentials = input.credentials as Record<string, string>;
  }
  const secretJson = JSON.stringify(rawCredentials);
  try {
    return await insertConnection(ctx.db, {
      id,
      merchant_id: merchantId,
      code: input.code as string,
      provider: connector!.provider,
      environment: environment as string,
      credentials_encrypted: ctx.vault.encrypt(secretJson, `connection:${id}`),
      credentials_fingerprint: fingerprint(secretJson),
      settings: JSON.stringify(settings),
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw new ConflictError(`a connection with code ${JSON.stringify(input.code)} already exists`);
    throw e;
  }
}

export async function listConnections(ctx: HubContext, merchantId: string): Promise<Connection[]> {
  return listMerchantConnections(ctx.db, merchantId);
}

/** Finds a merchant's connection by id or by code. */
export async function getConnection(ctx: HubContext, merchantId: string, idOrCode: string): Promise<Connection> {
  const row = await findConnection(ctx.db, merchantId, idOrCode);
  if (!row) throw new NotFoundError(`no connection ${JSON.stringify(idOrCode)}`);
  return row;
}

/** Stored settings with an update's fields over them; a field sent as null is removed. */
function mergeSettings(stored: unknown, update: unknown): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...(typeof stored === 'object' && stored !== null ? stored : {}) };
  if (typeof update !== 'object' || update === null) return merged;
  for (const [name, value] of Object.entries(update)) {
    if (value === null) delete merged[name];
    else merged[name] = value;
  }
  return merged;
}

/**
 * Updates a connection: settings merge (a field sent as null is cleared), credentials are replaced whole (every
 * field, secrets too: nothing of the stored credentials is kept or cleared by a part left out; `editConnection`
 * is the form's edit, which keeps a secret left blank), the status changes.
 */
export async function updateConnection(
  ctx: HubContext,
  merchantId: string,
  idOrCode: string,
  input: { credentials?: unknown; settings?: unknown; status?: unknown },
): Promise<Connection> {
  const row = await getConnection(ctx, merchantId, idOrCode);
  const connector = connectorFor(row.provider)!;
  // The statement also moves `updated_at`, the version of the row that caches are keyed on.
  const patch: Record<string, unknown> = {};
  if (input.settings !== undefined) {
    // Settings merge into the stored ones: a field left out keeps its value, a field sent as null is cleared (its
    // default applies, or it is unset when it has none, e.g. `endpoint`: the environment's default URL again).
    const settings = connector.parseSettings(mergeSettings(row.settings, input.settings));
    checkEndpointOverride(ctx, connector, settings);
    patch.settings = JSON.stringify(settings);
  }
  if (input.credentials !== undefined) {
    if (row.environment === 'emulator') throw new ValidationError([{ field: 'credentials', message: 'emulator connections are provisioned by the hub' }]);
    connector.parseCredentials(input.credentials);
    const secretJson = JSON.stringify(input.credentials);
    patch.credentials_encrypted = ctx.vault.encrypt(secretJson, `connection:${row.id}`);
    patch.credentials_fingerprint = fingerprint(secretJson);
  }
  if (input.status !== undefined) {
    if (input.status !== 'active' && input.status !== 'disabled') throw new ValidationError([{ field: 'status', message: 'must be active or disabled' }]);
    patch.status = input.status;
  }
  return updateConnectionRow(ctx.db, row.id, patch);
}

/** Loaded connections by id, each valid for one version of its row. */
const loadedConnections = cacheSlot('loaded connections', () => new Map<string, { stamp: number; value: LoadedConnection }>());

/** Decrypts and parses a connection's credentials (cached per version of the row: keys are parsed once). */
export function loadConnection(ctx: HubContext, row: Connection): LoadedConnection {
  const loaded = ctx.caches.of(loadedConnections);
  const stamp = new Date(row.updated_at).getTime();
  const hit = loaded.get(row.id);
  if (hit && hit.stamp === stamp) return hit.value;
  const connector = connectorFor(row.provider);
  if (!connector) throw new Error(`connection ${row.id} has unknown provider ${row.provider}`);
  const credentialsJson = new Secret(ctx.vault.decrypt(row.credentials_encrypted, `connection:${row.id}`));
  const credentials = connector.parseCredentials(JSON.parse(credentialsJson.reveal()));
  const settings = connector.parseSettings(row.settings);
  const endpoint = (settings as { endpoint?: string }).endpoint ?? connector.defaultEndpoint(row.environment as Environment, ctx.publicUrl);
  const environment = row.environment as Environment;
  const verify: VerifyTarget = { id: row.id, provider: row.provider, stamp, credentials: credentialsJson, settings: row.settings, environment, endpoint };
  const value: LoadedConnection = { row, connector, config: { credentials, settings, environment, endpoint }, credentialsJson, verify };
  if (loaded.size > 1000) loaded.clear();
  loaded.set(row.id, { stamp, value });
  return value;
}

/** The connection a payment goes through, loaded (one query: the payment's row joined to its connection). */
export async function loadPaymentConnection(ctx: HubContext, paymentId: string): Promise<LoadedConnection> {
  return loadConnection(ctx, await paymentConnection(ctx.db, paymentId));
}

/** The connection as the API shows it: credentials never leave, only their fingerprint and public parts. */
export function presentConnection(ctx: HubContext, row: Connection) {
  let publicFields: Record<string, string> = {};
  let backOffice: ReturnType<typeof sandboxBackOffice>;
  try {
    const { connector, config, credentialsJson } = loadConnection(ctx, row);
    publicFields = connector.publicCredentialFields(config.credentials);
    if (row.environment === 'emulator') backOffice = sandboxBackOffice(credentialsJson.reveal());
  } catch {
    publicFields = {};
  }
  return {
    id: row.id,
    object: 'connection' as const,
    code: row.code,
    provider: row.provider,
    environment: row.environment,
    status: row.status,
    settings: row.settings,
    credentials: { fingerprint: row.credentials_fingerprint, ...publicFields },
    notification_url: notificationUrl(ctx, row.provider, row.id),
    ...(backOffice ? { sandbox_back_office: backOffice } : {}),
    created_at: new Date(row.created_at).toISOString(),
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

/** What a dashboard needs to draw a provider's connection form: its credentials and settings fields, from the connector's schemas. */
export interface ConnectionForm {
  provider: string;
  displayName: string;
  /** Left out when the connection is provisioned on the built-in emulator. */
  credentials: FormField[];
  settings: FormField[];
}

/** The connection form of every provider (secret fields ask anew and are never shown back). */
export function connectionForms(): ConnectionForm[] {
  return Object.values(CONNECTORS).map((c) => ({
    provider: c.provider,
    displayName: c.displayName,
    credentials: formOf(c.schemas.credentials, 'credentials'),
    settings: formOf(c.schemas.settings, 'settings'),
  }));
}

/** One provider's connection form (undefined for a provider the hub does not know). */
export function connectionFormOf(provider: string): ConnectionForm | undefined {
  return connectionForms().find((f) => f.provider === provider);
}

/** What the hub can do with a provider's connections besides payments: provision on the emulator, check credentials. */
export function providerAbilities(ctx: HubContext, provider: string): { emulator: boolean; credentialsCheck: boolean } {
  const connector = connectorFor(provider);
  return { emulator: Boolean(connector?.emulator && ctx.emulators), credentialsCheck: Boolean(connector?.credentialsCheck) };
}

/**
 * An edit as a form sends it: a credentials field left blank, or sent with the value it has, keeps its stored
 * value (a secret is never shown back, so a form cannot send it again); the credentials are replaced, through
 * `updateConnection` and its validation, only when a field was typed anew. Settings merge as `updateConnection`
 * merges them: the form sends a setting it emptied as null, which clears it (a credential is never cleared so).
 */
export async function editConnection(
  ctx: HubContext,
  merchantId: string,
  idOrCode: string,
  input: { credentials?: Record<string, unknown>; settings?: Record<string, unknown> },
): Promise<Connection> {
  const row = await getConnection(ctx, merchantId, idOrCode);
  let credentials: Record<string, unknown> | undefined;
  const typed = Object.entries(input.credentials ?? {}).filter(([, v]) => v !== undefined && v !== null && v !== '');
  if (typed.length > 0) {
    const loaded = loadConnection(ctx, row);
    const stored = JSON.parse(loaded.credentialsJson.reveal()) as Record<string, unknown>;
    // A public credential comes back as shown (normalized, e.g. upper case): that is no change either.
    const shown = loaded.connector.publicCredentialFields(loaded.config.credentials);
    const changed = typed.filter(([name, value]) => stored[name] !== value && shown[name] !== value);
    if (changed.length > 0) credentials = { ...stored, ...Object.fromEntries(changed) };
  }
  return updateConnection(ctx, merchantId, row.id, { settings: input.settings, ...(credentials ? { credentials } : {}) });
}
