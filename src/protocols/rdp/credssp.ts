/**
 * CredSSP (MS-CSSP) message layer: the TSRequest structure (2.2.1) in DER, written and read by
 * hand with a minimal bounded reader, and the public-key binding (3.1.5): for versions 2–4 the
 * server proves itself by returning the TLS SubjectPublicKey with its first byte plus one, for
 * versions 5 and 6 by a SHA-256 over a fixed label, the client's nonce and the SubjectPublicKey.
 *
 *   TSRequest ::= SEQUENCE {
 *     version     [0] INTEGER,
 *     negoTokens  [1] NegoData OPTIONAL,         -- SEQUENCE OF SEQUENCE { negoToken [0] OCTET STRING }
 *     authInfo    [2] OCTET STRING OPTIONAL,     -- TSCredentials: credgate never sends it
 *     pubKeyAuth  [3] OCTET STRING OPTIONAL,
 *     errorCode   [4] INTEGER OPTIONAL,          -- v3+: NTSTATUS of a failed logon
 *     clientNonce [5] OCTET STRING OPTIONAL }    -- v5+
 */
import { createHash, X509Certificate } from 'node:crypto';
import { CredgateError } from '../../core/errors.js';

/** Largest TSRequest credgate reads (real ones are below 2 KiB). */
export const MAX_TSREQUEST = 64 * 1024;
/** Highest CredSSP version credgate speaks. */
export const CREDSSP_VERSION = 6;

const CLIENT_SERVER_HASH_MAGIC = Buffer.from('CredSSP Client-To-Server Binding Hash\0', 'latin1');
const SERVER_CLIENT_HASH_MAGIC = Buffer.from('CredSSP Server-To-Client Binding Hash\0', 'latin1');

function bad(why: string): never {
  throw new CredgateError(`The server's CredSSP message is malformed (${why}).`, { code: 'PROTOCOL_ERROR', details: { kind: 'credssp', why } });
}

// ---------------------------------------------------------------- DER writer

function derLength(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function derTlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), derLength(content.length), content]);
}

/** DER INTEGER of a 32-bit value; `signed32` writes it as Windows does for NTSTATUS (4-byte two's complement). */
export function derInteger(v: number, signed32 = false): Buffer {
  if (signed32) {
    const b = Buffer.alloc(4);
    b.writeInt32BE(v | 0);
    let i = 0; // minimal form of the signed value
    while (i < 3 && ((b[i] === 0 && !(b[i + 1]! & 0x80)) || (b[i] === 0xff && b[i + 1]! & 0x80))) i++;
    return derTlv(0x02, b.subarray(i));
  }
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError('derInteger: 0..2^32-1');
  const bytes: number[] = [];
  for (let x = v; x > 0; x = Math.floor(x / 256)) bytes.unshift(x & 0xff);
  if (bytes.length === 0 || bytes[0]! & 0x80) bytes.unshift(0);
  return derTlv(0x02, Buffer.from(bytes));
}

const ctx = (n: number, content: Buffer) => derTlv(0xa0 | n, content);

// ---------------------------------------------------------------- DER reader

export interface DerNode {
  tag: number;
  /** content bytes (a view into the input) */
  value: Buffer;
  /** total encoded length including tag and length bytes */
  size: number;
}

/** Read one TLV at `off`. Bounded: definite lengths only, at most 4 length bytes, never past `end`. */
export function readTlv(b: Buffer, off = 0, end = b.length): DerNode {
  if (off + 2 > end) bad('truncated TLV header');
  const tag = b[off]!;
  if ((tag & 0x1f) === 0x1f) bad('multi-byte tags are not used in TSRequest');
  let len = b[off + 1]!;
  let hdr = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0) bad('indefinite length');
    if (n > 4) bad(`${n}-byte length`);
    if (off + 2 + n > end) bad('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[off + 2 + i]!;
    hdr += n;
  }
  if (off + hdr + len > end) bad(`element of ${len} bytes runs past its container`);
  return { tag, value: b.subarray(off + hdr, off + hdr + len), size: hdr + len };
}

/** The children of a constructed value (bounded by its content). */
export function readChildren(content: Buffer, max = 64): DerNode[] {
  const out: DerNode[] = [];
  let off = 0;
  while (off < content.length) {
    const n = readTlv(content, off);
    out.push(n);
    off += n.size;
    if (out.length > max) bad('too many elements');
  }
  return out;
}

/** An INTEGER of at most 32 bits; negative values (4-byte two's complement, as Windows writes NTSTATUS) come back as unsigned. */
export function readInteger32(n: DerNode): number {
  if (n.tag !== 0x02) bad(`INTEGER expected, tag 0x${n.tag.toString(16)}`);
  const v = n.value;
  if (v.length < 1 || v.length > 5 || (v.length === 5 && v[0] !== 0)) bad(`INTEGER of ${v.length} bytes`);
  let x = v[0]! & 0x80 ? -1 : 0;
  for (const byte of v) x = ((x << 8) | byte) >>> 0;
  if (v.length === 5) x = v.readUInt32BE(1);
  return x >>> 0;
}

// ---------------------------------------------------------------- TSRequest

export interface TsRequest {
  version: number;
  negoTokens?: Buffer[];
  authInfo?: Buffer;
  pubKeyAuth?: Buffer;
  /** NTSTATUS (unsigned) */
  errorCode?: number;
  clientNonce?: Buffer;
}

