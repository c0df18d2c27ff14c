// Our NETOPIA v1 envelope code against a PUBLISHED NETOPIA v1 client, on the same inputs in the same run:
// mobilpay-card@1.1.5 (npm, MIT). Each side runs in its own child process (bench/clients-child.ts), single-
// threaded, one at a time (the parent waits), in interleaved rounds: every round measures each operation of both
// sides for BENCH_CLIENT_ROUND_MS, with the order reversed every other round, so a change in the machine's load
// hits both sides alike. The ratio reported is ours ÷ library in operations per second, per round, and its median.
//
// The library's decrypt needs `--security-revert=CVE-2023-46809` on Node 20 (it uses privateDecrypt with
// RSA_PKCS1_PADDING, which Node disabled because of the Marvin timing attack), so only its process gets that flag;
// ours runs on a default Node 20. A probe in our (default) process records what the library does there.
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CFG, fmt, log, median, onCleanup, table } from './common.js';
import type { Envelope, IpnSummary, Variant } from './clients-child.js';
import { SIGNATURE, VANILO_CERT, VANILO_KEY } from './netopia.js';

const FIXTURE = fileURLToPath(new URL('../test/fixtures/netopia-v1/ipn-confirmed.xml', import.meta.url));
const POOL_SIZE = 64;

interface Side {
  child: ChildProcess;
  call<T = any>(message: Record<string, unknown>): Promise<T>;
  stop(): void;
}

async function startSide(label: string, flags: string[]): Promise<Side> {
  const child = fork(fileURLToPath(new URL('./clients-child.ts', import.meta.url)), [], {
    execArgv: [...flags, '--import', 'tsx'],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line.trim()) process.stderr.write(`  [${label}] ${line}\n`);
    });
  }
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  onCleanup(`${label} client process`, stop);
  const pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => {
      reject(new Error(`${label} client process exited (code ${code}) before it was ready`));
      for (const p of pending.values()) p.reject(new Error(`${label} client process exited`));
    });
    child.on('message', (raw) => {
      const m = raw as { type?: string; id?: number; result?: unknown; error?: string };
      if (m.type === 'ready') return resolve();
      const p = m.id === undefined ? undefined : pending.get(m.id);
      if (!p) return;
      pending.delete(m.id!);
      if (m.error !== undefined) p.reject(new Error(`${label}: ${m.error}`));
      else p.resolve(m.result);
    });
  });
  return {
    child,
    stop,
    call: (message) =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        pending.set(id, { resolve, reject });
        child.send({ ...message, id });
      }),
  };
}

// ---------------------------------------------------------------------------------------------- results

interface Measured {
  variant: Variant;
  /** Per measured round: operations per second (wall) and CPU µs per operation. */
  opsPerS: number[];
  cpuUsPerOp: number[];
}

interface Pair {
  group: 'seal' | 'open' | 'open+parse';
  label: string;
  ours: Variant;
  lib: Variant;
  note?: string;
}

const PAIRS: Pair[] = [
  { group: 'seal', label: 'seal: library RC4 (32-byte key) vs ours RC4 (16-byte key)', ours: 'ours-seal-rc4', lib: 'lib-seal' },
  { group: 'seal', label: 'seal: library RC4 vs ours AES-256-CBC', ours: 'ours-seal-aes', lib: 'lib-seal' },
  { group: 'open', label: "open: library decrypt vs ours openEnvelope, the library's RC4 envelopes", ours: 'ours-open', lib: 'lib-open' },
  {
    group: 'open',
    label: '  (diagnostic) library decrypt given a parsed KeyObject instead of its PEM',
    ours: 'ours-open',
    lib: 'lib-open-keyobject',
    note: 'not how the library is used: its MobilPay class keeps PEM strings',
  },
  {
    group: 'open+parse',
    label: 'open+parse: library confirmPayment (decrypt + xml2js) vs ours openEnvelope + parseIpnXml',
    ours: 'ours-open-parse',
    lib: 'lib-open-parse',
  },
];

