/** HMAC-MD5, as NTLM (MS-NLMP) and Kerberos RC4-HMAC (RFC 4757) both use it. */
import { createHmac } from 'node:crypto';

export function hmacMd5(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const h = createHmac('md5', key);
  for (const p of parts) h.update(p);
  return h.digest();
}
