// A customer without a browser: loads the hub's payment page, submits its sealed hand-off form to NETOPIA (the
// emulator), follows the redirect to the hosted card page and posts the card form with the fields the page
// itself has (card_number, expiry, cvv), then the 3-D Secure step when the card asks for one. Every request is
// what the auto-submitting page and a person at the keyboard would send.

export const CARDS = {
  approved: '9900004810225098',
  threeDs: '9900009184214768',
  expired: '9900541631437790',
  insufficientFunds: '9900518572831942',
  wrongCvv: '9900827979991500',
  notPermitted: '9900576270414197',
} as const;

export interface HandOff {
  url: string;
  fields: Record<string, string>;
}

function unescapeHtml(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (_m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e]!);
}

function attribute(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return m ? unescapeHtml(m[1]!) : undefined;
}

/** The hub's auto-submit form (`<form id="handoff" …>` with hidden inputs), or undefined on a status page. */
export function parseHandOff(html: string): HandOff | undefined {
  const form = /<form id="handoff"[^>]*>([\s\S]*?)<\/form>/.exec(html);
  if (!form) return undefined;
  const url = attribute(form[0].slice(0, form[0].indexOf('>') + 1), 'action');
  if (!url) return undefined;
  const fields: Record<string, string> = {};
  for (const input of form[1]!.match(/<input [^>]*>/g) ?? []) {
    const name = attribute(input, 'name');
    if (name !== undefined) fields[name] = attribute(input, 'value') ?? '';
  }
  return { url, fields };
}

/** The action of the first form on a page that has an input named `field`. */
function formActionWith(html: string, field: string): string | undefined {
  for (const form of html.match(/<form [^>]*>[\s\S]*?<\/form>/g) ?? []) {
    if (new RegExp(`name="${field}"`).test(form)) return attribute(form.slice(0, form.indexOf('>') + 1), 'action');
  }
  return undefined;
}

const FORM = 'application/x-www-form-urlencoded';

async function get(url: string) {
  const r = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(15_000) });
  return { status: r.status, location: r.headers.get('location'), text: await r.text() };
}

async function postForm(url: string, fields: Record<string, string>) {
  const r = await fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': FORM },
    body: new URLSearchParams(fields).toString(),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: r.status, location: r.headers.get('location'), text: await r.text() };
}

/** Loads `/pay/:id`. `handoff` when the page hands the customer to the processor, `status` otherwise. */
export async function openPaymentPage(payUrl: string): Promise<{ kind: 'handoff'; handoff: HandOff } | { kind: 'status'; status: number; html: string }> {
  const page = await get(payUrl);
  if (page.status !== 200) return { kind: 'status', status: page.status, html: page.text };
  const handoff = parseHandOff(page.text);
  return handoff ? { kind: 'handoff', handoff } : { kind: 'status', status: page.status, html: page.text };
}

export type CardResult =
  | { kind: 'returned'; purchase: string; returnUrl: string }
  /** NETOPIA already processed this order (duplicate request 56): the hub still shows an old attempt. */
  | { kind: 'already_processed'; detail: string };

/**
 * Posts the hand-off form to NETOPIA and pays on the card page. Resolves once NETOPIA sends the customer back
 * (it has called the confirm URL first, successfully or not).
 */
export async function payAtProcessor(
  handoff: HandOff,
  card: { pan: string; cvv?: string; expiry?: string; threeDs?: 'authorize' | 'fail' },
): Promise<CardResult> {
  const posted = await postForm(handoff.url, handoff.fields);
  if (posted.status === 400 && /duplicate request \(56\)/.test(posted.text)) return { kind: 'already_processed', detail: posted.text };
  if (posted.status !== 303 || !posted.location) throw new Error(`NETOPIA refused the hand-off: ${posted.status} ${posted.text.slice(0, 500)}`);
  const cardUrl = new URL(posted.location, handoff.url).toString();
  const purchase = /\/(?:card|3ds)\/(\d+)/.exec(cardUrl)?.[1];
  if (!purchase) throw new Error(`unexpected card page URL ${cardUrl}`);
  const page = await get(cardUrl);
  if (page.status !== 200) {
    if (/duplicate request \(56\)/.test(page.text)) return { kind: 'already_processed', detail: page.text };
    throw new Error(`card page ${cardUrl}: ${page.status} ${page.text.slice(0, 500)}`);
  }
  const action = formActionWith(page.text, 'card_number');
  if (!action) throw new Error(`no card form on ${cardUrl}`);
  const paid = await postForm(new URL(action, cardUrl).toString(), { card_number: card.pan, expiry: card.expiry ?? '12/30', cvv: card.cvv ?? '111' });
  if (paid.status !== 303 || !paid.location) {
    if (/duplicate request \(56\)/.test(paid.text)) return { kind: 'already_processed', detail: paid.text };
    throw new Error(`card form: ${paid.status} ${paid.text.slice(0, 500)}`);
  }
  let location = new URL(paid.location, cardUrl).toString();
  if (/\/3ds\/\d+(\?|$)/.test(location)) {
    const challenge = await get(location);
    const threeDsAction = formActionWith(challenge.text, 'result');
    if (challenge.status !== 200 || !threeDsAction) throw new Error(`3-D Secure page: ${challenge.status} ${challenge.text.slice(0, 500)}`);
    const done = await postForm(new URL(threeDsAction, location).toString(), { result: card.threeDs ?? 'authorize' });
    if (done.status !== 303 || !done.location) throw new Error(`3-D Secure: ${done.status} ${done.text.slice(0, 500)}`);
    location = new URL(done.location, location).toString();
  }
  return { kind: 'returned', purchase, returnUrl: location };
}
