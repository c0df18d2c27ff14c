import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readConfig } from '../config.js';
import { printTable } from './table.js';
// --- console users hook (issue 16): the command lives in ./users.ts; re-wire it when the CLI moves to commander.
import { USERS_HELP, usersCommand } from './users.js';

const HELP = `incasso — self-hosted payment collection hub

Usage: incasso <command> [options]

Server
  serve                         start the hub (configured by environment variables, see README)
  migrate                       apply database migrations and exit

Operator (uses INCASSO_ADMIN_KEY or <data dir>/admin.key)
  merchants create --name NAME  create a merchant; prints its API key once
  merchants list
  onpay-partners create --name NAME
                                register an OnPay partner: a merchant, and a temporary activation key it
                                trades once (POST /api/get_onpay_key/) for its production key

Merchant (uses INCASSO_API_KEY, or --key)
  connections create --code CODE --provider netopia-v1|netopia-v2|multisafepay|nexi|volt
                     --environment emulator|sandbox|live
                     [--credentials FILE.json] [--settings JSON]
  connections list | get ID | disable ID
  payments create --connection CODE --order-id ID --amount MINOR --currency RON --description TEXT
                  --first-name NAME --last-name NAME --email EMAIL [--city CITY] [--country RO]
                  [--phone P] [--return-url URL] [--idempotency-key KEY]
                  (netopia-v2 requires --city; a payment its processor cannot open is refused
                  with the field named)
  payments list [--status S] | get ID
  refunds create PAYMENT_ID [--amount MINOR] [--idempotency-key KEY]   (default: all that remains)
  refunds list PAYMENT_ID
  webhooks create --url URL [--events payment.paid,payment.refunded]
  webhooks list | deliveries ENDPOINT_ID | redeliver DELIVERY_ID

${USERS_HELP}

Options
  --hub URL     the hub (default INCASSO_URL, else http://127.0.0.1:8080)
  --key KEY     API key to send
  --json        print the JSON response (for scripts)
  -h, --help`;

const OPTIONS = {
  hub: { type: 'string' },
  url: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  name: { type: 'string' },
  code: { type: 'string' },
  provider: { type: 'string' },
  environment: { type: 'string' },
  credentials: { type: 'string' },
  settings: { type: 'string' },
  connection: { type: 'string' },
  'order-id': { type: 'string' },
  amount: { type: 'string' },
  currency: { type: 'string' },
  description: { type: 'string' },
  'first-name': { type: 'string' },
  'last-name': { type: 'string' },
  email: { type: 'string' },
  phone: { type: 'string' },
  city: { type: 'string' },
  country: { type: 'string' },
  'return-url': { type: 'string' },
  'idempotency-key': { type: 'string' },
  status: { type: 'string' },
  events: { type: 'string' },
} as const;

class CliError extends Error {}

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function need(values: Values, name: keyof Values): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new CliError(`--${String(name)} is required`);
  return v;
}

function adminKey(values: Values): string {
  if (values.key) return values.key;
  if (process.env.INCASSO_ADMIN_KEY) return process.env.INCASSO_ADMIN_KEY;
  const file = join(readConfig().dataDir, 'admin.key');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  throw new CliError('no operator key: set INCASSO_ADMIN_KEY or pass --key');
}

function merchantKey(values: Values): string {
  const key = values.key ?? process.env.INCASSO_API_KEY;
  if (!key) throw new CliError('no API key: set INCASSO_API_KEY or pass --key');
  return key;
}

