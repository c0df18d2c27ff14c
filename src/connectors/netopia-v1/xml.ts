/**
 * The XML and encoding layer shared by every NETOPIA v1 document (request, IPN, merchant crc reply): a
 * hardened reader for untrusted input, a small builder, and PHP's `urlencode` codec. Pure functions, no I/O.
 */
import { XMLBuilder } from 'fast-xml-parser';
import { SaxesParser } from 'saxes';
import { V1XmlError } from './errors.js';

export const XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n';

/** Bounds on any v1 document the hub parses; legitimate IPNs are a few KiB with ~50 elements. */
export const V1_XML_LIMITS = Object.freeze({
  maxBytes: 256 * 1024,
  maxDepth: 32,
  maxElements: 2000,
  maxAttributeBytes: 4 * 1024,
});

// ---------------------------------------------------------------------------------------------------
// PHP urlencode / urldecode

/**
 * PHP `urlencode`: every byte of the UTF-8 encoding except `A-Z a-z 0-9 - _ .` becomes `%XX`, space
 * becomes `+`. encodeURIComponent additionally leaves `! ' ( ) * ~` alone, so those are escaped here.
 */
export function phpUrlEncode(value: string): string {
  let encoded: string;
  try {
    encoded = encodeURIComponent(value);
  } catch {
    throw new V1XmlError('value is not well-formed Unicode (lone surrogate)');
  }
  return encoded.replace(/%20/g, '+').replace(/[!'()*~]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/**
 * PHP `urldecode`: `+` → space, `%XX` → byte, bytes read as UTF-8. Text with malformed percent-encoding
 * (seen in real IPNs, e.g. `Garda+deSus%2+Strada`) or escapes that are not UTF-8 is returned raw and
 * unchanged: these are display values, refusing a whole IPN over one would lose a payment notification,
 * and the raw text keeps every byte for audit where a lenient partial decode would not.
 */
export function phpUrlDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}

// ---------------------------------------------------------------------------------------------------
// Hardened XML reader (shared with ipn-xml.ts and crc-reply.ts)

/** A parsed element, reduced to what the v1 codecs read. Comments are dropped. */
export interface XmlElement {
  readonly name: string;
  readonly attributes: ReadonlyMap<string, string>;
  readonly children: readonly XmlElement[];
  /** Character data in document order; CDATA sections are kept apart because only they carry url-encoded values. */
  readonly content: ReadonlyArray<{ readonly cdata: boolean; readonly text: string }>;
}

// Characters XML 1.0 forbids, and unpaired UTF-16 surrogates (which cannot be encoded as UTF-8).
const NON_XML_CHAR_RE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Screens text that is about to be parsed. Markup declarations and processing instructions are refused
 * anywhere in the raw text, even inside CDATA or comments: no legitimate v1 document contains them
 * (free text is url-encoded), and a textual check cannot be fooled by parser quirks.
 */
function screen(text: string): void {
  const declaration = /<!(?!\[CDATA\[|--)([A-Za-z]*)/.exec(text);
  if (declaration) throw new V1XmlError(`markup declaration <!${declaration[1]} is not accepted (no DOCTYPE/ENTITY)`);
  for (let at = text.indexOf('<?'); at !== -1; at = text.indexOf('<?', at + 2)) {
    if (at !== 0 || !/^<\?xml[ \t\r\n]/.test(text)) throw new V1XmlError('processing instructions are not accepted');
  }
  if (NON_XML_CHAR_RE.test(text)) throw new V1XmlError('text contains characters that XML does not allow');
}

interface MutableElement {
  name: string;
  attributes: Map<string, string>;
  children: MutableElement[];
  content: Array<{ cdata: boolean; text: string }>;
}

/**
 * Parses untrusted XML into its root element. Throws only V1XmlError: for input over
 * `V1_XML_LIMITS`, DOCTYPE/ENTITY declarations, processing instructions other than the leading XML
 * declaration, entities other than the five predefined ones and character references, and anything not
 * well-formed (mismatched or unclosed tags, several roots).
 *
 * saxes is a strict, streaming, non-validating parser: it enforces well-formedness itself and knows only
 * the predefined entities, and streaming lets the depth, element and attribute limits stop a hostile
 * document as soon as it crosses them. It is several times faster than building a tree first, which
 * matters because every IPN goes through here.
 */
export function parseXmlDocument(xml: string): XmlElement {
  if (typeof xml !== 'string') throw new V1XmlError('XML input must be a string');
  // `length` is a lower bound of the UTF-8 size, so oversized input is refused before encoding it.
  if (xml.length > V1_XML_LIMITS.maxBytes || Buffer.byteLength(xml, 'utf8') > V1_XML_LIMITS.maxBytes) {
    throw new V1XmlError(`XML is larger than ${V1_XML_LIMITS.maxBytes} bytes`);
  }
  const text = xml.startsWith('\uFEFF') ? xml.slice(1) : xml;
  screen(text);

  const parser = new SaxesParser({ xmlns: false, position: false });
  const stack: MutableElement[] = [];
  let root: MutableElement | undefined;
  let elements = 0;
  parser.on('error', (e) => {
    throw new V1XmlError(`not well-formed XML: ${e.message}`);
  });
  parser.on('opentag', (tag) => {
    if (stack.length >= V1_XML_LIMITS.maxDepth) throw new V1XmlError(`XML nesting is deeper than ${V1_XML_LIMITS.maxDepth} levels`);
    if (++elements > V1_XML_LIMITS.maxElements) throw new V1XmlError(`XML has more than ${V1_XML_LIMITS.maxElements} elements`);
    const attributes = new Map<string, string>();
    for (const [key, value] of Object.entries(tag.attributes as Record<string, string>)) {
      if (Buffer.byteLength(value, 'utf8') > V1_XML_LIMITS.maxAttributeBytes) {
        throw new V1XmlError(`attribute ${tag.name}@${key} is longer than ${V1_XML_LIMITS.maxAttributeBytes} bytes`);
      }
      attributes.set(key, value);
    }
    const element: MutableElement = { name: tag.name, attributes, children: [], content: [] };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(element);
    else root = element;
    stack.push(element);
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  parser.on('text', (t) => {
    // Whitespace between elements is layout; text outside the root is refused by the parser itself.
    const trimmed = t.trim();
    if (trimmed && stack.length) stack[stack.length - 1]!.content.push({ cdata: false, text: trimmed });
  });
  parser.on('cdata', (t) => {
    if (stack.length) stack[stack.length - 1]!.content.push({ cdata: true, text: t });
  });
  try {
    parser.write(text).close();
  } catch (e) {
    if (e instanceof V1XmlError) throw e;
    throw new V1XmlError(`XML rejected: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!root) throw new V1XmlError('not well-formed XML: no root element');
  return root;
}

export function childElement(parent: XmlElement, name: string): XmlElement | undefined {
  return parent.children.find((child) => child.name === name);
}

/**
 * Text of an element. With `urlEncoded`, CDATA sections are url-decoded (PHP library convention) while
 * plain text is taken literally: clients that send raw text (no CDATA) do not url-encode it, and decoding
 * it would turn a `+` in an e-mail address into a space. CDATA is trimmed before decoding because
 * indentation around it is layout, while encoded spaces (`+`) are data.
 */
export function textContent(element: XmlElement, urlEncoded = false): string {
  return element.content
    .map(({ cdata, text }) => {
      if (!cdata) return text;
      const trimmed = text.trim();
      return urlEncoded ? phpUrlDecode(trimmed) : trimmed;
    })
    .join('');
}

/** Text of a child element; undefined when the child is absent or empty. */
export function optionalChildText(parent: XmlElement, name: string, urlEncoded = false): string | undefined {
  const child = childElement(parent, name);
  const text = child ? textContent(child, urlEncoded) : '';
  return text === '' ? undefined : text;
}

/** Drops keys whose value is undefined, so parsed objects compare equal to the ones that were built. */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

// ---------------------------------------------------------------------------------------------------
// Builder (shared with ipn-xml.ts and crc-reply.ts)

/** Input of `serializeXml`: fast-xml-parser builder objects (`@_name` attributes, `#text`, `#cdata`). */
export type XmlTree = { [key: string]: string | XmlTree | XmlTree[] | undefined };

// XMLBuilder is marked deprecated in favour of a separate package; it is the builder shipped with the
// parser we depend on. It escapes & < > " ' in text and attributes and splits "]]>" inside CDATA.
const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  cdataPropName: '#cdata',
  suppressEmptyNode: false,
  processEntities: true,
});

/** Serializes a builder tree; keys whose value is undefined are left out (the builder would emit them). */
export function serializeXml(tree: XmlTree): string {
  return builder.build(pruneUndefined(tree)) as string;
}

function pruneUndefined(tree: XmlTree): XmlTree {
  const out: XmlTree = {};
  for (const [key, value] of Object.entries(tree)) {
    if (value === undefined) continue;
    if (typeof value === 'string') out[key] = value;
    else if (Array.isArray(value)) out[key] = value.map(pruneUndefined);
    else out[key] = pruneUndefined(value);
  }
  return out;
}

/** A value written as XML text or attribute: the builder escapes markup, but cannot make control characters legal. */
export function xmlText(value: string, field: string): string {
  if (NON_XML_CHAR_RE.test(value)) throw new V1XmlError(`${field} contains characters that XML does not allow`);
  return value;
}

/** The PHP library's encoding of free text: urlencoded inside CDATA. */
export function encodedCdata(value: string): XmlTree {
  return { '#cdata': phpUrlEncode(value) };
}

export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** An optional attribute or plain-text element: empty or missing values leave it out. */
export function optionalText(value: string | undefined, name: string): string | undefined {
  const v = nonEmpty(value);
  return v === undefined ? undefined : xmlText(v, name);
}

/** `encodedCdata` for an optional element: empty or missing values leave the element out. */
export function optionalCdata(value: string | undefined): XmlTree | undefined {
  const v = nonEmpty(value);
  return v === undefined ? undefined : encodedCdata(v);
}
