import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readConfig } from '../config.js';

/**
 * `incasso users create --email E --role operator|admin|viewer [--merchant ID] [--language ro|en|it]`: creates a
 * console user through the hub's API and prints the one-time link to set its password. With the operator key
 * (INCASSO_ADMIN_KEY, <data dir>/admin.key or --key adm_…) any user; with a merchant's API key (INCASSO_API_KEY or
 * --key sk_…) an admin or viewer of that merchant. Self-contained (its own options), so the CLI's dispatcher only
 * hands it the arguments after `users`.
 */

export const USERS_HELP = `Console users
  users create --email EMAIL --role operator|admin|viewer [--merchant ID] [--language ro|en|it]
                                create a console user; prints a one-time link to set its password
                                (operator key: any user; a merchant's API key: its own admins and viewers)`;

const OPTIONS = {
  hub: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean' },
  email: { type: 'string' },
  role: { type: 'string' },
  merchant: { type: 'string' },
  language: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface UsersIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

const defaultIo: UsersIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), env: process.env };

function keyOf(values: { key?: string }, env: NodeJS.ProcessEnv): string | undefined {
  if (values.key) return values.key;
  if (env.INCASSO_ADMIN_KEY) return env.INCASSO_ADMIN_KEY;
  let dataDir: string | undefined;
  try {
    dataDir = readConfig(env).dataDir;
  } catch {
    // a setting the hub would refuse: no data directory to read the key from
  }
  const file = dataDir ? join(dataDir, 'admin.key') : undefined;
  if (file && existsSync(file)) return readFileSync(file, 'utf8').trim();
  return env.INCASSO_API_KEY;
}

/** Runs `incasso users …` (the arguments after `users`); answers the exit code. */
export async function usersCommand(argv: string[], io: UsersIo = defaultIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    io.err(`incasso: ${(e as Error).message}\n\n${USERS_HELP}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] !== 'create' || positionals.length !== 1) {
    (values.help ? io.out : io.err)(`${USERS_HELP}\n`);
    return values.help ? 0 : 2;
  }
  if (!values.email) return fail(io, '--email is required');
  if (!values.role || !['operator', 'admin', 'viewer'].includes(values.role)) return fail(io, '--role is required: operator, admin or viewer');
  if (values.language && !['ro', 'en', 'it'].includes(values.language)) return fail(io, '--language is ro, en or it');
  const key = keyOf(values, io.env);
  if (!key) return fail(io, 'no key: set INCASSO_ADMIN_KEY (any user) or INCASSO_API_KEY (a merchant: its own users), or pass --key');
  const asMerchant = key.startsWith('sk_');
  let path: string;
  let body: Record<string, string>;
  if (asMerchant) {
    if (values.role === 'operator') return fail(io, "a merchant's API key creates only admin and viewer users");
    if (values.merchant) return fail(io, "--merchant is for the operator key: a merchant's API key creates users of its own merchant");
    path = '/v1/merchant/users';
    body = { email: values.email, role: values.role };
  } else {
    if (values.role !== 'operator' && !values.merchant) return fail(io, `--merchant ID is required for an ${values.role}`);
    if (values.role === 'operator' && values.merchant) return fail(io, 'the operator belongs to no merchant: leave out --merchant');
    path = '/v1/users';
    body = { email: values.email, role: values.role, ...(values.merchant ? { merchant_id: values.merchant } : {}) };
  }
  if (values.language) body.language = values.language;
  const base = (values.hub ?? io.env.INCASSO_URL ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  let response: Response;
  try {
    response = await fetch(base + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  } catch (e) {
    return fail(io, `cannot reach the hub at ${base} (${(e as Error).cause ?? (e as Error).message}); is it running (incasso serve)?`);
  }
  const text = await response.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    return fail(io, `${response.status}: the hub answered something that is not JSON`);
  }
  if (!response.ok) {
    const details = Array.isArray(json?.errors)
      ? '\n' + json.errors.map((e: { field: string; message: string }) => `  ${e.field}: ${e.message}`).join('\n')
      : '';
    return fail(io, `${response.status} ${json?.title ?? ''}${json?.detail ? `: ${json.detail}` : ''}${details}`);
  }
  if (values.json) {
    io.out(JSON.stringify(json, null, 2) + '\n');
    return 0;
  }
  io.out(
    `Created ${json.role} ${json.email} (${json.id}${json.merchant_id ? `, merchant ${json.merchant_id}` : ''}).\n` +
      `Send this one-time link to set the password (valid until ${json.set_password_expires_at}; it is not shown again):\n` +
      `${json.set_password_url}\n`,
  );
  return 0;
}

function fail(io: UsersIo, message: string): number {
  io.err(`incasso: ${message}\n`);
  return 1;
}
