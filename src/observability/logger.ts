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

export function createLogger(level = process.env.LOG_LEVEL ?? 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    { level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'incasso' }, serializers: { req: serializeRequest } },
    destination,
  );
}
