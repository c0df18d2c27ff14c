import { lookup as dnsLookup } from 'node:dns';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP } from 'node:net';

/**
 * Outbound HTTP to URLs a merchant (or a connection's settings) chose: webhook endpoints, a payment step's
 * `callback_url`, processor endpoints. Every such request goes through `Outbound.request`, which
 *
 * - refuses any address that is not public: loopback, RFC 1918, link-local (169.254.169.254 included), CGNAT,
 *   0.0.0.0/8, benchmarking, documentation, multicast and reserved ranges; IPv6 loopback, unspecified,
 *   unique-local, link-local, site-local, multicast, documentation, and the IPv4-mapped, IPv4-compatible, NAT64
 *   and 6to4 forms of the IPv4 ranges. Every spelling of an address (`2130706433`, `0x7f000001`, `0177.0.0.1`,
 *   `127.1`, `[::ffff:127.0.0.1]`) is one address here: the WHATWG URL parser normalizes them before the check;
 * - resolves a host name once, checks every address of the answer, and connects to exactly those addresses:
 *   the check runs inside the socket's own `lookup`, so there is no second lookup between check and connect
 *   (a DNS answer that changes in between, "DNS rebinding", cannot slip an internal address in);
 * - never follows redirects, never uses a proxy from the environment, never reuses a socket (no keep-alive:
 *   a pooled socket would be keyed by host name, not by the address that was checked);
 * - stops reading the answer after `maxBytes`, whatever its headers say, and closes the connection.
 *
 * Why node:http/https and not `fetch`: Node's global fetch (undici inside Node) cannot be given a dispatcher
 * with a custom DNS lookup without adding the `undici` package; node:http/https take a `lookup` option that
 * net.connect uses for the socket itself, which is exactly the pinning needed, with no dependency.
 *
 * The operator may allow internal receivers (`INCASSO_OUTBOUND_ALLOW`: host names, `*.suffix`, addresses and
 * CIDRs), and the hub may trust its own URLs (`trustedPrefixes`: the built-in emulators and webhook inbox
 * under `INCASSO_PUBLIC_URL/sandbox/`, when they are mounted).
 */

/** Raised when a URL's host is, or resolves to, an address the hub does not call. */
export class OutboundRefusedError extends Error {
  override name = 'OutboundRefusedError';
}

