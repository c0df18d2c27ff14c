/**
 * The merchant's reply to a v1 IPN (`<crc>`): built by the connector, read by the NETOPIA emulator.
 *
 * `error_type` tells NETOPIA whether to re-send the IPN: 1 = temporary (retry later), 2 = permanent (stop).
 * It reports the merchant's failure to *record* the IPN; a declined card is recorded fine and gets a plain
 * `<crc>` (answering declines with error_type 1 is a known integration bug that causes retry storms).
 */
import { V1XmlError } from './errors.js';
import { parseXmlDocument, serializeXml, textContent, xmlText, XML_DECLARATION, type XmlElement } from './xml.js';

/** Values of `error_type` (the PHP library's CONFIRM_ERROR_TYPE_* constants). */
export const CRC_ERROR_TYPE = { none: 0, temporary: 1, permanent: 2 } as const;

export interface CrcReply {
  errorType: 0 | 1 | 2;
  /** The merchant's own error code; 0 when absent. */
  errorCode: number;
  message: string;
}

/** Success reply; NETOPIA's docs recommend the IPN's crc value as the message. */
export function crcSuccess(message: string): string {
  return XML_DECLARATION + serializeXml({ crc: { '#text': xmlText(message, 'crc message') } });
}

/** Failure to record the IPN: `<crc error_type="1|2" error_code="N">message</crc>`. */
export function crcError(errorType: 1 | 2, errorCode: number, message: string): string {
  if (errorType !== CRC_ERROR_TYPE.temporary && errorType !== CRC_ERROR_TYPE.permanent) {
    throw new V1XmlError(`crc error_type must be 1 or 2, got ${String(errorType)}`);
  }
  if (!Number.isSafeInteger(errorCode)) throw new V1XmlError(`crc error_code must be an integer, got ${errorCode}`);
  return (
    XML_DECLARATION +
    serializeXml({
      crc: { '@_error_type': String(errorType), '@_error_code': String(errorCode), '#text': xmlText(message, 'crc message') },
    })
  );
}

const ERROR_TYPES: ReadonlyMap<string, CrcReply['errorType']> = new Map([
  ['0', 0],
  ['1', 1],
  ['2', 2],
]);

/** A reply NETOPIA cannot understand is as good as none: it will try the IPN again. */
function unusable(problem: string): CrcReply {
  return { errorType: CRC_ERROR_TYPE.temporary, errorCode: 0, message: `unusable merchant reply: ${problem}` };
}

/**
 * Reads a merchant's reply the way the emulator's NETOPIA judges it. Never throws: an empty, non-XML
 * (e.g. an HTML error page), oversized or otherwise invalid reply becomes a temporary error whose message
 * names the problem. No `error_type` means success even when an `error_code` is present — that is what
 * the protocol defines, and replies from libraries that send `error_code` alone are reported as such.
 * Leading whitespace before the XML declaration is not tolerated, as in a strict XML parser.
 */
export function parseCrcReply(xml: string): CrcReply {
  if (typeof xml !== 'string' || xml.trim() === '') return unusable('empty body');
  let root: XmlElement;
  try {
    root = parseXmlDocument(xml);
  } catch (e) {
    if (e instanceof V1XmlError) return unusable(e.message);
    throw e;
  }
  if (root.name !== 'crc') return unusable(`root element is <${root.name}>, expected <crc>`);
  const rawType = root.attributes.get('error_type');
  const errorType = rawType === undefined ? CRC_ERROR_TYPE.none : ERROR_TYPES.get(rawType);
  if (errorType === undefined) return unusable(`invalid error_type ${JSON.stringify(rawType)}`);
  const rawCode = root.attributes.get('error_code');
  if (rawCode !== undefined && !/^-?\d{1,15}$/.test(rawCode)) return unusable(`invalid error_code ${JSON.stringify(rawCode)}`);
  return { errorType, errorCode: rawCode === undefined ? 0 : Number(rawCode), message: textContent(root) };
}
