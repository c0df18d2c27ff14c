// Baseline A: how many raw RSA-2048 private operations this machine does per second, on one thread and on
// every core at once. The hub's IPN path does exactly one such operation per notification (the env_key unwrap,
// RSA_NO_PADDING + implicit-rejection check in JS), so this is the ceiling its IPN rate is compared with.
import { constants, privateDecrypt, publicEncrypt, randomBytes, createPrivateKey, X509Certificate } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

export interface RsaBaseline {
  threads: number;
  oneThreadOpsPerS: number;
  allCoresOpsPerS: number;
  perThreadOpsPerS: number[];
  durationS: number;
}

// Plain JavaScript so the worker needs no loader. It warms up, says ready, waits for "go", then counts
// private operations until its own deadline.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { privateDecrypt, constants } = require('node:crypto');
const { performance } = require('node:perf_hooks');
const key = require('node:crypto').createPrivateKey(workerData.keyPem);
const c = Buffer.from(workerData.ciphertext);
const op = () => privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, c);
for (let i = 0; i < 50; i++) op();
parentPort.postMessage({ ready: true });
parentPort.once('message', () => {
  const start = performance.now();
  const end = start + workerData.durationMs;
  let ops = 0;
  let now = start;
  while (now < end) { op(); ops++; if ((ops & 7) === 0) now = performance.now(); }
  now = performance.now();
  parentPort.postMessage({ ops, elapsedMs: now - start });
});
`;

/** A valid RSA ciphertext for the key (a PKCS#1 v1.5-wrapped 32-byte key, like a real env_key). */
function sampleCiphertext(certPem: string): Buffer {
  const pub = new X509Certificate(certPem).publicKey;
  return publicEncrypt({ key: pub, padding: constants.RSA_PKCS1_PADDING }, randomBytes(32));
}

async function runThreads(threads: number, keyPem: string, ciphertext: Buffer, durationMs: number): Promise<number[]> {
  const workers = Array.from({ length: threads }, () => new Worker(WORKER_SOURCE, { eval: true, workerData: { keyPem, ciphertext, durationMs } }));
  try {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            w.once('error', reject);
            w.once('message', () => resolve());
          }),
      ),
    );
    const results = workers.map(
      (w) =>
        new Promise<{ ops: number; elapsedMs: number }>((resolve, reject) => {
          w.once('error', reject);
          w.once('message', resolve);
        }),
    );
    for (const w of workers) w.postMessage('go');
    return (await Promise.all(results)).map((r) => r.ops / (r.elapsedMs / 1000));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

export async function measureRsa(keyPem: string, certPem: string, durationS: number): Promise<RsaBaseline> {
  const ciphertext = sampleCiphertext(certPem);
  // Sanity: the raw operation really is the one the hub does (the block starts 0x00 0x02 and ends in our 32 bytes).
  const block = privateDecrypt({ key: createPrivateKey(keyPem), padding: constants.RSA_NO_PADDING }, ciphertext);
  if (block[0] !== 0 || block[1] !== 2) throw new Error('RSA baseline self-check failed: not a PKCS#1 v1.5 block');
  const threads = availableParallelism();
  const one = await runThreads(1, keyPem, ciphertext, durationS * 1000);
  const all = await runThreads(threads, keyPem, ciphertext, durationS * 1000);
  return { threads, oneThreadOpsPerS: one[0]!, allCoresOpsPerS: all.reduce((a, b) => a + b, 0), perThreadOpsPerS: all, durationS };
}
