/**
 * Proxies for the providers' HTTP client. HTTPS_PROXY / HTTP_PROXY / NO_PROXY are read as curl and
 * Node 24's NODE_USE_ENV_PROXY read them (lowercase first), on every Node version and without that
 * flag; an https request goes through the proxy in a CONNECT tunnel (TLS end to end: the proxy sees
 * the host name, never the token). A plain-http proxy hop for a vault request is refused by the
 * client (see transport-rule.ts); metadata endpoints never use a proxy.
 */
import type * as Http from 'node:http';
import type * as Https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { ConfigError, ProviderError } from '../core/errors.js';
import { unbracket } from '../core/target.js';

// node:http and node:https as plain modules, not through an ESM import: on Node 24 the ESM view of
// node:http reads every export, undici's included (~25 ms at `import('credgate')`, for a client
// most callers never use)
const http: typeof Http = process.getBuiltinModule('node:http');
const https: typeof Https = process.getBuiltinModule('node:https');

export interface ProxySettings {
  https?: URL;
  http?: URL;
  /** Which variable (or option) each came from, for messages. */
  from: { https?: string; http?: string };
  noProxy: NoProxy;
}

export interface NoProxy {
  all: boolean;
  /** Domain suffixes and host names (lowercase, no leading dot), each with an optional port. */
  names: Array<{ name: string; port?: number }>;
  ips: net.BlockList;
}

/** A proxy URL as written in an environment variable or option ("proxy:3128" is http://proxy:3128). */
export function parseProxyUrl(value: string, from: string): URL {
  const v = value.trim();
  let u: URL;
  try {
    u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? v : `http://${v}`);
  } catch {
    throw new ConfigError(`${from} is not a proxy URL; write http://proxy.example:3128 (credentials as http://user:password@host:port).`, { code: 'CONFIG_INVALID', details: { variable: from } });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new ConfigError(`${from} names a ${u.protocol.replace(':', '')} proxy; credgate tunnels through http:// and https:// proxies only (for another kind, pass an agent option, e.g. from socks-proxy-agent).`, { code: 'CONFIG_INVALID', details: { variable: from, scheme: u.protocol.replace(':', '') } });
  }
  return u;
}

/** NO_PROXY: "*", host names and domain suffixes ("corp.example", ".corp.example", "*.corp.example"), host:port, IP literals and CIDR ranges. */
export function parseNoProxy(value: string | undefined): NoProxy {
  const out: NoProxy = { all: false, names: [], ips: new net.BlockList() };
  for (const raw of (value ?? '').split(/[\s,]+/)) {
    let e = raw.trim().toLowerCase();
    if (!e) continue;
    if (e === '*') {
      out.all = true;
      continue;
    }
    const cidr = /^\[?([0-9a-f:.]+)\]?\/(\d{1,3})$/.exec(e);
    if (cidr && net.isIP(cidr[1]!)) {
      const type = net.isIPv4(cidr[1]!) ? 'ipv4' : 'ipv6';
      const bits = Number(cidr[2]);
      if (bits <= (type === 'ipv4' ? 32 : 128)) out.ips.addSubnet(cidr[1]!, bits, type);
      continue;
    }
    let port: number | undefined;
    const hp = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(e);
    if (hp) {
      e = hp[1]!;
      port = Number(hp[2]);
    }
    const ip = unbracket(e);
    if (net.isIP(ip) && port === undefined) {
      out.ips.addAddress(ip, net.isIPv4(ip) ? 'ipv4' : 'ipv6');
      continue;
    }
    out.names.push({ name: ip.replace(/^\*?\./, '').replace(/\.$/, ''), ...(port !== undefined ? { port } : {}) });
  }
  return out;
}

/** Whether NO_PROXY exempts this host and port. */
export function bypassesProxy(hostname: string, port: number, np: NoProxy): boolean {
  if (np.all) return true;
  const h = unbracket(hostname).toLowerCase().replace(/\.$/, '');
  if (net.isIP(h) && np.ips.check(h, net.isIPv4(h) ? 'ipv4' : 'ipv6')) return true;
  return np.names.some((n) => (n.port === undefined || n.port === port) && (h === n.name || h.endsWith(`.${n.name}`)));
}