/** One answer of a name lookup. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (tests inject their own). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) =>
      err ? reject(err) : resolve(addresses.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }))),
    ),
  );

// ---------------------------------------------------------------------------------------------------------
// Addresses

/** An IPv4 address as an unsigned 32-bit number, from strict dotted decimal only (the URL parser normalizes). */
export function parseIPv4(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

/** An IPv6 address as 16 bytes (brackets and a zone index are dropped), or null. */
export function parseIPv6(text: string): Uint8Array | null {
  let s = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  s = s.replace(/%.*$/, '');
  if (isIP(s) !== 6) return null;
  const bytes = new Uint8Array(16);
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.', lastColon)) {
    // An embedded IPv4 tail (::ffff:127.0.0.1) is two more groups.
    const tail = parseIPv4(s.slice(lastColon + 1));
    if (tail === null) return null;
    s = `${s.slice(0, lastColon + 1)}${(tail >>> 16).toString(16)}:${(tail & 0xffff).toString(16)}`;
  }
  const [head, rest] = s.includes('::') ? s.split('::') : [s, undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  if (rest !== undefined && left.length + right.length > 7) return null;
  const groups = rest === undefined ? left : [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return null;
  groups.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  return bytes;
}

const v4 = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
const inV4 = (addr: number, base: number, prefix: number) => prefix === 0 || addr >>> (32 - prefix) === base >>> (32 - prefix);

/** IPv4 ranges that are not public (IANA special-purpose registry, plus multicast and reserved). */
const V4_SPECIAL: Array<[number, number, string]> = [
  [v4(0, 0, 0, 0), 8, '"this network" (0.0.0.0/8)'],
  [v4(10, 0, 0, 0), 8, 'private (10.0.0.0/8)'],
  [v4(100, 64, 0, 0), 10, 'shared CGNAT (100.64.0.0/10)'],
  [v4(127, 0, 0, 0), 8, 'loopback (127.0.0.0/8)'],
  [v4(169, 254, 0, 0), 16, 'link-local (169.254.0.0/16)'],
  [v4(172, 16, 0, 0), 12, 'private (172.16.0.0/12)'],
  [v4(192, 0, 0, 0), 24, 'IETF protocol assignments (192.0.0.0/24)'],
  [v4(192, 0, 2, 0), 24, 'documentation (192.0.2.0/24)'],
  [v4(192, 88, 99, 0), 24, '6to4 relay anycast (192.88.99.0/24)'],
  [v4(192, 168, 0, 0), 16, 'private (192.168.0.0/16)'],
  [v4(198, 18, 0, 0), 15, 'benchmarking (198.18.0.0/15)'],
  [v4(198, 51, 100, 0), 24, 'documentation (198.51.100.0/24)'],
  [v4(203, 0, 113, 0), 24, 'documentation (203.0.113.0/24)'],
  [v4(224, 0, 0, 0), 4, 'multicast (224.0.0.0/4)'],
  [v4(240, 0, 0, 0), 4, 'reserved (240.0.0.0/4, broadcast)'],
];

function classifyV4(addr: number): string | null {
  for (const [base, prefix, label] of V4_SPECIAL) if (inV4(addr, base, prefix)) return label;
  return null;
}

const bytesToV4 = (b: Uint8Array, at: number) => ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
const zero = (b: Uint8Array, from: number, to: number) => b.subarray(from, to).every((x) => x === 0);

function classifyV6(b: Uint8Array): string | null {
  // ::ffff:a.b.c.d (IPv4-mapped) and ::a.b.c.d (IPv4-compatible, which includes :: and ::1): the IPv4 address.
  if (zero(b, 0, 15) && b[15] <= 1) return b[15] === 1 ? 'IPv6 loopback (::1)' : 'unspecified (::)';
  if (zero(b, 0, 10) && b[10] === 0xff && b[11] === 0xff) return withinV4('IPv4-mapped', bytesToV4(b, 12));
  if (zero(b, 0, 12)) return withinV4('IPv4-compatible', bytesToV4(b, 12)) ?? 'IPv4-compatible (::/96, deprecated)';
  // 64:ff9b::/96, the well-known NAT64 prefix, embeds the IPv4 address it translates to.
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zero(b, 4, 12)) return withinV4('NAT64', bytesToV4(b, 12));
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && b[4] === 0x00 && b[5] === 0x01) return 'local-use NAT64 (64:ff9b:1::/48)';
  // 2002::/16 (6to4) embeds an IPv4 address in its next 32 bits.
  if (b[0] === 0x20 && b[1] === 0x02) return withinV4('6to4', bytesToV4(b, 2));
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] < 0x02) return 'IETF protocol assignments (2001::/23, Teredo included)';
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x0d && b[3] === 0xb8) return 'documentation (2001:db8::/32)';
  if (b[0] === 0x3f && b[1] === 0xff && b[2] < 0x10) return 'documentation (3fff::/20)';
  // Only global unicast (2000::/3) is public: this leaves out unique-local fc00::/7, link-local fe80::/10,
  // site-local fec0::/10, multicast ff00::/8, discard 100::/64 and everything unassigned.
  if ((b[0] & 0xe0) !== 0x20) {
    if ((b[0] & 0xfe) === 0xfc) return 'unique-local (fc00::/7)';
    if (b[0] === 0xfe && (b[1] & 0xc0) === 0x80) return 'link-local (fe80::/10)';
    if (b[0] === 0xff) return 'multicast (ff00::/8)';
    return 'reserved IPv6';
  }
  return null;
}

function withinV4(form: string, addr: number): string | null {
  const label = classifyV4(addr);
  return label ? `${form} ${label}` : null;
}

/** Why an address is not public (e.g. `loopback (127.0.0.0/8)`), or null when it is a public address. */
export function nonPublicReason(address: string): string | null {
  const a4 = parseIPv4(address);
  if (a4 !== null) return classifyV4(a4);
  const a6 = parseIPv6(address);
  if (a6 !== null) return classifyV6(a6);
  return 'not an IP address';
}

// ---------------------------------------------------------------------------------------------------------
// The operator's allow-list

interface Cidr {
  family: 4 | 6;
  bytes: Uint8Array;
  prefix: number;
}

