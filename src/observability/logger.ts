import pino, { type Logger } from 'pino';

/**
 * JSON logs with redaction: whatever a careless log call passes, these fields print as [redacted]. Secrets are
 * also wrapped in `Secret`, which redacts itself; this list is the second line of defence.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers["verification-token"]',
  'headers.authorization',
  '*.authorization',
  'api_key',
  '*.api_key',
  'apiKey',
  '*.apiKey',
  'private_key',
  '*.private_key',
  'certificate',
  '*.certificate',
  'secret',
  '*.secret',
  'credentials',
  '*.credentials',
  'password',
  '*.password',
  'env_key',
  '*.env_key',
  'card_number',
  '*.card_number',
  'cvv',
  '*.cvv',
];

interface LoggedRequest {
  method?: string;
  url?: string;
  id?: string;
  ip?: string;
  hostname?: string;
  headers?: Record<string, unknown>;
  socket?: { remoteAddress?: string };
}

/**
 * Requests are logged without their query string: links may carry secrets (the webhook inbox's `?secret=`,
 * a processor's signed return parameters), and the path says what was asked.
 */
function serializeRequest(req: LoggedRequest) {
  return { method: req.method, url: typeof req.url === 'string' ? req.url.split('?')[0] : undefined, remoteAddress: req.ip ?? req.socket?.remoteAddress };
}

/** Where log lines go: anything pino can write to; `isTTY` (as on `process.stdout`) picks the readable format. */
export type LogDestination = pino.DestinationStream & { isTTY?: boolean };

/**
 * JSON for machines, one readable line per entry for a person at a terminal: `pretty` only when the destination
 * is a TTY, unless `INCASSO_LOG_FORMAT` (`json` or `pretty`) says otherwise.
 */
export function chooseLogFormat(destination: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): 'json' | 'pretty' {
  const asked = env.INCASSO_LOG_FORMAT?.trim().toLowerCase();
  if (asked === 'json' || asked === 'pretty') return asked;
  return destination.isTTY === true ? 'pretty' : 'json';
}

const LEVELS: Record<number, { name: string; colour: string }> = {
  10: { name: 'TRACE', colour: '90' },
  20: { name: 'DEBUG', colour: '36' },
  30: { name: 'INFO', colour: '32' },
  40: { name: 'WARN', colour: '33' },
  50: { name: 'ERROR', colour: '31' },
  60: { name: 'FATAL', colour: '35' },
};

/** Fields every line carries or that the line's head already says. */
const QUIET_FIELDS = new Set(['time', 'level', 'msg', 'service', 'pid', 'hostname', 'req', 'res', 'responseTime', 'err']);

function fieldText(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value) ?? String(value);
}

/**
 * One pino JSON line as a person reads it: `12:04:05.123 INFO  GET /v1/payments 201 4ms reqId=req-1`, or the message
 * and its fields as `key=value`; an error's stack follows, indented. Works on the already redacted JSON, so what
 * is hidden in the JSON is hidden here too. A line that is not JSON passes through unchanged.
 */
export function prettyLogLine(line: string, colours = false): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
    if (entry === null || typeof entry !== 'object') throw new Error('not an object');
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 23) : '';
  const level = LEVELS[entry.level as number] ?? { name: String(entry.level ?? '?'), colour: '0' };
  const levelText = colours ? `\u001b[${level.colour}m${level.name.padEnd(5)}\u001b[0m` : level.name.padEnd(5);
  const req = entry.req as { method?: string; url?: string } | undefined;
  const res = entry.res as { statusCode?: number } | undefined;
  const parts: string[] = [];
  if (req && res && entry.msg === 'request completed')
    parts.push(`${req.method ?? '?'} ${req.url ?? '?'} ${res.statusCode ?? '?'} ${entry.responseTime ?? '?'}ms`);
  else {
    parts.push(String(entry.msg ?? ''));
    if (req) parts.push(`${req.method ?? '?'} ${req.url ?? '?'}`);
  }
  for (const [key, value] of Object.entries(entry)) if (!QUIET_FIELDS.has(key) && value !== undefined) parts.push(`${key}=${fieldText(value)}`);
  let text = `${time} ${levelText} ${parts.filter((p) => p !== '').join(' ')}`;
  const err = entry.err as { type?: string; message?: string; stack?: string } | undefined;
  if (err) text += `\n    ${(err.stack ?? `${err.type ?? 'Error'}: ${err.message ?? ''}`).split('\n').join('\n    ')}`;
  return `${text}\n`;
}

/** A destination that writes each JSON line pino makes as `prettyLogLine` reads it. */
export function prettyDestination(out: { write(text: string): unknown }, colours = false): pino.DestinationStream {
  return { write: (line: string) => void out.write(prettyLogLine(line.endsWith('\n') ? line.slice(0, -1) : line, colours)) };
}

/**
 * The hub's logger, on stdout unless another destination is given: JSON lines, or readable lines when the
 * destination is a terminal (`chooseLogFormat`). Redaction applies to both: the readable line is made from the
 * redacted JSON.
 */
export function createLogger(level = process.env.LOG_LEVEL ?? 'info', destination?: LogDestination): Logger {
  const options: pino.LoggerOptions = {
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'incasso' },
    serializers: { req: serializeRequest },
  };
  const target = destination ?? process.stdout;
  if (chooseLogFormat(target) === 'pretty') return pino(options, prettyDestination(target, target.isTTY === true && !process.env.NO_COLOR));
  return pino(options, destination);
}
