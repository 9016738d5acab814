// RC4-HMAC (RFC 4757, etype 23) for the Kerberos client, over the project's MD4 and RC4
// (protocols/crypto: OpenSSL 3 keeps both in its legacy provider, which Node does not load). Used
// only when the KDC offers nothing better than RC4 for the account.
import { createHash, timingSafeEqual } from 'node:crypto';
import { malformed } from './der.js';
import { rc4 } from '../crypto/rc4.js';
import { hmacMd5 } from '../crypto/hmac.js';


/** RFC 4757 message types: the AS-REP part (3) is sealed with 8, 23 with 13 (errata: 9 stays 9). */
function msUsage(usage: number): Buffer {
  const t = Buffer.alloc(4);
  t.writeInt32LE(usage === 3 ? 8 : usage === 23 ? 13 : usage);
  return t;
}

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