function addressBytes(address: string): { family: 4 | 6; bytes: Uint8Array } | null {
  const a4 = parseIPv4(address);
  if (a4 !== null) return { family: 4, bytes: Uint8Array.of(a4 >>> 24, (a4 >>> 16) & 0xff, (a4 >>> 8) & 0xff, a4 & 0xff) };
  const a6 = parseIPv6(address);
  if (a6 === null) return null;
  // An IPv4-mapped address is the IPv4 address it maps (a socket to it reaches that IPv4 address).
  if (zero(a6, 0, 10) && a6[10] === 0xff && a6[11] === 0xff) return { family: 4, bytes: a6.slice(12) };
  return { family: 6, bytes: a6 };
}

function inCidr(address: string, cidr: Cidr): boolean {
  const a = addressBytes(address);
  if (!a || a.family !== cidr.family) return false;
  let bits = cidr.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((a.bytes[i] & mask) !== (cidr.bytes[i] & mask)) return false;
  }
  return true;
}

const HOST_RE = /^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/;

/** `INCASSO_OUTBOUND_ALLOW`, read: host names (exact, or `*.suffix` for every name under it) and CIDRs. */
export interface OutboundAllowList {
  hosts: string[];
  suffixes: string[];
  cidrs: Cidr[];
  /** The entries as written (for messages and docs). */
  entries: string[];
}

/** Reads a comma-separated allow-list; throws an Error naming the first entry that is not a host or CIDR. */
export function parseOutboundAllow(text: string | undefined): OutboundAllowList {
  const list: OutboundAllowList = { hosts: [], suffixes: [], cidrs: [], entries: [] };
  for (const raw of (text ?? '').split(',')) {
    const entry = raw.trim();
    if (!entry) continue;
    const [addressPart, prefixPart, ...extra] = entry.split('/');
    const a = extra.length === 0 ? addressBytes(addressPart.replace(/^\[(.*)\]$/, '$1')) : null;
    if (a) {
      const max = a.family === 4 ? 32 : 128;
      const prefix = prefixPart === undefined ? max : /^\d{1,3}$/.test(prefixPart) ? Number(prefixPart) : NaN;
      // A mapped IPv6 CIDR (::ffff:10.0.0.0/104) is the IPv4 CIDR it maps.
      const mappedShift = a.family === 4 && isIP(addressPart.replace(/^\[(.*)\]$/, '$1')) === 6 ? 96 : 0;
      const effective = prefix - mappedShift;
      if (!Number.isInteger(effective) || effective < 0 || effective > max)
        throw new Error(`INCASSO_OUTBOUND_ALLOW: ${JSON.stringify(entry)} has an invalid prefix length`);
      list.cidrs.push({ family: a.family, bytes: a.bytes, prefix: effective });
    } else if (prefixPart === undefined && HOST_RE.test(entry.toLowerCase())) {
      const host = entry.toLowerCase().replace(/\.$/, '');
      if (host.startsWith('*.')) list.suffixes.push(host.slice(1));
      else list.hosts.push(host);
    } else {
      throw new Error(`INCASSO_OUTBOUND_ALLOW: ${JSON.stringify(entry)} is neither a host name (or *.domain) nor an IP address or CIDR`);
    }
    list.entries.push(entry);
  }
  return list;
}

// ---------------------------------------------------------------------------------------------------------
// The client

export interface OutboundOptions {
  /** The operator's allow-list (`INCASSO_OUTBOUND_ALLOW`). */
  allow?: OutboundAllowList;
  /**
   * URL prefixes of the hub itself that are called without the address check (the built-in emulators and
   * webhook inbox, `INCASSO_PUBLIC_URL/sandbox/`, when they are mounted). A URL matches when it has the same
   * scheme, host and port, and its normalized path starts with the prefix's path.
   */
  trustedPrefixes?: string[];
  /** Name resolution (default: the system's, as every other program on the host resolves names). */
  resolver?: Resolver;
}

export interface OutboundRequestInit {
  method: string;
  headers?: Record<string, string>;
  body?: string;
  /** Deadline for the whole exchange: connect, headers and body. */
  timeoutMs: number;
  /** Bytes of the answer's body read at most; the connection is closed after them. */
  maxBytes: number;
}

