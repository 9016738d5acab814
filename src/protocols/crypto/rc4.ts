/**
 * RC4, small and pure, as a keystream object: NTLM session security keeps one RC4 state per
 * direction across messages (MS-NLMP 3.4.3), so this is a stateful cipher; `rc4` is the one-shot
 * form (Kerberos RC4-HMAC, RFC 4757). Node has no RC4 without OpenSSL's legacy provider. Use it
 * only for those two.
 */
export class Rc4 {
  private readonly s = new Uint8Array(256);
  private i = 0;
  private j = 0;

  constructor(key: Uint8Array) {
    if (key.length < 1 || key.length > 256) throw new RangeError('RC4 key must be 1..256 bytes');
    const s = this.s;
    for (let k = 0; k < 256; k++) s[k] = k;
    let j = 0;
    for (let k = 0; k < 256; k++) {
      j = (j + s[k]! + key[k % key.length]!) & 0xff;
      const t = s[k]!;
      s[k] = s[j]!;
      s[j] = t;
    }
  }

  /** XOR the next keystream bytes into a copy of `data`. */
  update(data: Uint8Array): Buffer {
    const out = Buffer.alloc(data.length);
    const s = this.s;
    let i = this.i;
    let j = this.j;
    for (let n = 0; n < data.length; n++) {
      i = (i + 1) & 0xff;
      j = (j + s[i]!) & 0xff;
      const t = s[i]!;
      s[i] = s[j]!;
      s[j] = t;
      out[n] = data[n]! ^ s[(s[i]! + s[j]!) & 0xff]!;
    }
    this.i = i;
    this.j = j;
    return out;
  }

  /** Zero the keystream state (it is derived from the key). */
  wipe(): void {
    this.s.fill(0);
    this.i = 0;
    this.j = 0;
  }
}

/** One-shot RC4 (a fresh keystream): RC4K(key, data) in MS-NLMP's notation. The keystream state is zeroed after. */
export function rc4(key: Uint8Array, data: Uint8Array): Buffer {
  const c = new Rc4(key);
  try {
    return c.update(data);
  } finally {
    c.wipe();
  }
}
