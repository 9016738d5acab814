/**
 * RDP connection start, per [MS-RDPBCGR] 2.2.1.1 / 2.2.1.2: TPKT (RFC 1006) + X.224 Connection
 * Request carrying an RDP Negotiation Request, the Connection Confirm with an RDP Negotiation
 * Response or Failure, then TLS on the same socket. Strict, bounded parsing: a peer that is not
 * an RDP server (HTTP, a one-byte close, an absurd length) is named as such, never trusted.
 */
import net from 'node:net';
import tls from 'node:tls';
import dns from 'node:dns/promises';
import { onAbort, withSignal } from '../../core/abort.js';
import { CredgateError } from '../../core/errors.js';

export const PROTOCOL_RDP = 0x0;
export const PROTOCOL_SSL = 0x1;
export const PROTOCOL_HYBRID = 0x2;
export const PROTOCOL_RDSTLS = 0x4;
export const PROTOCOL_HYBRID_EX = 0x8;

export const NEG_FAILURE: Record<number, string> = {
  1: 'SSL_REQUIRED_BY_SERVER',
  2: 'SSL_NOT_ALLOWED_BY_SERVER',
  3: 'SSL_CERT_NOT_ON_SERVER',
  4: 'INCONSISTENT_FLAGS',
  5: 'HYBRID_REQUIRED_BY_SERVER',
  6: 'SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER',
};

export const NEG_RSP_FLAGS: Record<number, string> = {
  0x01: 'EXTENDED_CLIENT_DATA_SUPPORTED',
  0x02: 'DYNVC_GFX_PROTOCOL_SUPPORTED',
  0x04: 'NEGRSP_FLAG_RESERVED',
  0x08: 'RESTRICTED_ADMIN_MODE_SUPPORTED',
  0x10: 'REDIRECTED_AUTHENTICATION_MODE_SUPPORTED',
};

export function protocolNames(p: number): string[] {
  if (p === 0) return ['RDP'];
  const out: string[] = [];
  if (p & PROTOCOL_SSL) out.push('SSL');
  if (p & PROTOCOL_HYBRID) out.push('HYBRID');
  if (p & PROTOCOL_RDSTLS) out.push('RDSTLS');
  if (p & PROTOCOL_HYBRID_EX) out.push('HYBRID_EX');
  return out;
}

/** The X.224 Connection Request PDU with an RDP_NEG_REQ (and an optional mstshash cookie). */
export function buildConnectionRequest(o: { cookie?: string; requestedProtocols: number }): Buffer {
  let cookie = Buffer.alloc(0);
  if (o.cookie !== undefined) {
    if (!/^[\x21-\x7e]{1,64}$/.test(o.cookie)) {
      throw new CredgateError('The RDP cookie must be 1–64 printable ASCII characters without spaces.', { code: 'CONFIG_INVALID' });
    }
    cookie = Buffer.from(`Cookie: mstshash=${o.cookie}\r\n`, 'ascii');
  }
  const neg = Buffer.alloc(8);
  neg.writeUInt8(0x01, 0); // TYPE_RDP_NEG_REQ
  neg.writeUInt8(0x00, 1); // flags
  neg.writeUInt16LE(8, 2);
  neg.writeUInt32LE(o.requestedProtocols >>> 0, 4);
  const x224 = Buffer.alloc(7);
  x224.writeUInt8(6 + cookie.length + neg.length, 0); // LI: bytes after this one
  x224.writeUInt8(0xe0, 1); // CR TPDU, CDT 0
  // dst-ref, src-ref (0), class 0
  const total = 4 + x224.length + cookie.length + neg.length;
  const tpkt = Buffer.from([0x03, 0x00, (total >> 8) & 0xff, total & 0xff]);
  return Buffer.concat([tpkt, x224, cookie, neg]);
}

export type Negotiation =
  | { kind: 'response'; selectedProtocol: number; flags: number; flagNames: string[] }
  | { kind: 'failure'; failureCode: number; failureName: string }
  | { kind: 'legacy' }; // a Connection Confirm without negotiation data: standard RDP security only

