// A small closed-loop HTTP load generator: C clients, each with its own keep-alive connection, send one request,
// wait for the whole reply, check it, and send the next, until a fixed number of requests or a duration is used
// up. Every latency is recorded (exact percentiles, no sampling); every reply is checked by the caller's
// `check`, and a failed check counts as an error (with a few samples kept for the report).
import http from 'node:http';
import { performance } from 'node:perf_hooks';

/** Exact latency record (milliseconds). Percentiles by nearest rank over every sample. */
export class Histogram {
  private samples = new Float64Array(1024);
  private n = 0;
  private sorted: Float64Array | null = null;

  record(ms: number): void {
    if (this.n === this.samples.length) {
      const bigger = new Float64Array(this.samples.length * 2);
      bigger.set(this.samples);
      this.samples = bigger;
    }
    this.samples[this.n++] = ms;
    this.sorted = null;
  }

  get count(): number {
    return this.n;
  }

  private view(): Float64Array {
    if (!this.sorted) this.sorted = this.samples.slice(0, this.n).sort();
    return this.sorted;
  }

  percentile(p: number): number {
    const s = this.view();
    if (s.length === 0) return NaN;
    const rank = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
    return s[rank]!;
  }

  mean(): number {
    let sum = 0;
    for (let i = 0; i < this.n; i++) sum += this.samples[i]!;
    return this.n ? sum / this.n : NaN;
  }

  summary(): LatencySummary {
    return {
      p50: this.percentile(50),
      p90: this.percentile(90),
      p95: this.percentile(95),
      p99: this.percentile(99),
      max: this.percentile(100),
      mean: this.mean(),
    };
  }

  /** A coarse text histogram over log-spaced buckets (for the console). */
  render(width = 40): string {
    const s = this.view();
    if (s.length === 0) return '(no samples)';
    const edges = [0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, Infinity];
    const counts = new Array<number>(edges.length).fill(0);
    let b = 0;
    for (const v of s) {
      while (v > edges[b]!) b++;
      counts[b]!++;
    }
    const maxCount = Math.max(...counts);
    const lines: string[] = [];
    let lo = 0;
    for (let i = 0; i < edges.length; i++) {
      const hi = edges[i]!;
      if (counts[i]) {
        const label = hi === Infinity ? `> ${lo} ms` : `≤ ${hi} ms`;
        lines.push(`    ${label.padStart(10)} ${'#'.repeat(Math.max(1, Math.round((counts[i]! / maxCount) * width))).padEnd(width)} ${counts[i]}`);
      }
      lo = hi;
    }
    return lines.join('\n');
  }
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export interface BenchRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface BenchReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface LoadOptions {
  /** Base URL, e.g. http://127.0.0.1:8080 */
  url: string;
  concurrency: number;
  /** Stop after this many requests (all of them are sent, each exactly once)... */
  count?: number;
  /** ...or after this long (requests in flight when time is up are finished and counted). */
  durationMs?: number;
  /** The i-th request (i counts from 0 across all clients). */
  request: (i: number) => BenchRequest;
  /** Returns true when the reply is correct; a string or false marks an error (the string is kept as a sample). */
  check?: (reply: BenchReply, i: number) => true | false | string;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
}

export interface LoadResult {
  requests: number;
  ok: number;
  errors: number;
  errorSamples: string[];
  elapsedS: number;
  /** Successful requests per second. */
  rps: number;
  latency: LatencySummary;
  histogram: Histogram;
}

/** One request on `agent`, the whole reply read. */
export function send(agent: http.Agent, base: URL, req: BenchRequest, timeoutMs: number): Promise<BenchReply> {
  return new Promise((resolve, reject) => {
    const body = req.body === undefined ? undefined : typeof req.body === 'string' ? Buffer.from(req.body) : req.body;
    const headers: Record<string, string | number> = { ...(req.headers ?? {}) };
    if (body) headers['content-length'] = body.length;
    const r = http.request({ agent, host: base.hostname, port: base.port, method: req.method, path: req.path, headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    r.on('timeout', () => r.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    r.on('error', reject);
    r.end(body);
  });
}

/** Runs the load and returns throughput, latency percentiles and errors. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (options.count === undefined && options.durationMs === undefined) throw new Error('runLoad needs count or durationMs');
  const base = new URL(options.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency, maxFreeSockets: options.concurrency });
  const histogram = new Histogram();
  const errorSamples: string[] = [];
  let next = 0;
  let ok = 0;
  let errors = 0;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const start = performance.now();
  const deadline = options.durationMs !== undefined ? start + options.durationMs : Infinity;
  const noteError = (text: string) => {
    errors++;
    if (errorSamples.length < 5) errorSamples.push(text.length > 300 ? text.slice(0, 300) + '…' : text);
  };

  const client = async () => {
    for (;;) {
      if (options.count !== undefined && next >= options.count) return;
      if (performance.now() >= deadline) return;
      const i = next++;
      const req = options.request(i);
      const t0 = performance.now();
      try {
        const reply = await send(agent, base, req, timeoutMs);
        histogram.record(performance.now() - t0);
        const verdict = options.check ? options.check(reply, i) : reply.status < 400 || `HTTP ${reply.status}`;
        if (verdict === true) ok++;
        else noteError(typeof verdict === 'string' ? verdict : `HTTP ${reply.status}: ${reply.body.toString('utf8')}`);
      } catch (e) {
        histogram.record(performance.now() - t0);
        noteError(`request failed: ${(e as Error).message}`);
      }
    }
  };

  try {
    await Promise.all(Array.from({ length: options.concurrency }, client));
  } finally {
    agent.destroy();
  }
  const elapsedS = (performance.now() - start) / 1000;
  return { requests: ok + errors, ok, errors, errorSamples, elapsedS, rps: ok / elapsedS, latency: histogram.summary(), histogram };
}
