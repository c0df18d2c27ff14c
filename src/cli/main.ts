import { readFileSync } from 'node:fs';
import { Argument, Command, CommanderError, Option } from 'commander';
import { readConfig } from '../config.js';
import { EVENT_TYPES, PAYMENT_STATUSES } from '../core/transitions.js';
import { adminKey, call, CliError, type GlobalOptions, merchantKey } from './client.js';
import { completionScript } from './completion.js';
import { listen } from './listen.js';
import { endQuietlyOnClosedPipe, output } from './output.js';
import { registerUsersCommand } from './users.js';

/**
 * The `incasso` command, on commander: help per command and subcommand, unknown options refused with a
 * suggestion, every missing required option named at once (commander names only the first, so the required
 * options are checked here, before the action), and shell completion generated from the same tree.
 * Usage mistakes exit 2, refusals by the hub and other errors exit 1.
 */

const PROVIDERS = ['netopia-v1', 'netopia-v2', 'multisafepay', 'nexi', 'volt'];
const ENVIRONMENTS = ['emulator', 'sandbox', 'live'];

/** The required options of each command, checked together before its action runs. */
const requiredOptions = new WeakMap<Command, Option[]>();

/** Adds a required option (an Option, or flags and a description); `(required)` is said in its help. */
function required(cmd: Command, flags: string | Option, description = ''): Command {
  const option = typeof flags === 'string' ? new Option(flags, `${description} (required)`) : flags;
  cmd.addOption(option);
  requiredOptions.set(cmd, [...(requiredOptions.get(cmd) ?? []), option]);
  return cmd;
}

function checkRequired(cmd: Command): void {
  const values = cmd.opts();
  const missing = (requiredOptions.get(cmd) ?? []).filter((o) => {
    const v = values[o.attributeName()];
    return v === undefined || v === '';
  });
  if (missing.length === 0) return;
  const names = missing.map((o) => o.long!);
  const list = names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
  throw new CliError(`${list} ${names.length === 1 ? 'is' : 'are'} required (see incasso ${commandPath(cmd)} --help)`, 2);
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

const globals = (cmd: Command): GlobalOptions => cmd.optsWithGlobals<GlobalOptions>();

function minorUnits(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^[0-9]+$/.test(value.trim()) || !Number.isSafeInteger(n)) throw new CliError(`${flag} is an integer number of minor units (1050 = 10.50)`, 2);
    return n;
  };
}

function integerIn(flag: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^[0-9]+$/.test(value) || n < min || n > max) throw new CliError(`${flag} must be an integer from ${min} to ${max}`, 2);
    return n;
  };
}

function jsonObject(flag: string, text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new CliError(`${flag}: not valid JSON (${(e as Error).message})`, 2);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new CliError(`${flag} must be a JSON object`, 2);
  return parsed as Record<string, unknown>;
}

