/** A refusal of an OnPay call, answered as `success: "false"` with this message (never an HTTP error page). */
export class OnpayError extends Error {
  override name = 'OnpayError';
}

/** A refusal because the call's key is not a partner's (counted against the caller's failed authentications). */
export class OnpayKeyError extends OnpayError {
  override name = 'OnpayKeyError';
}
