// One side of the NETOPIA v1 client comparison (bench/clients.ts), in its own process so that each side is
// measured single-threaded in one process, with the Node flags it needs:
//
//   library  mobilpay-card@1.1.5 (encrypt.js + the MobilPay class: RC4 via `arc4`, xml2js). Its decrypt uses
//            crypto.privateDecrypt(RSA_PKCS1_PADDING), which Node 20 refuses unless the process was started
//            with --security-revert=CVE-2023-46809 (the Marvin attack), so the parent starts it with that flag.
//   ours     src/connectors/netopia-v1 (sealEnvelope / openEnvelope / parseIpnXml) on a default Node 20.
//
// Both processes load the same code and can run every operation; which process runs which is the parent's
// choice. Commands arrive over the IPC channel as {id, type, ...} and are answered with {id, result} or
// {id, error}; the process exits when the parent goes away.
import { constants, createPrivateKey, privateDecrypt, X509Certificate, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { loadPrivateKey, loadPublicKey, openEnvelope, sealEnvelope } from '../src/connectors/netopia-v1/envelope.js';
import { parseIpnXml } from '../src/connectors/netopia-v1/ipn-xml.js';

const require = createRequire(import.meta.url);
const lib = require('mobilpay-card/encrypt.js') as {
  encrypt(publicKey: string, data: string): { envKey: string; envData: string };
  decrypt(privateKey: string | KeyObject, envKey: string, data: string): Buffer | string;
};
const MobilPay = require('mobilpay-card') as new (
  signature: string,
) => { setPrivateKey(pem: string): void; confirmPayment(envKey: string, data: string): Promise<any> };

export interface Envelope {
  env_key: string;
  data: string;
  cipher?: string;
  iv?: string;
}

/** What both parsers must agree on (the fields a hub acts on). */
export interface IpnSummary {
  orderId: string;
  signature: string;
  amount: string;
  currency: string;
  crc: string;
  action: string;
  purchase: string;
  processedAmount: string;
  errorCode: string;
  errorMessage: string;
}

export type Variant = 'lib-seal' | 'ours-seal-rc4' | 'ours-seal-aes' | 'lib-open' | 'lib-open-keyobject' | 'ours-open' | 'lib-open-parse' | 'ours-open-parse';

let inputs: { certPem: string; publicPem: string; keyPem: string; signature: string; xml: string } | undefined;
let keys: { publicKey: KeyObject; privateKey: KeyObject; libPrivateKey: KeyObject } | undefined;
let mobilPay: InstanceType<typeof MobilPay> | undefined;
const pools = new Map<string, Envelope[]>();

const fromLib = (e: { envKey: string; envData: string }): Envelope => ({ env_key: e.envKey, data: e.envData });
const bytesOf = (out: Buffer | string) => (typeof out === 'string' ? Buffer.from(out, 'utf8') : out);

function libSummary(r: any): IpnSummary {
  const o = r.order;
  const m = o.mobilpay;
  return {
    orderId: o.$.id,
    signature: o.signature,
    amount: o.invoice.$.amount,
    currency: o.invoice.$.currency,
    crc: m.$.crc,
    action: m.action,
    purchase: m.purchase,
    processedAmount: m.processed_amount,
    errorCode: String(m.error.$.code),
    errorMessage: String(m.error._ ?? '').trim(),
  };
}

function oursSummary(xml: Buffer): IpnSummary {
  const { order: o, mobilpay: m } = parseIpnXml(xml.toString('utf8'));
  return {
    orderId: o.id,
    signature: o.signature,
    amount: o.invoice.amount,
    currency: o.invoice.currency,
    crc: m.crc,
    action: m.action,
    purchase: m.purchase,
    processedAmount: m.processed_amount,
    errorCode: String(m.error.code),
    errorMessage: m.error.message.trim(),
  };
}

/** Sealing: one new envelope of `xml`. */
function seal(variant: Variant, xml: string): Envelope {
  if (variant === 'lib-seal') return fromLib(lib.encrypt(inputs!.publicPem, xml));
  if (variant === 'ours-seal-rc4') return sealEnvelope(xml, keys!.publicKey, 'rc4');
  if (variant === 'ours-seal-aes') return sealEnvelope(xml, keys!.publicKey, 'aes-256-cbc');
  throw new Error(`${variant} does not seal`);
}

/** Opening: the plaintext bytes (open variants) or the parsed IPN (open+parse variants). */
function open(variant: Variant, e: Envelope): Buffer | IpnSummary | Promise<IpnSummary> {
  switch (variant) {
    case 'lib-open':
      return bytesOf(lib.decrypt(inputs!.keyPem, e.env_key, e.data));
    case 'lib-open-keyobject':
      return bytesOf(lib.decrypt(keys!.libPrivateKey, e.env_key, e.data));
    case 'ours-open':
      return openEnvelope(e, keys!.privateKey);
    case 'lib-open-parse':
      return mobilPay!.confirmPayment(e.env_key, e.data).then(libSummary);
    case 'ours-open-parse':
      return oursSummary(openEnvelope(e, keys!.privateKey));
    default:
      throw new Error(`${variant} does not open`);
  }
}

// The operations as timed: the same calls, results dropped (open+parse keeps the parse, not the summary).
function timedOp(variant: Variant, pool: Envelope[]): (i: number) => unknown {
  const xml = inputs!.xml;
  const priv = keys!.privateKey;
  switch (variant) {
    case 'lib-seal':
    case 'ours-seal-rc4':
    case 'ours-seal-aes':
      return () => seal(variant, xml);
    case 'ours-open-parse':
      return (i) => parseIpnXml(openEnvelope(pool[i % pool.length]!, priv).toString('utf8'));
    case 'lib-open-parse':
      return (i) => mobilPay!.confirmPayment(pool[i % pool.length]!.env_key, pool[i % pool.length]!.data);
    default:
      return (i) => open(variant, pool[i % pool.length]!);
  }
}

/** Runs `variant` for `ms` milliseconds of wall time, one operation at a time. */
async function measure(variant: Variant, poolName: string | undefined, ms: number) {
  const pool = poolName ? pools.get(poolName) : [];
  if (!pool || (poolName && !pool.length)) throw new Error(`no pool ${poolName}`);
  const op = timedOp(variant, pool);
  const isAsync = variant === 'lib-open-parse';
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const end = start + ms;
  let ops = 0;
  let now = start;
  if (isAsync) {
    while (now < end) {
      await op(ops++);
      now = performance.now();
    }
  } else {
    while (now < end) {
      op(ops++);
      now = performance.now();
    }
  }
  const cpu = process.cpuUsage(cpu0);
  return { ops, wallMs: now - start, cpuUs: cpu.user + cpu.system };
}

/** Length of the symmetric key inside an env_key (raw RSA, then the PKCS#1 v1.5 block's separator). */
function wrappedKeyLength(envKey: string): number {
  const block = privateDecrypt({ key: keys!.privateKey, padding: constants.RSA_NO_PADDING }, Buffer.from(envKey, 'base64'));
  if (block[0] !== 0 || block[1] !== 2) return -1;
  const sep = block.indexOf(0, 2);
  return sep < 0 ? -1 : block.length - sep - 1;
}

async function handle(m: any): Promise<unknown> {
  switch (m.type) {
    case 'init': {
      const cert: string = m.certPem;
      inputs = {
        certPem: cert,
        keyPem: m.keyPem,
        signature: m.signature,
        xml: m.xml,
        publicPem: new X509Certificate(cert).publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      };
      keys = { publicKey: loadPublicKey(cert), privateKey: loadPrivateKey(m.keyPem), libPrivateKey: createPrivateKey(m.keyPem) };
      mobilPay = new MobilPay(m.signature);
      mobilPay.setPrivateKey(m.keyPem);
      return { node: process.version, execArgv: process.execArgv.filter((a) => a.startsWith('--security-revert')), pid: process.pid };
    }
    case 'make':
      return Array.from({ length: m.n as number }, () => seal(m.variant, m.xml ?? inputs!.xml));
    case 'pool':
      pools.set(m.name, m.envelopes);
      return pools.get(m.name)!.length;
    case 'open-all': {
      const out: Array<{ base64?: string; summary?: IpnSummary; error?: string }> = [];
      for (const e of (m.envelopes ?? pools.get(m.pool)) as Envelope[]) {
        try {
          const r = await open(m.variant, e);
          out.push(Buffer.isBuffer(r) ? { base64: r.toString('base64') } : { summary: r as IpnSummary });
        } catch (err) {
          out.push({ error: `${(err as { code?: string }).code ?? (err as Error).name}: ${(err as Error).message}` });
        }
      }
      return out;
    }
    case 'key-lengths':
      return (pools.get(m.pool) ?? []).map((e) => wrappedKeyLength(e.env_key));
    case 'measure':
      return measure(m.variant, m.pool, m.ms);
    default:
      throw new Error(`unknown command ${m.type}`);
  }
}

process.on('disconnect', () => process.exit(0));
process.on('message', (m: any) => {
  handle(m).then(
    (result) => process.send!({ id: m.id, result }),
    (e: Error) => process.send!({ id: m.id, error: `${(e as { code?: string }).code ?? e.name}: ${e.message}` }),
  );
});
process.send!({ type: 'ready' });
