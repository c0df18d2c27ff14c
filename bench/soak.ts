// The soak (BENCH_SOAK_S seconds, 0 = skipped): a steady mixed load on the hub with PostgreSQL, sampling the hub
// process's memory, to see whether it stays flat. BENCH_SOAK_CONCURRENCY clients (default 16) each run the whole
// customer flow of a card payment, over and over, closed loop:
//
//   POST /v1/payments        the merchant creates a payment (fresh Idempotency-Key)
//   GET  /pay/:id            the customer's hand-off page; the sealed NETOPIA request is read from its form
//   POST <IPN path>          NETOPIA's `confirmed` IPN for that order (its own crc and purchase id): pending → paid
//   GET  /pay/:id/return     the customer comes back
//
// so every IPN is distinct and a real state change, and the database keeps growing as it would in production.
// Every BENCH_SOAK_SAMPLE_S seconds (default 5) the hub's RSS (/proc) and V8 heap (process.memoryUsage() over
// IPC) are sampled; the verdict comes from the least-squares slope of the RSS over the second half.
import http from 'node:http';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { CFG, fmt, log, ms, table } from './common.js';
import { createCheck, createRequest, ipnReplyCheck, startBenchHub, withPostgresDatabase } from './hub.js';
import { Histogram, send, type BenchRequest } from './load.js';
import { confirmedIpnBody, openRequest } from './netopia.js';
import { CpuMeter, memoryOf, type CpuReading } from './proc.js';

/** Below this RSS slope (MiB per minute, second half of the soak) the verdict is "flat"; see the report text. */
export const FLAT_MIB_PER_MIN = 1;

const KINDS = ['create', 'page', 'ipn', 'return'] as const;
type Kind = (typeof KINDS)[number];

interface Sample {
  tS: number;
  rssMiB: number;
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
}

interface HalfStats {
  flows: number;
  flowsPerS: number;
  latency: Record<Kind, { p50: number; p99: number }>;
}

export interface SoakResult {
  startedAt: string;
  durationS: number;
  concurrency: number;
  sampleS: number;
  samples: Sample[];
  flows: number;
  errors: Record<Kind, number>;
  errorSamples: string[];
  halves: [HalfStats, HalfStats];
  slope: { rss: Fit; heap: Fit };
  cpu: CpuReading;
  loadavgStart: number[];
  loadavgEnd: number[];
  verification: string;
  verified: boolean;
}

interface Fit {
  slopePerMin: number;
  stdErr: number;
  n: number;
}

/** Least-squares line through (t, y): slope per minute and its standard error. */
export function fitSlope(points: Array<[number, number]>): Fit {
  const n = points.length;
  if (n < 3) return { slopePerMin: NaN, stdErr: NaN, n };
  const mt = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const [t, y] of points) {
    sxx += (t - mt) ** 2;
    sxy += (t - mt) * (y - my);
  }
  const slope = sxy / sxx;
  const residual = points.reduce((a, [t, y]) => a + (y - my - slope * (t - mt)) ** 2, 0);
  return { slopePerMin: slope * 60, stdErr: Math.sqrt(residual / (n - 2) / sxx) * 60, n };
}