/** Largest TPKT credgate accepts for a Connection Confirm (a real one is 11 or 19 bytes). */
export const MAX_CC_LENGTH = 1024;

/** Parse a complete TPKT Connection Confirm. Throws PROTOCOL_ERROR with details.kind = 'not-rdp' on garbage. */
export function parseConnectionConfirm(buf: Uint8Array): Negotiation {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const bad = (why: string): never => {
    throw new CredgateError(`The peer's answer is not an RDP Connection Confirm (${why}).`, { code: 'PROTOCOL_ERROR', details: { kind: 'not-rdp', why } });
  };
  if (b.length < 4) bad('shorter than a TPKT header');
  if (b[0] !== 0x03) bad(`TPKT version ${b[0]} instead of 3${b[0] === 0x48 ? ' (looks like HTTP)' : ''}`);
  const len = b.readUInt16BE(2);
  if (len < 11 || len > MAX_CC_LENGTH) bad(`TPKT length ${len}`);
  if (b.length < len) bad(`truncated: ${b.length} of ${len} bytes`);
  const li = b[4]!;
  if (li < 6 || 5 + li > len) bad(`X.224 length indicator ${li}`);
  if ((b[5]! & 0xf0) !== 0xd0) bad(`X.224 TPDU code 0x${b[5]!.toString(16)} instead of Connection Confirm (0xD0)`);
  const negStart = 4 + 7;
  if (5 + li <= negStart || len < negStart + 8) return { kind: 'legacy' };
  const type = b[negStart]!;
  const flags = b[negStart + 1]!;
  const nlen = b.readUInt16LE(negStart + 2);
  if (nlen !== 8) bad(`negotiation structure length ${nlen}`);
  const value = b.readUInt32LE(negStart + 4);
  if (type === 0x02) {
    const flagNames = Object.entries(NEG_RSP_FLAGS).filter(([bit]) => flags & Number(bit)).map(([, n]) => n);
    return { kind: 'response', selectedProtocol: value, flags, flagNames };
  }
  if (type === 0x03) return { kind: 'failure', failureCode: value, failureName: NEG_FAILURE[value] ?? `UNKNOWN_${value}` };
  return bad(`negotiation type ${type}`);
}

export interface ConnectRdpOptions {
  host: string;
  port?: number;
  requestedProtocols?: number;
  cookie?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** CA certificates to judge the TLS certificate against (the connection proceeds either way). */
  ca?: Array<string | Buffer>;
  /** Minimum TLS version; old Windows hosts may need TLSv1. Default TLSv1.2. */
  minTlsVersion?: tls.SecureVersion;
  /** Addresses already resolved (by `resolveRdpHost`): tried in order, no second DNS lookup. */
  addresses?: string[];
  /** Stop after the X.224 negotiation: no TLS, the raw socket is returned. */
  negotiateOnly?: boolean;
}

/** One TCP connection attempt to one address of the host. */
export interface ConnectAttempt {
  address: string;
  ms: number;
  /** 'connected' or the failure kind (refused, unreachable, timeout, socket). */
  result: string;
  errno?: string;
}

export interface RdpConnection {
  socket: net.Socket | tls.TLSSocket;
  address: string;
  addresses: string[];
  attempts: ConnectAttempt[];
  negotiation: Negotiation;
  /** DER of the server certificate, after TLS. */
  peerCertificate?: Buffer;
  /** OpenSSL's verdict on the certificate against `ca` / Node's roots (e.g. CERT_HAS_EXPIRED). */
  tlsAuthorizationError?: string;
  tlsProtocol?: string;
  tlsCipher?: string;
  /** Milliseconds per phase: dns, tcp, x224, tls. */
  timings: Record<string, number>;
  /** Destroy the socket(s). Idempotent; `dispose` and `Symbol.asyncDispose` do the same. */
  close(): void;
  dispose(): void;
  [Symbol.asyncDispose](): Promise<void>;
}

