import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';

/**
 * One language per page: the page declares its language in `<html lang>`, its visible text (the main content, the
 * header's tagline, placeholders and the select options a payer reads) holds words of that language's catalogue,
 * and no word of another language's catalogue (one that the declared language does not share). Catalogue strings
 * are compared by their fixed parts (the text between `{placeholders}`), as whole words, case-sensitively.
 */

type Catalogues = Readonly<Record<string, Readonly<Record<string, string>>>>;

function fragments(words: Readonly<Record<string, string>>): Set<string> {
  const out = new Set<string>();
  for (const text of Object.values(words))
    for (const part of text.split(/\{[a-zA-Z_]+\}/)) {
      const trimmed = part.trim().replace(/^[\s.,:;()«»„”]+|[\s.,:;()«»„”]+$/g, '');
      if (trimmed.length >= 3) out.add(trimmed);
    }
  return out;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const contains = (text: string, fragment: string) => new RegExp(`(?<![\\p{L}\\p{N}])${escape(fragment)}(?![\\p{L}\\p{N}])`, 'u').test(text);

/** The text a payer reads on the page (the emulators' brand name in the header excepted: it is a name). */
export async function visibleText(page: Page): Promise<string> {
  return page.evaluate(() => {
    const parts: string[] = [];
    const main = document.querySelector('main') ?? document.body;
    parts.push((main as HTMLElement).innerText);
    for (const el of document.querySelectorAll('header span')) parts.push((el as HTMLElement).innerText);
    for (const el of document.querySelectorAll('[placeholder]')) parts.push(el.getAttribute('placeholder') ?? '');
    for (const el of document.querySelectorAll('option')) parts.push(el.textContent ?? '');
    for (const el of document.querySelectorAll('details')) parts.push(el.textContent ?? '');
    parts.push(document.title);
    return parts.join('\n');
  });
}

/**
 * Fails unless the page declares `expected` (one of the catalogue's languages), shows at least `minimum` strings of
 * that language that no other language shares, and shows no string of another language that `expected` lacks.
 */
export async function expectOneLanguage(page: Page, catalogues: Catalogues, expected: string, minimum = 2): Promise<void> {
  const declared = await page.evaluate(() => document.documentElement.lang);
  assert.equal(declared, expected, `<html lang> of ${page.url()}`);
  assert.ok(catalogues[declared], `the catalogue has no ${declared}`);
  const text = await visibleText(page);
  const own = fragments(catalogues[declared]!);
  const others = new Set<string>();
  for (const [lang, words] of Object.entries(catalogues)) if (lang !== declared) for (const f of fragments(words)) others.add(f);
  const foreign = [...others].filter((f) => !own.has(f) && contains(text, f) && ![...own].some((o) => o.includes(f) && contains(text, o)));
  assert.deepEqual(foreign, [], `strings of another language on the ${declared} page ${page.url()}:\n${text}`);
  const ownOnly = [...own].filter((f) => !others.has(f) && contains(text, f));
  assert.ok(ownOnly.length >= minimum, `only ${ownOnly.length} ${declared} catalogue strings on ${page.url()}: ${ownOnly.join(' | ')}\n${text}`);
}
