import { Type } from '@sinclair/typebox';
import { FieldRefusal, Text } from './config-schema.js';

const ENDPOINT_ERROR = 'must be an absolute http(s) URL without query, fragment or credentials';

/**
 * The optional `settings.endpoint` every connector accepts (the processor's base URL, overriding the
 * environment's default): an absolute http(s) URL without whitespace, query, fragment or credentials (the
 * connector appends its API paths to it). Trailing slashes are dropped.
 */
export function Endpoint() {
  return Type.Optional(
    Type.Transform(
      Text({
        title: 'Processor endpoint',
        description:
          "the processor's base URL, overriding the environment's default (https on the processor's hosts, the built-in emulator, or a host the operator allows)",
        maxLength: 2048,
        pattern: '^\\S+$',
        'x-error': ENDPOINT_ERROR,
      }),
    )
      .Decode((value) => {
        if (!isBaseUrl(value)) throw new FieldRefusal(ENDPOINT_ERROR);
        return value.replace(/\/+$/, '');
      })
      .Encode((value) => value),
  );
}

function isBaseUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && !url.search && !url.hash && !url.username && !url.password;
  } catch {
    return false;
  }
}
