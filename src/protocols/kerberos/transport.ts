// One request, one reply, to one KDC: over UDP (one datagram each way, never retransmitted, so a
// request carrying a password proof reaches the KDC at most once per send) or over TCP with the
// RFC 4120 section 7.2.2 four-byte length prefix. Replies are size-capped before they are read;
// every wait is bounded and every socket is closed on the way out.
import dgram from 'node:dgram';
import net from 'node:net';
import { lookup } from 'node:dns/promises';
import { CredgateError } from '../../core/errors.js';
import { withSignal } from '../../core/abort.js';
import type { KdcAddress } from './kdcs.js';

export type KerberosTransport = 'udp' | 'tcp';

export interface RoundTripOptions {
  /** Aborts on the caller's abort or the call's deadline. */
  signal: AbortSignal;
  /** The error to throw once `signal` has aborted (ABORTED or TIMEOUT). */
  abortError: () => CredgateError;
  /** How long this one KDC gets to answer; past it the attempt fails with kind 'timeout'. */
  waitMs: number;
  /** Largest reply accepted (bytes). */
  maxReplyBytes: number;
}

export type ConnectionFailureKind = 'refused' | 'timeout' | 'unreachable' | 'reset' | 'closed' | 'dns' | 'error';

const KIND_BY_ERRNO: Record<string, ConnectionFailureKind> = {
  ECONNREFUSED: 'refused',
  ETIMEDOUT: 'timeout',
  ECONNRESET: 'reset',
  EPIPE: 'reset',
  EHOSTUNREACH: 'unreachable',
  ENETUNREACH: 'unreachable',
  EADDRNOTAVAIL: 'unreachable',
  ENOTFOUND: 'dns',
  EAI_AGAIN: 'dns',
  EAI_FAIL: 'dns',
};

const WHAT: Record<ConnectionFailureKind, string> = {
  refused: 'refused the connection',
  timeout: 'did not answer in time',
  unreachable: 'is unreachable',
  reset: 'reset the connection',
  closed: 'closed the connection without answering',
  dns: 'has a name DNS cannot resolve',
  error: 'could not be reached',
};

export function connectionFailed(kdc: KdcAddress, transport: KerberosTransport, kind: ConnectionFailureKind, extra: { errno?: string; waitMs?: number } = {}): CredgateError {
  const after = kind === 'timeout' && extra.waitMs !== undefined ? ` (waited ${extra.waitMs} ms)` : extra.errno ? ` (${extra.errno})` : '';
  return new CredgateError(`The KDC ${kdc.label} ${WHAT[kind]} over ${transport.toUpperCase()}${after}; check the KDC address and that it serves Kerberos on port ${kdc.port}.`, {
    code: 'CONNECTION_FAILED',
    details: { kdc: kdc.label, transport, kind, ...(extra.errno ? { errno: extra.errno } : {}) },
  });
}

function fromErrno(kdc: KdcAddress, transport: KerberosTransport, e: unknown): CredgateError {
  const errno = (e as { code?: string }).code ?? 'ERROR';
  return connectionFailed(kdc, transport, KIND_BY_ERRNO[errno] ?? 'error', { errno });
}

function badReply(kdc: KdcAddress, transport: KerberosTransport, problem: string): CredgateError {
  return new CredgateError(`The KDC ${kdc.label} sent a reply over ${transport.toUpperCase()} that is not Kerberos (${problem}); check that ${kdc.label} is a Kerberos KDC.`, {
    code: 'PROTOCOL_ERROR',
    details: { kdc: kdc.label, transport, problem },
  });
}

/** Run `body` with a per-attempt timer, the caller's signal and a cleanup that always runs. */
function attempt<T>(kdc: KdcAddress, transport: KerberosTransport, o: RoundTripOptions, body: (resolve: (v: T) => void, reject: (e: unknown) => void) => () => void): Promise<T> {
  let cleanup: () => void = () => {};
  let timer: NodeJS.Timeout | undefined;
  const p = new Promise<T>((resolve, reject) => {
    timer = setTimeout(() => reject(connectionFailed(kdc, transport, 'timeout', { waitMs: o.waitMs })), Math.max(1, o.waitMs));
    cleanup = body(resolve, reject);
  });
  const done = () => {
    if (timer) clearTimeout(timer);
    cleanup();
  };
  return withSignal(p, o.signal, () => {}, o.abortError).finally(done);
}

