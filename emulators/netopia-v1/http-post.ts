import http from 'node:http';
import https from 'node:https';

export interface PostResult {
  /** Absent when no response arrived (connection error, timeout). */
  status?: number;
  body: string;
  /** Why no usable response arrived. */
  error?: string;
}

/** Replies longer than this are cut: a crc reply is a one-line XML document. */
const MAX_REPLY_BYTES = 64 * 1024;

/**
 * POSTs a form the way NETOPIA calls a confirm URL, with one deadline for the whole exchange (connect,
 * upload, reply). Never rejects: every failure is reported in the result. Node's http client is used rather
 * than fetch because it gives this deadline, a reply size cap and no pooled keep-alive sockets.
 */
export function postForm(url: string, form: Record<string, string>, timeoutMs: number): Promise<PostResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const body = new URLSearchParams(form).toString();
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      return resolve({ body: '', error: 'invalid confirm URL' });
    }
    const client = target.protocol === 'https:' ? https : target.protocol === 'http:' ? http : undefined;
    if (!client) return resolve({ body: '', error: 'confirm URL is not http(s)' });
    const request = client.request(target, {
      method: 'POST',
      agent: false,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': Buffer.byteLength(body),
        'user-agent': 'NETOPIA-emulator (incasso)',
        connection: 'close',
      },
    });
    const timer = setTimeout(() => {
      request.destroy();
      finish({ body: '', error: `no reply within ${timeoutMs} ms` });
    }, timeoutMs);
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
    request.end(body);
  });
}
