const GOOD = new Set(['paid', 'succeeded', 'active', 'captured', 'delivered', 'authorized']);
const BAD = new Set(['failed', 'canceled', 'expired', 'disabled', 'refunded', 'unknown']);
const WAITING = new Set(['pending', 'processing', 'partially_refunded', 'created']);

function paint(column: string, text: string): string {
  if (column !== 'status' || text === '') return text;
  const code = GOOD.has(text) ? 32 : BAD.has(text) ? 31 : WAITING.has(text) ? 33 : 0;
  return code ? `\x1b[${code}m${text}\x1b[0m` : text;
}

/**
 * Prints rows as an aligned text table with the given columns (the CLI's readable output). With `color`, the
 * header is bold and statuses are colored (widths are measured on the plain text).
 */
export function printTable(
  rows: Array<Record<string, unknown>>,
  columns: string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
  color = false,
): void {
  const cell = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[], style: (column: string, text: string) => string) =>
    values
      .map((v, i) => {
        const padded = v.padEnd(widths[i]!);
        return color ? style(columns[i]!, v) + padded.slice(v.length) : padded;
      })
      .join('  ')
      .trimEnd() + '\n';
  out(
    line(
      columns.map((c) => c.toUpperCase()),
      (_c, t) => `\x1b[1m${t}\x1b[0m`,
    ),
  );
  for (const r of rows)
    out(
      line(
        columns.map((c) => cell(r[c])),
        paint,
      ),
    );
  if (rows.length === 0) out('(none)\n');
}
