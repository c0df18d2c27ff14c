import type { FastifyInstance, FastifyRequest } from 'fastify';
import { V1_ERROR_CODES } from '../src/connectors/netopia-v1/errors.js';
import { html, type Html } from '../src/html/template.js';
import { TEST_CARDS as MULTISAFEPAY_CARDS } from './multisafepay/cards.js';
import {
  TEST_CARDS as NETOPIA_V1_CARDS,
  TEST_CVV as NETOPIA_V1_CVV,
  THREE_DS_FAILED_CODE as NETOPIA_V1_3DS_FAILED,
  type CardOutcome,
} from './netopia-v1/card-outcomes.js';
import { TEST_CVV as NETOPIA_V2_CVV } from './netopia-v2/card-outcomes.js';
import { NETOPIA_TEXT, TEST_CARD_OUTCOMES as NETOPIA_V2_CARDS } from './netopia-v1/page-text.js';
import { TEST_CARDS as NEXI_CARDS } from './nexi/test-cards.js';
import { CONTENT_SECURITY_POLICY, pageLayout, sendHtml } from './shared/page-layout.js';
import { SANDBOX_BANKS } from './volt/banks.js';

/**
 * `/sandbox/`: the index of the sandbox a tester starts from. For every emulator mounted: what it plays, its
 * base URL, its test cards (or banks) and their outcomes, how a sandbox account is opened (through the hub's
 * connections, or the emulator's own account route), where its back office is; then the webhook inbox. The
 * cards are rendered from each emulator's own table, so the page says what the emulator does.
 */

/** Where each emulator is mounted (emulators/index.ts mounts them there). */
export const SANDBOX_PREFIXES = {
  netopiaV1: '/sandbox/netopia/v1',
  netopiaV2: '/sandbox/netopia/v2',
  multisafepay: '/sandbox/multisafepay',
  nexi: '/sandbox/nexi',
  volt: '/sandbox/volt',
  inbox: '/sandbox/inbox',
} as const;

export interface TestInstrument {
  /** A card number (digits only) or, for a bank payment, the bank's name. */
  value: string;
  /** The card's brand ('—' where the processor's table names none) or the bank's country. */
  kind: string;
  outcome: string;
}

export interface BackOfficeEntry {
  method: 'GET' | 'POST';
  path: string;
  how: string;
  /** A browser can open it (an HTML back office with its own login). */
  page: boolean;
}

export interface SandboxEmulator {
  id: string;
  name: string;
  /** The hub's provider name for its connections. */
  provider: string;
  emulates: string;
  baseUrl: string;
  instrumentKind: 'card' | 'bank';
  instrumentsNote: string;
  instruments: TestInstrument[];
  account: { route: string; body: string; returns: string };
  backOffice: BackOfficeEntry[];
}

function v1Outcome(outcome: CardOutcome): string {
  if (outcome.kind === 'approved') return 'approved';
  if (outcome.kind === 'three_ds')
    return `3-D Secure page: approved when authenticated, else ${NETOPIA_V1_3DS_FAILED} (${V1_ERROR_CODES[NETOPIA_V1_3DS_FAILED] ?? 'declined'})`;
  return `declined: ${outcome.code} (${V1_ERROR_CODES[outcome.code] ?? 'declined'})`;
}

