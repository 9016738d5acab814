/**
 * The LDAP transport every directory caller shares: URLs (failover lists), the plain-bind refusal,
 * CA and TLS options, per-URL deadlines inside an overall bound, and an ldapts client with a
 * hook that tells "the request reached the server" from "it never left".
 */
import fs from 'node:fs';
import { checkServerIdentity as tlsCheck, type ConnectionOptions } from 'node:tls';
import net from 'node:net';
import type { Client } from 'ldapts';
import { loadLdapts } from '../../core/lazy.js';
import { ConfigError } from '../../core/errors.js';
import { withSignal } from '../../core/abort.js';
import { strictClient } from './strict.js';

export { withSignal };

export interface LdapTransportOptions {
  /** One URL or several (failover in order): ldaps://dc1:636, ldap://dc2 (with starttls). */
  urls: string | string[];
  /** PEM CA bundle file(s) to trust for the directory's certificate. */
  caFile?: string | string[];
  /** PEM CA certificates given directly. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Upgrade ldap:// URLs with StartTLS before binding. */
  starttls?: boolean;
  /** Name to verify the certificate against when it differs from the URL host. */
  servername?: string;
  /**
   * Do not verify the server certificate. Loud: every result carries a `tls.verification-disabled`
   * warning finding. Never the default.
   */
  insecureSkipTlsVerify?: boolean;
  /** Allow a simple bind over plain ldap:// without StartTLS (the password travels in clear). */
  allowPlainBind?: boolean;
  /**
   * Deadline in ms for one URL's attempt (connect, TLS, bind / searches), and for each step inside
   * it. Each URL gets its own, so a dead first server (a silent port, a blackhole) still leaves
   * time for the next one. Default 10,000.
   */
  timeoutMs?: number;
  /** Bound over all URLs together. Default timeoutMs × the number of URLs. */
  overallTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface ParsedUrl {
  url: string;
  scheme: 'ldap' | 'ldaps';
  host: string;
  port: number;
}

export function parseLdapUrls(urls: string | string[]): ParsedUrl[] {
  const list = (Array.isArray(urls) ? urls : urls.split(',')).map((u) => u.trim()).filter(Boolean);
  if (list.length === 0) {
    throw new ConfigError('No directory URL given; pass --ldap ldaps://dc.example.com (several, comma-separated, fail over in order).', {
      code: 'CONFIG_INVALID',
      details: { option: 'ldap' },
    });
  }
  return list.map((u) => {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new ConfigError(`"${u}" is not a valid LDAP URL; write ldaps://host[:port] or ldap://host[:port].`, {
        code: 'CONFIG_INVALID',
        details: { option: 'ldap', url: u },
      });
    }
    const scheme = parsed.protocol.replace(/:$/, '');
    if (scheme !== 'ldap' && scheme !== 'ldaps') {
      throw new ConfigError(`"${u}" is not an LDAP URL (scheme ${scheme}:); write ldaps://host or ldap://host.`, {
        code: 'CONFIG_INVALID',
        details: { option: 'ldap', url: u },
      });
    }
    const host = parsed.hostname.replace(/^\[|\]$/g, '');
    if (!host) {
      throw new ConfigError(`"${u}" has no host name.`, { code: 'CONFIG_INVALID', details: { option: 'ldap', url: u } });
    }
    const port = parsed.port ? Number(parsed.port) : scheme === 'ldaps' ? 636 : 389;
    // a URL's host holds a colon only as an IPv6 literal (net.isIPv6 compiles Node's IPv6 pattern: ~3 ms at start)
    return { url: `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`, scheme, host, port };
  });
}

/** Refuse plain simple binds unless StartTLS is used or the caller opted in loudly. */
export function assertBindTransport(urls: ParsedUrl[], opts: LdapTransportOptions): void {
  for (const u of urls) {
    if (u.scheme === 'ldap' && !opts.starttls && !opts.allowPlainBind) {
      throw new ConfigError(
        `Refusing to send a password over plain ${u.url}: use ldaps:// or --starttls (or, if you really must, the explicit insecure opt-in).`,
        { code: 'CONFIG_INVALID', details: { option: 'ldap', url: u.url } },
      );
    }
  }
}

