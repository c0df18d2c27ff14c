import { inspect } from 'node:util';

/**
 * A value that must never reach a log line or a JSON response: it prints as `[redacted]` everywhere
 * (String(), JSON.stringify, util.inspect, template literals); `reveal()` is the one way to read it.
 */
export class Secret<T = string> {
  readonly #value: T;
  constructor(value: T) {
    this.#value = value;
  }
  reveal(): T {
    return this.#value;
  }
  toString(): string {
    return '[redacted]';
  }
  toJSON(): string {
    return '[redacted]';
  }
  [inspect.custom](): string {
    return 'Secret([redacted])';
  }
}