const HIDDEN_INPUT = /<input type="hidden" name="([^"]+)" value="([^"]*)">/g;

export async function runSoak(): Promise<SoakResult> {
  log(`\n[soak] ${CFG.soakS} s of mixed load on the hub with PostgreSQL, ${CFG.soakConcurrency} clients, RSS sampled every ${CFG.soakSampleS} s`);
  return withPostgresDatabase(
    async (url, backendPids) => {
      const { hub, apiKey, notifyPath } = await startBenchHub('postgres', { BENCH_HUB_DATABASE_URL: url });
      const agent = new http.Agent({ keepAlive: true, maxSockets: CFG.soakConcurrency, maxFreeSockets: CFG.soakConcurrency });
      try {
        const base = new URL(hub.url);
        const errors = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>;
        const errorSamples: string[] = [];
        let halves: Array<Record<Kind, Histogram> & { flows: number }> = [];
        const newHalf = () => Object.assign(Object.fromEntries(KINDS.map((k) => [k, new Histogram()])) as Record<Kind, Histogram>, { flows: 0 });
        let current = newHalf();
        let next = 0;
        let ipnsOk = 0;
        let flowsDone = 0;
        const newCreate = createRequest(apiKey, 'SOAK');

        const step = async (
          kind: Kind,
          req: BenchRequest,
          check: (r: { status: number; headers: http.IncomingHttpHeaders; body: Buffer }) => true | string,
        ) => {
          const t0 = performance.now();
          let verdict: true | string;
          let reply;
          try {
            reply = await send(agent, base, req, 30_000);
            verdict = check(reply);
          } catch (e) {
            verdict = `request failed: ${(e as Error).message}`;
          }
          current[kind].record(performance.now() - t0);
          if (verdict === true) return reply!;
          errors[kind]++;
          if (errorSamples.length < 5) errorSamples.push(`${kind}: ${verdict.slice(0, 300)}`);
          return undefined;
        };

        // One customer flow; false when a step failed (the flow is abandoned, the error counted).
        const flow = async (): Promise<boolean> => {
          const i = next++;
          const created = await step('create', newCreate(i), createCheck);
          if (!created) return false;
          const paymentId = JSON.parse(created.body.toString()).id as string;
          const page = await step('page', { method: 'GET', path: `/pay/${paymentId}` }, (r) =>
            r.status === 200 && r.body.includes('id="handoff"') ? true : `HTTP ${r.status}: ${r.body.toString().slice(0, 200)}`,
          );
          if (!page) return false;
          const fields = Object.fromEntries([...page.body.toString().matchAll(HIDDEN_INPUT)].map((m) => [m[1]!, m[2]!]));
          const orderXml = openRequest(fields);
          const amount = /<invoice currency="RON" amount="([0-9.]+)">/.exec(orderXml)?.[1];
          if (!amount) throw new Error('order XML without an invoice amount');
          const crc = `soak-${paymentId}`;
          const body = confirmedIpnBody(orderXml, amount, crc, String(50_000_000 + i));
          const ipn = await step('ipn', { method: 'POST', path: notifyPath, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body }, (r) =>
            ipnReplyCheck(r, crc),
          );
          if (!ipn) return false;
          ipnsOk++;
          const back = await step('return', { method: 'GET', path: `/pay/${paymentId}/return` }, (r) =>
            r.status === 200 || r.status === 303 ? true : `HTTP ${r.status}`,
          );
          if (!back) return false;
          current.flows++;
          flowsDone++;
          return true;
        };

        // Warm-up: 10 flows per client (JIT, pools, caches), not counted in the halves.
        const guarded = () =>
          flow().catch((e: Error) => {
            // Opening the hand-off page's sealed request or building the IPN failed: counted against the page.
            errors.page++;
            if (errorSamples.length < 5) errorSamples.push(`page: ${e.message.slice(0, 300)}`);
            return false;
          });
        await Promise.all(
          Array.from({ length: CFG.soakConcurrency }, async () => {
            for (let k = 0; k < 10; k++) await guarded();
          }),
        );
        current = newHalf();

        const samples: Sample[] = [];
        const t0 = performance.now();
        const sample = async (last = false) => {
          const tS = (performance.now() - t0) / 1000;
          const rssMiB = memoryOf(hub.pid)?.rssMiB ?? NaN;
          const m = await hub.memory();
          const s = {
            tS,
            rssMiB,
            heapUsedMiB: m.heapUsed / 2 ** 20,
            heapTotalMiB: m.heapTotal / 2 ** 20,
            externalMiB: (m.external + m.arrayBuffers) / 2 ** 20,
          };
          samples.push(s);
          if (last || (samples.length - 1) % Math.max(1, Math.round(60 / CFG.soakSampleS)) === 0) {
            log(
              `  t=${tS.toFixed(0)} s: RSS ${fmt(s.rssMiB, 1)} MiB, V8 heap used ${fmt(s.heapUsedMiB, 1)} of ${fmt(s.heapTotalMiB, 1)} MiB, external ${fmt(s.externalMiB, 1)} MiB; ${fmt(flowsDone)} flows so far (warm-up included)`,
            );
          }
        };
        const loadavgStart = loadavg();
        const meter = new CpuMeter(hub.pid, await backendPids());
        await sample();
        const timer = setInterval(() => void sample(), CFG.soakSampleS * 1000);
        const halfTimer = setTimeout(
          () => {
            halves.push(current);
            current = newHalf();
          },
          (CFG.soakS * 1000) / 2,
        );
        const deadline = t0 + CFG.soakS * 1000;
        await Promise.all(
          Array.from({ length: CFG.soakConcurrency }, async () => {
            while (performance.now() < deadline) await guarded();
          }),
        );
        clearInterval(timer);
        clearTimeout(halfTimer);
        halves.push(current);
        if (halves.length < 2) halves = [newHalf(), halves[0]!];
        const cpu = meter.stop(await backendPids());
        await sample(true);
        const durationS = (performance.now() - t0) / 1000;

        const count = async (text: string) => Number((await hub.query<{ n: number }>(text))[0]!.n);
        const created = await count(`SELECT count(*)::int AS n FROM payments WHERE order_id LIKE 'SOAK-%'`);
        const paid = await count(`SELECT count(*)::int AS n FROM payments WHERE order_id LIKE 'SOAK-%' AND status = 'paid' AND amount_captured = amount`);
        const applied = await count(`SELECT count(*)::int AS n FROM notifications WHERE status = 'applied'`);
        const totalErrors = KINDS.reduce((a, k) => a + errors[k], 0);
        const verified = totalErrors === 0 && paid === ipnsOk && applied === ipnsOk && created === next;
        const verification = `${created} payments created for ${next} flows started, ${paid} paid with the full amount and ${applied} notifications applied for ${ipnsOk} accepted IPNs; ${totalErrors} failed requests`;
        log(`  verification: ${verification} → ${verified ? 'OK' : 'FAILED'}`);

        const half = (h: (typeof halves)[number], seconds: number): HalfStats => ({
          flows: h.flows,
          flowsPerS: h.flows / seconds,
          latency: Object.fromEntries(KINDS.map((k) => [k, { p50: h[k].percentile(50), p99: h[k].percentile(99) }])) as HalfStats['latency'],
        });
        samples.sort((a, b) => a.tS - b.tS);
        const second = samples.filter((s) => s.tS >= durationS / 2);
        return {
          startedAt: new Date(Date.now() - durationS * 1000).toISOString(),
          durationS,
          concurrency: CFG.soakConcurrency,
          sampleS: CFG.soakSampleS,
          samples,
          flows: halves[0]!.flows + halves[1]!.flows,
          errors,
          errorSamples,
          halves: [half(halves[0]!, CFG.soakS / 2), half(halves[1]!, durationS - CFG.soakS / 2)],
          slope: { rss: fitSlope(second.map((s) => [s.tS, s.rssMiB])), heap: fitSlope(second.map((s) => [s.tS, s.heapUsedMiB])) },
          cpu,
          loadavgStart,
          loadavgEnd: loadavg(),
          verification,
          verified,
        };
      } finally {
        agent.destroy();
        await hub.stop();
      }
    },
    { suffix: '_soak', roundTrip: false },
  );
}

// ---------------------------------------------------------------------------------------------- report

export const SOAK_BEGIN = '<!-- soak:begin -->';
export const SOAK_END = '<!-- soak:end -->';

/** "flat" when the RSS slope over the second half is below FLAT_MIB_PER_MIN, else "growing". */
export function soakVerdict(s: SoakResult): string {
  return s.slope.rss.slopePerMin < FLAT_MIB_PER_MIN ? 'flat' : 'growing';
}

/** Roughly the 95% one-sided upper bound of the slope (estimate + 2 standard errors). */
const upperBound = (f: Fit) => f.slopePerMin + 2 * f.stdErr;

export function renderSoak(s: SoakResult): string {
  const stat = (xs: number[]) => ({ first: xs[0]!, last: xs.at(-1)!, min: Math.min(...xs), max: Math.max(...xs) });
  const rss = stat(s.samples.map((x) => x.rssMiB));
  const heap = stat(s.samples.map((x) => x.heapUsedMiB));
  const mib = (n: number) => `${fmt(n, 1)} MiB`;
  const slope = (f: Fit) => `${f.slopePerMin >= 0 ? '+' : ''}${f.slopePerMin.toFixed(2)} ± ${f.stdErr.toFixed(2)} MiB/min`;
  const requestsPerMin = s.halves[1].flowsPerS * 4 * 60;
  const bytesPerRequest = (f: Fit) => (f.slopePerMin * 2 ** 20) / requestsPerMin;
  const verdict = soakVerdict(s);
  const memory = table(
    ['hub process', 'first', 'last', 'min', 'max', 'slope over the second half (least squares ± std. error)', 'per request (4 per flow)'],
    [
      ['RSS (/proc/<pid>/status)', mib(rss.first), mib(rss.last), mib(rss.min), mib(rss.max), slope(s.slope.rss), `${fmt(bytesPerRequest(s.slope.rss))} bytes`],
      [
        'V8 heap used (process.memoryUsage())',
        mib(heap.first),
        mib(heap.last),
        mib(heap.min),
        mib(heap.max),
        slope(s.slope.heap),
        `${fmt(bytesPerRequest(s.slope.heap))} bytes`,
      ],
    ],
  );
  const everyMinute = s.samples.filter((x, i) => i === 0 || i === s.samples.length - 1 || Math.floor(x.tS / 60) !== Math.floor(s.samples[i - 1]!.tS / 60));
  const timeline = table(
    ['t (s)', 'RSS', 'V8 heap used', 'V8 heap total', 'external + array buffers'],
    everyMinute.map((x) => [x.tS.toFixed(0), mib(x.rssMiB), mib(x.heapUsedMiB), mib(x.heapTotalMiB), mib(x.externalMiB)]),
  );
  const load = table(
    ['half', 'flows/s', ...KINDS.map((k) => `${k} p50 / p99 ms`)],
    s.halves.map((h, i) => [i === 0 ? 'first' : 'second', fmt(h.flowsPerS, 1), ...KINDS.map((k) => `${ms(h.latency[k].p50)} / ${ms(h.latency[k].p99)}`)]),
  );
  const c = s.cpu;
  const others = c.machine === undefined ? 'n/a' : Math.max(0, c.machine - (c.target ?? 0) - (c.helpers ?? 0) - c.loadGenerator).toFixed(2);
  return `${SOAK_BEGIN}
Run started ${s.startedAt}: ${s.durationS.toFixed(0)} s, ${s.concurrency} clients, each repeating a card payment's whole flow (create → hand-off page → distinct \`confirmed\` IPN → return page), RSS sampled every ${s.sampleS} s. Load average ${s.loadavgStart.map((x) => x.toFixed(2)).join(' ')} at the start, ${s.loadavgEnd.map((x) => x.toFixed(2)).join(' ')} at the end; CPU in cores over the soak: hub ${c.target?.toFixed(2) ?? 'n/a'}, PostgreSQL backends ${c.helpers?.toFixed(2) ?? 'n/a'}, load generator ${c.loadGenerator.toFixed(2)}, other processes ${others} (machine ${c.machine?.toFixed(2) ?? 'n/a'} of 2).

**Verdict: ${verdict}** — the RSS slope over the second half is ${slope(s.slope.rss)} (threshold ${FLAT_MIB_PER_MIN} MiB/min; with two standard errors at most ${upperBound(s.slope.rss).toFixed(2)} MiB/min${verdict === 'flat' && upperBound(s.slope.rss) >= FLAT_MIB_PER_MIN ? ', so this run alone cannot rule out growth of the threshold size: read it as "no clear growth"' : ''}).

${memory}

${timeline}

${load}

- ${fmt(s.flows)} flows (${fmt(s.flows * 4)} requests) in the two halves; failed requests: ${KINDS.map((k) => `${k} ${s.errors[k]}`).join(', ')}.${s.errorSamples.length ? ` Samples: ${s.errorSamples.map((e) => `\`${e}\``).join('; ')}` : ''}
- Verification: ${s.verification} → ${s.verified ? 'OK' : '**FAILED**'}.
- Why ${FLAT_MIB_PER_MIN} MiB/min: a leak is memory kept per unit of work, and at this run's rate (${fmt(requestsPerMin)} requests/min) ${FLAT_MIB_PER_MIN} MiB/min is ${fmt((FLAT_MIB_PER_MIN * 2 ** 20) / requestsPerMin)} bytes per request: anything the hub kept per request (a map entry keyed by a payment id, a closure, a buffer) would be above it. Much smaller is not measurable in minutes: the V8 heap breathes by tens of MiB between collections, so a fit over the second half with one sample every ${s.sampleS} s knows the slope only to ±${s.slope.rss.stdErr.toFixed(2)} MiB/min here (one standard error). ${FLAT_MIB_PER_MIN} MiB/min is still ${fmt((FLAT_MIB_PER_MIN * 60 * 24) / 1024, 1)} GiB a day, so "flat" means "no leak of that size"; a longer soak (\`BENCH_SOAK_S=3600\`) looks for slower ones. The first half is left out of the fit because heaps, caches and connection pools are still growing to (or shrinking back to) their working size then.
${SOAK_END}`;
}