export type RdpFaultKind = 'dns' | 'refused' | 'unreachable' | 'timeout' | 'aborted' | 'socket' | 'reset' | 'not-rdp' | 'tls';

function fault(code: 'CONNECTION_FAILED' | 'TIMEOUT' | 'TLS_FAILED' | 'PROTOCOL_ERROR' | 'ABORTED', kind: RdpFaultKind, message: string, details: Record<string, unknown>, cause?: unknown) {
  return new CredgateError(message, { code, details: { kind, ...details }, ...(cause ? { cause } : {}) });
}

/** The deadline passed (TIMEOUT, kind timeout) or the caller aborted (ABORTED, kind aborted). */
function abortFault(signal: AbortSignal, what: string, details: Record<string, unknown>): CredgateError {
  const r = signal.reason as unknown;
  const timedOut = r instanceof Error && r.name === 'TimeoutError';
  return timedOut
    ? fault('TIMEOUT', 'timeout', `${what} did not finish within the deadline.`, details)
    : fault('ABORTED', 'aborted', `${what} was aborted by the caller.`, details);
}

/**
 * Resolve every address of the host (dns.lookup with all: true, in the resolver's order), timed.
 * An IP literal resolves to itself. Abortable: the lookup itself cannot be cancelled, so an abort
 * stops waiting for it.
 */
export async function resolveRdpHost(host: string, signal?: AbortSignal): Promise<{ addresses: Array<{ address: string; family: number }>; ms: number }> {
  const t0 = performance.now();
  const family = net.isIP(host);
  if (family) return { addresses: [{ address: host, family }], ms: 0 };
  if (signal?.aborted) throw abortFault(signal, `Resolving ${host}`, { host, phase: 'dns' });
  try {
    const lookup = dns.lookup(host, { all: true, verbatim: true });
    const r = await (signal ? withSignal(lookup, signal, undefined, () => abortFault(signal, `Resolving ${host}`, { host, phase: 'dns' })) : lookup);
    if (!r.length) throw Object.assign(new Error('no addresses'), { code: 'ENODATA' });
    return { addresses: r.map((a) => ({ address: a.address, family: a.family })), ms: performance.now() - t0 };
  } catch (e) {
    if (e instanceof CredgateError) throw e;
    const errno = (e as NodeJS.ErrnoException).code ?? 'error';
    throw fault('CONNECTION_FAILED', 'dns', `The host name ${host} does not resolve (${errno}); check the name and the DNS servers of this machine.`, { host, errno, dnsMs: Math.round(performance.now() - t0) }, e);
  }
}

