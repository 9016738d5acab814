// Loopback stand-ins for a directory and an RDP host, enough for a preflight to pass: an LDAPS
// server that accepts every simple bind (and counts them), and an RDP endpoint that selects
// CredSSP and completes TLS, on any 127.0.0.0/8 address (a host name of the test's own: the
// credential launch stores is TERMSRV/<that address>). The certificate: self-signed for those
// addresses, made with Node's RSA key generation and node-forge (no openssl: the same on Windows).
import tls from 'node:tls';
import net from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';

export function selfSignedCert(ips: string[] = ['127.0.0.1']): { cert: string; key: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const c = forge.pki.createCertificate();
  c.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  c.serialNumber = '01';
  c.validity.notBefore = new Date(Date.now() - 3_600_000);
  c.validity.notAfter = new Date(Date.now() + 7 * 86_400_000);
  const name = [{ name: 'commonName', value: '127.0.0.1' }, { name: 'organizationName', value: 'credgate windows tier' }];
  c.setSubject(name);
  c.setIssuer(name);
  c.setExtensions([
    { name: 'basicConstraints', cA: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [...ips.map((ip) => ({ type: 7, ip })), { type: 2, value: 'localhost' }] },
  ]);
  c.sign(forge.pki.privateKeyFromPem(key), forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(c), key };
}

/** BER length at b[i]: [length, bytes used]. */
function berLength(b: Buffer, i: number): [number, number] | undefined {
  if (i >= b.length) return undefined;
  const first = b[i]!;
  if (first < 0x80) return [first, 1];
  const n = first & 0x7f;
  if (i + n >= b.length) return undefined;
  let len = 0;
  for (let k = 1; k <= n; k++) len = len * 256 + b[i + k]!;
  return [len, n + 1];
}

export interface FakeLdaps {
  port: number;
  readonly binds: number;
  close(): Promise<void>;
}

/** LDAPS on 127.0.0.1: every BindRequest is answered success (resultCode 0); an UnbindRequest closes. */
export async function fakeLdaps(o: { cert: string; key: string }): Promise<FakeLdaps> {
  let binds = 0;
  const sockets = new Set<net.Socket>();
  const srv = tls.createServer({ cert: o.cert, key: o.key }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (buf.length < 2 || buf[0] !== 0x30) return;
        const l = berLength(buf, 1);
        if (!l || buf.length < 1 + l[1] + l[0]) return;
        const msg = buf.subarray(1 + l[1], 1 + l[1] + l[0]);
        buf = buf.subarray(1 + l[1] + l[0]);
        // messageID INTEGER, then the operation's tag
        const idLen = msg[1]!;
        const id = msg.subarray(2, 2 + idLen);
        const op = msg[2 + idLen];
        if (op === 0x60) {
          binds++;
          const body = Buffer.concat([Buffer.from([0x02, id.length]), id, Buffer.from([0x61, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00])]);
          s.write(Buffer.concat([Buffer.from([0x30, body.length]), body]));
        } else if (op === 0x42) {
          s.end();
          return;
        }
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return {
    port: (srv.address() as net.AddressInfo).port,
    get binds() {
      return binds;
    },
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      srv.close(() => r());
    }),
  };
}
