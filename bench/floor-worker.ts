// The IPN floor's verification thread (see floor-process.ts): the CPU work any NETOPIA v1 IPN handler must do,
// with the hub's own code: form parse, envelope opened (RSA-2048 + AES-256-CBC), IPN XML parsed. Nothing else.
import { parentPort, workerData } from 'node:worker_threads';
import { loadPrivateKey, openEnvelope } from '../src/connectors/netopia-v1/envelope.js';
import { parseIpnXml } from '../src/connectors/netopia-v1/ipn-xml.js';

export interface FloorRequest {
  id: number;
  body: string;
}
export type FloorResponse = { id: number; orderId: string; crc: string } | { id: number; error: string };

const privateKey = loadPrivateKey((workerData as { keyPem: string }).keyPem);

parentPort!.on('message', ({ id, body }: FloorRequest) => {
  let response: FloorResponse;
  try {
    const form = new URLSearchParams(body);
    const xml = openEnvelope(
      {
        env_key: form.get('env_key') ?? undefined,
        data: form.get('data') ?? undefined,
        cipher: form.get('cipher') ?? undefined,
        iv: form.get('iv') ?? undefined,
      },
      privateKey,
    );
    const ipn = parseIpnXml(xml.toString('utf8'));
    response = { id, orderId: ipn.order.id, crc: ipn.mobilpay.crc };
  } catch (e) {
    response = { id, error: (e as Error).message };
  }
  parentPort!.postMessage(response);
});