async function resolveHost(kdc: KdcAddress, o: RoundTripOptions): Promise<{ address: string; family: 4 | 6 }> {
  const fam = net.isIP(kdc.host);
  if (fam) return { address: kdc.host, family: fam as 4 | 6 };
  try {
    const r = await withSignal(lookup(kdc.host), o.signal, () => {}, o.abortError);
    return { address: r.address, family: r.family === 6 ? 6 : 4 };
  } catch (e) {
    if (e instanceof CredgateError) throw e;
    throw connectionFailed(kdc, 'udp', 'dns', { errno: (e as { code?: string }).code ?? 'ERROR' });
  }
}

/** Send one datagram and take the first datagram back from that address and port. */
export async function udpRoundTrip(kdc: KdcAddress, request: Buffer, o: RoundTripOptions): Promise<Buffer> {
  const { address, family } = await resolveHost(kdc, o);
  return attempt<Buffer>(kdc, 'udp', o, (resolve, reject) => {
    const sock = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4', recvBufferSize: 256 * 1024 });
    let closed = false;
    sock.on('error', (e) => reject(fromErrno(kdc, 'udp', e)));
    sock.on('message', (msg) => {
      if (msg.length > o.maxReplyBytes) reject(badReply(kdc, 'udp', `reply of ${msg.length} bytes is over the ${o.maxReplyBytes}-byte cap`));
      else if (msg.length === 0) reject(badReply(kdc, 'udp', 'empty datagram'));
      else resolve(Buffer.from(msg));
      msg.fill(0);
    });
    sock.connect(kdc.port, address, (err?: Error) => {
      if (err) return reject(fromErrno(kdc, 'udp', err));
      sock.send(request, (e) => {
        if (e) reject(fromErrno(kdc, 'udp', e));
      });
    });
    return () => {
      if (closed) return;
      closed = true;
      sock.removeAllListeners('message');
      sock.on('error', () => {});
      try {
        sock.close();
      } catch {
        // already closed
      }
    };
  });
}

/** Send one length-prefixed request over a fresh TCP connection and read one framed reply. */
export async function tcpRoundTrip(kdc: KdcAddress, request: Buffer, o: RoundTripOptions): Promise<Buffer> {
  return attempt<Buffer>(kdc, 'tcp', o, (resolve, reject) => {
    const sock = net.connect({ host: kdc.host, port: kdc.port });
    const chunks: Buffer[] = [];
    let have = 0;
    let want = -1;
    sock.setNoDelay(true);
    sock.on('connect', () => {
      const frame = Buffer.alloc(4 + request.length);
      frame.writeUInt32BE(request.length, 0);
      request.copy(frame, 4);
      sock.write(frame);
    });
    sock.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      have += chunk.length;
      if (want < 0 && have >= 4) {
        const head = Buffer.concat(chunks);
        const len = head.readUInt32BE(0);
        if (len & 0x80000000) return reject(badReply(kdc, 'tcp', 'length prefix has the reserved high bit set'));
        if (len === 0) return reject(badReply(kdc, 'tcp', 'empty reply'));
        if (len > o.maxReplyBytes) return reject(badReply(kdc, 'tcp', `announced reply of ${len} bytes is over the ${o.maxReplyBytes}-byte cap`));
        want = len;
        for (const c of chunks) c.fill(0);
        chunks.length = 0;
        chunks.push(head);
      }
      if (want >= 0 && have >= 4 + want) {
        resolve(Buffer.concat(chunks).subarray(4, 4 + want));
        for (const c of chunks) c.fill(0);
      }
    });
    sock.on('error', (e) => reject(fromErrno(kdc, 'tcp', e)));
    sock.on('close', () => {
      if (have === 0) reject(connectionFailed(kdc, 'tcp', 'closed'));
      else reject(badReply(kdc, 'tcp', `connection closed after ${have} of ${want < 0 ? 'at least 4' : 4 + want} bytes`));
    });
    return () => {
      sock.removeAllListeners('data');
      sock.removeAllListeners('close');
      sock.on('error', () => {});
      sock.destroy();
    };
  });
}
