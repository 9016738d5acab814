/**
 * RDP connection start, per [MS-RDPBCGR] 2.2.1.1 / 2.2.1.2: TPKT (RFC 1006) + X.224 Connection
 * Request carrying an RDP Negotiation Request, the Connection Confirm with an RDP Negotiation
 * Response or Failure, then TLS on the same socket. Strict, bounded parsing: a peer that is not
 * an RDP server (HTTP, a one-byte close, an absurd length) is named as such, never trusted.
 */
import net from 'node:net';
import tls from 'node:tls';
import dns from 'node:dns/promises';
import { CredgateError } from '../core/errors.js';

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
}

export interface RdpConnection {
  socket: net.Socket | tls.TLSSocket;
  address: string;
  addresses: string[];
  negotiation: Negotiation;
  /** DER of the server certificate, after TLS. */
  peerCertificate?: Buffer;
  /** OpenSSL's verdict on the certificate against `ca` / Node's roots (e.g. CERT_HAS_EXPIRED). */
  tlsAuthorizationError?: string;
  tlsProtocol?: string;
  tlsCipher?: string;
  timings: Record<string, number>;
  close(): void;
}

function fault(code: 'CONNECTION_FAILED' | 'TIMEOUT' | 'TLS_FAILED' | 'PROTOCOL_ERROR', kind: string, message: string, details: Record<string, unknown>, cause?: unknown) {
  return new CredgateError(message, { code, details: { kind, ...details }, ...(cause ? { cause } : {}) });
}

/** Read exactly one TPKT PDU (bounded). */
function readTpkt(sock: net.Socket, signal: AbortSignal, what: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (err?: Error, v?: Buffer) => {
      sock.off('data', onData);
      sock.off('end', onEnd);
      sock.off('error', onErr);
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(v!);
    };
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 1 && buf[0] !== 0x03) return done(fault('PROTOCOL_ERROR', 'not-rdp', `The peer answered ${what} with bytes that are not RDP${buf.subarray(0, 5).toString('latin1').startsWith('HTTP') ? ' (an HTTP server)' : ''}.`, { firstBytes: buf.subarray(0, 16).toString('hex') }));
      if (buf.length >= 4) {
        const len = buf.readUInt16BE(2);
        if (len < 7 || len > MAX_CC_LENGTH) return done(fault('PROTOCOL_ERROR', 'not-rdp', `The peer announced a ${len}-byte RDP packet, which no RDP server sends here.`, { length: len }));
        if (buf.length >= len) {
          sock.pause();
          const rest = buf.subarray(len);
          if (rest.length) sock.unshift(rest);
          return done(undefined, buf.subarray(0, len));
        }
      }
    };
    const onEnd = () => done(fault('PROTOCOL_ERROR', 'not-rdp', `The peer closed the connection after ${buf.length} byte(s) instead of answering ${what}.`, { received: buf.length }));
    const onErr = (e: Error) => done(fault('CONNECTION_FAILED', (e as NodeJS.ErrnoException).code === 'ECONNRESET' ? 'reset' : 'socket', `The connection failed while waiting for ${what}: ${(e as NodeJS.ErrnoException).code ?? e.message}.`, {}, e));
    const onAbort = () => done(signal.reason instanceof Error && signal.reason.name === 'TimeoutError'
      ? fault('TIMEOUT', 'timeout', `The peer did not answer ${what} in time.`, { phase: what })
      : fault('TIMEOUT', 'aborted', `Waiting for ${what} was aborted.`, { phase: what }));
    sock.on('data', onData);
    sock.once('end', onEnd);
    sock.once('error', onErr);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    sock.resume();
  });
}

