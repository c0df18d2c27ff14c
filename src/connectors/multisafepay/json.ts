/**
 * MultiSafepay's JSON carries PSP ids as bare numbers that outgrow JavaScript's safe integers
 * (`"transaction_id": 17472052901237122` in its own getOrder example). JSON.parse would round them, so
 * integer literals too long to be exact are turned into strings before parsing; every other value is parsed
 * as usual. Node 20's JSON.parse gives revivers no access to the source text, hence the small scanner.
 */

/** Integers with more digits than this may not survive a round trip through a double. */
const EXACT_DIGITS = 15;

export class MspJsonError extends Error {
  override name = 'MspJsonError';
}

function quoteLongIntegers(text: string): string {
  let out = '';
  let i = 0;
  let copiedUpTo = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Skip a string literal, escapes included.
      i++;
      while (i < text.length) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i += 2;
        else if (d === 0x22) {
          i++;
          break;
        } else i++;
      }
      continue;
    }
    if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      if (c === 0x2d) i++;
      const digitsStart = i;
      while (i < text.length && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
      const digits = i - digitsStart;
      const next = text[i];
      const fractional = next === '.' || next === 'e' || next === 'E';
      if (!fractional && digits > EXACT_DIGITS) {
        out += text.slice(copiedUpTo, start) + '"' + text.slice(start, i) + '"';
        copiedUpTo = i;
      }
      continue;
    }
    i++;
  }
  return copiedUpTo === 0 ? text : out + text.slice(copiedUpTo);
}

/** Parses MultiSafepay JSON; integers longer than 15 digits come back as strings. Throws MspJsonError. */
export function parseMspJson(text: string): unknown {
  try {
    return JSON.parse(quoteLongIntegers(text));
  } catch (e) {
    throw new MspJsonError(`not JSON: ${(e as Error).message}`);
  }
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A PSP id (number or string) as text; undefined when absent or unusable. */
export function idText(v: unknown): string | undefined {
  if (typeof v === 'string' && v.length > 0 && v.length <= 64) return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  return undefined;
}

export function optionalString(v: unknown, max = 1000): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v.slice(0, max) : undefined;
}
