/**
 * The HTTP rate limit's key of a client address, as @fastify/rate-limit 11 keyed it (its `normalizeIP` with the
 * default subnet), so counts and their Redis keys are what they were:
 * - an IPv4 address is its own key (lower-cased, as any string that is not an IPv6 address);
 * - an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, the form a dual-stack socket reports) is keyed by its IPv4 address;
 * - any other IPv6 address by its /64 subnet, written in the compressed form (`2001:db8:0:1::`): one client holds a
 *   /64, so the addresses within it share a budget. The zone of a link-local address (`%eth0`) is not part of the key.
 * IPv4 costs one `includes(':')`; an IPv6 key is parsed once and remembered (a bounded number of addresses).
 */
import { isIPv6 } from 'node:net';

/** IPv6 addresses whose keys are remembered; past this the memory starts again. */
const REMEMBERED_MAX = 1000;

export class ClientKeys {
  private readonly ipv6 = new Map<string, string>();

  /** The key of a client address (`request.ip`, a socket's remoteAddress). */
  of(ip: string): string {
    if (!ip.includes(':')) return ip.toLowerCase();
    let key = this.ipv6.get(ip);
    if (key === undefined) {
      key = ipv6Key(ip);
      if (this.ipv6.size >= REMEMBERED_MAX) this.ipv6.clear();
      this.ipv6.set(ip, key);
    }
    return key;
  }
}

/** The key of an address that contains a colon (see the module comment); not IPv6: itself, lower-cased. */
export function ipv6Key(ip: string): string {
  if (!isIPv6(ip)) return ip.toLowerCase();
  const groups = ipv6Groups(ip);
  if (groups[0] === 0 && groups[1] === 0 && groups[2] === 0 && groups[3] === 0 && groups[4] === 0 && groups[5] === 0xffff) {
    return `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`;
  }
  // The /64 subnet's first address: the last four groups are zero, and they are the longest run of zeros (with any
  // zeros that end the first four), so that run is the one written as `::`.
  let kept = 4;
  while (kept > 0 && groups[kept - 1] === 0) kept--;
  return `${groups
    .slice(0, kept)
    .map((g) => g.toString(16))
    .join(':')}::`;
}

/** The eight 16-bit groups of a valid IPv6 address (net.isIPv6), zone dropped, a trailing dotted quad as two groups. */
function ipv6Groups(ip: string): number[] {
  const zone = ip.indexOf('%');
  let text = zone < 0 ? ip : ip.slice(0, zone);
  const tail: number[] = [];
  if (text.includes('.')) {
    const colon = text.lastIndexOf(':');
    const [a, b, c, d] = text
      .slice(colon + 1)
      .split('.')
      .map(Number) as [number, number, number, number];
    tail.push((a << 8) | b, (c << 8) | d);
    // Keep the colon: `::1.2.3.4` leaves `::`, `1::2.3.4.5` leaves `1::`, `1:2:3:4:5:6:7.8.9.10` leaves `1:…:6:`.
    text = text.slice(0, colon + 1);
    if (text.endsWith(':') && !text.endsWith('::')) text = text.slice(0, -1);
  }
  const hex = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const gap = text.indexOf('::');
  const head = gap < 0 ? hex(text) : hex(text.slice(0, gap));
  const rest = gap < 0 ? [] : hex(text.slice(gap + 2));
  const zeros = 8 - head.length - rest.length - tail.length;
  return [...head, ...Array<number>(Math.max(0, zeros)).fill(0), ...rest, ...tail];
}
