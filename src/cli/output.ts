import { printTable } from './table.js';

/** Colors only for a person at a terminal: stdout is a TTY and NO_COLOR (https://no-color.org) is unset or empty. */
export function colorsOn(stream: NodeJS.WriteStream = process.stdout): boolean {
  return stream.isTTY === true && !process.env.NO_COLOR;
}

/**
 * A write to a closed pipe (`incasso payments list | head -5`) ends the command quietly with exit 0, as `cat` and
 * `ls` do, instead of an unhandled EPIPE with its stack trace. Any other stdout error is still reported.
 */
export function endQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
  }
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Waits for `work`, showing a spinner with `label` on stderr while it takes longer than a moment. Only when stderr
 * is a terminal: a script or a pipe sees nothing of it.
 */
export async function withProgress<T>(label: string, work: Promise<T>): Promise<T> {
  if (!process.stderr.isTTY) return work;
  let frame = 0;
  let shown = false;
  const tick = () => {
    shown = true;
    process.stderr.write(`\r${FRAMES[frame++ % FRAMES.length]} ${label}\x1b[K`);
  };
  const start = setTimeout(() => {
    tick();
    timer = setInterval(tick, 80);
  }, 150);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await work;
  } finally {
    clearTimeout(start);
    if (timer) clearInterval(timer);
    if (shown) process.stderr.write('\r\x1b[K');
  }
}

/** `--json`: the API's JSON as it came; otherwise a table of `columns` (a single object is a table of one row). */
export function output(json: unknown, options: { json?: boolean }, columns?: string[]): void {
  if (options.json || !columns) {
    process.stdout.write(JSON.stringify(json, null, 2) + '\n');
    return;
  }
  const body = json as { data?: unknown } | null;
  const rows = (Array.isArray(body?.data) ? body.data : [json]) as Array<Record<string, unknown>>;
  printTable(rows, columns, undefined, colorsOn());
}