export interface OutboundAnswer {
  status: number;
  /** Header names in lower case; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** At most `maxBytes` of the body. */
  body: Buffer;
  /** The body went on past `maxBytes` (the rest was never read). */
  truncated: boolean;
  /** The body could not be read to its end (deadline, reset): the status line and headers still stand. */
  bodyError?: Error;
}

/** A deadline that passed (its `name` is `TimeoutError`, as AbortSignal.timeout's is). */
function timeoutError(ms: number): Error {
  const e = new Error(`timed out after ${ms} ms`);
  e.name = 'TimeoutError';
  return e;
}

export class Outbound {
  readonly allow: OutboundAllowList;
  private readonly trusted: URL[];
  private readonly resolver: Resolver;

  constructor(options: OutboundOptions = {}) {
    this.allow = options.allow ?? parseOutboundAllow('');
    this.trusted = (options.trustedPrefixes ?? []).map((p) => new URL(p));
    this.resolver = options.resolver ?? systemResolver;
  }

  /** The URL is one of the hub's own trusted prefixes (the emulators and inbox, when mounted). */
  isTrusted(url: URL): boolean {
    return this.trusted.some(
      (t) => t.protocol === url.protocol && t.host === url.host && url.pathname.startsWith(t.pathname) && !url.username && !url.password,
    );
  }

  /** The operator allowed this host by name (`INCASSO_OUTBOUND_ALLOW`). */
  hostAllowedByName(hostname: string): boolean {
    const host = hostname.toLowerCase().replace(/\.$/, '');
    return this.allow.hosts.includes(host) || this.allow.suffixes.some((s) => host.endsWith(s));
  }

  /** The operator allowed this address (inside one of the CIDRs of `INCASSO_OUTBOUND_ALLOW`). */
  addressAllowed(address: string): boolean {
    return this.allow.cidrs.some((c) => inCidr(address, c));
  }

  /** Why the hub would not connect to this address, or null when it would. */
  refusal(address: string): string | null {
    if (this.addressAllowed(address)) return null;
    return nonPublicReason(address);
  }

  /**
   * A check for the time a URL is stored (webhook endpoint, callback_url, settings.endpoint): the reason when
   * its host is obviously internal (an address literal that is not public, or `localhost`), else null. Names
   * are not resolved here: the check that counts is the one at connect time.
   */
  obviouslyInternal(value: string): string | null {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return null;
    }
    if (this.isTrusted(url) || this.hostAllowedByName(url.hostname)) return null;
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIP(host)) return this.refusal(host);
    return isLocalhostName(host) ? 'loopback (localhost)' : null;
  }

  /** Sends one request: see the module's comment for everything it refuses and bounds. */
  async request(target: string | URL, init: OutboundRequestInit): Promise<OutboundAnswer> {
    const url = typeof target === 'string' ? new URL(target) : target;
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundRefusedError(`refused: ${url.protocol} is not http(s)`);
    const trusted = this.isTrusted(url);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const byName = !trusted && this.hostAllowedByName(url.hostname);
    if (!trusted && !byName && isIP(host)) {
      const reason = this.refusal(host);
      if (reason) throw new OutboundRefusedError(`refused: ${host} is not a public address (${reason}); the operator may allow it with INCASSO_OUTBOUND_ALLOW`);
    }
    if (!trusted && !byName && isLocalhostName(host))
      throw new OutboundRefusedError(`refused: ${host} is a loopback name; the operator may allow it with INCASSO_OUTBOUND_ALLOW`);
    const guard = trusted || byName ? undefined : this.pinnedLookup(url.hostname);
    return send(url, init, guard);
  }

  /**
   * The socket's `lookup`: resolves the name once, refuses the whole answer if any address is not public,
   * and hands net.connect exactly the addresses it checked.
   */
  private pinnedLookup(hostname: string) {
    const check = async (): Promise<ResolvedAddress[]> => {
      const addresses = await this.resolver(hostname);
      if (addresses.length === 0) throw new OutboundRefusedError(`refused: ${hostname} has no address`);
      for (const a of addresses) {
        const reason = this.refusal(a.address);
        if (reason)
          throw new OutboundRefusedError(
            `refused: ${hostname} resolves to an address that is not public (${reason}); the operator may allow it with INCASSO_OUTBOUND_ALLOW`,
          );
      }
      return addresses;
    };
    return (_name: string, options: { all?: boolean; family?: number | string }, callback: (...args: any[]) => void) => {
      check().then(
        (addresses) => {
          const wanted = options.family === 4 || options.family === 'IPv4' ? 4 : options.family === 6 || options.family === 'IPv6' ? 6 : 0;
          const usable = wanted ? addresses.filter((a) => a.family === wanted) : addresses;
          if (usable.length === 0) return callback(new OutboundRefusedError(`refused: ${hostname} has no IPv${wanted} address`));
          if (options.all) callback(null, usable);
          else callback(null, usable[0].address, usable[0].family);
        },
        (err) => callback(err),
      );
    };
  }
}

