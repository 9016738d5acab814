/**
 * Host name matching for cached RDP targets: case, trailing dots, FQDN vs short name, ports, and
 * IPv4/IPv6 literals (bracketed, zero-compressed, mixed case, IPv4-mapped) all compare as the
 * same host when they are.
 */
import net from 'node:net';

export interface HostKey {
  /** Canonical form: lowercased name without trailing dot, or the canonical IP literal. */
  canonical: string;
  kind: 'name' | 'ipv4' | 'ipv6';
  /** First DNS label for names (`web01` of `web01.corp.example`). */
  short?: string;
}

function canonicalIPv6(ip: string): string {
  // let the URL parser canonicalise (lowercase, zero compression) ...
  const u = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  // ... and fold IPv4-mapped addresses into IPv4
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(u);
  if (m) {
    const a = parseInt(m[1]!, 16);
    const b = parseInt(m[2]!, 16);
    return `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
  }
  return u;
}

export function hostKey(input: string): HostKey {
  let h = input.trim();
  // strip a port ([v6]:port, name:port, v4:port; a bare v6 literal has several colons), a zone id,
  // and trailing dots, until nothing changes: the canonical form is then its own key
  for (let i = 0; i < 8; i++) {
    const before = h;
    const br = /^\[([^\]]+)\](?::\d+)?$/.exec(h);
    if (br) h = br[1]!;
    else if ((h.match(/:/g) ?? []).length === 1) h = h.slice(0, h.indexOf(':'));
    h = h.replace(/%.*$/s, '').replace(/[\s.]+$/, '').trim();
    if (h === before) break;
  }
  if (net.isIPv4(h)) return { canonical: h.split('.').map((x) => String(Number(x))).join('.'), kind: 'ipv4' };
  if (net.isIPv6(h)) {
    const c = canonicalIPv6(h);
    return net.isIPv4(c) ? { canonical: c, kind: 'ipv4' } : { canonical: c, kind: 'ipv6' };
  }
  const name = h.toLowerCase();
  const dot = name.indexOf('.');
  return { canonical: name, kind: 'name', short: dot < 0 ? name : name.slice(0, dot) };
}

/**
 * Same host? Exact canonical match, or a short name against an FQDN with that first label.
 * `aliases` are other names/addresses of host `b` (e.g. what DNS returned for it).
 */
export function sameHost(a: string, b: string, aliases: readonly string[] = []): boolean {
  return match(hostKey(a), hostKey(b)) || aliases.some((x) => match(hostKey(a), hostKey(x)));
}

/** sameHost(a, host, aliases) with the host's keys computed once: (key of a) => boolean. */
export function hostMatcher(host: string, aliases: readonly string[] = []): (a: HostKey) => boolean {
  const keys = [hostKey(host), ...aliases.map(hostKey)];
  return (ka) => keys.some((kb) => match(ka, kb));
}

function match(ka: HostKey, kb: HostKey): boolean {
  if (ka.canonical === kb.canonical) return true;
  if (ka.kind === 'name' && kb.kind === 'name') {
    const aShort = !ka.canonical.includes('.');
    const bShort = !kb.canonical.includes('.');
    return aShort !== bShort && ka.short === kb.short;
  }
  return false;
}
