// The raw side of the bind benchmarks: a minimal hand-encoded BER simple bind (with the password
// policy request control) over one persistent LDAPS connection, no LDAP library, and a loop of
// such connections over a list of DNs. The practical limit of client + slapd on this machine, which
// credgate's bulk verification is measured against (verify-throughput in-process, verify-cli as
// whole processes).
import tls from 'node:tls';

export const PPOLICY_OID = '1.3.6.1.4.1.42.2.27.8.5.1';

function tlv(tag, body) {
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...len]), body]);
}
function intBytes(v) {
  const b = [];
  do {
    b.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  if (b[0] & 0x80) b.unshift(0);
  return Buffer.from(b);
}
const PPCTL = tlv(0xa0, tlv(0x30, tlv(0x04, Buffer.from(PPOLICY_OID))));
const rawBind = (id, dn, pw) => tlv(0x30, Buffer.concat([tlv(0x02, intBytes(id)), tlv(0x60, Buffer.concat([tlv(0x02, Buffer.from([3])), tlv(0x04, Buffer.from(dn)), tlv(0x80, Buffer.from(pw))])), PPCTL]));

/** One LDAPS connection that binds one DN at a time; bind() resolves to the BindResponse's resultCode. */
export function rawConnection(url, ca) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ host: u.hostname, port: Number(u.port), ca });
    let buf = Buffer.alloc(0);
    let waiter;
    let id = 0;
    sock.on('data', (d) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      while (buf.length >= 2) {
        let len = buf[1];
        let hdr = 2;
        if (len & 0x80) {
          const k = len & 0x7f;
          if (buf.length < 2 + k) return;
          len = 0;
          for (let i = 0; i < k; i++) len = len * 256 + buf[2 + i];
          hdr = 2 + k;
        }
        if (buf.length < hdr + len) return;
        const msg = buf.subarray(0, hdr + len);
        buf = buf.subarray(hdr + len);
        let p = hdr + 2 + msg[hdr + 1]; // past messageID
        p += 2 + (msg[p + 1] & 0x80 ? msg[p + 1] & 0x7f : 0); // past BindResponse header
        const w = waiter;
        waiter = undefined;
        w?.(msg[p + 2]); // ENUMERATED resultCode
      }
    });
    sock.once('error', reject);
    sock.once('secureConnect', () => {
      sock.setNoDelay(true);
      resolve({
        bind: (dn, pw) => new Promise((res) => {
          waiter = res;
          sock.write(rawBind(++id, dn, pw));
        }),
        close: () => sock.destroy(),
      });
    });
  });
}

/**
 * Bind every account of `accounts` (an iterator of { dn, password }, sync or async) over `conns`
 * persistent connections, each taking the next account when its bind is answered. Resolves to
 * { binds, bad } (bad: binds not answered with success).
 */
export async function rawLoop(url, ca, accounts, conns) {
  const it = accounts[Symbol.asyncIterator] ? accounts[Symbol.asyncIterator]() : accounts[Symbol.iterator]();
  let binds = 0;
  let bad = 0;
  await Promise.all(Array.from({ length: conns }, async () => {
    const c = await rawConnection(url, ca);
    for (let r = await it.next(); !r.done; r = await it.next()) {
      binds++;
      if ((await c.bind(r.value.dn, r.value.password)) !== 0) bad++;
    }
    c.close();
  }));
  return { binds, bad };
}
