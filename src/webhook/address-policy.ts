// SSRF guard: which IP addresses an outbound webhook may reach.
//
// ipaddr.js does the parsing, the CIDR matching and most of the special-range table. What is written
// by hand here is only what it does not do, each marked "by hand" with the reason:
// - the cloud metadata endpoints, and documentation/benchmarking names (ipaddr.js files them under
//   'reserved' or not at all),
// - unwrapping IPv4 embedded in NAT64, 6to4, Teredo and IPv4-compatible IPv6 addresses (ipaddr.js
//   names those ranges but does not classify the IPv4 inside them),
// - refusing unnamed IPv6 space outside global unicast 2000::/3 (ipaddr.js calls it 'unicast'),
// - parsing: only canonical literals are accepted (ipaddr.js also takes "0x7f.1"), and "::a.b.c.d"
//   is read as IPv4-compatible (ipaddr.js turns it into the IPv4-mapped ::ffff:a.b.c.d).
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

type IPv4 = ipaddr.IPv4;
type IPv6 = ipaddr.IPv6;
type IP = IPv4 | IPv6;
// ipaddr.js does not export its RangeList type.
type NamedRanges<T extends IP> = Record<string, [T, number][]>;

/** A special-purpose range an address can fall in. Every one of them is refused unless allow-listed. */
export type AddressRange =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'linkLocal'
  | 'carrierGradeNat'
  | 'multicast'
  | 'broadcast'
  | 'uniqueLocal'
  | 'siteLocal'
  | 'metadata'
  | 'benchmarking'
  | 'documentation'
  | 'reserved'
  | 'invalid';

const RANGE_DESCRIPTIONS: Record<AddressRange, string> = {
  unspecified: 'an unspecified address',
  loopback: 'a loopback address',
  private: 'a private address',
  linkLocal: 'a link-local address',
  carrierGradeNat: 'a carrier-grade NAT address',
  multicast: 'a multicast address',
  broadcast: 'a broadcast address',
  uniqueLocal: 'a unique local address',
  siteLocal: 'a site-local address',
  metadata: 'a cloud metadata address',
  benchmarking: 'a benchmarking address',
  documentation: 'a documentation address',
  reserved: 'a reserved address',
  invalid: 'not a valid IP address',
};

function v4(address: string): IPv4 {
  return ipaddr.IPv4.parse(address);
}
function v6(address: string): IPv6 {
  return ipaddr.IPv6.parse(address);
}

// By hand: checked before ipaddr.js's own table, because these sit inside ranges it names more
// vaguely (169.254.169.254 is "linkLocal", 100.100.100.200 "carrierGradeNat", the documentation
// and benchmarking nets "reserved") and the precise name makes a refusal self-explanatory.
const IPV4_NAMED: NamedRanges<IPv4> = {
  metadata: [
    [v4('169.254.169.254'), 32], // AWS, GCP, Azure, OpenStack, DigitalOcean…
    [v4('100.100.100.200'), 32], // Alibaba Cloud
    [v4('192.0.0.192'), 32], // Oracle Cloud (classic)
  ],
  documentation: [
    [v4('192.0.2.0'), 24],
    [v4('198.51.100.0'), 24],
    [v4('203.0.113.0'), 24],
  ],
  benchmarking: [[v4('198.18.0.0'), 15]],
};

const IPV6_NAMED: NamedRanges<IPv6> = {
  metadata: [[v6('fd00:ec2::254'), 128]], // AWS IMDS over IPv6
  documentation: [
    [v6('2001:db8::'), 32],
    [v6('3fff::'), 20],
  ],
};

const NO_MATCH = '-';

function classifyIPv4(address: IPv4): AddressRange | null {
  // ipaddr.js's .d.ts declares an instance subnetMatch() that does not exist at run time.
  const named = ipaddr.subnetMatch(address, IPV4_NAMED, NO_MATCH);
  if (named !== NO_MATCH) return named as AddressRange;
  const range = address.range();
  switch (range) {
    case 'unicast':
    case 'as112': // globally routed anycast DNS sinks
    case 'amt': // globally routed multicast relays
      return null;
    case 'unspecified':
    case 'broadcast':
    case 'multicast':
    case 'linkLocal':
    case 'loopback':
    case 'carrierGradeNat':
    case 'private':
    case 'reserved':
    case 'benchmarking':
      return range;
    default:
      // Fail closed on a range a newer ipaddr.js names that this switch does not know yet.
      return 'reserved';
  }
}