async function call(values: Values, key: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<any> {
  const base = (values.hub ?? process.env.INCASSO_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  let response: Response;
  try {
    response = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (e) {
    throw new CliError(`cannot reach the hub at ${base} (${(e as Error).cause ?? (e as Error).message}); is it running (incasso serve)?`);
  }
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const details = Array.isArray(json?.errors)
      ? '\n' + json.errors.map((e: { field: string; message: string }) => `  ${e.field}: ${e.message}`).join('\n')
      : '';
    throw new CliError(`${response.status} ${json?.title ?? ''}${json?.detail ? `: ${json.detail}` : ''}${details}`);
  }
  return json;
}

async function serve(): Promise<number> {
  const { startHub } = await import('../server.js');
  const { StartupError } = await import('../store/data-dir.js');
  const config = readConfig();
  let hub: Awaited<ReturnType<typeof startHub>>;
  // Interrupted while starting: exit at once; the exit releases the data directory lock (lockDataDir).
  const abortStart = (signal: NodeJS.Signals) => process.exit(signal === 'SIGINT' ? 130 : 143);
  process.once('SIGINT', abortStart);
  process.once('SIGTERM', abortStart);
  try {
    hub = await startHub(config, { announce: (line) => process.stdout.write(line + '\n') });
  } catch (e) {
    // The data directory held by another process, the port taken: one line the operator can act on, no stack.
    if (!(e instanceof StartupError)) throw e;
    process.stderr.write(`incasso: ${e.message}\n`);
    process.exit(1);
  }
  process.stdout.write(
    `incasso listening on ${hub.url} (${hub.store.kind}${config.emulators ? ', emulators on under /sandbox' : ''}); API docs at ${config.publicUrl}/docs${hub.metricsUrl ? `; metrics at ${hub.metricsUrl}` : ''}\n`,
  );
  const shutdown = async (signal: string) => {
    hub.ctx.logger.info({ signal }, 'shutting down');
    await hub.close();
    process.exit(0);
  };
  process.off('SIGINT', abortStart);
  process.off('SIGTERM', abortStart);
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  return new Promise<number>(() => {});
}

async function migrateCommand(): Promise<number> {
  const config = readConfig();
  try {
    const r = await fetch(`http://127.0.0.1:${config.port}/healthz`, { signal: AbortSignal.timeout(1000) });
    if (r.ok && !config.databaseUrl) {
      process.stdout.write(
        'A hub is running on this data directory and applied the migrations when it started; PGlite allows one process, so nothing else to do.\n',
      );
      return 0;
    }
  } catch {
    // no server running: open the store ourselves
  }
  const { openStore } = await import('../store/store.js');
  const { migrate } = await import('../store/migrations.js');
  const { StartupError } = await import('../store/data-dir.js');
  let store: Awaited<ReturnType<typeof openStore>>;
  try {
    store = await openStore({ databaseUrl: config.databaseUrl, dataDir: config.databaseUrl ? undefined : config.dataDir, migrate: false });
  } catch (e) {
    if (e instanceof StartupError) throw new CliError(e.message);
    throw e;
  }
  const applied = await migrate(store.db);
  await store.close();
  process.stdout.write(applied.length ? `applied: ${applied.join(', ')}\n` : 'the database is up to date\n');
  return 0;
}

function output(values: Values, json: any, columns?: string[]) {
  if (values.json || !columns) {
    process.stdout.write(JSON.stringify(json, null, 2) + '\n');
    return;
  }
  printTable(Array.isArray(json?.data) ? json.data : [json], columns);
}

export async function main(argv: string[]): Promise<number> {
  // --- console users hook (issue 16): `incasso users …` parses its own options (see ./users.ts).
  if (argv[0] === 'users') return usersCommand(argv.slice(1));
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\n${HELP}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [group, action, arg] = positionals;
  if (values.help || !group) {
    process.stdout.write(HELP + '\n');
    return group || values.help ? 0 : 2;
  }
  try {
    switch (`${group} ${action ?? ''}`.trim()) {
      case 'serve':
        return await serve();
      case 'migrate':
        return await migrateCommand();
      case 'merchants create':
        output(values, await call(values, adminKey(values), 'POST', '/v1/merchants', { name: need(values, 'name') }), ['id', 'name', 'api_key']);
        return 0;
      case 'merchants list':
        output(values, await call(values, adminKey(values), 'GET', '/v1/merchants'), ['id', 'name', 'api_key_prefix', 'created_at']);
        return 0;
      case 'onpay-partners create':
        output(values, await call(values, adminKey(values), 'POST', '/v1/onpay/partners', { name: need(values, 'name') }), [
          'merchant_id',
          'api_key',
          'activation_key',
        ]);
        return 0;
      case 'refunds create': {
        const body: Record<string, unknown> = {};
        if (values.amount !== undefined) {
          const amount = Number(values.amount);
          if (!Number.isSafeInteger(amount)) throw new CliError('--amount is an integer number of minor units (1050 = 10.50)');
          body.amount = amount;
        }
        const headers: Record<string, string> = values['idempotency-key'] ? { 'idempotency-key': values['idempotency-key'] } : {};
        output(values, await call(values, merchantKey(values), 'POST', `/v1/payments/${encodeURIComponent(arg ?? '')}/refunds`, body, headers), [
          'id',
          'status',
          'amount',
          'currency',
          'error_message',
        ]);
        return 0;
      }
      case 'refunds list':
        output(values, await call(values, merchantKey(values), 'GET', `/v1/payments/${encodeURIComponent(arg ?? '')}/refunds`), [
          'id',
          'status',
          'amount',
          'currency',
          'created_at',
        ]);
        return 0;
      case 'connections create': {
        const body: Record<string, unknown> = { code: need(values, 'code'), provider: need(values, 'provider'), environment: need(values, 'environment') };
        if (values.credentials) body.credentials = JSON.parse(readFileSync(values.credentials, 'utf8'));
        if (values.settings) body.settings = JSON.parse(values.settings);
        output(values, await call(values, merchantKey(values), 'POST', '/v1/connections', body), ['id', 'code', 'provider', 'environment', 'status']);
        return 0;
      }
      case 'connections list':
        output(values, await call(values, merchantKey(values), 'GET', '/v1/connections'), ['id', 'code', 'provider', 'environment', 'status']);
        return 0;
      case 'connections get':
        output(values, await call(values, merchantKey(values), 'GET', `/v1/connections/${encodeURIComponent(arg ?? '')}`));
        return 0;
      case 'connections disable':
        output(values, await call(values, merchantKey(values), 'POST', `/v1/connections/${encodeURIComponent(arg ?? '')}/disable`), ['id', 'code', 'status']);
        return 0;
      case 'payments create': {
        const amount = Number(need(values, 'amount'));
        if (!Number.isSafeInteger(amount)) throw new CliError('--amount is an integer number of minor units (1050 = 10.50)');
        const body = {
          connection: need(values, 'connection'),
          order_id: need(values, 'order-id'),
          amount,
          currency: values.currency ?? 'RON',
          description: need(values, 'description'),
          billing: {
            first_name: need(values, 'first-name'),
            last_name: need(values, 'last-name'),
            email: need(values, 'email'),
            ...(values.phone ? { phone: values.phone } : {}),
            ...(values.city ? { city: values.city } : {}),
            ...(values.country ? { country: values.country.toUpperCase() } : {}),
          },
          ...(values['return-url'] ? { return_url: values['return-url'] } : {}),
        };
        const headers: Record<string, string> = values['idempotency-key'] ? { 'idempotency-key': values['idempotency-key'] } : {};
        output(values, await call(values, merchantKey(values), 'POST', '/v1/payments', body, headers), ['id', 'status', 'amount', 'currency', 'payment_url']);
        return 0;
      }
      case 'payments list':
        output(values, await call(values, merchantKey(values), 'GET', `/v1/payments${values.status ? `?status=${encodeURIComponent(values.status)}` : ''}`), [
          'id',
          'order_id',
          'status',
          'amount',
          'currency',
          'created_at',
        ]);
        return 0;
      case 'payments get':
        output(values, await call(values, merchantKey(values), 'GET', `/v1/payments/${encodeURIComponent(arg ?? '')}`));
        return 0;
      case 'webhooks create': {
        const body = { url: need(values, 'url'), ...(values.events ? { events: values.events.split(',') } : {}) };
        output(values, await call(values, merchantKey(values), 'POST', '/v1/webhook-endpoints', body), ['id', 'url', 'secret']);
        return 0;
      }
      case 'webhooks list':
        output(values, await call(values, merchantKey(values), 'GET', '/v1/webhook-endpoints'), ['id', 'url', 'status', 'events']);
        return 0;
      case 'webhooks deliveries':
        output(values, await call(values, merchantKey(values), 'GET', `/v1/webhook-endpoints/${encodeURIComponent(arg ?? '')}/deliveries`), [
          'id',
          'event_id',
          'status',
          'attempts',
          'last_status_code',
          'delivered_at',
        ]);
        return 0;
      case 'webhooks redeliver':
        output(values, await call(values, merchantKey(values), 'POST', `/v1/webhook-deliveries/${encodeURIComponent(arg ?? '')}/redeliver`), [
          'id',
          'status',
          'next_attempt_at',
        ]);
        return 0;
      default:
        process.stderr.write(`unknown command: ${positionals.join(' ')}\n\n${HELP}\n`);
        return 2;
    }
  } catch (e) {
    if (e instanceof CliError || e instanceof SyntaxError) {
      process.stderr.write(`incasso: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