const DESCRIPTIONS: Record<Variant, string> = {
  'lib-seal': 'library `encrypt(publicKeyPem, xml)`',
  'ours-seal-rc4': "ours `sealEnvelope(xml, publicKey, 'rc4')`",
  'ours-seal-aes': "ours `sealEnvelope(xml, publicKey, 'aes-256-cbc')`",
  'lib-open': 'library `decrypt(privateKeyPem, env_key, data)`',
  'lib-open-keyobject': 'library `decrypt(KeyObject, env_key, data)` (diagnostic)',
  'ours-open': 'ours `openEnvelope({env_key, data}, privateKey)`',
  'lib-open-parse': 'library `MobilPay#confirmPayment(env_key, data)` (decrypt + xml2js)',
  'ours-open-parse': 'ours `parseIpnXml(openEnvelope(…))`',
};

export interface ClientComparison {
  library: string;
  node: string;
  libraryFlags: string[];
  xmlBytes: number;
  xmlAscii: boolean;
  rounds: number;
  roundMs: number;
  measured: Measured[];
  pairs: Array<Pair & { ratios: number[] }>;
  checks: Array<{ what: string; ok: boolean; detail: string }>;
  findings: string[];
}

const sideOf = (v: Variant) => (v.startsWith('lib') ? 'lib' : 'ours');
const poolOf = (v: Variant): string | undefined => (v.includes('seal') ? undefined : 'lib');

function describeMangling(expected: Buffer, actual: Buffer): string {
  if (expected.equals(actual)) return 'identical';
  let i = 0;
  while (i < expected.length && i < actual.length && expected[i] === actual[i]) i++;
  const text = expected.subarray(0, i).toString('utf8');
  const ch = expected.subarray(i).toString('utf8').slice(0, 1);
  return `${expected.length} bytes expected, ${actual.length} received; the first difference is at byte ${i}: "${ch}" (U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}, UTF-8 ${Buffer.from(ch).toString('hex')}) arrived as byte 0x${actual[i]?.toString(16).padStart(2, '0')} (after "…${text.slice(-12)}")`;
}

