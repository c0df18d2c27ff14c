import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readConfig } from '../config.js';
import { withProgress } from './output.js';

/** A mistake the user can act on: printed as one line (`incasso: …`), never a stack. Usage mistakes exit 2. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** The options every command takes (declared once on the program). */
export interface GlobalOptions {
  hub?: string;
  key?: string;
  json?: boolean;
}

export function hubUrl(options: GlobalOptions): string {
  return (options.hub ?? process.env.INCASSO_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
}

/** The operator key this machine holds: INCASSO_ADMIN_KEY, else the one the hub saved in `<data dir>/admin.key`. */
export function savedOperatorKey(): string | undefined {
  if (process.env.INCASSO_ADMIN_KEY) return process.env.INCASSO_ADMIN_KEY;
  const file = join(readConfig().dataDir, 'admin.key');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

export function adminKey(options: GlobalOptions): string {
  const key = options.key || savedOperatorKey();
  if (!key) throw new CliError('no operator key: set INCASSO_ADMIN_KEY or pass --key');
  return key;
}

export function merchantKey(options: GlobalOptions): string {
  const key = options.key ?? process.env.INCASSO_API_KEY;
  if (!key) throw new CliError('no API key: set INCASSO_API_KEY or pass --key');
  return key;
}

/** One call to the hub's API; a refusal becomes a CliError with the problem's title, detail and every field error. */
export async function call(
  options: GlobalOptions,
  key: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<any> {
  const base = hubUrl(options);
  const exchange = async () => {
    let response: Response;
    try {
      response = await fetch(base + path, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
    } catch (e) {
      throw new CliError(`cannot reach the hub at ${base} (${(e as Error).cause ?? (e as Error).message}); is it running (incasso serve)?`);
    }
    return { response, text: await response.text() };
  };
  const { response, text } = await withProgress(`${method} ${path}`, exchange());
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    throw new CliError(`${response.status}: the hub at ${base} did not answer JSON (is --hub the hub's URL?)`);
  }
  if (!response.ok) {
    const details = Array.isArray(json?.errors)
      ? '\n' + json.errors.map((e: { field: string; message: string }) => `  ${e.field}: ${e.message}`).join('\n')
      : '';
    throw new CliError(`${response.status} ${json?.title ?? ''}${json?.detail ? `: ${json.detail}` : ''}${details}`);
  }
  return json;
}
