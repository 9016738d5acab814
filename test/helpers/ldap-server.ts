// A scripted LDAP server on 127.0.0.1 for the answers a real directory never gives: a success
// that is not a BindResponse, a wrong messageID, garbage, malformed BER, a 2 GB length prefix
// followed by an endless stream, a slow AD rejection (52e). LDAPS (cert/key) or plain TCP. It
// frames the client's requests itself and writes every answer byte by hand (RFC 4511 BER), so
// the client is tested against an independent implementation. Closed by the test.
import net from 'node:net';
import tls from 'node:tls';

/** DER/BER TLV with a definite length. */
export function tlv(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...len]), body]);
}

export function berInt(tag: number, v: number): Buffer {
  const b: number[] = [];
  do {
    b.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  if (b[0]! & 0x80) b.unshift(0);
  return tlv(tag, Buffer.from(b));
}

const octets = (s: string) => tlv(0x04, Buffer.from(s, 'utf8'));

/** LDAPMessage { messageID, <op> LDAPResult { resultCode, matchedDN, diagnosticMessage } }. */
export function ldapResult(messageId: number, op: number, resultCode: number, diagnostic = ''): Buffer {
  return tlv(0x30, berInt(0x02, messageId), tlv(op, berInt(0x0a, resultCode), octets(''), octets(diagnostic)));
}

/** What Windows Server answers a bind with a wrong password (AD sub-code 52e). */
export const AD_52E = '80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 52e, v4563';

export interface LdapRequest {
  messageId: number;
  /** protocolOp tag: 0x60 BindRequest, 0x63 SearchRequest, 0x77 ExtendedRequest, 0x42 UnbindRequest. */
  op: number;
  /** For a BindRequest: the bind name. */
  name?: string;
}

/** What the server does with one request: write bytes, wait, close. */
export type Script = (req: LdapRequest, sock: net.Socket) => void;

export interface ScriptedLdapServer {
  port: number;
  url: string;
  /** Every request received, in order, over all connections. */
  requests: LdapRequest[];
  /** BindRequests received, by bind name. */
  binds(name?: string): number;
  /** Bytes the server wrote in all. */
  readonly bytesWritten: number;
  close(): Promise<void>;
}

function readLength(b: Buffer, at: number): { len: number; hdr: number } | undefined {
  if (b.length < at + 2) return undefined;
  const first = b[at + 1]!;
  if (first < 0x80) return { len: first, hdr: 2 };
  const n = first & 0x7f;
  if (b.length < at + 2 + n) return undefined;
  let len = 0;
  for (let k = 0; k < n; k++) len = len * 256 + b[at + 2 + k]!;
  return { len, hdr: 2 + n };
}

function parseRequest(msg: Buffer): LdapRequest {
  // SEQUENCE { INTEGER id, [APPLICATION n] ... }
  const outer = readLength(msg, 0)!;
  let at = outer.hdr;
  const idl = readLength(msg, at)!;
  let messageId = 0;
  for (let k = 0; k < idl.len; k++) messageId = messageId * 256 + msg[at + idl.hdr + k]!;
  at += idl.hdr + idl.len;
  const op = msg[at]!;
  const req: LdapRequest = { messageId, op };
  if (op === 0x60) {
    const opl = readLength(msg, at)!;
    let p = at + opl.hdr;
    p += readLength(msg, p)!.hdr + readLength(msg, p)!.len; // version
    const nl = readLength(msg, p)!;
    req.name = msg.subarray(p + nl.hdr, p + nl.hdr + nl.len).toString('utf8');
  }
  return req;
}

/**
 * An LDAP(S) server that runs `script` for each request. With cert/key it speaks LDAPS; without,
 * plain LDAP (the client then needs its plain-bind opt-in).
 */
export async function scriptedLdapServer(script: Script, o: { cert?: string | Buffer; key?: string | Buffer } = {}): Promise<ScriptedLdapServer> {
  const requests: LdapRequest[] = [];
  const sockets = new Set<net.Socket>();
  let bytesWritten = 0;
  const onConnection = (sock: net.Socket) => {
    sockets.add(sock);
    sock.on('error', () => {});
    sock.on('close', () => sockets.delete(sock));
    const write = sock.write.bind(sock);
    sock.write = ((chunk: Buffer, ...rest: unknown[]) => {
      bytesWritten += chunk.length;
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof sock.write;
    let buf = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const l = readLength(buf, 0);
        if (!l || buf.length < l.hdr + l.len) return;
        const msg = buf.subarray(0, l.hdr + l.len);
        buf = buf.subarray(l.hdr + l.len);
        const req = parseRequest(msg);
        requests.push(req);
        if (req.op === 0x42) {
          sock.end();
          return;
        }
        script(req, sock);
      }
    });
  };
  const srv = o.cert && o.key ? tls.createServer({ cert: o.cert, key: o.key }, onConnection) : net.createServer(onConnection);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as net.AddressInfo;
  return {
    port,
    url: `${o.cert ? 'ldaps' : 'ldap'}://127.0.0.1:${port}`,
    requests,
    binds: (name) => requests.filter((r) => r.op === 0x60 && (name === undefined || r.name === name)).length,
    get bytesWritten() {
      return bytesWritten;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        srv.close(() => r());
      }),
  };
}

/**
 * A length prefix announcing a 2 GB LDAPMessage, then filler written as fast as the client reads
 * it, until the connection closes or `maxBytes` went out (bounded).
 */
export function streamOversized(sock: net.Socket, maxBytes = 64 * 1024 * 1024): void {
  const chunk = Buffer.alloc(64 * 1024, 0x41);
  let sent = 0;
  const pump = () => {
    while (!sock.destroyed && sent < maxBytes) {
      sent += chunk.length;
      if (!sock.write(chunk)) {
        sock.once('drain', pump);
        return;
      }
    }
  };
  sock.write(Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff]));
  pump();
}