/** Read exactly one TPKT PDU: at most MAX_CC_LENGTH bytes are ever buffered. */
function readTpkt(sock: net.Socket, signal: AbortSignal, what: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    let stopAbort = () => {};
    const done = (err?: Error, v?: Buffer) => {
      sock.off('data', onData);
      sock.off('end', onEnd);
      sock.off('close', onEnd);
      sock.off('error', onErr);
      stopAbort();
      sock.pause();
      if (err) reject(err);
      else resolve(v!);
    };
    const onData = (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d.subarray(0, MAX_CC_LENGTH + 4 - buf.length)]) : d;
      if (buf[0] !== 0x03) {
        const http = /^(HTTP\/|<|SSH-|220 |\+OK|\* OK)/.test(buf.subarray(0, 8).toString('latin1'));
        return done(fault('PROTOCOL_ERROR', 'not-rdp', `The peer answered ${what} with bytes that are not RDP${buf.subarray(0, 5).toString('latin1') === 'HTTP/' ? ' (an HTTP server)' : http ? ' (a text protocol)' : ''}.`, { firstBytes: buf.subarray(0, 16).toString('hex') }));
      }
      if (buf.length >= 4) {
        const len = buf.readUInt16BE(2);
        if (len < 11 || len > MAX_CC_LENGTH) return done(fault('PROTOCOL_ERROR', 'not-rdp', `The peer announced a ${len}-byte TPKT packet in answer to ${what}; an RDP Connection Confirm is 11 to 19 bytes.`, { length: len, firstBytes: buf.subarray(0, 16).toString('hex') }));
        if (buf.length >= len) {
          const rest = buf.subarray(len);
          if (rest.length) sock.unshift(rest);
          return done(undefined, buf.subarray(0, len));
        }
      }
    };
    const onEnd = () => done(fault('PROTOCOL_ERROR', 'not-rdp', `The peer closed the connection after ${buf.length} byte(s) instead of answering ${what}.`, { received: buf.length, firstBytes: buf.subarray(0, 16).toString('hex') }));
    const onErr = (e: NodeJS.ErrnoException) => done(e.code === 'ECONNRESET'
      ? fault('PROTOCOL_ERROR', 'reset', `The peer reset the connection instead of answering ${what}.`, { errno: e.code, received: buf.length }, e)
      : fault('CONNECTION_FAILED', 'socket', `The connection failed while waiting for ${what}: ${e.code ?? e.message}.`, { errno: e.code }, e));
    sock.on('data', onData);
    sock.once('end', onEnd);
    sock.once('close', onEnd);
    sock.once('error', onErr);
    stopAbort = onAbort(signal, () => done(abortFault(signal, `Waiting for ${what}`, { phase: 'x224', received: buf.length })));
    sock.resume();
  });
}

function connectKind(code: string | undefined): 'refused' | 'unreachable' | 'timeout' | 'socket' {
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EHOSTDOWN' || code === 'ENETDOWN' || code === 'EADDRNOTAVAIL') return 'unreachable';
  if (code === 'ETIMEDOUT') return 'timeout';
  return 'socket';
}

function tcpConnect(addr: string, port: number, signal: AbortSignal): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    if (signal.aborted) return reject(abortFault(signal, `Connecting to ${addr} port ${port}`, { address: addr, port, phase: 'tcp' }));
    const s = net.connect({ host: addr, port });
    const stop = onAbort(signal, () => {
      s.destroy();
      const f = abortFault(signal, `Connecting to ${addr} port ${port}`, { address: addr, port, phase: 'tcp' });
      if (f.code === 'TIMEOUT') f.message = `No answer from ${addr} port ${port} before the deadline (a firewall dropping packets, a missing port forward, or a hung host).`;
      reject(f);
    });
    s.once('connect', () => {
      stop();
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (e: NodeJS.ErrnoException) => {
      stop();
      s.destroy();
      const kind = connectKind(e.code);
      reject(fault(kind === 'timeout' ? 'TIMEOUT' : 'CONNECTION_FAILED', kind, `Connecting to ${addr} port ${port} failed: ${e.code ?? e.message}.`, { address: addr, port, errno: e.code, phase: 'tcp' }, e));
    });
  });
}

/**
 * TCP connect (every resolved address in turn) → X.224 negotiation → TLS on the same socket
 * when the host selected SSL/HYBRID (unless negotiateOnly). Faults are CredgateErrors with
 * details.kind: dns, refused, unreachable, timeout, aborted, socket, reset, not-rdp, tls.
 */
