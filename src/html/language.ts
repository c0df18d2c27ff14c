/**
 * The payer's language on a page: one language per page, chosen from what the payment says (the order's language,
 * a locale such as `it_IT`), else the browser's Accept-Language, else English. Each page family keeps its words
 * in a catalogue: one object per language with the same keys, typed so that a missing (or extra) key is a type
 * error. A leaf like template.ts: the hub's pages and the emulators' both use it.
 */

/** One language's words for a page family; `{name}` marks a value filled in with `fill`. */
export type Words<K extends string> = Readonly<Record<K, string>>;

/** Every language of a family with the same keys as `en` (the type checker refuses a missing key). */
export type Catalogue<L extends string, K extends string> = Readonly<Record<L, Words<K>>>;

/** The keys of a language's words, e.g. `KeysOf<typeof EN>`. */
export type KeysOf<T> = Extract<keyof T, string>;

/** `template` with each `{name}` replaced by `values[name]` (a name not given stays as written). */
export function fill(template: string, values: Readonly<Record<string, string | number>>): string {
  return template.replace(/\{([a-zA-Z_]+)\}/g, (whole, name: string) => (Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole));
}

/** The ISO 639-1 code of a language tag or locale (`ro`, `RO`, `ro-RO`, `it_IT`); undefined when it is none. */
export function primaryLanguage(tag: unknown): string | undefined {
  if (typeof tag !== 'string') return undefined;
  const m = /^\s*([a-zA-Z]{2})(?:[-_][a-zA-Z0-9]{1,8})*\s*$/.exec(tag);
  return m ? m[1]!.toLowerCase() : undefined;
}

/** The languages of an Accept-Language header, most wanted first (q=0 and malformed entries left out). */
export function acceptedLanguages(header: unknown): string[] {
  if (typeof header !== 'string') return [];
  const ranked: { lang: string; q: number; at: number }[] = [];
  header
    .slice(0, 1000)
    .split(',')
    .forEach((part, at) => {
      const [tag, ...params] = part.split(';');
      const lang = primaryLanguage(tag);
      if (!lang) return;
      let q = 1;
      for (const p of params) {
        const m = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/.exec(p);
        if (m) q = Number(m[1]);
      }
      if (q > 0) ranked.push({ lang, q, at });
    });
  ranked.sort((a, b) => b.q - a.q || a.at - b.at);
  return ranked.map((r) => r.lang);
}

/**
 * The page's language among `supported` (whose first entry need not be English): the first of `asked` (the
 * payment's own language, in order of preference) that is supported, else the first supported one the browser
 * accepts, else English.
 */
export function chooseLanguage<L extends string>(supported: readonly L[], asked: readonly unknown[], acceptLanguage?: unknown): L {
  const isSupported = (x: string | undefined): x is L => x !== undefined && (supported as readonly string[]).includes(x);
  for (const a of asked) {
    const lang = primaryLanguage(a);
    if (isSupported(lang)) return lang;
  }
  for (const lang of acceptedLanguages(acceptLanguage)) if (isSupported(lang)) return lang;
  return (isSupported('en') ? 'en' : supported[0]!) as L;
}
