// RC4-HMAC (RFC 4757, etype 23) for the Kerberos client: MD4 (the NT hash) and RC4 written out
// here because OpenSSL 3 keeps both in its legacy provider, which Node does not load. Used only
// when the KDC offers nothing better than RC4 for the account.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { malformed } from './der.js';

// ---- MD4 (RFC 1320) ---------------------------------------------------------------------------

const rotl = (x: number, n: number) => ((x << n) | (x >>> (32 - n))) >>> 0;

export function md4(data: Buffer): Buffer {
  const bitLen = BigInt(data.length) * 8n;
  const padLen = (data.length % 64 < 56 ? 56 : 120) - (data.length % 64);
  const msg = Buffer.alloc(data.length + padLen + 8);
  data.copy(msg);
  msg[data.length] = 0x80;
  msg.writeBigUInt64LE(bitLen, data.length + padLen);
  let a = 0x67452301;
  let b = 0xefcdab89;
  let c = 0x98badcfe;
  let d = 0x10325476;
  const x = new Array<number>(16);
  const F = (p: number, q: number, r: number) => (p & q) | (~p & r);
  const G = (p: number, q: number, r: number) => (p & q) | (p & r) | (q & r);
  const H = (p: number, q: number, r: number) => p ^ q ^ r;
  for (let off = 0; off < msg.length; off += 64) {
    for (let i = 0; i < 16; i++) x[i] = msg.readUInt32LE(off + i * 4);
    const [aa, bb, cc, dd] = [a, b, c, d];
    const r1 = (p: number, q: number, r: number, s: number, k: number, sh: number) => rotl((p + F(q, r, s) + x[k]!) >>> 0, sh);
    const r2 = (p: number, q: number, r: number, s: number, k: number, sh: number) => rotl((p + G(q, r, s) + x[k]! + 0x5a827999) >>> 0, sh);
    const r3 = (p: number, q: number, r: number, s: number, k: number, sh: number) => rotl((p + H(q, r, s) + x[k]! + 0x6ed9eba1) >>> 0, sh);
    for (const k of [0, 4, 8, 12]) {
      a = r1(a, b, c, d, k, 3);
      d = r1(d, a, b, c, k + 1, 7);
      c = r1(c, d, a, b, k + 2, 11);
      b = r1(b, c, d, a, k + 3, 19);
    }
    for (const k of [0, 1, 2, 3]) {
      a = r2(a, b, c, d, k, 3);
      d = r2(d, a, b, c, k + 4, 5);
      c = r2(c, d, a, b, k + 8, 9);
      b = r2(b, c, d, a, k + 12, 13);
    }
    for (const k of [0, 2, 1, 3]) {
      a = r3(a, b, c, d, k, 3);
      d = r3(d, a, b, c, k + 8, 9);
      c = r3(c, d, a, b, k + 4, 11);
      b = r3(b, c, d, a, k + 12, 15);
    }
    a = (a + aa) >>> 0;
    b = (b + bb) >>> 0;
    c = (c + cc) >>> 0;
    d = (d + dd) >>> 0;
  }
  msg.fill(0);
  x.fill(0);
  const out = Buffer.alloc(16);
  out.writeUInt32LE(a, 0);
  out.writeUInt32LE(b, 4);
  out.writeUInt32LE(c, 8);
  out.writeUInt32LE(d, 12);
  return out;
}

// ---- RC4 --------------------------------------------------------------------------------------

export function rc4(key: Buffer, data: Buffer): Buffer {
  const s = new Uint8Array(256);
  for (let i = 0; i < 256; i++) s[i] = i;
  for (let i = 0, j = 0; i < 256; i++) {
    j = (j + s[i]! + key[i % key.length]!) & 0xff;
    const t = s[i]!;
    s[i] = s[j]!;
    s[j] = t;
  }
  const out = Buffer.alloc(data.length);
  for (let n = 0, i = 0, j = 0; n < data.length; n++) {
    i = (i + 1) & 0xff;
    j = (j + s[i]!) & 0xff;
    const t = s[i]!;
    s[i] = s[j]!;
    s[j] = t;
    out[n] = data[n]! ^ s[(s[i]! + s[j]!) & 0xff]!;
  }
  s.fill(0);
  return out;
}

// ---- RC4-HMAC ---------------------------------------------------------------------------------

/** The RC4-HMAC key: MD4 over the UTF-16LE password (the NT hash). */
export function ntHash(password: string): Buffer {
  const pw = Buffer.from(password, 'utf16le');
  try {
    return md4(pw);
  } finally {
    pw.fill(0);
  }
}

/** RFC 4757 message types: the AS-REP part (3) is sealed with 8, 23 with 13 (errata: 9 stays 9). */
function msUsage(usage: number): Buffer {
  const t = Buffer.alloc(4);
  t.writeInt32LE(usage === 3 ? 8 : usage === 23 ? 13 : usage);
  return t;
}

const hmacMd5 = (key: Buffer, ...data: Buffer[]) => {
  const h = createHmac('md5', key);
  for (const d of data) h.update(d);
  return h.digest();
};

export function rc4HmacEncrypt(key: Buffer, usage: number, plain: Buffer, confounder: Buffer): Buffer {
  const k1 = hmacMd5(key, msUsage(usage));
  const data = Buffer.concat([confounder, plain]);
  const cksum = hmacMd5(k1, data);
  const k3 = hmacMd5(k1, cksum);
  const out = Buffer.concat([cksum, rc4(k3, data)]);
  for (const b of [k1, k3, data]) b.fill(0);
  return out;
}

function tryDecrypt(key: Buffer, usageBytes: Buffer, cipher: Buffer): Buffer | null {
  const k1 = hmacMd5(key, usageBytes);
  const cksum = cipher.subarray(0, 16);
  const k3 = hmacMd5(k1, cksum);
  const data = rc4(k3, cipher.subarray(16));
  const expected = hmacMd5(k1, data);
  const ok = timingSafeEqual(expected, cksum);
  for (const b of [k1, k3, expected]) b.fill(0);
  if (!ok) {
    data.fill(0);
    return null;
  }
  const plain = Buffer.from(data.subarray(8));
  data.fill(0);
  return plain;
}

/** The plaintext, or null when the checksum does not verify (wrong key). */
export function rc4HmacDecrypt(key: Buffer, usage: number, cipher: Buffer): Buffer | null {
  if (cipher.length < 24) throw malformed('RC4-HMAC ciphertext', 'shorter than checksum and confounder');
  const first = tryDecrypt(key, msUsage(usage), cipher);
  if (first || usage !== 9) return first;
  return tryDecrypt(key, msUsage(8), cipher);
}

/** HMAC-MD5 checksum (cksumtype -138, RFC 4757 section 4). */
export function rc4HmacChecksum(key: Buffer, usage: number, data: Buffer): Buffer {
  const ksign = hmacMd5(key, Buffer.from('signaturekey\0', 'latin1'));
  const tmp = createHash('md5').update(msUsage(usage)).update(data).digest();
  const out = hmacMd5(ksign, tmp);
  ksign.fill(0);
  return out;
}