/** `--metadata '{"a":1}'` or `--metadata key=value`, repeatable; later keys win. */
function collectMetadata(value: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  if (value.trim().startsWith('{')) return { ...previous, ...jsonObject('--metadata', value) };
  const eq = value.indexOf('=');
  if (eq < 1) throw new CliError(`--metadata takes a JSON object or key=value (got ${JSON.stringify(value)})`, 2);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** A date (`2026-01-31`, the whole day in UTC) or a date-time (`2026-01-31T12:00:00Z`) for the created range. */
function dateBound(flag: string, end: 'start' | 'end') {
  return (value: string): string => {
    if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return `${value}T${end === 'start' ? '00:00:00.000' : '23:59:59.999'}Z`;
    if (Number.isNaN(Date.parse(value))) throw new CliError(`${flag} must be a date (2026-01-31) or an ISO 8601 date-time`, 2);
    return value;
  };
}

/** `--line 'Tort de ciocolată|2|12000|11|buc'`: description, quantity, unit price (minor units), VAT rate, unit. */
function invoiceLine(value: string): Record<string, unknown> {
  const parts = value.split('|').map((p) => p.trim());
  if (parts.length < 4 || parts.length > 5 || !parts[0])
    throw new CliError(`--line is 'description|quantity|unit price|VAT rate[|unit]', e.g. 'Tort|2|12000|11|buc' (got ${JSON.stringify(value)})`, 2);
  const [description, quantity, price, rate, unit] = parts as [string, string, string, string, string | undefined];
  if (!/^-?[0-9]+([.,][0-9]{1,3})?$/.test(quantity))
    throw new CliError(`--line: the quantity ${JSON.stringify(quantity)} is a number with at most 3 decimals`, 2);
  if (!/^-?[0-9]+$/.test(price) || !Number.isSafeInteger(Number(price)))
    throw new CliError(`--line: the unit price ${JSON.stringify(price)} is an integer of minor units (12000 = 120.00)`, 2);
  if (!['21', '11', '9', '0', 'exempt'].includes(rate)) throw new CliError(`--line: the VAT rate ${JSON.stringify(rate)} is 21, 11, 9, 0 or exempt`, 2);
  return { description, quantity, unit_price: Number(price), vat_rate: rate === 'exempt' ? 'exempt' : Number(rate), ...(unit ? { unit } : {}) };
}

function idempotencyHeaders(options: { idempotencyKey?: string }): Record<string, string> {
  return options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {};
}

const PARTY_FIELDS = [
  ['first-name', 'first_name', 'first name'],
  ['last-name', 'last_name', 'last name'],
  ['email', 'email', 'email address'],
  ['phone', 'phone', 'phone: digits, optionally with a leading +'],
  ['address', 'address', 'street address'],
  ['city', 'city', 'city (netopia-v2 requires it for billing)'],
  ['county', 'county', 'county or region'],
  ['zip-code', 'zip_code', 'postal code'],
  ['country', 'country', 'ISO 3166-1 alpha-2 country (ro → RO)'],
  ['company', 'company', 'company name'],
  ['fiscal-number', 'fiscal_number', 'fiscal number (CUI, VAT id)'],
] as const;

/** A party (billing or shipping) from the flags `--<prefix>first-name` …; undefined when none was given. */
function party(values: Record<string, unknown>, prefix: string): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  const camel = (s: string) => s.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
  for (const [flag, field] of PARTY_FIELDS) {
    const v = values[camel(prefix + flag)];
    if (typeof v === 'string' && v !== '') out[field] = field === 'country' ? v.toUpperCase() : v;
  }
  const type = values[camel(`${prefix}type`)];
  if (typeof type === 'string') out.type = type;
  return Object.keys(out).length ? out : undefined;
}

const PAYMENT_COLUMNS = ['id', 'order_id', 'status', 'amount', 'currency', 'created_at'];

