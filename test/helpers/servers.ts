// Small local TCP servers for failure cases: a port with nothing on it, a listener that accepts
// and never answers, one that counts who calls, a TLS server that drops the connection after the
// first request. All on 127.0.0.1, closed by the test.
import net from 'node:net';
import tls from 'node:tls';

/**
 * A host name no lookup can resolve, and that never leaves the machine: its first label is 64
 * octets, one over DNS's limit, so the resolver refuses it locally (ENOTFOUND) without sending a
 * query. A missing name such as no-such-host.invalid would be asked of the machine's DNS server,
 * off loopback (seen with strace: a UDP query to the resolver in /etc/resolv.conf).
 */
export const UNRESOLVABLE_HOST = `${'x'.repeat(64)}.invalid`;

export async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Listen on a free 127.0.0.1 port; close() ends the tracked sockets, then the server. */
async function listenLoopback(srv: net.Server, sockets: Set<net.Socket>, host = '127.0.0.1'): Promise<{ port: number; close(): Promise<void> }> {
  await new Promise<void>((r) => srv.listen(0, host, () => r()));
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
  return listenLoopback(srv, sockets);
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
  const { port, close } = await listenLoopback(srv, sockets);
  return {
    port,
    close,
    get handshakes() {
      return handshakes;
    },
    get requests() {
      return requests;
    },
  };
}

export interface FakeNlaHost {
  port: number;
  /** TCP connections accepted (the endpoint probe's included). */
  readonly connections: number;
  /** Connections that sent application data inside TLS: a CredSSP TSRequest, i.e. an NLA attempt. */
  readonly credsspRequests: number;
  close(): Promise<void>;
}

/**
 * A loopback stand-in for an RDP host that offers NLA: answers every X.224 Connection Request with
 * `confirm` (an RDP_NEG_RSP selecting CredSSP), completes TLS with cert/key, and counts the
 * connections that then send CredSSP bytes (NLA attempts), closing them without an answer. On
 * 127.0.0.1, or on `host` (another loopback address).
 */
export async function fakeNlaHost(o: { cert: string | Buffer; key: string | Buffer; confirm: Buffer; host?: string }): Promise<FakeNlaHost> {
  let connections = 0;
  let credsspRequests = 0;
  const sockets = new Set<net.Socket>();
  const srv = net.createServer((sock) => {
    connections++;
    sockets.add(sock);
    sock.on('error', () => {});
    sock.on('close', () => sockets.delete(sock));
    sock.once('data', () => {
      sock.write(o.confirm);
      const t = new tls.TLSSocket(sock, { isServer: true, key: o.key, cert: o.cert });
      t.on('error', () => {});
      t.once('data', () => {
        credsspRequests++;
        t.destroy();
      });
    });
  });
  const { port, close } = await listenLoopback(srv, sockets, o.host);
  return {
    port,
    close,
    get connections() {
      return connections;
    },
    get credsspRequests() {
      return credsspRequests;
    },
  };
}
