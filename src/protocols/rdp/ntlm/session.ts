/**
 * NTLM session security with extended session security ([MS-NLMP] 3.4): signing and sealing keys,
 * SEAL / UNSEAL with RC4 and HMAC-MD5 signatures, as CredSSP's public-key binding needs.
 */
import { createHash } from 'node:crypto';
import { NTLM_FLAGS as F } from './constants.js';
import { Rc4 } from '../../crypto/rc4.js';
import { hmacMd5 } from '../../crypto/hmac.js';

const MAGIC = {
  clientSign: 'session key to client-to-server signing key magic constant\0',
  serverSign: 'session key to server-to-client signing key magic constant\0',
  clientSeal: 'session key to client-to-server sealing key magic constant\0',
  serverSeal: 'session key to server-to-client sealing key magic constant\0',
};

const md5 = (...parts: Uint8Array[]) => {
  const h = createHash('md5');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** SIGNKEY (3.4.5.2). */
export function signKey(exportedSessionKey: Buffer, side: 'client' | 'server'): Buffer {
  return md5(exportedSessionKey, Buffer.from(side === 'client' ? MAGIC.clientSign : MAGIC.serverSign, 'latin1'));
}

/** SEALKEY (3.4.5.3) with extended session security. */
export function sealKey(exportedSessionKey: Buffer, flags: number, side: 'client' | 'server'): Buffer {
  const k = flags & F.N128 ? exportedSessionKey : flags & F.N56 ? exportedSessionKey.subarray(0, 7) : exportedSessionKey.subarray(0, 5);
  return md5(k, Buffer.from(side === 'client' ? MAGIC.clientSeal : MAGIC.serverSeal, 'latin1'));
}

/**
 * NTLM session security with extended session security: one RC4 handle and one sequence number
 * per direction, kept across messages. `seal` is the client's outgoing direction, `unseal` the
 * server's.
 */
export class NtlmSession {
  readonly clientSigningKey: Buffer;
  readonly serverSigningKey: Buffer;
  readonly clientSealingKey: Buffer;
  readonly serverSealingKey: Buffer;
  private readonly out: Rc4;
  private readonly in: Rc4;
  private outSeq = 0;
  private inSeq = 0;

  constructor(exportedSessionKey: Buffer, readonly flags: number) {
    this.clientSigningKey = signKey(exportedSessionKey, 'client');
    this.serverSigningKey = signKey(exportedSessionKey, 'server');
    this.clientSealingKey = sealKey(exportedSessionKey, flags, 'client');
    this.serverSealingKey = sealKey(exportedSessionKey, flags, 'server');
    this.out = new Rc4(this.clientSealingKey);
    this.in = new Rc4(this.serverSealingKey);
  }

  private mac(handle: Rc4, key: Buffer, seq: number, message: Buffer): Buffer {
    const s = Buffer.alloc(4);
    s.writeUInt32LE(seq >>> 0);
    let checksum = hmacMd5(key, s, message).subarray(0, 8);
    if (this.flags & F.KEY_EXCH) checksum = handle.update(checksum);
    const sig = Buffer.alloc(16);
    sig.writeUInt32LE(1, 0);
    checksum.copy(sig, 4);
    s.copy(sig, 12);
    return sig;
  }

  /** SEAL (3.4.3): encrypt then sign the plaintext; returns the 16-byte signature and the sealed bytes. */
  seal(message: Uint8Array): { signature: Buffer; sealed: Buffer } {
    const msg = Buffer.from(message);
    const sealed = this.out.update(msg);
    const signature = this.mac(this.out, this.clientSigningKey, this.outSeq++, msg);
    return { signature, sealed };
  }

  /** UNSEAL the server's message and check its signature; returns undefined when it does not verify. */
  unseal(signature: Uint8Array, sealed: Uint8Array): Buffer | undefined {
    if (signature.length !== 16) return undefined;
    const plain = this.in.update(sealed);
    const expect = this.mac(this.in, this.serverSigningKey, this.inSeq++, plain);
    return expect.equals(Buffer.from(signature)) ? plain : undefined;
  }
}
