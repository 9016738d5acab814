// Kerberos crypto over node:crypto: the RFC 3961 simplified profile (n-fold, DK) with AES in CBC
// ciphertext-stealing mode and HMAC-SHA1-96 (RFC 3962, etypes 17/18), the PBKDF2 string-to-key
// with the iteration count from s2kparams, and one encrypt/decrypt/checksum entry point that also
// covers RC4-HMAC (rc4.ts). Keys are plain Buffers that callers wipe with wipe() when done.
import { createCipheriv, createDecipheriv, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { malformed } from './der.js';
import { CKSUM, type SupportedEtype } from './constants.js';
import { rc4HmacChecksum, rc4HmacDecrypt, rc4HmacEncrypt } from './rc4.js';
import { ntHash } from '../crypto/md4.js';

export interface KerberosKey {
  etype: SupportedEtype;
  bytes: Buffer;
}

/** Default PBKDF2 iteration count (RFC 3962) when the KDC sends no s2kparams. */
export const DEFAULT_S2K_ITERATIONS = 4096;
/** A KDC asking for more iterations than this is refused (a spoofed reply could otherwise burn CPU). */
export const MAX_S2K_ITERATIONS = 1_000_000;

export function keyLength(etype: SupportedEtype): number {
  return etype === 18 ? 32 : 16;
}

/** Overwrite key material in place. */
export function wipe(...bufs: (Buffer | undefined | null)[]): void {
  for (const b of bufs) b?.fill(0);
}

// ---- n-fold (RFC 3961 section 5.1) ------------------------------------------------------------

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function rotateRight(input: Buffer, bits: number): Buffer {
  const k = input.length;
  const r = bits % (8 * k);
  const q = Math.floor(r / 8);
  const s = r % 8;
  const out = Buffer.alloc(k);
  for (let i = 0; i < k; i++) {
    const hi = input[(((i - q) % k) + k) % k]!;
    const lo = input[(((i - q - 1) % k) + k) % k]!;
    out[i] = ((hi >> s) | (lo << (8 - s))) & 0xff;
  }
  return out;
}

/** n-fold `input` to `outBytes` bytes. */
export function nfold(input: Buffer, outBytes: number): Buffer {
  const k = input.length;
  if (k === 0) throw new RangeError('n-fold of an empty string');
  const lcm = (k * outBytes) / gcd(k, outBytes);
  const big = Buffer.alloc(lcm);
  for (let i = 0; i < lcm / k; i++) rotateRight(input, 13 * i).copy(big, i * k);
  const acc = new Array<number>(outBytes).fill(0);
  for (let off = 0; off < lcm; off += outBytes) {
    let carry = 0;
    for (let i = outBytes - 1; i >= 0; i--) {
      const sum = acc[i]! + big[off + i]! + carry;
      acc[i] = sum & 0xff;
      carry = sum >> 8;
    }
    for (let i = outBytes - 1; carry && i >= 0; i--) {
      const sum = acc[i]! + carry;
      acc[i] = sum & 0xff;
      carry = sum >> 8;
    }
  }
  return Buffer.from(acc);
}

// ---- AES primitives ---------------------------------------------------------------------------

const ZERO_IV = Buffer.alloc(16);
const aesName = (key: Buffer, mode: string) => `aes-${key.length * 8}-${mode}`;

function aesEcbEncrypt(key: Buffer, block: Buffer): Buffer {
  const c = createCipheriv(aesName(key, 'ecb'), key, null).setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
}

function aesEcbDecrypt(key: Buffer, block: Buffer): Buffer {
  const d = createDecipheriv(aesName(key, 'ecb'), key, null).setAutoPadding(false);
  return Buffer.concat([d.update(block), d.final()]);
}

function aesCbc(key: Buffer, data: Buffer, encrypt: boolean): Buffer {
  const c = encrypt
    ? createCipheriv(aesName(key, 'cbc'), key, ZERO_IV).setAutoPadding(false)
    : createDecipheriv(aesName(key, 'cbc'), key, ZERO_IV).setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

/** AES in CBC mode with ciphertext stealing, zero IV, last two blocks swapped (RFC 3962 section 5). */
export function aesCtsEncrypt(key: Buffer, plain: Buffer): Buffer {
  const n = plain.length;
  if (n < 16) throw new RangeError('AES-CTS needs at least one block');
  if (n === 16) return aesEcbEncrypt(key, plain);
  const m = Math.ceil(n / 16);
  const r = n - 16 * (m - 1);
  const padded = Buffer.alloc(16 * m);
  plain.copy(padded);
  const c = aesCbc(key, padded, true);
  padded.fill(0);
  return Buffer.concat([c.subarray(0, 16 * (m - 2)), c.subarray(16 * (m - 1)), c.subarray(16 * (m - 2), 16 * (m - 2) + r)]);
}

export function aesCtsDecrypt(key: Buffer, cipher: Buffer): Buffer {
  const n = cipher.length;
  if (n < 16) throw malformed('AES-CTS ciphertext', 'shorter than one block');
  if (n === 16) return aesEcbDecrypt(key, cipher);
  const m = Math.ceil(n / 16);
  const r = n - 16 * (m - 1);
  const head = cipher.subarray(0, 16 * (m - 2));
  const x = cipher.subarray(16 * (m - 2), 16 * (m - 1));
  const y = cipher.subarray(16 * (m - 1));
  const d = aesEcbDecrypt(key, x);
  const prevFull = Buffer.concat([y, d.subarray(r)]);
  const last = Buffer.alloc(r);
  for (let i = 0; i < r; i++) last[i] = d[i]! ^ y[i]!;
  const front = aesCbc(key, Buffer.concat([head, prevFull]), false);
  const out = Buffer.concat([front, last]);
  wipe(d, last, front);
  return out;
}

/** DK(base, constant) for the AES etypes: DR with AES-ECB, random-to-key is the identity. */
export function deriveKey(base: Buffer, constant: Buffer): Buffer {
  const out: Buffer[] = [];
  let block = nfold(constant, 16);
  let have = 0;
  while (have < base.length) {
    block = aesEcbEncrypt(base, block);
    out.push(block);
    have += 16;
  }
  const key = Buffer.concat(out).subarray(0, base.length);
  const copy = Buffer.from(key);
  wipe(...out);
  return copy;
}

function usageConstant(usage: number, suffix: number): Buffer {
  const c = Buffer.alloc(5);
  c.writeUInt32BE(usage >>> 0);
  c[4] = suffix;
  return c;
}

function hmacSha1(key: Buffer, data: Buffer): Buffer {
  return createHmac('sha1', key).update(data).digest();
}

function aesEncrypt(key: Buffer, usage: number, plain: Buffer, confounder: Buffer): Buffer {
  const ke = deriveKey(key, usageConstant(usage, 0xaa));
  const ki = deriveKey(key, usageConstant(usage, 0x55));
  const data = Buffer.concat([confounder, plain]);
  const c = aesCtsEncrypt(ke, data);
  const h = hmacSha1(ki, data).subarray(0, 12);
  wipe(ke, ki, data);
  return Buffer.concat([c, h]);
}

function aesDecrypt(key: Buffer, usage: number, cipher: Buffer): Buffer | null {
  if (cipher.length < 16 + 12) throw malformed('AES ciphertext', 'shorter than confounder and checksum');
  const ke = deriveKey(key, usageConstant(usage, 0xaa));
  const ki = deriveKey(key, usageConstant(usage, 0x55));
  const data = aesCtsDecrypt(ke, cipher.subarray(0, cipher.length - 12));
  const mac = hmacSha1(ki, data);
  const ok = timingSafeEqual(mac.subarray(0, 12), cipher.subarray(cipher.length - 12));
  wipe(ke, ki, mac);
  if (!ok) {
    wipe(data);
    return null;
  }
  const plain = Buffer.from(data.subarray(16));
  wipe(data);
  return plain;
}

// ---- string-to-key ----------------------------------------------------------------------------

/** The PBKDF2 iteration count from AES s2kparams (4 bytes, big-endian), checked against the caps. */
export function s2kIterations(s2kparams: Buffer | undefined): number {
  if (s2kparams === undefined) return DEFAULT_S2K_ITERATIONS;
  if (s2kparams.length !== 4) throw malformed('ETYPE-INFO2 s2kparams', 'AES parameters are not 4 bytes');
  const n = s2kparams.readUInt32BE(0);
  if (n < 1 || n > MAX_S2K_ITERATIONS) throw malformed('ETYPE-INFO2 s2kparams', `iteration count ${n} is outside 1..${MAX_S2K_ITERATIONS}`);
  return n;
}

function pbkdf2Async(password: Buffer, salt: Buffer, iterations: number, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(password, salt, iterations, length, 'sha1', (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/**
 * The long-term key for `password`: PBKDF2-HMAC-SHA1 then DK(tkey, "kerberos") for AES, the NT
 * hash for RC4 (which ignores salt and parameters). The password's UTF-8 copy is wiped.
 */
export async function stringToKey(etype: SupportedEtype, password: string, salt: Buffer, s2kparams?: Buffer): Promise<KerberosKey> {
  if (etype === 23) return { etype, bytes: ntHash(password) };
  const iterations = s2kIterations(s2kparams);
  const pw = Buffer.from(password, 'utf8');
  try {
    const tkey = await pbkdf2Async(pw, salt, iterations, keyLength(etype));
    const bytes = deriveKey(tkey, Buffer.from('kerberos', 'latin1'));
    wipe(tkey);
    return { etype, bytes };
  } finally {
    wipe(pw);
  }
}

// ---- one entry point per operation ------------------------------------------------------------

/** Encrypt for key usage `usage`. The confounder is random unless a test passes one. */
export function encrypt(key: KerberosKey, usage: number, plain: Buffer, confounder?: Buffer): Buffer {
  if (key.etype === 23) return rc4HmacEncrypt(key.bytes, usage, plain, confounder ?? randomBytes(8));
  return aesEncrypt(key.bytes, usage, plain, confounder ?? randomBytes(16));
}

/** The plaintext, or null when the integrity check fails (the key is wrong or the data altered). */
export function decrypt(key: KerberosKey, usage: number, cipher: Buffer): Buffer | null {
  if (key.etype === 23) return rc4HmacDecrypt(key.bytes, usage, cipher);
  return aesDecrypt(key.bytes, usage, cipher);
}

/** The keyed checksum that goes with the key's etype (RFC 3961 get_mic / RFC 4757). */
export function checksum(key: KerberosKey, usage: number, data: Buffer): { cksumtype: number; value: Buffer } {
  if (key.etype === 23) return { cksumtype: CKSUM.HMAC_MD5, value: rc4HmacChecksum(key.bytes, usage, data) };
  const kc = deriveKey(key.bytes, usageConstant(usage, 0x99));
  const value = hmacSha1(kc, data).subarray(0, 12);
  wipe(kc);
  return { cksumtype: key.etype === 18 ? CKSUM.HMAC_SHA1_96_AES256 : CKSUM.HMAC_SHA1_96_AES128, value: Buffer.from(value) };
}