export function loadCa(opts: LdapTransportOptions): Array<string | Buffer> | undefined {
  const out: Array<string | Buffer> = [];
  const files = opts.caFile === undefined ? [] : Array.isArray(opts.caFile) ? opts.caFile : [opts.caFile];
  for (const f of files) {
    try {
      out.push(fs.readFileSync(f));
    } catch (e) {
      throw new ConfigError(`Cannot read the CA file ${f} (${(e as NodeJS.ErrnoException).code ?? 'error'}); pass a readable PEM file to --ca-file.`, {
        code: 'CONFIG_INVALID',
        cause: e,
        details: { option: 'ca-file', path: f },
      });
    }
  }
  if (opts.ca !== undefined) out.push(...(Array.isArray(opts.ca) ? opts.ca : [opts.ca]));
  return out.length ? out : undefined;
}

export function tlsOptionsFor(u: ParsedUrl, opts: LdapTransportOptions, ca: Array<string | Buffer> | undefined): ConnectionOptions {
  const o: ConnectionOptions = { rejectUnauthorized: !opts.insecureSkipTlsVerify, minVersion: 'TLSv1.2' };
  if (ca) o.ca = ca;
  const sni = opts.servername ?? u.host;
  if (!net.isIP(sni)) o.servername = sni;
  if (opts.servername) {
    const name = opts.servername;
    // verify against the given name rather than the URL host
    o.checkServerIdentity = (_host, cert) => tlsCheck(name, cert);
  }
  return o;
}


/** A signal that fires on the caller's abort or after timeoutMs. */
export function deadline(signal: AbortSignal | undefined, timeoutMs: number): AbortSignal {
  const t = AbortSignal.timeout(timeoutMs);
  return signal ? AbortSignal.any([signal, t]) : t;
}

export interface AttemptDeadlines {
  /** The caller's signal plus the overall bound over all URLs. */
  overall: AbortSignal;
  overallMs: number;
  /** A fresh signal for one URL's attempt: fires after timeoutMs, or with `overall`. */
  attempt(): AbortSignal;
}

/** Failover deadlines: one per URL attempt (timeoutMs) inside an overall bound (overallTimeoutMs, default timeoutMs × URLs). */
export function attemptDeadlines(opts: LdapTransportOptions, urlCount: number): AttemptDeadlines {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const overallMs = opts.overallTimeoutMs ?? timeoutMs * Math.max(1, urlCount);
  const overall = deadline(opts.signal, overallMs);
  return { overall, overallMs, attempt: () => deadline(overall, timeoutMs) };
}

/** LDAP protocolOp tag of a BindRequest ([APPLICATION 0] constructed). */
export const BIND_REQUEST = 0x60;

/**
 * Call onSent(protocolOperation, answered) the moment the client writes a request to the socket,
 * so a caller can tell "never reached the server" (safe to try the next URL) from "the server got
 * the request" (a bind may have been checked: never resend it). `answered` settles when the
 * server's response arrives (any LDAP result code) and rejects when none ever does (connection
 * lost, timeout). ldapts has no public hook for this, so this wraps its Client#_send on the
 * instance; if that method ever disappears this throws at once rather than silently reporting
 * "not sent".
 */
export function onRequestSent(c: Client, onSent: (protocolOperation: number, answered: Promise<unknown>) => void): void {
  const inst = c as unknown as { _send?: (m: { protocolOperation?: number }) => Promise<unknown> };
  const orig = inst._send;
  if (typeof orig !== 'function') throw new Error('ldapts Client#_send not found; the request-sent hook needs updating for this ldapts version');
  inst._send = function send(this: unknown, m: { protocolOperation?: number }) {
    const r = orig.call(this, m);
    // _send throws before writing when the socket is gone; reaching here means it was written
    onSent(m.protocolOperation ?? -1, r);
    return r;
  };
}


export { loadLdapts };

/** An ldapts client for one URL, held to the wire rules (strict.ts: the message cap, answers that fit their request). */
export function newClient(u: ParsedUrl, opts: LdapTransportOptions, ca: Array<string | Buffer> | undefined): Client {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const { Client } = loadLdapts();
  return strictClient(new Client({
    url: u.url,
    timeout: timeoutMs,
    connectTimeout: timeoutMs,
    // ldapts speaks TLS from the first byte whenever tlsOptions is set, so only for ldaps://
    ...(u.scheme === 'ldaps' ? { tlsOptions: tlsOptionsFor(u, opts, ca) } : {}),
    strictDN: false,
  }));
}

/** Close a client without waiting on a dead peer. */
export function closeClient(c: Client): void {
  const sock = (c as unknown as { socket?: net.Socket }).socket;
  if (sock) sock.destroy();
  c.unbind().catch(() => {});
}
