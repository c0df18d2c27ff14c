/**
 * Errors of the NETOPIA v1 (mobilPay XML) wire codec.
 *
 * Every problem with an XML document — malformed, hostile, over a size limit, or missing a field the
 * protocol requires — surfaces as a `V1XmlError`, so callers handling untrusted input (IPN bodies, the
 * emulator reading a merchant's request) need a single catch clause and never see a parser's own errors.
 */
export class V1XmlError extends Error {
  override name = 'V1XmlError';
}

/**
 * Meaning of `<mobilpay><error code="N">` in an IPN (the same codes are NETOPIA's v2 card error codes).
 * Code 0 means the IPN's action succeeded; any other code means that action failed (e.g. `paid` + 35 is a
 * declined authorization). Wording from NETOPIA's v1.x documentation table ("Error Codes").
 */
export const V1_ERROR_CODES: Readonly<Record<number, string>> = Object.freeze({
  0: 'Approved',
  16: 'Stolen card',
  17: 'Incorrect card number',
  18: 'Closed card',
  19: 'Expired card',
  20: 'Insufficient funds',
  21: 'CVV2 incorrect',
  22: 'Issuer unavailable',
  32: 'Incorrect amount',
  33: 'Incorrect currency',
  34: 'Transaction not permitted',
  35: 'Transaction declined',
  36: 'Rejected by antifraud',
  37: 'Declined (legal restrictions)',
  38: 'Requires 3D Authentication',
  48: 'Invalid request',
  49: 'Duplicate PREAUTH',
  50: 'Duplicate AUTH',
  51: 'Can only CANCEL preauth',
  52: 'Can only CONFIRM preauth',
  53: 'Can only CREDIT confirmed order',
  54: 'Credit amount exceeds auth amount',
  55: 'Capture amount exceeds preauth',
  56: 'Duplicate request',
  99: 'Generic error',
});