export async function compareClients(): Promise<ClientComparison> {
  const xml = readFileSync(FIXTURE, 'utf8');
  const xmlBytes = Buffer.from(xml, 'utf8');
  const xmlAscii = /^[\x00-\x7f]*$/.test(xml);
  const libraryVersion = JSON.parse(readFileSync(fileURLToPath(new URL('../node_modules/mobilpay-card/package.json', import.meta.url)), 'utf8'))
    .version as string;
  log(
    `\n[NETOPIA v1 clients] mobilpay-card@${libraryVersion} vs ours, ${CFG.clientRounds} interleaved rounds of ${CFG.clientRoundMs} ms per operation; fixture ${xmlBytes.length} bytes, ${xmlAscii ? 'ASCII only' : 'NOT ASCII'}`,
  );
  const libraryFlags = ['--security-revert=CVE-2023-46809'];
  const sides = { lib: await startSide('mobilpay-card', libraryFlags), ours: await startSide('ours', []) };
  try {
    const init = { type: 'init', certPem: VANILO_CERT, keyPem: VANILO_KEY, signature: SIGNATURE, xml };
    const [libInfo] = await Promise.all([sides.lib.call(init), sides.ours.call(init)]);
    const checks: ClientComparison['checks'] = [];
    const findings: string[] = [];
    const check = (what: string, ok: boolean, detail: string) => {
      checks.push({ what, ok, detail });
      log(`  ${ok ? 'OK ' : 'FAILED'} ${what}: ${detail}`);
    };

    // The shared inputs: envelopes sealed by the library (RC4, 32-byte keys), opened by both sides.
    const libPool = await sides.lib.call<Envelope[]>({ type: 'make', variant: 'lib-seal', n: POOL_SIZE });
    await Promise.all([sides.lib.call({ type: 'pool', name: 'lib', envelopes: libPool }), sides.ours.call({ type: 'pool', name: 'lib', envelopes: libPool })]);
    const keyLengths = await sides.ours.call<number[]>({ type: 'key-lengths', pool: 'lib' });
    check(
      'the library seals with 32-byte RC4 keys',
      keyLengths.every((n) => n === 32),
      `wrapped key lengths: ${[...new Set(keyLengths)].join(', ')} bytes`,
    );

    type Opened = Array<{ base64?: string; summary?: IpnSummary; error?: string }>;
    const libOpened = await sides.lib.call<Opened>({ type: 'open-all', variant: 'lib-open', pool: 'lib' });
    const oursOpened = await sides.ours.call<Opened>({ type: 'open-all', variant: 'ours-open', pool: 'lib' });
    const same = oursOpened.filter(
      (o, i) => o.base64 !== undefined && o.base64 === libOpened[i]!.base64 && Buffer.from(o.base64, 'base64').equals(xmlBytes),
    ).length;
    check(
      "ours opens the library's envelopes to the same bytes",
      same === POOL_SIZE,
      `${same} of ${POOL_SIZE} envelopes: ours = library = the fixture, byte for byte`,
    );

    const libParsed = await sides.lib.call<Opened>({ type: 'open-all', variant: 'lib-open-parse', pool: 'lib' });
    const oursParsed = await sides.ours.call<Opened>({ type: 'open-all', variant: 'ours-open-parse', pool: 'lib' });
    const agree = oursParsed.filter((o, i) => o.summary && JSON.stringify(o.summary) === JSON.stringify(libParsed[i]!.summary)).length;
    const s = oursParsed[0]?.summary;
    check(
      'both parsers read the same IPN',
      agree === POOL_SIZE,
      `${agree} of ${POOL_SIZE} agree on order id, signature, amount, currency, crc, action, purchase, processed amount, error code and message${s ? ` (${s.orderId}, ${s.action}, ${s.processedAmount} ${s.currency}, crc ${s.crc.slice(0, 8)}…)` : ''}`,
    );

    const oursRc4 = await sides.ours.call<Envelope[]>({ type: 'make', variant: 'ours-seal-rc4', n: 4 });
    const libOfOurs = await sides.lib.call<Opened>({ type: 'open-all', variant: 'lib-open', envelopes: oursRc4 });
    check(
      'the library opens ours (RC4, 16-byte keys)',
      libOfOurs.every((o) => o.base64 && Buffer.from(o.base64, 'base64').equals(xmlBytes)),
      `${libOfOurs.filter((o) => o.base64 && Buffer.from(o.base64, 'base64').equals(xmlBytes)).length} of ${oursRc4.length}`,
    );

    // On a default Node 20 (our process, no flag) the library cannot open anything.
    const onDefault = await sides.ours.call<Opened>({ type: 'open-all', variant: 'lib-open-parse', envelopes: libPool.slice(0, 1) });
    const refused = onDefault[0]?.error;
    check('on a default Node 20 the library cannot open an IPN', refused !== undefined, refused ?? 'it did open it');
    if (refused)
      findings.push(
        `On a default Node 20 (${process.version}) the library cannot open a single IPN: \`confirmPayment\` rejects with ${refused.replace(/^([A-Z_]+):/, '`$1`:')}. Running it needs \`node --security-revert=CVE-2023-46809\`, which turns the Marvin-attack protection off for the whole process; ours needs no flag (raw RSA plus implicit rejection, see src/connectors/netopia-v1/pkcs1.ts).`,
      );

    // Non-ASCII text: the library seals with arc4's encode(data, 'binary'), i.e. one byte per UTF-16 unit.
    const accented = xml.replace(/<details><!\[CDATA\[[^\]]*\]\]><\/details>/, '<details><![CDATA[Comandă cafea – Ștefan Țăran, Iași; café]]></details>');
    const [mangled] = await sides.lib.call<Envelope[]>({ type: 'make', variant: 'lib-seal', n: 1, xml: accented });
    const [mangledOpen] = await sides.ours.call<Opened>({ type: 'open-all', variant: 'ours-open', envelopes: [mangled] });
    const [mangledParse] = await sides.ours.call<Opened>({ type: 'open-all', variant: 'ours-open-parse', envelopes: [mangled] });
    const got = Buffer.from(mangledOpen?.base64 ?? '', 'base64');
    const intact = got.equals(Buffer.from(accented, 'utf8'));
    const [oursAccented] = await sides.ours.call<Envelope[]>({ type: 'make', variant: 'ours-seal-rc4', n: 1, xml: accented });
    const [libOfAccented] = await sides.lib.call<Opened>({ type: 'open-all', variant: 'lib-open', envelopes: [oursAccented] });
    const libReadsUtf8 = Buffer.from(libOfAccented?.base64 ?? '', 'base64').equals(Buffer.from(accented, 'utf8'));
    check('non-ASCII text sealed by the library', true, intact ? 'arrives intact' : `is mangled: ${describeMangling(Buffer.from(accented, 'utf8'), got)}`);
    if (!intact) {
      findings.push(
        `The library's seal mangles non-ASCII text: \`encrypt\` encodes the XML with \`'binary'\` (Latin-1, one byte per UTF-16 code unit, high byte dropped), so a document with "Comandă cafea – Ștefan Țăran, Iași; café" is sealed as different bytes (${describeMangling(Buffer.from(accented, 'utf8'), got)}). Characters above U+00FF lose their high byte (ă U+0103 → 0x03, a control character that XML 1.0 forbids; Ș U+0218 → 0x18) and Latin-1 ones (é) become single bytes that are not UTF-8. Our parser ${mangledParse?.error ? `rejects that document (${mangledParse.error})` : 'accepts it, with wrong text'}. Its decrypt returns raw bytes, so it reads UTF-8 sealed by others ${libReadsUtf8 ? 'correctly' : 'incorrectly'}. The comparison therefore uses the fixture test/fixtures/netopia-v1/ipn-confirmed.xml, which is ASCII only (NETOPIA url-encodes the text inside its CDATA sections, as in the fixture).`,
      );
    }

    // ---- the measurements
    const variants: Variant[][] = [
      ['lib-seal', 'ours-seal-rc4', 'ours-seal-aes'],
      ['lib-open', 'lib-open-keyobject', 'ours-open'],
      ['lib-open-parse', 'ours-open-parse'],
    ];
    const measured = new Map<Variant, Measured>(variants.flat().map((v) => [v, { variant: v, opsPerS: [], cpuUsPerOp: [] }]));
    for (let round = 0; round <= CFG.clientRounds; round++) {
      // Round 0 warms up (JIT, caches) and is discarded; odd rounds run each group in reverse order.
      for (const group of variants) {
        for (const v of round % 2 ? [...group].reverse() : group) {
          const r = await sides[sideOf(v)].call<{ ops: number; wallMs: number; cpuUs: number }>({
            type: 'measure',
            variant: v,
            pool: poolOf(v),
            ms: CFG.clientRoundMs,
          });
          if (round === 0) continue;
          measured.get(v)!.opsPerS.push(r.ops / (r.wallMs / 1000));
          measured.get(v)!.cpuUsPerOp.push(r.cpuUs / r.ops);
        }
      }
      if (round > 0) log(`  round ${round}/${CFG.clientRounds}: ${[...measured.values()].map((m) => `${m.variant} ${fmt(m.opsPerS.at(-1))}/s`).join(', ')}`);
    }
    const pairs = PAIRS.map((p) => {
      const o = measured.get(p.ours)!.opsPerS;
      const l = measured.get(p.lib)!.opsPerS;
      return { ...p, ratios: o.map((x, i) => x / l[i]!) };
    });
    const usOf = (v: Variant) => 1e6 / median(measured.get(v)!.opsPerS);
    const [pem, keyObject, ours] = [usOf('lib-open'), usOf('lib-open-keyobject'), usOf('ours-open')];
    const diag = median(pairs.find((p) => p.lib === 'lib-open-keyobject')!.ratios);
    const versus =
      diag < 0.97
        ? `ours is ${fmt((1 / diag - 1) * 100)}% slower (median of the paired rounds)`
        : diag > 1.03
          ? `ours is ${fmt((diag - 1) * 100)}% faster (median of the paired rounds)`
          : 'the two are within 3% (median of the paired rounds)';
    findings.push(
      `Where the open ratio comes from: the library hands its PEM string to \`crypto.privateDecrypt\` on every call, so every IPN parses the RSA private key again: ${fmt(pem)} µs/op with the PEM against ${fmt(keyObject)} µs/op given a pre-parsed KeyObject (diagnostic row), i.e. about ${fmt(pem - keyObject)} µs of key parsing per IPN. Without it, the library's decrypt (OpenSSL's PKCS#1 v1.5 check in C, arc4 in JS) takes ${fmt(keyObject)} µs and ours ${fmt(ours)} µs: ${versus}. Ours does the padding check with implicit rejection (src/connectors/netopia-v1/pkcs1.ts: raw RSA, then HMACs for a synthetic key and branch-free scans in JS) instead of the unprotected check the library needs the Marvin revert for, so on the RSA part alone there is nothing to win from the library. The seal ratio has the same first cause (the public key PEM parsed on every \`encrypt\`) plus arc4's per-byte JavaScript.`,
    );
    return {
      library: `mobilpay-card@${libraryVersion}`,
      node: process.version,
      libraryFlags: (libInfo as { execArgv: string[] }).execArgv,
      xmlBytes: xmlBytes.length,
      xmlAscii,
      rounds: CFG.clientRounds,
      roundMs: CFG.clientRoundMs,
      measured: [...measured.values()],
      pairs,
      checks,
      findings,
    };
  } finally {
    sides.lib.stop();
    sides.ours.stop();
  }
}

