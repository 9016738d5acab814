/**
 * MD4 (RFC 1320) and the NT hash built on it, small and pure: NTLM's NTOWFv1 and Kerberos'
 * RC4-HMAC key are both MD4(UTF-16LE(password)), and OpenSSL 3 keeps MD4 in its legacy provider,
 * which Node does not load. MD4 is broken as a general hash: use it only for those two.
 */

const rotl = (x: number, n: number): number => (x << n) | (x >>> (32 - n));

export function md4(input: Uint8Array): Buffer {
  const len = input.length;
  // message + 0x80 + zero pad to 56 mod 64 + 64-bit little-endian bit length
  const total = (((len + 8) >>> 6) + 1) << 6;
  const m = Buffer.alloc(total);
  m.set(input, 0);
  m[len] = 0x80;
  const bits = len * 8;
  m.writeUInt32LE(bits >>> 0, total - 8);
  m.writeUInt32LE(Math.floor(bits / 0x1_0000_0000) >>> 0, total - 4);

  let a = 0x67452301;
  let b = 0xefcdab89;
  let c = 0x98badcfe;
  let d = 0x10325476;
  const x = new Array<number>(16);
  const F = (p: number, q: number, r: number) => (p & q) | (~p & r);
  const G = (p: number, q: number, r: number) => (p & q) | (p & r) | (q & r);
  const H = (p: number, q: number, r: number) => p ^ q ^ r;
  const R2 = [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15];
  const R3 = [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15];
  const S1 = [3, 7, 11, 19];
  const S2 = [3, 5, 9, 13];
  const S3 = [3, 9, 11, 15];

  for (let off = 0; off < total; off += 64) {
    for (let i = 0; i < 16; i++) x[i] = m.readUInt32LE(off + i * 4);
    const aa = a, bb = b, cc = c, dd = d;
    for (let i = 0; i < 16; i++) {
      const t = (a + F(b, c, d) + x[i]!) | 0;
      a = d; d = c; c = b; b = rotl(t, S1[i % 4]!);
    }
    for (let i = 0; i < 16; i++) {
      const t = (a + G(b, c, d) + x[R2[i]!]! + 0x5a827999) | 0;
      a = d; d = c; c = b; b = rotl(t, S2[i % 4]!);
    }
    for (let i = 0; i < 16; i++) {
      const t = (a + H(b, c, d) + x[R3[i]!]! + 0x6ed9eba1) | 0;
      a = d; d = c; c = b; b = rotl(t, S3[i % 4]!);
    }
    a = (a + aa) | 0; b = (b + bb) | 0; c = (c + cc) | 0; d = (d + dd) | 0;
  }
  const out = Buffer.alloc(16);
  out.writeInt32LE(a, 0);
  out.writeInt32LE(b, 4);
  out.writeInt32LE(c, 8);
  out.writeInt32LE(d, 12);
  return out;
}

/** The NT hash, MD4(UTF-16LE(password)); the UTF-16 copy of the password is zeroed. */
export function ntHash(password: string): Buffer {
  const pw = Buffer.from(password, 'utf16le');
  try {
    return md4(pw);
  } finally {
    pw.fill(0);
  }
}
