// The report of `npm run bench`: the console summary and bench/RESULTS.md, from the results of a run.
import { tmpdir } from 'node:os';
import type { ClientComparison } from './clients.js';
import { renderClients } from './clients.js';
import { CFG, fmt, mean, ms, pct, table, type Store } from './common.js';
import type { LoadSummary } from './hub.js';
import type { MicroCosts } from './micro.js';
import type { CpuReading } from './proc.js';
import type { RsaBaseline } from './rsa.js';
import { renderSoak, SOAK_BEGIN, SOAK_END, type SoakResult } from './soak.js';

export type RsaResult = RsaBaseline & { othersCores?: number };

export interface EchoResult {
  load: LoadSummary;
  cpu: CpuReading;
}

/** One phase of baseline C, the floor (bench/floor-process.ts). */
interface FloorPhase {
  load: LoadSummary;
  cpu: CpuReading;
  verified: boolean;
  verification: string;
}

/** Baseline C on one store: payment creation and IPNs through the floor. */
export interface FloorResult {
  creation: FloorPhase;
  ipn: FloorPhase;
}

export interface StoreResult {
  store: Store;
  creation: { load: LoadSummary; cpu: CpuReading; queriesPerRequest: number; created: number; verified: boolean; verification: string };
  precreate: { load: LoadSummary };
  ipn: {
    load: LoadSummary;
    cpu: CpuReading;
    queriesPerRequest: number;
    paid: number;
    applied: number;
    expected: number;
    verified: boolean;
    verification: string;
  };
  rss: { idleStartMiB: number; maxDuringCreationMiB: number; maxDuringIpnMiB: number; idleEndMiB: number; peakMiB: number };
  prepS: { precreate: number; openRequests: number; buildIpns: number };
  postgresVersion?: string;
  floor: FloorResult;
}

export interface Report {
  startedAt: Date;
  elapsedS: number;
  machine: { cores: number; logicalCpus: number; cpu: string; node: string; memGiB: number; loadavgStart: number[]; pglite: string };
  rsa: RsaResult[];
  echo: EchoResult[];
  stores: StoreResult[];
  micro?: MicroCosts;
  clients?: ClientComparison;
  soak?: SoakResult;
  /** When this run skipped the soak: the soak section of the previous RESULTS.md, if it had one. */
  previousSoak?: string;
  /** Seconds the soak took (part of elapsedS). */
  soakElapsedS?: number;
  failures: string[];
}

function spread(xs: number[]): string {
  if (xs.length < 2) return '';
  const m = mean(xs);
  return ` (±${(((Math.max(...xs) - Math.min(...xs)) / 2 / m) * 100).toFixed(0)}% between before/after)`;
}

