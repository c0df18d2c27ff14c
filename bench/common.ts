// What every part of `npm run bench` shares: the configuration (BENCH_* variables, see bench/README.md), the run
// id, number formatting, the markdown table helper and the cleanup registry (servers stopped, database dropped,
// temporary files removed, also on failure or Ctrl-C).
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------------------------- configuration

const env = process.env;
const num = (name: string, fallback: number, allowZero = false) => {
  const v = env[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || (n === 0 && !allowZero)) throw new Error(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${v}`);
  return n;
};
const STORES = (env.BENCH_STORES ?? 'pglite,postgres')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean) as Array<'pglite' | 'postgres'>;
for (const s of STORES) if (s !== 'pglite' && s !== 'postgres') throw new Error(`BENCH_STORES: unknown store ${s}`);
export const CFG = {
  stores: STORES,
  ipnCount: Math.floor(num('BENCH_IPN_COUNT', 2000)),
  ipnWarmup: Math.floor(num('BENCH_IPN_WARMUP', 100)),
  ipnConcurrency: Math.floor(num('BENCH_IPN_CONCURRENCY', 32)),
  durationS: num('BENCH_DURATION_S', 5),
  concurrency: Math.floor(num('BENCH_CONCURRENCY', 64)),
  rsaDurationS: num('BENCH_RSA_DURATION_S', 3),
  poolSize: Math.floor(num('BENCH_DB_POOL_SIZE', 10)),
  pgUrl: env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  logLevel: env.BENCH_LOG_LEVEL ?? 'warn',
  cpuProfDir: env.BENCH_CPU_PROF_DIR || undefined,
  resultsFile: env.BENCH_RESULTS_FILE ?? fileURLToPath(new URL('./RESULTS.md', import.meta.url)),
  /** Library comparison (bench/clients.ts): paired rounds, and the length of one measurement in a round. 0 rounds = skipped. */
  clientRounds: Math.floor(num('BENCH_CLIENT_ROUNDS', 8, true)),
  clientRoundMs: num('BENCH_CLIENT_ROUND_MS', 250),
  /** Soak (bench/soak.ts) against the PostgreSQL hub: seconds (0 = skipped), clients, RSS sampling interval. */
  soakS: num('BENCH_SOAK_S', 0, true),
  soakConcurrency: Math.floor(num('BENCH_SOAK_CONCURRENCY', 16)),
  soakSampleS: num('BENCH_SOAK_SAMPLE_S', 5),
};
export type Store = 'pglite' | 'postgres';

export const RUN_ID = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
export const BILLING = { first_name: 'Ștefan', last_name: 'Țăran', email: 'stefan@example.ro', phone: '+40712345678', city: 'Cluj-Napoca', country: 'RO' };

// ---------------------------------------------------------------------------------------------- formatting

export const log = (line: string) => console.error(line);
export const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || Number.isNaN(n) ? 'n/a' : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const ms = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? 'n/a' : n < 10 ? n.toFixed(2) : n.toFixed(1));
export const pct = (n: number | undefined) => (n === undefined || Number.isNaN(n) ? 'n/a' : `${(n * 100).toFixed(1)}%`);
export const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
export function median(xs: number[]): number {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** A markdown table, padded so it also reads well on the console. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------------------------------------- cleanup

const cleanups: Array<{ what: string; run: () => Promise<void> | void }> = [];
let cleaning: Promise<void> | undefined;

export function onCleanup(what: string, run: () => Promise<void> | void) {
  cleanups.push({ what, run });
}

export function cleanupAll(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length) {
      const c = cleanups.pop()!;
      try {
        await c.run();
      } catch (e) {
        console.error(`cleanup (${c.what}) failed: ${(e as Error).message}`);
      }
    }
  })();
  return cleaning;
}
