/** One problem with one field of a request, in the shape RFC 9457 `errors` entries use here. */
export interface FieldError {
  /** JSON-pointer-ish path, e.g. `billing.email` or `credentials.private_key`. */
  field: string;
  message: string;
}

/** Thrown by core and connector validation; the HTTP layer turns it into a 422 problem with every field. */
export class ValidationError extends Error {
  override name = 'ValidationError';
  /** `title` replaces the generic one, e.g. in the end user's language. */
  constructor(
    readonly errors: FieldError[],
    readonly title?: string,
  ) {
    super(errors.map((e) => `${e.field}: ${e.message}`).join('; '));
  }
}

/** Collects field errors and throws them all at once, so a client sees every problem in one answer. */
export class FieldErrors {
  private readonly errors: FieldError[] = [];
  add(field: string, message: string): void {
    this.errors.push({ field, message });
  }
  get empty(): boolean {
    return this.errors.length === 0;
  }
  throwIfAny(): void {
    if (this.errors.length) throw new ValidationError(this.errors);
  }
}

/** An absolute http(s) URL of at most `maxLength` characters (where a hub or a merchant may be reached). */
export function isHttpUrl(value: unknown, maxLength = 2048): value is string {
  if (typeof value !== 'string' || value.length > maxLength) return false;
  try {
    const u = new URL(value);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
}
