/** Prints rows as an aligned text table with the given columns (the CLI's readable output). */
export function printTable(rows: Array<Record<string, unknown>>, columns: string[], out: (s: string) => void = (s) => process.stdout.write(s)): void {
  const cell = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd() + '\n';
  out(line(columns.map((c) => c.toUpperCase())));
  for (const r of rows) out(line(columns.map((c) => cell(r[c]))));
  if (rows.length === 0) out('(none)\n');
}