/** The sandbox as mounted at `publicUrl`: every emulator with its data. */
export function describeSandbox(publicUrl: string): { emulators: SandboxEmulator[]; inbox: { url: string; how: string } } {
  const origin = publicUrl.replace(/\/+$/, '');
  const base = (prefix: string) => origin + prefix;
  const emulators: SandboxEmulator[] = [
    {
      id: 'netopia-v1',
      name: 'NETOPIA Payments API v1 (mobilPay)',
      provider: 'netopia-v1',
      emulates:
        "sandboxsecure.mobilpay.ro: the sealed XML payment request, the hosted card page with 3-D Secure, IPNs with NETOPIA's retries, and the admin back office (capture, cancel, credit, resend IPN).",
      baseUrl: base(SANDBOX_PREFIXES.netopiaV1),
      instrumentKind: 'card',
      instrumentsNote: `CVV ${NETOPIA_V1_CVV}, any expiry in the future. Any other card number: 17 (${V1_ERROR_CODES[17]}); a test card with another CVV: 21 (${V1_ERROR_CODES[21]}).`,
      instruments: [...NETOPIA_V1_CARDS].map(([pan, outcome]) => ({ value: pan, kind: '—', outcome: v1Outcome(outcome) })),
      account: {
        route: `POST ${SANDBOX_PREFIXES.netopiaV1}/accounts`,
        body: '{"name":"My shop","capture":"manual"}',
        returns:
          'signature, certificate, private_key, payment_url and back_office {url, login, password}, shown once ("capture": "manual" preauthorises payments, to capture in the back office; "auto" by default)',
      },
      backOffice: [
        {
          method: 'GET',
          path: `${SANDBOX_PREFIXES.netopiaV1}/orders`,
          how: 'Orders list and each order with its IPN log; log in with the account\'s back_office login (the POS signature) and password ("connections get" in the hub shows them as sandbox_back_office). Scripts: HTTP Basic with Accept: application/json.',
          page: true,
        },
      ],
    },
    {
      id: 'netopia-v2',
      name: 'NETOPIA Payments API v2',
      provider: 'netopia-v2',
      emulates:
        'secure.sandbox.netopia-payments.com: JSON with an API key, /payment/card/start, the hosted card page and 3-D Secure, JWT-signed IPNs, /operation/status and /operation/credit.',
      baseUrl: base(SANDBOX_PREFIXES.netopiaV2),
      instrumentKind: 'card',
      instrumentsNote: `CVV ${NETOPIA_V2_CVV}, any expiry in the future (a past one is 19). Any other card number: 17.`,
      instruments: NETOPIA_V2_CARDS.map((c) => ({ value: c.pan, kind: '—', outcome: NETOPIA_TEXT.en[c.outcome] })),
      account: {
        route: `POST ${SANDBOX_PREFIXES.netopiaV2}/accounts`,
        body: '{"name":"My shop"}',
        returns: 'api_key, pos_signature, notify_public_key_pem, api_url (the API key is shown once)',
      },
      backOffice: [
        {
          method: 'GET',
          path: `${SANDBOX_PREFIXES.netopiaV2}/orders/{ntpID}`,
          how: "An order's state and its IPN delivery log (every attempt), as JSON with the account's API key (Authorization: <key>).",
          page: false,
        },
      ],
    },
    {
      id: 'multisafepay',
      name: 'MultiSafepay',
      provider: 'multisafepay',
      emulates:
        "testapi.multisafepay.com/v1/json: payment links (orders), the hosted payment page with 3-D Secure, notifications signed with the website's API key, cancel and refunds.",
      baseUrl: base(SANDBOX_PREFIXES.multisafepay),
      instrumentKind: 'card',
      instrumentsNote:
        'Any expiry in the future, any CVC of the right length. Cards marked 3-D Secure stop at the 3-D Secure page, where you choose the result.',
      instruments: [...MULTISAFEPAY_CARDS].map(([pan, card]) => ({
        value: pan,
        kind: card.brand,
        outcome: `${card.note}${card.threeDs ? ' · 3-D Secure' : ''}`,
      })),
      account: {
        route: `POST ${SANDBOX_PREFIXES.multisafepay}/accounts`,
        body: '{"name":"My website"}',
        returns: 'api_key, name, api_url',
      },
      backOffice: [
        {
          method: 'GET',
          path: `${SANDBOX_PREFIXES.multisafepay}/v1/json/orders/{order_id}`,
          how: "An order's state, as MultiSafepay's API answers it (header api_key: <the website's key>); PATCH it to cancel, POST …/refunds to refund.",
          page: false,
        },
      ],
    },
    {
      id: 'nexi',
      name: 'Nexi XPay (PayMail links)',
      provider: 'nexi',
      emulates:
        "XPay's back-office API (richiestaPayMail, situazioneOrdine) with MAC-signed envelopes, the PayMail hosted card page, and urlpost notifications.",
      baseUrl: base(SANDBOX_PREFIXES.nexi),
      instrumentKind: 'card',
      instrumentsNote: 'Any expiry in the future (Nexi publishes 12/2030), CVV of 3 digits (4 for Amex). Any other card number is declined (100).',
      instruments: NEXI_CARDS.map((c) => ({
        value: c.pan,
        kind: c.brand,
        outcome: `${c.label}${c.source === 'emulator' ? ' (the emulator’s own card)' : ''}`,
      })),
      account: {
        route: `POST ${SANDBOX_PREFIXES.nexi}/accounts`,
        body: '{"name":"My shop"}',
        returns: 'alias, mac_key, name, api_base',
      },
      backOffice: [
        {
          method: 'POST',
          path: `${SANDBOX_PREFIXES.nexi}/ecomm/api/bo/situazioneOrdine`,
          how: "XPay's order status call (JSON, MAC with the terminal's key).",
          page: false,
        },
        {
          method: 'GET',
          path: `${SANDBOX_PREFIXES.nexi}/back-office/links/{alias}/{codTrans}`,
          how: 'A link with its card tries and each notification with its delivery log, as JSON (HTTP Basic alias:MAC key).',
          page: false,
        },
      ],
    },
    {
      id: 'volt',
      name: 'Volt (pay by bank)',
      provider: 'volt',
      emulates: "Volt's API: OAuth, /v2/payments, the checkout (choose your bank, then the bank's page), signed notifications with Volt's retries, refunds.",
      baseUrl: base(SANDBOX_PREFIXES.volt),
      instrumentKind: 'bank',
      instrumentsNote:
        "No cards: choose one of these banks at the checkout; on the bank's page you authorise the payment, refuse it, cancel it or leave without finishing, and the payment ends accordingly.",
      instruments: SANDBOX_BANKS.map((b) => ({ value: b.name, kind: b.country.name, outcome: 'you choose on its page' })),
      account: {
        route: `POST ${SANDBOX_PREFIXES.volt}/accounts`,
        body: '{"name":"My shop","notification_url":"https://…"}',
        returns: 'client_id, client_secret, username, password, notification_secret, api_url',
      },
      backOffice: [
        {
          method: 'GET',
          path: `${SANDBOX_PREFIXES.volt}/payments`,
          how: "The account's payments (GET …/payments/{id} for one) and GET …/notifications?payment={id} for their notifications, as JSON with an OAuth token (POST …/oauth).",
          page: false,
        },
      ],
    },
  ];
  return {
    emulators,
    inbox: {
      url: `${origin}${SANDBOX_PREFIXES.inbox}/{name}`,
      how: 'Point a webhook endpoint at it (POST /v1/webhook-endpoints {"url":"…/sandbox/inbox/demo"}), then open it in a browser with the endpoint\'s secret: …/sandbox/inbox/demo?secret=whsec_…',
    },
  };
}

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f4f6f8;color:#1d2733;line-height:1.45}
header{background:#2d3e50;color:#fff;padding:.6rem 1rem}header strong{font-size:1.05rem}header span{opacity:.8;margin-left:.5rem;font-size:.85rem}
main{max-width:60rem;margin:1.5rem auto;background:#fff;padding:1.25rem 1.5rem;border-radius:6px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h1{font-size:1.4rem;margin-top:0}h2{font-size:1.15rem;margin-top:2rem;border-top:1px solid #dde3e8;padding-top:1rem}h3{font-size:1rem;margin:1rem 0 .3rem}
nav ul{columns:2;padding-left:1.2rem}code{background:#eef1f4;padding:0 .25rem;border-radius:3px;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #dde3e8;vertical-align:top}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
a{color:#0b4f8a}
`;

const layout = pageLayout({
  style: STYLE,
  titleSuffix: 'incasso sandbox',
  brand: 'incasso sandbox',
  tagline: 'processor emulators · not real payment processors',
});

function backOfficeItem(entry: BackOfficeEntry, origin: string): Html {
  const target = entry.page ? html`<a href="${origin}${entry.path}">${entry.method} ${entry.path}</a>` : html`<code>${entry.method} ${entry.path}</code>`;
  return html`<li>${target}: ${entry.how}</li>`;
}

function emulatorSection(e: SandboxEmulator, origin: string): Html {
  const heading = e.instrumentKind === 'card' ? ['Card number', 'Brand', 'Outcome'] : ['Bank', 'Country', 'Outcome'];
  return html`<section aria-labelledby="${e.id}"><h2 id="${e.id}">${e.name}</h2>
<p>${e.emulates}</p>
<dl><dt>Base URL</dt><dd><code>${e.baseUrl}</code></dd><dt>Hub provider</dt><dd><code>${e.provider}</code></dd></dl>
<h3>Open a sandbox account</h3>
<ul><li>Through the hub, which opens the account and connects it: <code>incasso connections create --code ${e.id} --provider ${e.provider} --environment emulator</code>,
i.e. <code>POST /v1/connections {"code":"${e.id}","provider":"${e.provider}","environment":"emulator"}</code>.</li>
<li>Directly, as the processor's sign-up: <code>${e.account.route}</code> with <code>${e.account.body}</code>. It answers ${e.account.returns}.</li></ul>
<h3>${e.instrumentKind === 'card' ? 'Test cards' : 'Test banks'}</h3>
<p>${e.instrumentsNote}</p>
<table><thead><tr>${heading.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead><tbody>
${e.instruments.map((i) => html`<tr><td><code>${i.value}</code></td><td>${i.kind}</td><td>${i.outcome}</td></tr>`)}
</tbody></table>
<h3>Back office</h3>
<ul>${e.backOffice.map((b) => backOfficeItem(b, origin))}</ul>
</section>`;
}

function sandboxPage(publicUrl: string): string {
  const origin = publicUrl.replace(/\/+$/, '');
  const { emulators, inbox } = describeSandbox(publicUrl);
  const body = html`<h1>Sandbox</h1>
<p>The processors' sides, played offline by this hub: open a sandbox account, connect it, pay with the test cards below,
and act as the processor's operator in its back office. The quickest start is the hub's own:
<code>incasso connections create --code netopia --provider netopia-v1 --environment emulator</code> opens the account and
connects it in one step (README.md, “A five-minute walkthrough”). <a href="/">Hub home</a> · <a href="/docs">API reference</a></p>
<nav aria-label="Emulators"><ul>${emulators.map((e) => html`<li><a href="#${e.id}">${e.name}</a></li>`)}<li><a href="#webhook-inbox">Webhook inbox</a></li></ul></nav>
${emulators.map((e) => emulatorSection(e, origin))}
<section aria-labelledby="webhook-inbox"><h2 id="webhook-inbox">Webhook inbox</h2>
<p>A receiver for the hub's webhooks, at <code>${inbox.url}</code>. ${inbox.how}</p></section>`;
  return layout({ title: 'Sandbox', body });
}

function wantsJson(request: FastifyRequest): boolean {
  const accept = String(request.headers.accept ?? '');
  return accept.includes('application/json') && !accept.includes('text/html');
}

/** GET /sandbox/ (and /sandbox, redirected): the page, or the same as JSON for `Accept: application/json`. */
export function registerSandboxIndex(app: FastifyInstance, options: { publicUrl: string }): void {
  const page = sandboxPage(options.publicUrl);
  app.get('/sandbox', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/sandbox/', 301));
  app.get('/sandbox/', { schema: { hide: true } }, async (request, reply) => {
    reply.header('vary', 'accept');
    if (wantsJson(request)) return describeSandbox(options.publicUrl);
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    return sendHtml(reply, 200, page);
  });
}