/** The proxy settings from the environment, or from an explicit `proxy` option (a URL, or false for none). */
export function proxySettings(env: Record<string, string | undefined>, option?: string | false): ProxySettings {
  const pick = (...names: string[]) => {
    for (const n of names) {
      const v = env[n];
      if (v !== undefined && v.trim() !== '') return { v, n };
    }
    return undefined;
  };
  const noProxy = parseNoProxy(pick('no_proxy', 'NO_PROXY')?.v);
  if (option === false) return { from: {}, noProxy: parseNoProxy('') };
  if (typeof option === 'string') {
    const u = parseProxyUrl(option, 'the proxy option');
    return { https: u, http: u, from: { https: 'the proxy option', http: 'the proxy option' }, noProxy };
  }
  const hs = pick('https_proxy', 'HTTPS_PROXY');
  const hp = pick('http_proxy', 'HTTP_PROXY');
  return {
    ...(hs ? { https: parseProxyUrl(hs.v, hs.n) } : {}),
    ...(hp ? { http: parseProxyUrl(hp.v, hp.n) } : {}),
    from: { ...(hs ? { https: hs.n } : {}), ...(hp ? { http: hp.n } : {}) },
    noProxy,
  };
}

/** The proxy a request to `target` goes through, if any. */
export function proxyFor(target: URL, s: ProxySettings): { url: URL; from: string } | undefined {
  const scheme = target.protocol === 'https:' ? 'https' : 'http';
  const url = s[scheme];
  if (!url) return undefined;
  const port = Number(target.port || (scheme === 'https' ? 443 : 80));
  if (bypassesProxy(target.hostname, port, s.noProxy)) return undefined;
  return { url, from: s.from[scheme]! };
}

/** Basic credentials from a proxy URL's user info, for Proxy-Authorization on CONNECT only. */
function proxyAuth(u: URL): string | undefined {
  if (!u.username && !u.password) return undefined;
  return `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
}

/**
 * An https.Agent that reaches every host through `proxy` with HTTP CONNECT, then speaks TLS to the
 * target inside the tunnel (its CA, client certificate and server name as for a direct connection).
 * Keep-alive pooling works as for a direct agent; destroy() also cancels tunnels being opened.
 */
export class TunnelAgent extends https.Agent {
  private readonly pending = new Set<Http.ClientRequest>();

  /** `proxyCa`: extra CAs for an https:// proxy's own certificate (the provider's caFile), beside the system's. */
  constructor(private readonly proxy: URL, private readonly provider: string, private readonly connectTimeoutMs: number, private readonly proxyCa: Array<string | Buffer> = []) {
    super({ keepAlive: true, maxSockets: 8 });
  }

  // Node's Agent accepts a createConnection that answers through its callback (returning nothing)
  override createConnection(options: tls.ConnectionOptions & { host?: string; port?: number; servername?: string }, cb: (err: Error | null, socket?: Duplex) => void): undefined {
    const host = options.host ?? 'localhost';
    const port = Number(options.port ?? 443);
    const authority = `${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
    const p = this.proxy;
    const where = `the proxy ${p.host}`;
    const auth = proxyAuth(p);
    const req = (p.protocol === 'https:' ? https : http).request({
      host: unbracket(p.hostname), port: Number(p.port || (p.protocol === 'https:' ? 443 : 80)), method: 'CONNECT', path: authority, agent: false,
      headers: { host: authority, ...(auth ? { 'proxy-authorization': auth } : {}) }, timeout: this.connectTimeoutMs,
      ...(p.protocol === 'https:' && this.proxyCa.length ? { ca: [...tls.rootCertificates, ...this.proxyCa] } : {}),
    });
    this.pending.add(req);
    let done = false;
    const finish = (err: Error | null, socket?: Duplex) => {
      if (done) return;
      done = true;
      this.pending.delete(req);
      cb(err, socket);
    };
    req.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        const st = res.statusCode ?? 0;
        const details = { provider: this.provider, proxy: p.host, proxyStatus: st };
        finish(st === 407
          ? new ConfigError(`${where} asks for credentials (407 Proxy Authentication Required); put them in the proxy URL (http://user:password@${p.host}) or pass an agent.`, { code: 'CONFIG_INVALID', details })
          : new ProviderError(`${where} refused the tunnel to ${authority} (${st} ${res.statusMessage ?? ''}); check the proxy's rules for this host and port, or add the host to NO_PROXY.`.replace(' )', ')'), { code: 'PROVIDER_UNAVAILABLE', details }));
        return;
      }
      const servername = options.servername ?? (net.isIP(host) ? undefined : host);
      finish(null, tls.connect({ ...options, socket, ...(servername ? { servername } : {}) }));
    });
    req.once('timeout', () => req.destroy(Object.assign(new Error(`${where} did not open a tunnel within ${this.connectTimeoutMs} ms`), { code: 'ETIMEDOUT' })));
    req.once('error', (e: NodeJS.ErrnoException) => finish(new ProviderError(`Cannot reach ${where} (${e.code ?? 'error'}) for ${authority}.`, { code: 'PROVIDER_UNAVAILABLE', details: { provider: this.provider, proxy: p.host, ...(e.code ? { errno: e.code } : {}) } })));
    req.end();
    return undefined;
  }

  override destroy(): void {
    for (const r of this.pending) r.destroy();
    this.pending.clear();
    super.destroy();
  }
}
