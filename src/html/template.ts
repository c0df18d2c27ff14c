/**
 * Server-side HTML. `html` escapes every interpolated value unless it is itself the result of `html`, so
 * markup can only come from template literals in code, never from data (descriptions, names and URLs are
 * all someone else's input). It lives outside `src/http/` because the emulators' pages use it too, and the
 * emulators may import only core, connector codecs and this (see .dependency-cruiser.cjs).
 */

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export class Html {
  constructor(readonly text: string) {}
}

export type Interpolation = Html | string | number | boolean | null | undefined | readonly Interpolation[];

function render(value: Interpolation): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  // false/null/undefined render as nothing so that `cond && html\`…\`` reads naturally.
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}