export function render(r: Report): { console: string; markdown: string } {
  const rsaAll = r.rsa.length ? mean(r.rsa.map((x) => x.allCoresOpsPerS)) : NaN;
  const rsaOne = r.rsa.length ? mean(r.rsa.map((x) => x.oneThreadOpsPerS)) : NaN;
  const echoRps = r.echo.length ? mean(r.echo.map((x) => x.load.rps)) : NaN;
  const echoP99 = r.echo.length ? mean(r.echo.map((x) => x.load.latency.p99)) : NaN;
  const ok = (b: boolean) => (b ? 'yes' : '**NO**');
  // The ratio against the mean baseline, with the range it spans against each single baseline measurement.
  const ratio = (value: number, baselines: number[]) => {
    const each = baselines.map((b) => value / b);
    return each.length > 1 ? `${pct(value / mean(baselines))} (${pct(Math.min(...each))}–${pct(Math.max(...each))})` : pct(value / mean(baselines));
  };

  const baselines = table(
    ['baseline', ...r.rsa.map((_, i) => (i === 0 ? 'before' : 'after')), 'used (mean)'],
    [
      ['A: RSA-2048 private op, 1 thread (ops/s)', ...r.rsa.map((x) => fmt(x.oneThreadOpsPerS)), fmt(rsaOne) + spread(r.rsa.map((x) => x.oneThreadOpsPerS))],
      [
        `A: RSA-2048 private op, ${r.rsa[0]?.threads ?? '?'} threads (ops/s)`,
        ...r.rsa.map((x) => fmt(x.allCoresOpsPerS)),
        fmt(rsaAll) + spread(r.rsa.map((x) => x.allCoresOpsPerS)),
      ],
      ['A: cores used by other processes meanwhile', ...r.rsa.map((x) => x.othersCores?.toFixed(2) ?? 'n/a'), ''],
      [
        `B: bare Fastify POST /echo, ${CFG.concurrency} clients (req/s)`,
        ...r.echo.map((x) => fmt(x.load.rps)),
        fmt(echoRps) + spread(r.echo.map((x) => x.load.rps)),
      ],
      [
        'B: bare Fastify p50 / p99 (ms)',
        ...r.echo.map((x) => `${ms(x.load.latency.p50)} / ${ms(x.load.latency.p99)}`),
        `${ms(r.echo.length ? mean(r.echo.map((x) => x.load.latency.p50)) : NaN)} / ${ms(echoP99)}`,
      ],
    ],
  );

  const main = table(
    ['measurement', 'store', 'throughput', 'p50 ms', 'p95 ms', 'p99 ms', 'ratio', 'target', 'results verified'],
    r.stores.flatMap((s) => [
      [
        `IPN confirmed, ${CFG.ipnConcurrency} clients`,
        s.store,
        `${fmt(s.ipn.load.rps)} IPN/s`,
        ms(s.ipn.load.latency.p50),
        ms(s.ipn.load.latency.p95),
        ms(s.ipn.load.latency.p99),
        `${ratio(
          s.ipn.load.rps,
          r.rsa.map((x) => x.allCoresOpsPerS),
        )} of RSA all-cores`,
        s.store === 'postgres' ? '≥ 50%' : '≥ 35%',
        ok(s.ipn.verified),
      ],
      [
        `C: floor IPN, ${CFG.ipnConcurrency} clients`,
        s.store,
        `${fmt(s.floor.ipn.load.rps)} IPN/s`,
        ms(s.floor.ipn.load.latency.p50),
        ms(s.floor.ipn.load.latency.p95),
        ms(s.floor.ipn.load.latency.p99),
        `${ratio(
          s.floor.ipn.load.rps,
          r.rsa.map((x) => x.allCoresOpsPerS),
        )} of RSA all-cores`,
        'upper bound',
        ok(s.floor.ipn.verified),
      ],
      [
        `POST /v1/payments, ${CFG.concurrency} clients`,
        s.store,
        `${fmt(s.creation.load.rps)} payments/s`,
        ms(s.creation.load.latency.p50),
        ms(s.creation.load.latency.p95),
        ms(s.creation.load.latency.p99),
        `${ratio(
          s.creation.load.rps,
          r.echo.map((x) => x.load.rps),
        )} of bare Fastify`,
        '≥ 30%, p99 < 25 ms',
        ok(s.creation.verified),
      ],
      [
        `C: floor POST /v1/payments, ${CFG.concurrency} clients`,
        s.store,
        `${fmt(s.floor.creation.load.rps)} payments/s`,
        ms(s.floor.creation.load.latency.p50),
        ms(s.floor.creation.load.latency.p95),
        ms(s.floor.creation.load.latency.p99),
        `${ratio(
          s.floor.creation.load.rps,
          r.echo.map((x) => x.load.rps),
        )} of bare Fastify`,
        'upper bound',
        ok(s.floor.creation.verified),
      ],
    ]),
  );

  // CPU-normalized ratios: the same comparisons made with CPU time per request instead of requests per second,
  // which other processes on the machine disturb much less (they take cores away, they barely change the CPU a
  // request needs). Server + PostgreSQL backend CPU per request; the load generator is left out on both sides.
  const echoCpuPerReq = r.echo.length ? mean(r.echo.map((e) => (e.cpu.target ?? NaN) / e.load.rps)) : NaN;
  const rsaCpuPerOp = 1 / rsaOne;
  const cpuPerReq = (c: CpuReading, rps: number) => ((c.target ?? NaN) + (c.helpers ?? 0)) / rps;
  const extra = table(
    [
      'store',
      'hub ÷ floor: IPN',
      'hub ÷ floor: creation',
      'IPN/s ÷ RSA 1-thread',
      'CPU-normalized IPN ratio (floor)',
      'CPU-normalized creation ratio (floor)',
      'payments/s at ' + CFG.ipnConcurrency + ' clients (IPN setup)',
      'creation p99 ÷ Fastify p99',
    ],
    r.stores.map((s) => [
      s.store,
      pct(s.ipn.load.rps / s.floor.ipn.load.rps),
      pct(s.creation.load.rps / s.floor.creation.load.rps),
      pct(s.ipn.load.rps / rsaOne),
      `${pct(rsaCpuPerOp / cpuPerReq(s.ipn.cpu, s.ipn.load.rps))} (${pct(rsaCpuPerOp / cpuPerReq(s.floor.ipn.cpu, s.floor.ipn.load.rps))})`,
      `${pct(echoCpuPerReq / cpuPerReq(s.creation.cpu, s.creation.load.rps))} (${pct(echoCpuPerReq / cpuPerReq(s.floor.creation.cpu, s.floor.creation.load.rps))})`,
      fmt(s.precreate.load.rps),
      `${(s.creation.load.latency.p99 / echoP99).toFixed(1)}×`,
    ]),
  );

  const others = (c: CpuReading) =>
    c.machine === undefined ? 'n/a' : Math.max(0, c.machine - (c.target ?? 0) - (c.helpers ?? 0) - c.loadGenerator).toFixed(2);
  const cpuRow = (label: string, store: string, c: CpuReading, rps: number, queries?: number) => [
    label,
    store,
    c.target?.toFixed(2) ?? 'n/a',
    c.targetMain?.toFixed(2) ?? 'n/a',
    c.helpers?.toFixed(2) ?? '-',
    c.loadGenerator.toFixed(2),
    c.machine?.toFixed(2) ?? 'n/a',
    others(c),
    c.target !== undefined ? ms((c.target / rps) * 1000) : 'n/a',
    c.helpers !== undefined ? ms((c.helpers / rps) * 1000) : '-',
    queries === undefined ? '-' : queries.toFixed(1),
  ];
  const cpu = table(
    [
      'phase',
      'store',
      'server process',
      'its main thread',
      'PG backends',
      'load generator',
      'machine',
      'other processes',
      'server CPU ms/req',
      'PG CPU ms/req',
      'DB statements/req',
    ],
    [
      ...r.echo.map((e, i) => cpuRow(`bare Fastify (${i === 0 ? 'before' : 'after'})`, '-', e.cpu, e.load.rps)),
      ...r.stores.flatMap((s) => [
        cpuRow('POST /v1/payments', s.store, s.creation.cpu, s.creation.load.rps, s.creation.queriesPerRequest),
        cpuRow('IPN', s.store, s.ipn.cpu, s.ipn.load.rps, s.ipn.queriesPerRequest),
        cpuRow('C: floor POST /v1/payments', s.store, s.floor.creation.cpu, s.floor.creation.load.rps),
        cpuRow('C: floor IPN', s.store, s.floor.ipn.cpu, s.floor.ipn.load.rps),
      ]),
    ],
  );

  const rss = table(
    ['store', 'idle after start', 'max during creation', 'max during IPN', 'idle after load', 'peak (VmHWM)'],
    r.stores.map((s) => [
      s.store,
      ...[s.rss.idleStartMiB, s.rss.maxDuringCreationMiB, s.rss.maxDuringIpnMiB, s.rss.idleEndMiB, s.rss.peakMiB].map((x) => `${fmt(x, 1)} MiB`),
    ]),
  );

  const micro = r.micro
    ? table(
        ['operation (in-process, one thread, no I/O)', 'µs/op'],
        [
          ['raw RSA-2048 private op (RSA_NO_PADDING)', fmt(r.micro.rawRsaUs)],
          ['openEnvelope (RSA + PKCS#1 implicit-rejection check + AES-256-CBC)', fmt(r.micro.openEnvelopeUs)],
          ['connector.verifyNotification (form parse + openEnvelope + IPN XML parse + checks)', fmt(r.micro.verifyNotificationUs)],
          ['connector.createRedirect (order XML + seal to the NETOPIA certificate)', fmt(r.micro.createRedirectUs)],
          ...(r.micro.pgRoundTripWallUs !== undefined
            ? [
                ['one PostgreSQL statement round trip (SELECT 1, pg client, sequential): wall', fmt(r.micro.pgRoundTripWallUs)],
                ['  of which client CPU (mostly the socket write/read syscalls)', fmt(r.micro.pgRoundTripClientCpuUs)],
              ]
            : []),
        ],
      )
    : '(not measured)';

  const notes: string[] = [];
  r.rsa.forEach((x, i) => {
    const scaling = x.allCoresOpsPerS / x.oneThreadOpsPerS;
    if (scaling < 0.75 * x.threads) {
      notes.push(
        `Baseline A ${i === 0 ? 'before' : 'after'}: RSA on ${x.threads} threads was only ${scaling.toFixed(2)}× one thread (other processes used ${x.othersCores?.toFixed(2) ?? 'n/a'} cores meanwhile): the machine did not give the benchmark all its cores then, which flatters the IPN ratio against it.`,
      );
    }
  });
  const busiest = Math.max(
    0,
    ...r.stores.flatMap((s) => [s.creation.cpu, s.ipn.cpu]).map((c) => (c.machine ?? 0) - (c.target ?? 0) - (c.helpers ?? 0) - c.loadGenerator),
  );
  if (busiest > 0.3)
    notes.push(`Up to ${busiest.toFixed(2)} cores went to other processes during the hub phases: absolute numbers are depressed, ratios less so.`);
  for (const s of r.stores) {
    for (const [what, c] of [
      ['payment creation', s.creation.cpu],
      ['IPN', s.ipn.cpu],
    ] as const) {
      if (c.targetMain !== undefined && c.targetMain > 0.9)
        notes.push(`${s.store} ${what}: the hub's main thread was busy ${pct(c.targetMain)} of the time: the hub is CPU-bound on its event loop.`);
    }
  }
  const verification = r.stores.flatMap((s) => [
    `- ${s.store}, payment creation: ${s.creation.verification} → ${s.creation.verified ? 'OK' : 'FAILED'}`,
    `- ${s.store}, IPN: ${s.ipn.verification} → ${s.ipn.verified ? 'OK' : 'FAILED'}`,
    `- ${s.store}, floor payment creation: ${s.floor.creation.verification} → ${s.floor.creation.verified ? 'OK' : 'FAILED'}`,
    `- ${s.store}, floor IPN: ${s.floor.ipn.verification} → ${s.floor.ipn.verified ? 'OK' : 'FAILED'}`,
  ]);
  const errorSamples = r.stores.flatMap((s) => [
    ...s.creation.load.errorSamples.map((e) => `- ${s.store} creation: ${e}`),
    ...s.ipn.load.errorSamples.map((e) => `- ${s.store} IPN: ${e}`),
    ...s.floor.creation.load.errorSamples.map((e) => `- ${s.store} floor creation: ${e}`),
    ...s.floor.ipn.load.errorSamples.map((e) => `- ${s.store} floor IPN: ${e}`),
  ]);

  const clients = renderClients(
    r.clients,
    CFG.clientRounds === 0 ? '(skipped: BENCH_CLIENT_ROUNDS=0)' : '(not measured: the comparison failed, see the failures above)',
  );
  const soakSkipped = `Skipped in this run (\`BENCH_SOAK_S\` unset or 0). \`BENCH_SOAK_S=300 npm run bench\` runs the 5-minute soak after everything else.`;
  const soak = r.soak
    ? renderSoak(r.soak)
    : r.previousSoak
      ? `${soakSkipped} **The figures below are carried over from an earlier run's RESULTS.md** (their date is in the first line), not measured by this run.\n\n${r.previousSoak}`
      : soakSkipped;

  const consoleText = [
    '',
    '=== baselines (same run) ===',
    baselines,
    '',
    '=== hub ===',
    main,
    '',
    extra,
    ...(notes.length ? ['', ...notes.map((n) => `note: ${n}`)] : []),
    '',
    '=== CPU during each measured phase (1.00 = one core busy the whole phase) ===',
    cpu,
    '',
    '=== in-process micro costs ===',
    micro,
    '',
    '=== hub process RSS ===',
    rss,
    '',
    '=== NETOPIA v1: ours vs mobilpay-card (published client) ===',
    clients,
    '',
    '=== soak ===',
    r.soak
      ? `${renderSoak(r.soak)
          .split('\n')
          .filter((l) => !l.startsWith('<!--'))
          .join('\n')}`
      : soakSkipped,
    '',
    '=== verification ===',
    ...verification,
    ...(r.failures.length ? ['', 'FAILURES:', ...r.failures.map((f) => `- ${f}`)] : []),
    '',
  ].join('\n');

  const m = r.machine;
  const md = `# Benchmark results

Written by \`npm run bench\` (bench/run.ts) on ${r.startedAt.toISOString()}; the run took ${r.elapsedS.toFixed(0)} s${r.soakElapsedS ? `, of which the soak ${r.soakElapsedS.toFixed(0)} s` : ''}.
${r.failures.length ? `\n**This run had failures:**\n\n${r.failures.map((f) => `- ${f}`).join('\n')}\n` : ''}
## Machine

- CPU: ${m.cpu}, ${m.cores} cores available to Node (\`os.availableParallelism()\`), ${m.logicalCpus} logical CPUs
- Memory: ${m.memGiB.toFixed(1)} GiB; load average at start: ${m.loadavgStart.map((x) => x.toFixed(2)).join(' ')} (shared, noisy machine: read the ratios, not the absolute numbers)
- Node ${m.node}; PostgreSQL ${r.stores.find((s) => s.postgresVersion)?.postgresVersion ?? 'n/a'} on loopback; PGlite ${m.pglite} with a data directory in ${tmpdir()}
- Settings: IPN ${CFG.ipnCount} measured + ${CFG.ipnWarmup} warm-up at ${CFG.ipnConcurrency} clients; creation and echo ${CFG.durationS} s at ${CFG.concurrency} clients; RSA ${CFG.rsaDurationS} s per thread count; hub DB pool ${CFG.poolSize}; stores ${CFG.stores.join(', ')}

## Baselines (measured in this run, before and after the hub runs)

${baselines}

## Results and ratios

${main}

Ratios use the mean of the before/after baselines; in brackets, the range against each of the two alone. Targets are the issue's goals. The hub
opens notifications on \`INCASSO_VERIFY_THREADS\` worker threads (one per core); the database client work stays on its main thread, and
PostgreSQL's backends and the load generator share the same two cores.

${extra}

The CPU-normalized ratios make the same comparisons with CPU time instead of throughput, which the other
processes on a shared machine disturb much less: *RSA CPU per private operation ÷ (hub + PostgreSQL backend CPU
per IPN)*, and *bare Fastify server CPU per request ÷ (hub + PostgreSQL backend CPU per payment)*. With every core
to itself and perfect scaling, the throughput ratios would come out near these.

**Baseline C, the floor** (bench/floor-process.ts), runs the hub's own IPN bodies and the same payment requests
with the same clients and store through the least a handler can do and still be durable: node:http with no
framework; for an IPN the form parsed, the envelope opened and the XML parsed with the hub's own code on one thread
per core; for a payment the API key checked against one in-memory SHA-256, the JSON checked and the NETOPIA request
sealed with the hub's own connector; then one INSERT per event-loop turn, committed with the store's durable
settings, then the reply. No ledger read or update, no duplicate check, no outbox, no logging or metrics. Its
ratios are upper bounds for any design of this shape on this machine (HTTP, RSA and the database sharing ${m.cores}
cores with the load generator); *hub ÷ floor* is how much of that bound the hub reaches.
${notes.length ? `\n### Caveats for this run\n\n${notes.map((n) => `- ${n}`).join('\n')}\n` : ''}
## Where the time goes

CPU used during each measured phase, in cores (1.00 = one core busy for the whole phase), read from
\`/proc/<pid>/stat\` (server process total and its main thread alone), the PostgreSQL backends serving the
benchmark database (\`pg_stat_activity\`), this process (the load generator) and \`/proc/stat\` (whole machine, all
${m.logicalCpus} CPUs, so at most ${m.logicalCpus}.00); "other processes" is the rest of the machine (other people's work on
this shared host, PostgreSQL's background processes, the kernel). "DB statements/req" counts every statement
the hub sent to its database during the phase (BEGIN/COMMIT and the background worker's queries included)
divided by the requests served.

${cpu}

In-process cost of the CPU-heavy steps, measured single-threaded in the benchmark process:

${micro}

## Hub process memory (RSS from /proc/<pid>/status)

${rss}

## NETOPIA v1: ours against a published client library

${clients}

## Soak: hub memory under steady load (PostgreSQL)

${soak}

## Verification

${verification.join('\n')}
${errorSamples.length ? `\nError samples:\n\n${errorSamples.join('\n')}\n` : ''}
## What is measured

- **Baseline A**: \`crypto.privateDecrypt({ key, padding: RSA_NO_PADDING }, c)\` with the vanilo RSA-2048 key
  (the exact raw operation the hub's env_key unwrap does), on one worker thread and on one worker thread per
  core at once, ${CFG.rsaDurationS} s each.
- **Baseline B**: a bare Fastify server (own process, \`node --import tsx\`, logger off) with \`POST /echo\`
  returning a small JSON, loaded like the hub: ${CFG.concurrency} keep-alive clients, ${CFG.durationS} s after a 1 s warm-up.
- **IPN**: the hub runs in its own process (bench/hub-process.ts, log level warn, emulators off). An operator
  creates a merchant, the merchant a NETOPIA v1 sandbox connection (vanilo key pair) and ${CFG.ipnWarmup + CFG.ipnCount}
  payments; the benchmark opens each payment's sealed request (\`payment_attempts.redirect.fields\`) to get the
  order XML and seals one distinct \`confirmed\` IPN per payment (own crc and purchase id), so every request is a
  real state change (pending → paid), never a duplicate. ${CFG.ipnWarmup} IPNs warm up, then ${CFG.ipnCount} are fired by
  ${CFG.ipnConcurrency} keep-alive clients. Every reply must be HTTP 200 \`<crc>\` with no error_type echoing that IPN's
  crc; afterwards every payment must be \`paid\` with the full amount captured and every notification \`applied\`.
- **Baseline C, the floor**: bench/floor-process.ts on the same store (PostgreSQL: its tables in the same fresh
  database; PGlite: its own temporary data directory, in the floor's process); the same payment requests for
  ${CFG.durationS} s at ${CFG.concurrency} clients after 300 warm-up ones, then the hub's own IPN bodies replayed (the same ${CFG.ipnWarmup}
  warm-up and ${CFG.ipnCount} measured, same clients). Every payment reply must be 201 with a pending payment and every IPN
  reply must echo its crc; afterwards every one must be in its table.
- **Payment creation**: \`POST /v1/payments\` with the merchant's API key, full JSON validation, a fresh
  \`Idempotency-Key\` per request, the inserts and the sealed NETOPIA request, ${CFG.concurrency} clients for ${CFG.durationS} s
  after 300 warm-up requests. Every reply must be 201 with a pending payment and one attempt; afterwards the
  database must hold exactly one payment, one sealed attempt and one idempotency key per successful reply.
- Load generator (bench/load.ts): closed loop, each client one keep-alive \`http.Agent\` connection, one request at
  a time; latency from sending the request to the end of the reply; exact percentiles over every request. It
  runs in the benchmark process on the same ${m.cores} cores as the server, so its CPU (table above) is taken
  from the server.
- **Client comparison** (bench/clients.ts, bench/clients-child.ts): see its section; \`BENCH_CLIENT_ROUNDS\`
  (${CFG.clientRounds}) rounds of \`BENCH_CLIENT_ROUND_MS\` (${CFG.clientRoundMs}) ms per operation.
- **Soak** (bench/soak.ts): \`BENCH_SOAK_S\` seconds, \`BENCH_SOAK_CONCURRENCY\` clients, one RSS sample every
  \`BENCH_SOAK_SAMPLE_S\` seconds, on its own fresh database and hub after everything else.
- Durable storage: PostgreSQL commits with its own settings on a fresh database; PGlite uses a temporary data
  directory on disk. Both are removed at the end, also on failure or Ctrl-C.

## How to rerun

\`npm run bench\` (about ${Math.max(1, Math.round((r.elapsedS - (r.soakElapsedS ?? 0)) / 60))} min here without the soak; \`BENCH_SOAK_S=300 npm run bench\` adds the 5-minute soak); knobs such as \`BENCH_STORES=postgres BENCH_IPN_COUNT=1000 BENCH_DURATION_S=5 npm run bench\` are listed in bench/README.md.
`;
  return { console: consoleText, markdown: md };
}

/** The soak section of an earlier RESULTS.md (between its markers), to carry over when this run skips the soak. */
export function previousSoakSection(markdown: string | undefined): string | undefined {
  if (!markdown) return undefined;
  const a = markdown.indexOf(SOAK_BEGIN);
  const b = markdown.indexOf(SOAK_END, a);
  return a >= 0 && b > a ? markdown.slice(a, b + SOAK_END.length) : undefined;
}