/** `localhost` and every name under it (RFC 6761): loopback by definition, whatever a resolver says. */
function isLocalhostName(host: string): boolean {
  const lower = host.toLowerCase().replace(/\.$/, '');
  return lower === 'localhost' || lower.endsWith('.localhost');
}

/** One request over node:http(s), with the deadline and the byte cap; `lookup` pins the checked addresses. */
function send(url: URL, init: OutboundRequestInit, lookup: ReturnType<Outbound['pinnedLookup']> | undefined): Promise<OutboundAnswer> {
  return new Promise((resolve, reject) => {
    let settled = false;
    let response: http.IncomingMessage | undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    const finish = (bodyError?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!response) return reject(bodyError ?? new Error('no answer'));
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(response.headers))
        if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
      resolve({ status: response.statusCode ?? 0, headers, body: Buffer.concat(chunks, size), truncated, ...(bodyError ? { bodyError } : {}) });
      // Whatever is left is not read: the socket is closed (no keep-alive, nothing to reuse it for).
      response.destroy();
      request.destroy();
    };
    const headers: Record<string, string> = { ...(init.headers ?? {}), connection: 'close' };
    const body = init.body === undefined ? undefined : Buffer.from(init.body);
    if (body) headers['content-length'] = String(body.length);
    const options: https.RequestOptions = {
      method: init.method,
      headers,
      agent: false,
      ...(lookup ? { lookup: lookup as unknown as http.RequestOptions['lookup'] } : {}),
    };
    const request = (url.protocol === 'https:' ? https : http).request(url, options, (res) => {
      response = res;
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        const room = init.maxBytes - size;
        if (chunk.length > room) {
          chunks.push(chunk.subarray(0, room));
          size += room;
          truncated = true;
          return finish();
        }
        chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', () => finish());
      res.on('error', (e) => finish(e));
      res.on('close', () => finish(res.complete ? undefined : new Error('the connection closed before the answer ended')));
    });
    const timer = setTimeout(() => {
      const e = timeoutError(init.timeoutMs);
      if (response) finish(e);
      else {
        settled = true;
        request.destroy(e);
        reject(e);
      }
    }, init.timeoutMs);
    request.on('error', (e) => {
      if (settled) return;
      if (response) return finish(e);
      settled = true;
      clearTimeout(timer);
      reject(e);
    });
    request.end(body);
  });
}

/** At most `max` characters of an answer, printable: control characters (and invalid UTF-8) dropped, whitespace runs kept as one space. */
/** The guard with no exceptions (public addresses only), for a context built without the server's wiring. */
const STRICT_OUTBOUND = new Outbound();

/** The hub's outbound guard: the one the server configured, or the strict one where none was. */
export function outboundOf(ctx: { outbound?: Outbound }): Outbound {
  return ctx.outbound ?? STRICT_OUTBOUND;
}

export function printableExcerpt(body: Buffer | string, max = 256): string {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  const clean = text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff\ufffd]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return Array.from(clean).slice(0, max).join('');
}

/** Adds a field error when a URL about to be stored points at an obviously internal address (see `obviouslyInternal`). */
export function checkOutboundUrl(errors: { add(field: string, message: string): void }, field: string, outbound: Outbound, url: string): void {
  const reason = outbound.obviouslyInternal(url);
  if (reason)
    errors.add(
      field,
      `must not point at an internal address (${reason}); the hub calls public addresses only unless the operator allows more with INCASSO_OUTBOUND_ALLOW`,
    );
}