/** DNS → TCP → X.224 negotiation → TLS (when SSL/HYBRID selected), on one socket. */
export async function connectRdp(o: ConnectRdpOptions): Promise<RdpConnection> {
  const port = o.port ?? 3389;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const t = AbortSignal.timeout(timeoutMs);
  const signal = o.signal ? AbortSignal.any([o.signal, t]) : t;
  const timings: Record<string, number> = {};
  let t0 = performance.now();
  let addresses: string[];
  if (net.isIP(o.host)) {
    addresses = [o.host];
  } else {
    try {
      const r = await dns.lookup(o.host, { all: true, verbatim: true });
      addresses = r.map((a) => a.address);
    } catch (e) {
      throw fault('CONNECTION_FAILED', 'dns', `The host name ${o.host} does not resolve (${(e as NodeJS.ErrnoException).code ?? 'error'}).`, { host: o.host, errno: (e as NodeJS.ErrnoException).code }, e);
    }
  }
  timings.dns = performance.now() - t0;
  t0 = performance.now();
  let sock: net.Socket | undefined;
  let address = '';
  let lastErr: CredgateError | undefined;
  for (const addr of addresses) {
    try {
      sock = await new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect({ host: addr, port });
        const onAbort = () => {
          s.destroy();
          reject(fault('TIMEOUT', 'timeout', `No answer from ${addr} port ${port} within ${timeoutMs} ms (a firewall dropping packets, or a hung service).`, { address: addr, port, phase: 'tcp' }));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        s.once('connect', () => {
          signal.removeEventListener('abort', onAbort);
          resolve(s);
        });
        s.once('error', (e: NodeJS.ErrnoException) => {
          signal.removeEventListener('abort', onAbort);
          const kind = e.code === 'ECONNREFUSED' ? 'refused' : e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH' ? 'unreachable' : e.code === 'ETIMEDOUT' ? 'timeout' : 'socket';
          reject(fault(kind === 'timeout' ? 'TIMEOUT' : 'CONNECTION_FAILED', kind, `Connecting to ${addr} port ${port} failed: ${e.code ?? e.message}.`, { address: addr, port, errno: e.code }, e));
        });
      });
      address = addr;
      break;
    } catch (e) {
      lastErr = e as CredgateError;
      if (signal.aborted) break;
    }
  }
  if (!sock) throw lastErr ?? fault('CONNECTION_FAILED', 'socket', `Could not connect to ${o.host}.`, {});
  timings.tcp = performance.now() - t0;
  const s = sock;
  s.setNoDelay(true);
  s.on('error', () => {});
  const close = () => s.destroy();
  try {
    t0 = performance.now();
    s.write(buildConnectionRequest({ requestedProtocols: o.requestedProtocols ?? (PROTOCOL_SSL | PROTOCOL_HYBRID | PROTOCOL_HYBRID_EX), ...(o.cookie ? { cookie: o.cookie } : {}) }));
    const cc = await readTpkt(s, signal, 'the X.224 Connection Request');
    const negotiation = parseConnectionConfirm(cc);
    timings.x224 = performance.now() - t0;
    const conn: RdpConnection = { socket: s, address, addresses, negotiation, timings, close };
    if (negotiation.kind !== 'response' || negotiation.selectedProtocol === PROTOCOL_RDP) return conn;
    t0 = performance.now();
    const servername = net.isIP(o.host) ? undefined : o.host;
    const ts = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const x = tls.connect({
        socket: s, rejectUnauthorized: false, minVersion: o.minTlsVersion ?? 'TLSv1.2',
        ...(servername ? { servername } : {}), ...(o.ca ? { ca: o.ca } : {}),
      });
      const onAbort = () => {
        x.destroy();
        reject(fault('TIMEOUT', 'timeout', 'The TLS handshake did not finish in time.', { phase: 'tls' }));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      x.once('secureConnect', () => {
        signal.removeEventListener('abort', onAbort);
        resolve(x);
      });
      x.once('error', (e: NodeJS.ErrnoException) => {
        signal.removeEventListener('abort', onAbort);
        reject(fault('TLS_FAILED', 'tls', `The TLS handshake with ${o.host}:${port} failed: ${e.code ?? e.message}.`, { errno: e.code }, e));
      });
    });
    ts.on('error', () => {});
    timings.tls = performance.now() - t0;
    const cert = ts.getPeerX509Certificate();
    conn.socket = ts;
    conn.close = () => {
      ts.destroy();
      s.destroy();
    };
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