// ---------------------------------------------------------------------------------------------- report

const ratioText = (rs: number[]) => (rs.length ? `${median(rs).toFixed(2)}× (${Math.min(...rs).toFixed(2)}–${Math.max(...rs).toFixed(2)})` : 'n/a');

export function renderClients(c: ClientComparison | undefined, skipped?: string): string {
  if (!c) return skipped ?? '(not measured)';
  const ops = table(
    ['operation (one thread, own process)', 'side', 'ops/s (median)', 'µs/op wall', 'µs/op CPU'],
    c.measured.map((m) => {
      const rate = median(m.opsPerS);
      return [DESCRIPTIONS[m.variant], sideOf(m.variant) === 'lib' ? 'library' : 'ours', fmt(rate), fmt(1e6 / rate), fmt(median(m.cpuUsPerOp))];
    }),
  );
  const ratios = table(
    ['comparison (same inputs)', 'ours ÷ library, ops/s: median (range over rounds)', 'by CPU time per op (median)', 'ours faster?'],
    c.pairs.map((p) => {
      const byCpu = median(c.measured.find((m) => m.variant === p.lib)!.cpuUsPerOp) / median(c.measured.find((m) => m.variant === p.ours)!.cpuUsPerOp);
      return [
        p.label,
        ratioText(p.ratios),
        `${byCpu.toFixed(2)}×`,
        median(p.ratios) > 1.03 ? 'yes' : median(p.ratios) < 0.97 ? '**no, slower**' : 'about the same',
      ];
    }),
  );
  const checks = c.checks.map((x) => `- ${x.ok ? 'OK' : '**FAILED**'}: ${x.what}: ${x.detail}`);
  return [
    `${c.library} (npm, MIT) against src/connectors/netopia-v1, ${c.rounds} interleaved rounds of ${c.roundMs} ms per operation (after one warm-up round), each side single-threaded in its own process, one process working at a time; input: test/fixtures/netopia-v1/ipn-confirmed.xml (${c.xmlBytes} bytes, ${c.xmlAscii ? 'ASCII only' : 'not ASCII'}) and the vanilo RSA-2048 key pair. The library's process runs with \`${c.libraryFlags.join(' ') || '(no flags)'}\` (without it the library cannot decrypt at all, see below); ours runs on a default Node ${c.node}.`,
    '',
    ratios,
    '',
    'A ratio above 1 means ours does more operations per second (or needs less CPU per operation). Each round measures both sides back to back, so the per-round ratio is little disturbed by the other processes on this shared machine; the range shows how much it still moved, and the CPU-time ratio (library CPU µs/op ÷ ours) is a second reading that other processes disturb less. Within ±3% is called about the same.',
    '',
    ops,
    '',
    'Checks:',
    '',
    ...checks,
    ...(c.findings.length ? ['', 'Findings:', '', ...c.findings.map((f) => `- ${f}`)] : []),
  ].join('\n');
}
