// Small local TCP servers for failure cases: a port with nothing on it, a listener that accepts
// and never answers, one that counts who calls, a TLS server that drops the connection after the
// first request. All on 127.0.0.1, closed by the test.
import net from 'node:net';
import tls from 'node:tls';

export async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export interface SilentServer {
  port: number;
  close(): Promise<void>;
}

/** Accepts connections and never writes a byte. */
export async function silentServer(): Promise<SilentServer> {
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

export interface CountingServer {
  port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/** Counts the connections it accepts and drops each at once: a "must never be contacted" URL. */
export async function countingServer(): Promise<CountingServer> {
  let connections = 0;
  const srv = net.createServer((s) => {
    connections++;
    s.on('error', () => {});
    s.destroy();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  return {
    port,
    get connections() {
      return connections;
    },
    close: () => new Promise<void>((r) => srv.close(() => r())),
  };
}

export interface TlsRequestServer {
  port: number;
  /** TLS handshakes completed. */
  readonly handshakes: number;
  /** Connections on which a request (the first application bytes) arrived. */
  readonly requests: number;
  close(): Promise<void>;
}

/**
 * A TLS server (cert/key PEM) that completes the handshake, reads the first request (an LDAP bind)
 * and then: 'close' destroys the TLS socket (FIN, no close_notify), 'reset' aborts the TCP
 * connection with an RST, 'silent' never answers.
 */
export async function tlsAfterRequestServer(o: { cert: string | Buffer; key: string | Buffer; then: 'close' | 'reset' | 'silent' }): Promise<TlsRequestServer> {
  const ctx = tls.createSecureContext({ cert: o.cert, key: o.key });
  let handshakes = 0;
  let requests = 0;
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((raw) => {
    sockets.add(raw);
    raw.on('error', () => {});
    raw.on('close', () => sockets.delete(raw));
    const t = new tls.TLSSocket(raw, { isServer: true, secureContext: ctx });
    t.on('error', () => {});
    t.once('secure', () => handshakes++);
    t.once('data', () => {
      requests++;
      if (o.then === 'close') t.destroy();
      else if (o.then === 'reset') raw.resetAndDestroy();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  return {
    port,
    get handshakes() {
      return handshakes;
    },
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}
