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

export function createLogger(level = process.env.LOG_LEVEL ?? 'info', destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { service: 'incasso' } }, destination);
}