function buildProgram(): Command {
  const program = new Command('incasso')
    .description('incasso — self-hosted payment collection hub')
    .usage('<command> [options]')
    .option('--hub <url>', 'the hub (default INCASSO_URL, else http://127.0.0.1:8080)')
    .option('--key <key>', 'API key to send (default INCASSO_API_KEY; operator commands: INCASSO_ADMIN_KEY or <data dir>/admin.key)')
    .option('--json', "print the API's JSON (for scripts) instead of a table")
    .helpOption('-h, --help', 'show help for a command')
    .helpCommand('help [command]', 'show help for a command')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text.startsWith('error: ') ? `incasso: ${text.slice(7)}` : text) });
  program.hook('preAction', (_root, action) => checkRequired(action));

  program
    .command('serve')
    .description('start the hub (configured by environment variables, see README)')
    .action(async () => {
      await serve();
    });
  program
    .command('migrate')
    .description('apply database migrations and exit')
    .action(async () => {
      await migrateCommand();
    });

  // Operator commands
  const merchants = program.command('merchants').description('merchants (operator key)');
  required(merchants.command('create').description('create a merchant; prints its API key once'), '--name <name>', "the merchant's name").action(
    async (o, cmd: Command) => {
      output(await call(globals(cmd), adminKey(globals(cmd)), 'POST', '/v1/merchants', { name: o.name }), globals(cmd), ['id', 'name', 'api_key']);
    },
  );
  merchants
    .command('list')
    .description('list merchants')
    .action(async (_o, cmd: Command) => {
      output(await call(globals(cmd), adminKey(globals(cmd)), 'GET', '/v1/merchants'), globals(cmd), ['id', 'name', 'created_at']);
    });

  const partners = program.command('onpay-partners').description('OnPay partners (operator key)');
  required(
    partners
      .command('create')
      .description('register an OnPay partner: a merchant, and a temporary activation key it trades once (POST /api/get_onpay_key/) for its production key'),
    '--name <name>',
    "the partner's name",
  ).action(async (o, cmd: Command) => {
    output(await call(globals(cmd), adminKey(globals(cmd)), 'POST', '/v1/onpay/partners', { name: o.name }), globals(cmd), [
      'merchant_id',
      'api_key',
      'activation_key',
    ]);
  });

  // Merchant commands
  const connections = program.command('connections').description("the merchant's processor accounts");
  const connCreate = connections.command('create').description('connect a processor account');
  required(connCreate, '--code <code>', 'your name for the connection (used as --connection)');
  required(connCreate, new Option('--provider <provider>', 'the processor (required)').choices(PROVIDERS));
  required(connCreate, new Option('--environment <env>', 'emulator: an account on the built-in emulator (required)').choices(ENVIRONMENTS));
  connCreate
    .option('--credentials <file>', 'a JSON file with the processor credentials')
    .option('--settings <json>', 'settings as a JSON object')
    .action(async (o, cmd: Command) => {
      const body: Record<string, unknown> = { code: o.code, provider: o.provider, environment: o.environment };
      if (o.credentials) {
        let text: string;
        try {
          text = readFileSync(o.credentials, 'utf8');
        } catch (e) {
          throw new CliError(`--credentials: cannot read ${o.credentials} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, 2);
        }
        body.credentials = jsonObject('--credentials', text);
      }
      if (o.settings) body.settings = jsonObject('--settings', o.settings);
      output(await call(globals(cmd), merchantKey(globals(cmd)), 'POST', '/v1/connections', body), globals(cmd), [
        'id',
        'code',
        'provider',
        'environment',
        'status',
      ]);
    });
  connections
    .command('list')
    .description('list connections')
    .action(async (_o, cmd: Command) => {
      output(await call(globals(cmd), merchantKey(globals(cmd)), 'GET', '/v1/connections'), globals(cmd), ['id', 'code', 'provider', 'environment', 'status']);
    });
  connections
    .command('get')
    .description('a connection (with the sandbox back office login of an emulator account)')
    .argument('<id>', 'connection id or code')
    .action(async (id: string, _o, cmd: Command) => {
      output(await call(globals(cmd), merchantKey(globals(cmd)), 'GET', `/v1/connections/${encodeURIComponent(id)}`), globals(cmd));
    });
  connections
    .command('disable')
    .description('disable a connection')
    .argument('<id>', 'connection id or code')
    .action(async (id: string, _o, cmd: Command) => {
      output(await call(globals(cmd), merchantKey(globals(cmd)), 'POST', `/v1/connections/${encodeURIComponent(id)}/disable`), globals(cmd), [
        'id',
        'code',
        'status',
      ]);
    });

  const payments = program.command('payments').description('ask for payments, list them, look at one, cancel one');
  const create = payments.command('create').description('ask for a payment; the payer pays at the payment_url it prints (POST /v1/payments)');
  required(create, '--connection <code>', 'connection code or id');
  required(create, '--order-id <id>', "your order's reference");
  required(create, new Option('--amount <minor>', 'amount in minor units: 4990 = 49.90 (required)').argParser(minorUnits('--amount')));
  create.option('--currency <code>', 'ISO 4217 currency', 'RON');
  required(create, '--description <text>', 'what is paid for');
  create.addOption(new Option('--payer-type <type>', 'the billing party').choices(['person', 'company']));
  for (const [flag, , description] of PARTY_FIELDS) {
    if (flag === 'first-name' || flag === 'last-name' || flag === 'email') required(create, `--${flag} <value>`, `billing: ${description}`);
    else create.option(`--${flag} <value>`, `billing: ${description}`);
  }
  create.addOption(new Option('--shipping-type <type>', 'shipping: the party').choices(['person', 'company']));
  for (const [flag, , description] of PARTY_FIELDS)
    create.option(`--shipping-${flag} <value>`, `shipping: ${description} (a shipping party needs first and last name and email)`);
  create
    .option('--return-url <url>', 'where the payer returns after paying (http or https)')
    .option('--expires-at <date-time>', 'when the payment expires (ISO 8601, e.g. 2026-12-31T23:59:00Z)')
    .option('--metadata <json|key=value>', 'metadata: a JSON object, or key=value (repeatable)', collectMetadata)
    .option('--language <code>', "the payer's language (ro, en, it …): the payment pages speak it and the processor is asked to (metadata.language)")
    .option('--cancel-url <url>', 'where the payer may go back to the shop from a payment that did not go through (metadata.canceled_url)')
    .option('--idempotency-key <key>', 'the same key and body return the stored answer (safe retries)')
    .addHelpText(
      'after',
      "\nWithout --language the pages speak the payer's browser language.\nA payment its processor cannot open is refused with the field named (netopia-v2 requires --city).",
    )
    .action(async (o, cmd: Command) => {
      const billing = party({ ...o, type: o.payerType }, '');
      const shipping = party(o, 'shipping-');
      const body: Record<string, unknown> = {
        connection: o.connection,
        order_id: o.orderId,
        amount: o.amount,
        currency: String(o.currency).toUpperCase(),
        description: o.description,
        billing,
        ...(shipping ? { shipping } : {}),
        ...(o.returnUrl ? { return_url: o.returnUrl } : {}),
        ...(o.expiresAt ? { expires_at: o.expiresAt } : {}),
      };
      const metadata = {
        ...(o.metadata ?? {}),
        ...(o.language ? { language: o.language } : {}),
        ...(o.cancelUrl ? { canceled_url: o.cancelUrl } : {}),
      };
      if (Object.keys(metadata).length) body.metadata = metadata;
      output(await call(globals(cmd), merchantKey(globals(cmd)), 'POST', '/v1/payments', body, idempotencyHeaders(o)), globals(cmd), [
        'id',
        'status',
        'amount',
        'currency',
        'payment_url',
      ]);
    });
  payments
    .command('list')
    .description('list payments, newest first (GET /v1/payments)')
    .addOption(new Option('--status <status>', 'only payments in this status').choices(PAYMENT_STATUSES))
    .option('--order-id <id>', 'only payments for this order reference')
    .option('--connection <code>', 'only payments of this connection (code or id)')
    .option('--created-gte <date>', 'created at or after (2026-01-31 or an ISO date-time)', dateBound('--created-gte', 'start'))
    .option('--created-lte <date>', 'created at or before (2026-01-31 = to the end of that day)', dateBound('--created-lte', 'end'))
    .option('--limit <n>', 'payments per page, 1 to 100 (default 20; with --all, 100)', integerIn('--limit', 1, 100))
    .option('--starting-after <id>', 'cursor: the page after this payment (the next_cursor of the previous page)')
    .option('--all', 'walk every page (following next_cursor) and print them all')
    .action(async (o, cmd: Command) => {
      const g = globals(cmd);
      const key = merchantKey(g);
      const query = (cursor: string | undefined) => {
        const q = new URLSearchParams();
        if (o.status) q.set('status', o.status);
        if (o.orderId) q.set('order_id', o.orderId);
        if (o.connection) q.set('connection', o.connection);
        if (o.createdGte) q.set('created_gte', o.createdGte);
        if (o.createdLte) q.set('created_lte', o.createdLte);
        if (cursor) q.set('starting_after', cursor);
        const limit = o.limit ?? (o.all ? 100 : undefined);
        if (limit !== undefined) q.set('limit', String(limit));
        const s = q.toString();
        return `/v1/payments${s ? `?${s}` : ''}`;
      };
      if (!o.all) {
        output(await call(g, key, 'GET', query(o.startingAfter)), g, PAYMENT_COLUMNS);
        return;
      }
      const data: unknown[] = [];
      let cursor: string | undefined = o.startingAfter;
      for (;;) {
        const page = await call(g, key, 'GET', query(cursor));
        data.push(...page.data);
        if (!page.has_more || !page.next_cursor) break;
        cursor = page.next_cursor;
      }
      output({ object: 'list', data, has_more: false, next_cursor: null }, g, PAYMENT_COLUMNS);
    });
  payments
    .command('get')
    .description('a payment with every attempt and notification')
    .argument('<id>', 'payment id')
    .action(async (id: string, _o, cmd: Command) => {
      output(await call(globals(cmd), merchantKey(globals(cmd)), 'GET', `/v1/payments/${encodeURIComponent(id)}`), globals(cmd));
    });
  payments
    .command('cancel')
    .description('cancel a payment that still waits for its payer (POST /v1/payments/{id}/cancel); a canceled one stays as it is')
    .argument('<id>', 'payment id')
    .action(async (id: string, _o, cmd: Command) => {
      output(await call(globals(cmd), merchantKey(globals(cmd)), 'POST', `/v1/payments/${encodeURIComponent(id)}/cancel`), globals(cmd), [
        'id',
        'order_id',
        'status',
        'amount',
        'currency',
      ]);
    });

  const refunds = program.command('refunds').description('refund a paid payment, in full or in part, and list its refunds');
  refunds
    .command('create')
    .description('refund a paid payment, in full (default: all that remains) or in part')
    .argument('<payment-id>', 'the payment')
    .option('--amount <minor>', 'minor units (default: all that remains)', minorUnits('--amount'))
    .option('--reason <text>', 'why (kept with the refund)')
    .option('--idempotency-key <key>', 'the same key and body return the stored answer')
    .action(async (paymentId: string, o, cmd: Command) => {
      const body: Record<string, unknown> = {};
      if (o.amount !== undefined) body.amount = o.amount;
      if (o.reason) body.reason = o.reason;
      output(
        await call(globals(cmd), merchantKey(globals(cmd)), 'POST', `/v1/payments/${encodeURIComponent(paymentId)}/refunds`, body, idempotencyHeaders(o)),
        globals(cmd),
        ['id', 'status', 'amount', 'currency', 'error_message'],
      );
    });
  refunds
    .command('list')
    .description("a payment's refunds")
    .argument('<payment-id>', 'the payment')
    .action(async (paymentId: string, _o, cmd: Command) => {
      output(await call(globals(cmd), merchantKey(globals(cmd)), 'GET', `/v1/payments/${encodeURIComponent(paymentId)}/refunds`), globals(cmd), [
        'id',
        'status',
        'amount',
        'currency',
        'created_at',
      ]);
    });

  const invoices = program.command('invoices').description('proformas and fiscal invoices: list, show, create a draft, issue');
  /** A document's list row: its total and buyer's name lifted out of their objects. */
  const invoiceRows = (body: { data?: Array<Record<string, unknown>> } & Record<string, unknown>) => {
    const flat = (inv: Record<string, unknown>) => ({
      ...inv,
      buyer_name: (inv.buyer as { name?: string } | undefined)?.name,
      total: (inv.totals as { total?: number } | undefined)?.total,
      amount_due: (inv.totals as { amount_due?: number } | undefined)?.amount_due,
    });
    return Array.isArray(body.data) ? { ...body, data: body.data.map(flat) } : flat(body);
  };
  const INVOICE_COLUMNS = ['id', 'kind', 'status', 'number', 'issue_date', 'buyer_name', 'total', 'amount_due', 'currency'];
  invoices
    .command('list')
    .description('list documents, newest first (GET /v1/invoices)')
    .addOption(new Option('--status <status>', 'only documents in this status').choices(['draft', 'issued', 'paid', 'canceled']))
    .addOption(new Option('--kind <kind>', 'only proformas or only fiscal invoices').choices(['proforma', 'invoice']))
    .option('--buyer <text>', "the beginning of the buyer's name, or its fiscal code")
    .option('--issued-from <date>', 'issued on or after (YYYY-MM-DD)')
    .option('--issued-to <date>', 'issued on or before (YYYY-MM-DD)')
    .option('--limit <n>', 'documents per page, 1 to 100 (default 20)', integerIn('--limit', 1, 100))
    .option('--starting-after <id>', 'cursor: the page after this document (the next_cursor of the previous page)')
    .action(async (o, cmd: Command) => {
      const g = globals(cmd);
      const q = new URLSearchParams();
      for (const [flag, name] of [
        ['status', 'status'],
        ['kind', 'kind'],
        ['buyer', 'buyer'],
        ['issuedFrom', 'issued_from'],
        ['issuedTo', 'issued_to'],
        ['startingAfter', 'starting_after'],
      ] as const)
        if (o[flag]) q.set(name, o[flag]);
      if (o.limit !== undefined) q.set('limit', String(o.limit));
      const s = q.toString();
      output(invoiceRows(await call(g, merchantKey(g), 'GET', `/v1/invoices${s ? `?${s}` : ''}`)), g, INVOICE_COLUMNS);
    });
  invoices
    .command('show')
    .description('a document with its lines and totals')
    .argument('<id>', 'invoice id')
    .action(async (id: string, _o, cmd: Command) => {
      output(await call(globals(cmd), merchantKey(globals(cmd)), 'GET', `/v1/invoices/${encodeURIComponent(id)}`), globals(cmd));
    });
  const invoiceCreate = invoices.command('create').description('create a draft (POST /v1/invoices); issue it with `incasso invoices issue <id>`');
  required(invoiceCreate, new Option('--kind <kind>', 'proforma or invoice (required)').choices(['proforma', 'invoice']));
  invoiceCreate.addOption(
    new Option('--buyer-type <type>', 'the buyer is a company (with a fiscal code) or a person').choices(['company', 'person']).default('company'),
  );
  required(invoiceCreate, '--buyer-name <name>', "the buyer's name");
  invoiceCreate
    .option('--buyer-fiscal-code <cui>', "a company's CUI/CIF (RO prefix for a VAT payer)")
    .option('--buyer-cnp <cnp>', "a person's CNP (0000000000000 when not given)")
    .option('--buyer-email <email>', 'recommended: the processor sends its payment confirmation there')
    .option('--buyer-phone <phone>', "the buyer's phone")
    .option('--buyer-address <text>', "the buyer's address")
    .option('--buyer-city <city>', "the buyer's city")
    .option('--buyer-county <county>', "the buyer's county")
    .option('--buyer-country <code>', 'ISO 3166-1 alpha-2 (default RO)');
  required(
    invoiceCreate,
    new Option(
      '--line <description|quantity|unit price|VAT rate[|unit]>',
      'a line (repeatable): quantity up to 3 decimals, unit price in minor units, VAT 21, 11, 9, 0 or exempt (required)',
    ).argParser((value: string, previous: unknown[] = []) => [...previous, invoiceLine(value)]),
  );
  invoiceCreate
    .option('--series <id>', 'the series (default: your default series of this kind)')
    .option('--issue-date <date>', 'YYYY-MM-DD (default: the day it is issued)')
    .option('--due-date <date>', 'YYYY-MM-DD')
    .option('--currency <code>', 'ISO 4217 currency', 'RON')
    .addOption(new Option('--language <code>', "the buyer's language").choices(['ro', 'en', 'it']))
    .addOption(new Option('--card-payment <on|off>', 'card payment on this document (default: your setting)').choices(['on', 'off']))
    .option('--notes <text>', 'notes printed on the document')
    .option('--idempotency-key <key>', 'the same key and body return the stored answer (safe retries)')
    .action(async (o, cmd: Command) => {
      const buyer: Record<string, unknown> = { type: o.buyerType, name: o.buyerName };
      for (const [flag, field] of [
        ['buyerFiscalCode', 'fiscal_code'],
        ['buyerCnp', 'cnp'],
        ['buyerEmail', 'email'],
        ['buyerPhone', 'phone'],
        ['buyerAddress', 'address'],
        ['buyerCity', 'city'],
        ['buyerCounty', 'county'],
      ] as const)
        if (o[flag] !== undefined) buyer[field] = o[flag];
      if (o.buyerCountry) buyer.country = String(o.buyerCountry).toUpperCase();
      const body: Record<string, unknown> = { kind: o.kind, buyer, lines: o.line, currency: String(o.currency).toUpperCase() };
      if (o.series) body.series_id = o.series;
      if (o.issueDate) body.issue_date = o.issueDate;
      if (o.dueDate) body.due_date = o.dueDate;
      if (o.language) body.language = o.language;
      if (o.cardPayment) body.card_payment = o.cardPayment === 'on';
      if (o.notes) body.notes = o.notes;
      const g = globals(cmd);
      output(invoiceRows(await call(g, merchantKey(g), 'POST', '/v1/invoices', body, idempotencyHeaders(o))), g, INVOICE_COLUMNS);
    });
  invoices
    .command('issue')
    .description('issue a draft: it takes the next number of its series (POST /v1/invoices/{id}/issue)')
    .argument('<id>', 'invoice id')
    .option('--issue-date <date>', 'YYYY-MM-DD (default: the draft’s, else today)')
    .action(async (id: string, o, cmd: Command) => {
      const g = globals(cmd);
      output(
        invoiceRows(await call(g, merchantKey(g), 'POST', `/v1/invoices/${encodeURIComponent(id)}/issue`, o.issueDate ? { issue_date: o.issueDate } : {})),
        g,
        INVOICE_COLUMNS,
      );
    });

  const webhooks = program.command('webhooks').description('webhook endpoints and their deliveries');
  required(webhooks.command('create').description('subscribe a URL to events; prints the signing secret once'), '--url <url>', 'the receiver (http or https)')
    .option('--events <types>', `comma-separated: * or ${EVENT_TYPES.join(', ')} (default *)`)
    .action(async (o, cmd: Command) => {
      const body = {
        url: o.url,
        ...(o.events
          ? {
              events: String(o.events)
                .split(',')
                .map((e) => e.trim()),
            }
          : {}),
      };
      output(await call(globals(cmd), merchantKey(globals(cmd)), 'POST', '/v1/webhook-endpoints', body), globals(cmd), ['id', 'url', 'secret']);
    });
  webhooks
    .command('list')
    .description('list webhook endpoints')
    .action(async (_o, cmd: Command) => {
      output(await call(globals(cmd), merchantKey(globals(cmd)), 'GET', '/v1/webhook-endpoints'), globals(cmd), ['id', 'url', 'status', 'events']);
    });
  webhooks
    .command('disable')
    .description('disable an endpoint (its queued deliveries are canceled); the API has no delete')
    .argument('<endpoint-id>', 'the endpoint')
    .action(async (id: string, _o, cmd: Command) => {
      output(
        await call(globals(cmd), merchantKey(globals(cmd)), 'PATCH', `/v1/webhook-endpoints/${encodeURIComponent(id)}`, { status: 'disabled' }),
        globals(cmd),
        ['id', 'url', 'status'],
      );
    });
  webhooks
    .command('deliveries')
    .description("an endpoint's delivery log, newest first")
    .argument('<endpoint-id>', 'the endpoint')
    .action(async (id: string, _o, cmd: Command) => {
      output(await call(globals(cmd), merchantKey(globals(cmd)), 'GET', `/v1/webhook-endpoints/${encodeURIComponent(id)}/deliveries`), globals(cmd), [
        'id',
        'event_id',
        'status',
        'attempts',
        'last_status_code',
        'delivered_at',
      ]);
    });
  webhooks
    .command('redeliver')
    .description('deliver again now (same webhook-id)')
    .argument('<delivery-id>', 'the delivery')
    .action(async (id: string, _o, cmd: Command) => {
      output(await call(globals(cmd), merchantKey(globals(cmd)), 'POST', `/v1/webhook-deliveries/${encodeURIComponent(id)}/redeliver`), globals(cmd), [
        'id',
        'status',
        'next_attempt_at',
      ]);
    });

  registerUsersCommand(program, { globals, required });

  const events = program.command('events').description("the merchant's events (what webhooks carry)");
  events
    .command('list')
    .description("the merchant's latest events, newest first (GET /v1/events: the hub returns the latest 100; the filters apply to those)")
    .addOption(new Option('--type <type>', 'only events of this type').choices(EVENT_TYPES))
    .option('--payment <id>', 'only events about this payment')
    .option('--limit <n>', 'at most this many (1 to 100)', integerIn('--limit', 1, 100))
    .action(async (o, cmd: Command) => {
      const g = globals(cmd);
      const answer = await call(g, merchantKey(g), 'GET', '/v1/events');
      let data = (answer.data as Array<Record<string, any>>).filter((e) => (!o.type || e.type === o.type) && (!o.payment || eventPayment(e) === o.payment));
      if (o.limit) data = data.slice(0, o.limit);
      output(g.json ? { ...answer, data } : { data: data.map((e) => ({ ...e, payment: eventPayment(e) })) }, g, ['id', 'type', 'timestamp', 'payment']);
    });

  program
    .command('listen')
    .description("print the merchant's webhook events as they arrive, signature checked; --forward-to sends each on to a local receiver")
    .addOption(new Option('--via <how>', 'how events reach this command (see below)').choices(['inbox', 'direct']).default('inbox'))
    .option('--forward-to <url>', 'forward each verified event (same body and webhook-* headers) to this URL and print its status')
    .option('--events <types>', 'comma-separated event types (default *)')
    .option('--port <port>', '--via direct: the local port to listen on (default: any free port)', integerIn('--port', 0, 65535))
    .option('--host <address>', '--via direct: the address the hub reaches this machine at', '127.0.0.1')
    .option('--interval <ms>', '--via inbox: how often to read the inbox', integerIn('--interval', 100, 60_000), 1000)
    .addHelpText(
      'after',
      `
How events reach the command:
  --via inbox (default)  registers a webhook endpoint on the hub's own sandbox inbox (<hub>/sandbox/inbox/<name>)
                         and reads it with the endpoint's secret. The hub's outbound guard trusts its sandbox,
                         so this works on a default local hub (npm start) with no setting; it needs the
                         emulators on (INCASSO_EMULATORS, the default) and --hub equal to the hub's
                         INCASSO_PUBLIC_URL.
  --via direct           starts an HTTP listener here and registers it as the endpoint. The hub refuses
                         internal addresses unless the operator allows them: start it with
                         INCASSO_OUTBOUND_ALLOW=127.0.0.1 (or the --host you give).
Either way the command verifies each delivery's Standard Webhooks signature with the endpoint's secret, prints
the secret once (for your receiver), and disables the endpoint it created when you press Ctrl-C (the API has
no delete; disabled endpoints stay in \`webhooks list\`).`,
    )
    .action(async (o, cmd: Command) => {
      const g = globals(cmd);
      await listen(g, merchantKey(g), o);
    });

  program
    .command('completion')
    .description('print a shell completion script: eval "$(incasso completion bash)", or add it to ~/.bashrc / ~/.zshrc')
    .addArgument(new Argument('<shell>', 'bash or zsh').choices(['bash', 'zsh']))
    .action((shell: 'bash' | 'zsh') => {
      process.stdout.write(completionScript(program, shell));
    });

  return program;
}

function eventPayment(e: Record<string, any>): string | null {
  const d = e.data ?? {};
  return d.payment_id ?? (d.object === 'payment' ? d.id : null) ?? d.payment?.id ?? null;
}

async function serve(): Promise<void> {
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
  await new Promise<never>(() => {});
}

async function migrateCommand(): Promise<void> {
  const config = readConfig();
  try {
    const r = await fetch(`http://127.0.0.1:${config.port}/healthz`, { signal: AbortSignal.timeout(1000) });
    if (r.ok && !config.databaseUrl) {
      process.stdout.write(
        'A hub is running on this data directory and applied the migrations when it started; PGlite allows one process, so nothing else to do.\n',
      );
      return;
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
}

/** Runs the command line; resolves with the exit code (0 ok, 1 the hub refused or failed, 2 a usage mistake). */
export async function main(argv: string[]): Promise<number> {
  endQuietlyOnClosedPipe();
  const program = buildProgram();
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return 2;
  }
  // `incasso help payments list` is `incasso payments list --help` (commander's help command goes one level deep).
  const args = argv[0] === 'help' && argv.length > 1 ? [...argv.slice(1), '--help'] : argv;
  try {
    await program.parseAsync(args, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help asked for: 0. Help shown because a command was incomplete, or an unknown option, command or
      // argument (already printed, with a suggestion where one is close): a usage mistake.
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
      return 2;
    }
    if (e instanceof CliError) {
      process.stderr.write(`incasso: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
}