export function encodeTsRequest(r: TsRequest): Buffer {
  const parts: Buffer[] = [ctx(0, derInteger(r.version))];
  if (r.negoTokens?.length) {
    const items = r.negoTokens.map((t) => derTlv(0x30, ctx(0, derTlv(0x04, t))));
    parts.push(ctx(1, derTlv(0x30, Buffer.concat(items))));
  }
  if (r.authInfo) parts.push(ctx(2, derTlv(0x04, r.authInfo)));
  if (r.pubKeyAuth) parts.push(ctx(3, derTlv(0x04, r.pubKeyAuth)));
  if (r.errorCode !== undefined) parts.push(ctx(4, derInteger(r.errorCode, true)));
  if (r.clientNonce) parts.push(ctx(5, derTlv(0x04, r.clientNonce)));
  return derTlv(0x30, Buffer.concat(parts));
}

function octets(n: DerNode, what: string): Buffer {
  const [c, ...rest] = readChildren(n.value, 1);
  if (!c || rest.length || c.tag !== 0x04) bad(`${what} is not an OCTET STRING`);
  return Buffer.from(c.value);
}

/** Decode one complete TSRequest (exactly the bytes of one DER SEQUENCE). */
export function decodeTsRequest(input: Uint8Array): TsRequest {
  const b = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (b.length > MAX_TSREQUEST) bad(`${b.length} bytes`);
  const top = readTlv(b);
  if (top.tag !== 0x30) bad(`TSRequest starts with tag 0x${top.tag.toString(16)}`);
  if (top.size !== b.length) bad('trailing bytes after TSRequest');
  const out: Partial<TsRequest> = {};
  let last = -1;
  for (const f of readChildren(top.value, 8)) {
    const n = f.tag - 0xa0;
    if (n < 0 || n > 7 || f.tag > 0xa7) bad(`unexpected tag 0x${f.tag.toString(16)}`);
    if (n <= last) bad('fields out of order');
    last = n;
    if (n === 0) {
      const [i, ...rest] = readChildren(f.value, 1);
      if (!i || rest.length) bad('version');
      out.version = readInteger32(i);
    } else if (n === 1) {
      const [seq, ...rest] = readChildren(f.value, 1);
      if (!seq || rest.length || seq.tag !== 0x30) bad('negoTokens is not a SEQUENCE');
      out.negoTokens = readChildren(seq.value, 8).map((item) => {
        if (item.tag !== 0x30) bad('NegoData item is not a SEQUENCE');
        const [tok, ...more] = readChildren(item.value, 1);
        if (!tok || more.length || tok.tag !== 0xa0) bad('negoToken');
        return octets(tok, 'negoToken');
      });
    } else if (n === 2) out.authInfo = octets(f, 'authInfo');
    else if (n === 3) out.pubKeyAuth = octets(f, 'pubKeyAuth');
    else if (n === 4) {
      const [i, ...rest] = readChildren(f.value, 1);
      if (!i || rest.length) bad('errorCode');
      out.errorCode = readInteger32(i);
    } else if (n === 5) out.clientNonce = octets(f, 'clientNonce');
    // [6]+ (e.g. a future field) are ignored, as the ASN.1 extensibility allows
  }
  if (out.version === undefined) bad('no version');
  return out as TsRequest;
}

/**
 * How many bytes the TSRequest at the start of `buf` occupies, or 0 when more bytes are needed.
 * Throws on a header that cannot start a TSRequest or announces more than MAX_TSREQUEST.
 */
export function tsRequestLength(buf: Buffer): number {
  if (buf.length < 2) return 0;
  if (buf[0] !== 0x30) bad(`TSRequest starts with byte 0x${buf[0]!.toString(16)}`);
  const l = buf[1]!;
  let len = l;
  let hdr = 2;
  if (l & 0x80) {
    const n = l & 0x7f;
    if (n === 0 || n > 4) bad('length form');
    if (buf.length < 2 + n) return 0;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[2 + i]!;
    hdr += n;
  }
  if (hdr + len > MAX_TSREQUEST) bad(`announced ${hdr + len} bytes`);
  return buf.length >= hdr + len ? hdr + len : 0;
}

// ---------------------------------------------------------------- public-key binding

/** The SubjectPublicKey (the BIT STRING's content, e.g. the PKCS#1 RSAPublicKey) of a DER certificate. */
export function subjectPublicKey(certDer: Uint8Array): Buffer {
  const spki = new X509Certificate(Buffer.from(certDer)).publicKey.export({ type: 'spki', format: 'der' });
  const top = readTlv(spki);
  const [, bits] = readChildren(top.value, 2);
  if (!bits || bits.tag !== 0x03 || bits.value.length < 2 || bits.value[0] !== 0) bad('certificate SubjectPublicKeyInfo');
  return Buffer.from(bits.value.subarray(1));
}

/** What the client seals into pubKeyAuth (3.1.5). */
export function clientPubKeyAuth(version: number, publicKey: Buffer, nonce?: Buffer): Buffer {
  if (version >= 5) {
    if (!nonce || nonce.length !== 32) throw new TypeError('CredSSP v5+ needs a 32-byte client nonce');
    return createHash('sha256').update(CLIENT_SERVER_HASH_MAGIC).update(nonce).update(publicKey).digest();
  }
  return publicKey;
}

/** What the server must send back in pubKeyAuth (after unsealing) to prove it holds the session key. */
export function expectedServerPubKeyAuth(version: number, publicKey: Buffer, nonce?: Buffer): Buffer {
  if (version >= 5) {
    if (!nonce || nonce.length !== 32) throw new TypeError('CredSSP v5+ needs a 32-byte client nonce');
    return createHash('sha256').update(SERVER_CLIENT_HASH_MAGIC).update(nonce).update(publicKey).digest();
  }
  const k = Buffer.from(publicKey);
  if (k.length) k[0] = (k[0]! + 1) & 0xff;
  return k;
}