export async function connectRdp(o: ConnectRdpOptions): Promise<RdpConnection> {
  const port = o.port ?? 3389;
  const timeoutMs = Math.max(1, Math.ceil(o.timeoutMs ?? 10_000));
  const t = AbortSignal.timeout(timeoutMs);
  const signal = o.signal ? AbortSignal.any([o.signal, t]) : t;
  const timings: Record<string, number> = {};
  let addresses: string[];
  if (o.addresses?.length) {
    addresses = o.addresses;
  } else {
    const r = await resolveRdpHost(o.host, signal);
    addresses = r.addresses.map((a) => a.address);
    timings.dns = r.ms;
  }
  let t0 = performance.now();
  let sock: net.Socket | undefined;
  let address = '';
  let lastErr: CredgateError | undefined;
  const attempts: ConnectAttempt[] = [];
  for (const addr of addresses) {
    const ta = performance.now();
    try {
      sock = await tcpConnect(addr, port, signal);
      attempts.push({ address: addr, ms: performance.now() - ta, result: 'connected' });
      address = addr;
      break;
    } catch (e) {
      lastErr = e as CredgateError;
      const d = lastErr.details ?? {};
      attempts.push({ address: addr, ms: performance.now() - ta, result: String(d.kind), ...(d.errno ? { errno: String(d.errno) } : {}) });
      if (signal.aborted) break;
    }
  }
  if (!sock) {
    const e = lastErr ?? fault('CONNECTION_FAILED', 'socket', `Could not connect to ${o.host} port ${port}.`, {});
    if (e.details) e.details.attempts = attempts;
    throw e;
  }
  timings.tcp = performance.now() - t0;
  const s = sock;
  s.setNoDelay(true);
  s.on('error', () => {});
  let tlsSock: tls.TLSSocket | undefined;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    tlsSock?.destroy();
    s.destroy();
  };
  const conn: RdpConnection = {
    socket: s, address, addresses, attempts, negotiation: { kind: 'legacy' }, timings,
    close, dispose: close, [Symbol.asyncDispose]: async () => close(),
  };
  try {
    t0 = performance.now();
    s.write(buildConnectionRequest({ requestedProtocols: o.requestedProtocols ?? (PROTOCOL_SSL | PROTOCOL_HYBRID | PROTOCOL_HYBRID_EX), ...(o.cookie ? { cookie: o.cookie } : {}) }));
    const cc = await readTpkt(s, signal, 'the X.224 Connection Request');
    conn.negotiation = parseConnectionConfirm(cc);
    timings.x224 = performance.now() - t0;
    const neg = conn.negotiation;
    if (o.negotiateOnly || neg.kind !== 'response' || neg.selectedProtocol === PROTOCOL_RDP) return conn;
    t0 = performance.now();
    const servername = net.isIP(o.host) ? undefined : o.host;
    const ts = await new Promise<tls.TLSSocket>((resolve, reject) => {
      if (signal.aborted) return reject(abortFault(signal, 'The TLS handshake', { phase: 'tls' }));
      const x = tls.connect({
        socket: s, rejectUnauthorized: false, minVersion: o.minTlsVersion ?? 'TLSv1.2',
        ...(servername ? { servername } : {}), ...(o.ca ? { ca: o.ca } : {}),
      });
      tlsSock = x;
      const stop = onAbort(signal, () => {
        x.destroy();
        reject(abortFault(signal, `The TLS handshake with ${o.host}:${port}`, { phase: 'tls' }));
      });
      x.once('secureConnect', () => {
        stop();
        resolve(x);
      });
      x.once('error', (e: NodeJS.ErrnoException & { reason?: string }) => {
        stop();
        reject(fault('TLS_FAILED', 'tls', `The TLS handshake with ${o.host}:${port} failed after the RDP negotiation selected ${protocolNames(neg.selectedProtocol).join('|')}: ${e.code ?? e.message}.`, { errno: e.code, reason: e.reason ?? e.message, phase: 'tls' }, e));
      });
    });
    ts.on('error', () => {});
    timings.tls = performance.now() - t0;
    conn.socket = ts;
    const cert = ts.getPeerX509Certificate();
    if (cert) conn.peerCertificate = cert.raw;
    const ae = ts.authorizationError as unknown;
    if (ae) conn.tlsAuthorizationError = typeof ae === 'string' ? ae : (ae as { code?: string }).code ?? String(ae);
    const proto = ts.getProtocol();
    if (proto) conn.tlsProtocol = proto;
    const cipher = ts.getCipher();
    if (cipher) conn.tlsCipher = cipher.name;
    return conn;
  } catch (e) {
    close();
    throw e;
  }
}
