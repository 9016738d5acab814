/**
 * The one rule on plain http for every provider request, checked when a factory validates its
 * options and again by the HTTP client before any byte is sent:
 *   - a vault request (it carries a token, password, client secret or signature, or brings a
 *     password back) goes over https only; plain http is allowed solely to a loopback address with
 *     the named opt-in `insecureLoopbackHttp: true` (a dev server on this machine), and never
 *     through a proxy;
 *   - a cloud metadata request (AWS IMDS and the ECS/EKS container endpoint, Azure IMDS and the App
 *     Service identity endpoint) is plain http by design and carries only a token meant for that
 *     endpoint: it may go to a link-local address (169.254.0.0/16, fe80::/10: on-link, never routed),
 *     AWS's documented IPv6 metadata addresses, or loopback, nowhere else, and never through a proxy.
 */
import net from 'node:net';
import { ConfigError } from '../core/errors.js';
import { unbracket } from '../core/target.js';

/** The link-local metadata addresses AWS and Azure document (EC2/Azure IMDS, ECS, EKS Pod Identity, their IPv6 forms). */
export const METADATA_HOSTS: ReadonlySet<string> = new Set(['169.254.169.254', '169.254.170.2', '169.254.170.23', 'fd00:ec2::254', 'fd00:ec2::23']);

/** 169.254.0.0/16 or fe80::/10: on-link addresses a router never forwards (where metadata services live). */
export function isLinkLocalHost(host: string): boolean {
  const h = unbracket(host).toLowerCase();
  if (net.isIPv4(h)) return h.startsWith('169.254.');
  return net.isIPv6(h) && /^fe[89ab][0-9a-f]:/.test(h);
}

/** What a request is: a vault call (the default) or a cloud metadata call. */
export type EndpointKind = 'vault' | 'metadata';

/** 127.0.0.0/8, ::1 (and its IPv4-mapped form) or "localhost". */
export function isLoopbackHost(host: string): boolean {
  const h = unbracket(host).toLowerCase().replace(/\.$/, '');
  if (h === 'localhost') return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || /^::ffff:(127\.|7f[0-9a-f]{2}:)/.test(h);
  return false;
}

export interface TransportPolicy {
  kind?: EndpointKind;
  /** The named opt-in: plain http to a loopback vault (a dev server), for vault calls. */
  insecureLoopbackHttp?: boolean;
}

/** Why a request to `url` may not be sent, or undefined when it may. Never names anything but scheme and host. */
export function plainHttpRefusal(url: URL, p: TransportPolicy): string | undefined {
  if (url.protocol === 'https:') return undefined;
  if (url.protocol !== 'http:') return `${url.protocol} is not a scheme credgate speaks; use https://`;
  const host = unbracket(url.hostname).toLowerCase();
  if (p.kind === 'metadata') {
    if (METADATA_HOSTS.has(host) || isLinkLocalHost(host) || isLoopbackHost(host)) return undefined;
    return `a metadata endpoint over plain http must be a link-local metadata address (169.254.0.0/16, fe80::/10, fd00:ec2::254, fd00:ec2::23) or loopback, not ${url.host}; use https:// for any other host`;
  }
  if (p.insecureLoopbackHttp && isLoopbackHost(host)) return undefined;
  if (p.insecureLoopbackHttp) return `insecureLoopbackHttp allows plain http only to a loopback address (127.0.0.1, ::1, localhost), not ${url.host}; use https://`;
  return `http://${url.host} is plain http: credgate would send its token, password or client secret (and receive the password) unencrypted, so it refuses; use https:// (caFile names a private CA). For a dev server on this machine only, set insecureLoopbackHttp: true`;
}

/**
 * A factory's URL options checked by the rule, before any I/O: CONFIG_INVALID naming the option.
 * `caFile` (or a client certificate) given with an http:// URL is named too: it would be ignored.
 */
export function checkTransport(provider: string, urls: Record<string, string | undefined>, o: { insecureLoopbackHttp?: boolean; caFile?: unknown; certFile?: unknown }, kind: EndpointKind = 'vault'): void {
  for (const [option, value] of Object.entries(urls)) {
    if (value === undefined) continue;
    let u: URL;
    try {
      u = new URL(value);
    } catch {
      throw new ConfigError(`Invalid ${provider} provider options: ${option} is not a URL.`, { code: 'CONFIG_INVALID', details: { provider, option } });
    }
    const why = plainHttpRefusal(u, { kind, ...(o.insecureLoopbackHttp ? { insecureLoopbackHttp: true } : {}) });
    const tlsIgnored = u.protocol === 'http:' && (o.caFile !== undefined || o.certFile !== undefined);
    if (why || tlsIgnored) {
      const tlsNote = tlsIgnored ? ` (caFile/certFile apply only to https, so they would be ignored)` : '';
      throw new ConfigError(`Invalid ${provider} provider options: ${option}: ${why ?? 'is plain http'}${tlsNote}.`, { code: 'CONFIG_INVALID', details: { provider, option, scheme: u.protocol.replace(':', '') } });
    }
  }
}
