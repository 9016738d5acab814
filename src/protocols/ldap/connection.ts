/**
 * One persistent LDAP connection over the wire codec (wire.ts): connects (ldaps, StartTLS or
 * plain), performs one operation at a time and re-binds, as bulk verification needs. Every
 * deadline is watched by one shared coarse timer; request bytes holding a password are zeroed
 * once answered.
 */
import net from 'node:net';
import tls, { type ConnectionOptions } from 'node:tls';
import { onAbort } from '../../core/abort.js';
import { answerKind } from './answer.js';
import { decodeResponse, encodeBindRequest, encodeStartTlsRequest, encodeUnbindRequest, messageLength, TAG, type LdapResponse } from './wire.js';
/** A connection-level failure, carrying a Node-style `code` for connectionFinding(). */
export class WireConnectionError extends Error {
  readonly code: string;
  /** True when the request had been written to the socket before the connection failed. */
  readonly sent: boolean;
  constructor(message: string, code: string, sent: boolean, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'WireConnectionError';
    this.code = code;
    this.sent = sent;
  }
}

export interface WireConnectOptions {
  host: string;
  port: number;
  /** ldaps: TLS from the first byte; starttls: plain TCP, then the StartTLS extended operation. */
  mode: 'ldaps' | 'starttls' | 'plain';
  tls: ConnectionOptions;
  timeoutMs: number;
  signal?: AbortSignal;
}

interface Pending {
  id: number;
  /** The request's protocolOp: which answers it (RESPONSE_OPS). */
  op: number;
  resolve: (r: LdapResponse) => void;
  reject: (e: Error) => void;
  timeoutMs: number;
  /** The watchdog tick at which the request was sent. */
  tick: number;
  /** The request bytes to zero once answered (they hold a password). */
  wipe: Buffer | undefined;
}

/**
 * One watchdog for every connection with an operation in flight: a coarse tick every 100 ms
 * instead of a timer created and cleared per operation (a bulk run does tens of thousands per
 * second). Deadlines are honoured to within one tick. The timer runs only while some connection
 * is open, and never keeps the process alive.
 */
const WATCH_MS = 100;
const watched = new Set<LdapWireConnection>();
let watchTick = 0;
let watchTimer: NodeJS.Timeout | undefined;

function watch(c: LdapWireConnection): void {
  watched.add(c);
  if (!watchTimer) {
    watchTimer = setInterval(() => {
      watchTick++;
      for (const x of watched) x.checkDeadline(watchTick);
    }, WATCH_MS);
    watchTimer.unref();
  }
}

function unwatch(c: LdapWireConnection): void {
  watched.delete(c);
  if (watched.size === 0 && watchTimer) {
    clearInterval(watchTimer);
    watchTimer = undefined;
  }
}

/**
 * One LDAP connection that performs one operation at a time (a bind must not overlap other
 * operations on its connection, RFC 4511 4.2.1). Owns its socket: dispose() is idempotent.
 */
export class LdapWireConnection {
  private sock: net.Socket;
  /** Bytes of an incomplete message carried over to the next read. */
  private rest: Buffer | undefined;
  private nextId = 1;
  private pending: Pending | undefined;
  private closed = false;
  private failure: Error | undefined;

  private constructor(sock: net.Socket) {
    this.sock = sock;
    this.attach(sock);
  }

  static async connect(o: WireConnectOptions): Promise<LdapWireConnection> {
    const sock = await openSocket(o);
    const conn = new LdapWireConnection(sock);
    if (o.mode === 'starttls') {
      let r: LdapResponse;
      try {
        const id = conn.nextId++;
        r = await conn.request(encodeStartTlsRequest(id), id, TAG.EXTENDED_REQUEST, o.timeoutMs);
      } catch (e) {
        conn.dispose();
        throw e;
      }
      if (r.resultCode !== 0) {
        conn.dispose();
        throw new WireConnectionError(`StartTLS refused with LDAP result ${r.resultCode}: ${r.diagnosticMessage}`, 'ERR_STARTTLS_REFUSED', false);
      }
      conn.detach();
      const secured = await upgrade(sock, o);
      conn.sock = secured;
      conn.attach(secured);
    }
    return conn;
  }

  get alive(): boolean {
    return !this.closed && !this.sock.destroyed;
  }

  /** Simple bind on this connection. Resolves with the server's answer, whatever its result code. */
  bind(name: string, password: string, opts: { ppolicy?: boolean; timeoutMs: number }): Promise<LdapResponse> {
    if (this.nextId >= 0x7fffffff) this.nextId = 1;
    const id = this.nextId++;
    return this.request(encodeBindRequest(id, name, password, opts), id, TAG.BIND_REQUEST, opts.timeoutMs, true);
  }

  private request(buf: Buffer, id: number, op: number, timeoutMs: number, wipe = false): Promise<LdapResponse> {
    if (!this.alive) {
      if (wipe) buf.fill(0);
      return Promise.reject(new WireConnectionError('The LDAP connection is closed.', 'ECONNRESET', false, this.failure));
    }
    if (this.pending) return Promise.reject(new Error('internal: one operation at a time per LDAP connection'));
    return new Promise<LdapResponse>((resolve, reject) => {
      this.pending = { id, op, resolve, reject, timeoutMs, tick: watchTick, wipe: wipe ? buf : undefined };
      this.sock.write(buf);
    });
  }

