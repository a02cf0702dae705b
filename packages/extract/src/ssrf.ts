import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { extractError } from './errors.js';

/** ipaddr.js range names refused by default (everything that is not public unicast). */
const BLOCKED_V4 = new Set(['unspecified', 'broadcast', 'multicast', 'linkLocal', 'loopback', 'carrierGradeNat', 'private', 'reserved']);
const BLOCKED_V6 = new Set([
  'unspecified',
  'linkLocal',
  'multicast',
  'loopback',
  'uniqueLocal',
  'deprecatedSiteLocal',
  // These embed an IPv4 address that could be private.
  'rfc6145',
  'rfc6052',
  '6to4',
  'teredo',
]);

const RANGE_WORDS: Record<string, string> = {
  unspecified: 'an unspecified address',
  broadcast: 'a broadcast address',
  multicast: 'a multicast address',
  linkLocal: 'a link-local address',
  loopback: 'a loopback address',
  carrierGradeNat: 'a carrier-grade NAT (100.64.0.0/10) address',
  private: 'a private address',
  reserved: 'a reserved address',
  uniqueLocal: 'a unique-local (fc00::/7) address',
  deprecatedSiteLocal: 'a site-local address',
  rfc6145: 'an IPv4-translated address',
  rfc6052: 'a NAT64 address',
  '6to4': 'a 6to4 address',
  teredo: 'a Teredo address',
};

/** Why `address` is refused (e.g. "a loopback address"), or undefined when it is public. */
export function blockedRange(address: string): string | undefined {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.process(address); // unwraps ::ffff:a.b.c.d
  } catch {
    return 'an unparseable address';
  }
  const range = parsed.range();
  const blocked = parsed.kind() === 'ipv4' ? BLOCKED_V4.has(range) : BLOCKED_V6.has(range);
  if (address === '169.254.169.254') return 'the instance metadata endpoint (link-local)';
  return blocked ? (RANGE_WORDS[range] ?? `a ${range} address`) : undefined;
}

export function ssrfError(address: string, why: string, redactedUrl: string): Error {
  return extractError(
    'SSRF_BLOCKED',
    `refusing to fetch ${redactedUrl}: it resolves to ${address}, ${why}; pass --allow-private-network (allowPrivateNetwork: true) if this is intended`,
    { source: redactedUrl },
  );
}

/** Throws when `host` is an IP literal in a blocked range (literals skip DNS lookup). */
export function assertLiteralHostAllowed(host: string, redactedUrl: string): void {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(bare) === 0) return;
  const why = blockedRange(bare);
  if (why) throw ssrfError(bare, why, redactedUrl);
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for node:http(s) that resolves, then refuses the connection when
 * any resolved address is in a blocked range. Checking after resolution (and
 * on every redirect hop, since each hop is a new connection) defeats DNS names
 * that point at private addresses.
 */
export function guardedLookup(redactedUrl: () => string) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      for (const a of addresses) {
        const why = blockedRange(a.address);
        if (why) return callback(ssrfError(a.address, why, redactedUrl()) as NodeJS.ErrnoException, []);
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first) return callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}
