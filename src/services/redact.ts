/**
 * A notification's raw body as people may read it in the console: the values of fields that hold secrets or card
 * data (signatures, keys, tokens, passwords, card numbers, CVV, expiry, card holder) replaced by `[redacted]`, and
 * any run of 13 to 19 digits that passes the Luhn check (a card number, wherever it stands) masked to its last
 * four digits. JSON and form bodies are read field by field; anything else (XML, text) by pattern.
 */

const SECRET_NAME =
  /(pass(word|wd)?|secret|signature|^sign$|signed|token|api[-_]?key|private|^key$|env[-_]?key|credential|authorization|cvv|cvc|cv2|card[-_]?(number|no|num)|^pan$|^number$|expir|exp[-_]?(month|year|date)|card[-_]?holder|holder[-_]?name|iban)/i;

export const REDACTED = '[redacted]';
const MAX_CHARS = 64 * 1024;

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Card numbers (13–19 digits, spaces or dashes allowed between groups, Luhn-valid) masked to their last four. */
export function maskCardNumbers(text: string): string {
  return text.replace(/(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])/g, (run) => {
    const digits = run.replace(/[ -]/g, '');
    return digits.length >= 13 && digits.length <= 19 && luhn(digits) ? `****${digits.slice(-4)}` : run;
  });
}

function redactJson(value: unknown, name = ''): unknown {
  if (name && SECRET_NAME.test(name) && value !== null && typeof value !== 'object') return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redactJson(v, name));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_NAME.test(k) && (v === null || typeof v !== 'object') ? REDACTED : redactJson(v, k);
    return out;
  }
  return typeof value === 'string' ? maskCardNumbers(value) : value;
}

function redactForm(text: string): string {
  const params = new URLSearchParams(text);
  return [...params].map(([k, v]) => `${k}=${SECRET_NAME.test(k) ? REDACTED : maskCardNumbers(v)}`).join('\n');
}

function redactMarkup(text: string): string {
  return (
    text
      // <Signature>…</Signature>, <ns:cvv>…</ns:cvv>: the element's text content.
      .replace(/<((?:[\w.-]+:)?([\w.-]+))(\s[^<>]*)?>([^<]*)<\/\1\s*>/g, (whole, tag: string, local: string, attrs: string | undefined) =>
        SECRET_NAME.test(local) ? `<${tag}${attrs ?? ''}>${REDACTED}</${tag}>` : whole,
      )
      // name="value" attributes, and key=value / "key": "value" pairs in any other text.
      .replace(/([\w.-]+)(\s*=\s*)(["'])([^"']*)\3/g, (whole, key: string, eq: string, q: string) =>
        SECRET_NAME.test(key) ? `${key}${eq}${q}${REDACTED}${q}` : whole,
      )
      .replace(/(^|[&\s;,?])([\w.-]+)=(?!["'])([^&\s;,<>"']*)/g, (whole, lead: string, key: string) =>
        SECRET_NAME.test(key) ? `${lead}${key}=${REDACTED}` : whole,
      )
  );
}

/** The body as readable, redacted text (at most 64 KiB of it). */
export function redactBody(contentType: string | null, body: Uint8Array): string {
  const text = Buffer.from(body).toString('utf8').slice(0, MAX_CHARS);
  const type = (contentType ?? '').toLowerCase();
  const trimmed = text.trimStart();
  if (type.includes('json') || trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.stringify(redactJson(JSON.parse(text)), null, 2);
    } catch {
      // not JSON after all: by pattern below
    }
  }
  if (type.includes('x-www-form-urlencoded')) return redactForm(text);
  return maskCardNumbers(redactMarkup(text));
}