/** The IPv4 address(es) an IPv6 address carries, or null when it carries none. */
function embeddedIPv4(address: IPv6): IPv4[] | null {
  const p = address.parts;
  const bytes = address.toByteArray();
  const fromBytes = (at: readonly number[]): IPv4 => new ipaddr.IPv4(at.map((i) => bytes[i] ?? 0));
  const last32 = (): IPv4 => fromBytes([12, 13, 14, 15]);

  // ::ffff:0:0/96 (IPv4-mapped), ::ffff:0:0:0/96 (IPv4-translated, RFC 6145) and ::/96
  // (IPv4-compatible, deprecated); :: and ::1 are themselves, not embeddings.
  if (p[0] === 0 && p[1] === 0 && p[2] === 0 && p[3] === 0) {
    const isMapped = p[4] === 0 && p[5] === 0xffff;
    const isTranslated = p[4] === 0xffff && p[5] === 0;
    const isCompatible = p[4] === 0 && p[5] === 0 && !(p[6] === 0 && (p[7] === 0 || p[7] === 1));
    if (isMapped || isTranslated || isCompatible) return [last32()];
    return null;
  }
  // NAT64 well-known prefix 64:ff9b::/96 (RFC 6052): always the /96 layout.
  if (p[0] === 0x64 && p[1] === 0xff9b && p[2] === 0 && p[3] === 0 && p[4] === 0 && p[5] === 0) {
    return [last32()];
  }
  // NAT64 local-use prefix 64:ff9b:1::/48 (RFC 8215). The operator picks the prefix length, which
  // moves the IPv4 (RFC 6052 §2.2, skipping the "u" octet, byte 8). We cannot see that choice, so
  // every layout that fits inside the /48 is decoded and all of them must be public.
  if (p[0] === 0x64 && p[1] === 0xff9b && p[2] === 0x1) {
    return [
      last32(), // /96
      fromBytes([9, 10, 11, 12]), // /64
      fromBytes([7, 9, 10, 11]), // /56
      fromBytes([6, 7, 9, 10]), // /48
    ];
  }
  // 6to4 2002::/16 (RFC 3056): 2002:AABB:CCDD::/48 carries AA.BB.CC.DD.
  if (p[0] === 0x2002) return [fromBytes([2, 3, 4, 5])];
  // Teredo 2001::/32 (RFC 4380): server IPv4 in bits 32-63, client IPv4 inverted in the last 32.
  if (p[0] === 0x2001 && p[1] === 0) {
    const client = [12, 13, 14, 15].map((i) => (bytes[i] ?? 0) ^ 0xff);
    return [fromBytes([4, 5, 6, 7]), new ipaddr.IPv4(client)];
  }
  return null;
}

// By hand: ipaddr.js calls anything it has no name for 'unicast', including space IANA has not
// allocated; only 2000::/3 is global unicast, the rest cannot be a legitimate public receiver.
const GLOBAL_UNICAST: [IPv6, number] = [v6('2000::'), 3];

function classifyIPv6(address: IPv6): AddressRange | null {
  const named = ipaddr.subnetMatch(address, IPV6_NAMED, NO_MATCH);
  if (named !== NO_MATCH) return named as AddressRange;

  const embedded = embeddedIPv4(address);
  if (embedded !== null) {
    const ranges = embedded.map(classifyIPv4).filter((range) => range !== null);
    // With several candidate decodings, the zero bits of a wrong layout read as 0.x.x.x; the name
    // of a decoding that is not "unspecified" is the one that explains the refusal.
    return ranges.find((range) => range !== 'unspecified') ?? ranges[0] ?? null;
  }

  const range = address.range();
  switch (range) {
    case 'unicast':
      return address.match(GLOBAL_UNICAST) ? null : 'reserved';
    case 'as112v6': // globally routed anycast DNS sinks
    case 'amt': // globally routed multicast relays
      return null;
    case 'unspecified':
    case 'linkLocal':
    case 'multicast':
    case 'loopback':
    case 'uniqueLocal':
    case 'benchmarking':
    case 'reserved':
      return range;
    default:
      // deprecatedSiteLocal is the only one with its own name; the rest (discard, ORCHID, DRIP,
      // segment routing, and ranges a newer ipaddr.js adds) are never a webhook receiver.
      return (range as string) === 'deprecatedSiteLocal' ? 'siteLocal' : 'reserved';
  }
}

// By hand: ipaddr.js reads "::a.b.c.d" as the IPv4-mapped ::ffff:a.b.c.d, but it is the
// IPv4-compatible ::a.b:c.d, a different address (it would wrongly match an allow-listed IPv4).
const IPV4_COMPATIBLE_DOTTED = /^::(\d{1,3}(?:\.\d{1,3}){3})(%.*)?$/;