  private attach(sock: net.Socket): void {
    sock.on('data', this.onData);
    sock.on('error', this.onError);
    sock.on('close', this.onClose);
    watch(this);
  }

  private detach(): void {
    this.sock.off('data', this.onData);
    this.sock.off('error', this.onError);
    this.sock.off('close', this.onClose);
    unwatch(this);
  }

  /** Called by the watchdog: fail the operation in flight once its deadline has passed. */
  checkDeadline(tick: number): void {
    const p = this.pending;
    if (p && (tick - p.tick) * WATCH_MS >= p.timeoutMs) {
      this.fail(new WireConnectionError(`No answer within ${p.timeoutMs} ms.`, 'ETIMEDOUT', true));
    }
  }

  private readonly onData = (d: Buffer): void => {
    let buf = this.rest ? Buffer.concat([this.rest, d]) : d;
    this.rest = undefined;
    try {
      for (;;) {
        const n = messageLength(buf, 0);
        if (n < 0) break;
        const msg = buf.subarray(0, n);
        buf = buf.subarray(n);
        this.dispatch(decodeResponse(msg));
      }
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    if (buf.length) this.rest = buf;
  };

  private dispatch(r: LdapResponse): void {
    const p = this.pending;
    if (answerKind(r.messageId, r.op, p && p.id === r.messageId ? p.op : undefined) === 'notice') {
      // unsolicited notification: the Notice of Disconnection means the server is going away
      this.fail(new WireConnectionError(`The server ended the connection (notice of disconnection, result ${r.resultCode}).`, 'ECONNRESET', true));
      return;
    }
    this.pending = undefined;
    // answered, so the request has left the socket: its bytes (with the password) can go
    p!.wipe?.fill(0);
    p!.resolve(r);
  }

  private readonly onError = (e: Error): void => {
    const code = (e as NodeJS.ErrnoException).code ?? 'ECONNRESET';
    this.fail(new WireConnectionError(`The LDAP connection failed: ${e.message}`, code, true, e));
  };

  private readonly onClose = (): void => {
    this.fail(new WireConnectionError('The LDAP server closed the connection.', 'ECONNRESET', true));
  };

  private fail(e: Error): void {
    if (!this.failure) this.failure = e;
    this.closed = true;
    unwatch(this);
    const p = this.pending;
    this.pending = undefined;
    if (p) {
      p.wipe?.fill(0);
      p.reject(e);
    }
    this.sock.destroy();
  }

  /** Send an UnbindRequest (best effort) and close. Idempotent. */
  dispose(): void {
    if (this.closed) return;
    if (!this.pending && !this.sock.destroyed) {
      // a polite UnbindRequest, then close once it is flushed (or after a second at most)
      const sock = this.sock;
      this.closed = true;
      this.failure = new WireConnectionError('The LDAP connection was closed by credgate.', 'ECONNRESET', false);
      this.detach();
      sock.on('error', () => {});
      const t = setTimeout(() => sock.destroy(), 1000);
      t.unref();
      try {
        sock.end(encodeUnbindRequest(this.nextId >= 0x7fffffff ? 1 : this.nextId), () => {
          clearTimeout(t);
          sock.destroy();
        });
      } catch {
        sock.destroy();
      }
      return;
    }
    this.fail(new WireConnectionError('The LDAP connection was closed by credgate.', 'ECONNRESET', false));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.dispose();
  }
}

function openSocket(o: WireConnectOptions): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const tlsMode = o.mode === 'ldaps';
    const sock: net.Socket = tlsMode
      ? tls.connect({ ...o.tls, host: o.host, port: o.port })
      : net.connect({ host: o.host, port: o.port });
    settle(sock, tlsMode ? 'secureConnect' : 'connect', o, resolve, reject);
  });
}

function upgrade(plain: net.Socket, o: WireConnectOptions): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const sock = tls.connect({ ...o.tls, socket: plain });
    settle(sock, 'secureConnect', o, resolve, reject);
  });
}

function settle(sock: net.Socket, ready: string, o: WireConnectOptions, resolve: (s: net.Socket) => void, reject: (e: Error) => void): void {
  let stopAbort = () => {};
  const cleanup = () => {
    clearTimeout(timer);
    sock.off('error', onError);
    sock.off(ready, onReady);
    stopAbort();
  };
  const onError = (e: Error) => {
    cleanup();
    sock.destroy();
    reject(e);
  };
  const onReady = () => {
    cleanup();
    sock.setNoDelay(true);
    resolve(sock);
  };
  const timer = setTimeout(() => onError(Object.assign(new Error(`connect timed out after ${o.timeoutMs} ms`), { code: 'ETIMEDOUT' })), o.timeoutMs);
  sock.once('error', onError);
  sock.once(ready, onReady);
  stopAbort = onAbort(o.signal, () => onError(Object.assign(new Error('aborted'), { code: 'ABORT_ERR' })));
}
