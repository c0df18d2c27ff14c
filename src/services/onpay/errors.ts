/** A refusal of an OnPay call, answered as `success: "false"` with this message (never an HTTP error page). */
export class OnpayError extends Error {
  override name = 'OnpayError';
}