/**
 * Parses only the spellings the operating system itself produces and accepts (`net.isIP`).
 * ipaddr.js also accepts "0x7f.1", "0177.0.0.1" or "2130706433"; such spellings are read
 * differently by different parsers, so they are refused rather than guessed at.
 */
function parseAddress(address: string): IP | null {
  if (isIP(address) === 0) return null;
  const compatible = IPV4_COMPATIBLE_DOTTED.exec(address);
  if (compatible?.[1] !== undefined) {
    const [a = 0, b = 0, c = 0, d = 0] = ipaddr.IPv4.parse(compatible[1]).octets;
    return new ipaddr.IPv6([0, 0, 0, 0, 0, 0, (a << 8) | b, (c << 8) | d]);
  }
  return ipaddr.parse(address);
}

/**
 * The special range an IP address falls in, or null for a public unicast address.
 * Unwraps IPv4-mapped (::ffff:a.b.c.d), IPv4-translated, NAT64 (64:ff9b::/96 and 64:ff9b:1::/48),
 * 6to4 (2002::/16), Teredo (2001::/32) and IPv4-compatible (::a.b.c.d) embeddings and classifies
 * the embedded IPv4. Anything that is not a canonical IPv4/IPv6 literal is 'invalid' (refused).
 */
export function classifyAddress(address: string): AddressRange | null {
  const parsed = parseAddress(address);
  if (parsed === null) return 'invalid';
  return parsed.kind() === 'ipv4' ? classifyIPv4(parsed as IPv4) : classifyIPv6(parsed as IPv6);
}

export type PolicyVerdict = { allowed: true } | { allowed: false; reason: string };

export interface AddressPolicy {
  /** Allowed, or the reason it is refused (e.g. "127.0.0.1 is a loopback address"). */
  check(address: string): PolicyVerdict;
}

/** IPv4-mapped addresses (and CIDRs) reach the same IPv4 host, so they are matched as IPv4. */
function unmap(address: IP): IP {
  if (address.kind() === 'ipv6' && (address as IPv6).isIPv4MappedAddress()) {
    return (address as IPv6).toIPv4Address();
  }
  return address;
}

function parseAllowCidr(cidr: string): [IP, number] {
  const invalid = () =>
    new Error(
      `invalid CIDR in the address allow-list: ${JSON.stringify(cidr)} ` +
        '(expected an address and a prefix length, e.g. "10.0.0.0/8", "127.0.0.1/32" or "fd00::/8")',
    );
  const slash = cidr.lastIndexOf('/');
  if (slash < 0) throw invalid();
  const address = parseAddress(cidr.slice(0, slash).trim());
  const prefixText = cidr.slice(slash + 1).trim();
  if (address === null || !/^\d{1,3}$/.test(prefixText)) throw invalid();
  const prefix = Number(prefixText);
  if (prefix > (address.kind() === 'ipv4' ? 32 : 128)) throw invalid();
  // ::ffff:10.0.0.0/104 is 10.0.0.0/8 written as IPv6.
  if (address.kind() === 'ipv6' && (address as IPv6).isIPv4MappedAddress() && prefix >= 96) {
    return [(address as IPv6).toIPv4Address(), prefix - 96];
  }
  return [address, prefix];
}

/**
 * A policy that allows public unicast addresses and refuses every special range, except addresses
 * inside one of `allowCidrs` (e.g. ['127.0.0.1/32', '10.0.0.0/8', '::1/128']), which are allowed
 * even when special. IPv4-mapped IPv6 addresses match IPv4 CIDRs. Throws on an invalid CIDR.
 */
export function createAddressPolicy(allowCidrs: readonly string[]): AddressPolicy {
  const allowed = allowCidrs.map(parseAllowCidr);
  return {
    check(address) {
      const parsed = parseAddress(address);
      if (parsed !== null) {
        const candidate = unmap(parsed);
        for (const cidr of allowed) {
          if (cidr[0].kind() === candidate.kind() && candidate.match(cidr)) return { allowed: true };
        }
      }
      const range = classifyAddress(address);
      if (range === null) return { allowed: true };
      return { allowed: false, reason: `${address} is ${RANGE_DESCRIPTIONS[range]}` };
    },
  };
}

/**
 * Whether a URL host is an IP literal (and so must be checked without DNS). Accepts a bracketed
 * IPv6 host as `URL.hostname` gives it, e.g. "[::1]".
 */
export function isIpLiteral(host: string): boolean {
  if (host.startsWith('[') && host.endsWith(']')) return isIP(host.slice(1, -1)) === 6;
  return isIP(host) !== 0;
}
