import http from 'node:http';
import https from 'node:https';

/** What came back from one call to a merchant's endpoint. */
export interface MerchantReply {
  /** Absent when no response arrived (bad URL, connection error, timeout). */
  status?: number;
  /** The reply body, cut at MAX_REPLY_BYTES; empty when no response arrived. */
  body: string;
  /** Why no usable response arrived. */
  error?: string;
}

export interface MerchantCall {
  /** POST unless said otherwise (MultiSafepay can notify with GET). */
  method?: 'POST' | 'GET';
  /**
   * Exactly the headers the processor sends, as it spells them. Nothing is added but the framing below, so a
   * processor that sends no Content-Type (NETOPIA v2's Zend_Http_Client) sends none here either.
   */
  headers: Record<string, string | number>;
  body?: string;
  /** One deadline for the whole exchange: connect, upload and reply. */
  timeoutMs: number;
  /** How the processor names the URL, for the errors logged when it is unusable ("confirm URL", "urlpost"). */
  urlName: string;
}

/**
 * Replies longer than this are cut: every processor reads a short acknowledgement (a crc line, a small JSON
 * object, "OK" in the first 100 characters, or only the status), and a merchant streaming a large page must
 * not cost the emulator memory.
 */
const MAX_REPLY_BYTES = 64 * 1024;

/** True when `headers` already names `name`, in any spelling. */
function names(headers: Record<string, string | number>, name: string): boolean {
  return Object.keys(headers).some((key) => key.toLowerCase() === name);
}

/**
 * Calls a merchant's endpoint the way a processor's notifier does. Never rejects: every failure is reported in
 * the result. Node's http client is used rather than fetch because it gives one deadline for the exchange, a
 * reply size cap, no pooled keep-alive sockets (a merchant that hangs cannot hold the emulator's connections)
 * and no headers of its own choosing.
 */
export function callMerchant(url: string, call: MerchantCall): Promise<MerchantReply> {
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (result: MerchantReply) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return finish({ body: '', error: `invalid ${call.urlName}` });
    }
    const client = target.protocol === 'https:' ? https : target.protocol === 'http:' ? http : undefined;
    if (!client) return finish({ body: '', error: `${call.urlName} is not http(s)` });
    // Framing the caller did not spell itself: the body's length, and no keep-alive (see above).
    const headers: Record<string, string | number> = { ...call.headers };
    if (call.body !== undefined && !names(headers, 'content-length')) headers['content-length'] = Buffer.byteLength(call.body);
    if (!names(headers, 'connection')) headers.connection = 'close';
    const request = client.request(target, { method: call.method ?? 'POST', agent: false, headers });
    timer = setTimeout(() => {
      request.destroy();
      finish({ body: '', error: `no reply within ${call.timeoutMs} ms` });
    }, call.timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) => finish({ body: '', error: error.code ?? error.message }));
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        if (size >= MAX_REPLY_BYTES) return;
        chunks.push(chunk);
        size += chunk.length;
        if (size >= MAX_REPLY_BYTES) response.destroy();
      });
      const done = () => finish({ status: response.statusCode, body: Buffer.concat(chunks).subarray(0, MAX_REPLY_BYTES).toString('utf8') });
      response.on('end', done);
      // Destroyed after the cap: what arrived is still the reply.
      response.on('close', done);
      response.on('error', done);
    });
    request.end(call.body);
  });
}
