// DER for the Kerberos client: a bounded reader (every length is checked against its container,
// sizes and counts are capped, anything outside the DER subset Kerberos uses is refused) and a
// small writer. Malformed input always ends in a CredgateError PROTOCOL_ERROR, never in a crash.
import { CredgateError } from '../../core/errors.js';

/** Hard caps: no Kerberos message this client reads comes near them. */
export const DER_LIMITS = {
  /** Largest message (and so largest element) the reader accepts. */
  maxBytes: 1024 * 1024,
  /** Most elements in one SEQUENCE / SEQUENCE OF. */
  maxChildren: 1024,
  /** Longest KerberosString kept (e-text, realm, name component). */
  maxString: 4096,
} as const;

export const CLS_UNIVERSAL = 0;
export const CLS_APPLICATION = 1;
export const CLS_CONTEXT = 2;

export const TAG_INTEGER = 2;
export const TAG_BIT_STRING = 3;
export const TAG_OCTET_STRING = 4;
export const TAG_SEQUENCE = 16;
export const TAG_GENERALIZED_TIME = 24;

/** One TLV inside `buf`: the header starts at `begin`, the value is buf[start, end); `next` follows it. */
export interface Tlv {
  begin: number;
  cls: number;
  constructed: boolean;
  tag: number;
  start: number;
  end: number;
  next: number;
}

/** A PROTOCOL_ERROR naming the element that did not parse (never the bytes themselves). */
export function malformed(what: string, detail: string): CredgateError {
  return new CredgateError(`Malformed Kerberos data in ${what}: ${detail}.`, {
    code: 'PROTOCOL_ERROR',
    details: { element: what, problem: detail },
  });
}

/** Read one TLV starting at `offset`; it must end at or before `limit`. */
export function readTlv(buf: Buffer, offset: number, limit: number, what: string): Tlv {
  if (limit > buf.length) throw malformed(what, 'container larger than the data');
  if (offset + 2 > limit) throw malformed(what, 'truncated header');
  const id = buf[offset]!;
  const tag = id & 0x1f;
  if (tag === 0x1f) throw malformed(what, 'multi-byte tag numbers are not used by Kerberos');
  let p = offset + 1;
  const first = buf[p++]!;
  let len: number;
  if (first < 0x80) {
    len = first;
  } else if (first === 0x80) {
    throw malformed(what, 'indefinite length is not DER');
  } else {
    const n = first & 0x7f;
    if (n > 4) throw malformed(what, 'length field too long');
    if (p + n > limit) throw malformed(what, 'truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p++]!;
  }
  if (len > DER_LIMITS.maxBytes) throw malformed(what, 'element over the size cap');
  if (len > limit - p) throw malformed(what, 'length runs past its container');
  return { begin: offset, cls: id >> 6, constructed: (id & 0x20) !== 0, tag, start: p, end: p + len, next: p + len };
}

/** Read the single TLV that must fill buf exactly (no trailing bytes). */
export function readWhole(buf: Buffer, what: string): Tlv {
  if (buf.length > DER_LIMITS.maxBytes) throw malformed(what, 'message over the size cap');
  const t = readTlv(buf, 0, buf.length, what);
  if (t.next !== buf.length) throw malformed(what, 'trailing bytes after the message');
  return t;
}

export function expect(t: Tlv, cls: number, tag: number, constructed: boolean, what: string): Tlv {
  if (t.cls !== cls || t.tag !== tag || t.constructed !== constructed) {
    throw malformed(what, `unexpected element (class ${t.cls}, tag ${t.tag})`);
  }
  return t;
}

/** The TLVs that exactly fill a constructed element. */
export function children(buf: Buffer, parent: Tlv, what: string): Tlv[] {
  if (!parent.constructed) throw malformed(what, 'expected a constructed element');
  const out: Tlv[] = [];
  let p = parent.start;
  while (p < parent.end) {
    if (out.length >= DER_LIMITS.maxChildren) throw malformed(what, 'too many elements');
    const c = readTlv(buf, p, parent.end, what);
    out.push(c);
    p = c.next;
  }
  return out;
}

/** Elements of a SEQUENCE OF. */
export function sequenceOf(buf: Buffer, t: Tlv, what: string): Tlv[] {
  expect(t, CLS_UNIVERSAL, TAG_SEQUENCE, true, what);
  return children(buf, t, what);
}

/**
 * The explicitly tagged fields of a SEQUENCE ([n] inner), as tag number -> inner TLV. Tags must
 * increase (DER order, no duplicates); unknown tags are kept (ignored by the caller).
 */
export function fields(buf: Buffer, t: Tlv, what: string): Map<number, Tlv> {
  expect(t, CLS_UNIVERSAL, TAG_SEQUENCE, true, what);
  const out = new Map<number, Tlv>();
  let last = -1;
  for (const c of children(buf, t, what)) {
    if (c.cls !== CLS_CONTEXT || !c.constructed) throw malformed(what, 'expected a context-tagged field');
    if (c.tag <= last) throw malformed(what, 'fields out of order or repeated');
    last = c.tag;
    const inner = readTlv(buf, c.start, c.end, `${what}[${c.tag}]`);
    if (inner.next !== c.end) throw malformed(`${what}[${c.tag}]`, 'extra bytes in an explicit tag');
    out.set(c.tag, inner);
  }
  return out;
}

export function required(f: Map<number, Tlv>, n: number, what: string): Tlv {
  const t = f.get(n);
  if (!t) throw malformed(what, `field [${n}] is missing`);
  return t;
}

function intValue(buf: Buffer, t: Tlv, what: string, maxLen: number): bigint {
  expect(t, CLS_UNIVERSAL, TAG_INTEGER, false, what);
  const len = t.end - t.start;
  if (len < 1 || len > maxLen) throw malformed(what, 'integer of a bad size');
  let v = 0n;
  for (let i = t.start; i < t.end; i++) v = (v << 8n) | BigInt(buf[i]!);
  if (buf[t.start]! & 0x80) v -= 1n << BigInt(8 * len);
  return v;
}

/** Int32 (etype, error-code, name-type, padata-type, ...). */
export function readInt32(buf: Buffer, t: Tlv, what: string): number {
  const v = intValue(buf, t, what, 5);
  if (v < -2147483648n || v > 2147483647n) throw malformed(what, 'integer out of Int32 range');
  return Number(v);
}

/** UInt32 (nonce, kvno, microseconds). */
export function readUInt32(buf: Buffer, t: Tlv, what: string): number {
  const v = intValue(buf, t, what, 5);
  if (v < 0n || v > 4294967295n) throw malformed(what, 'integer out of UInt32 range');
  return Number(v);
}

export function readOctets(buf: Buffer, t: Tlv, what: string): Buffer {
  expect(t, CLS_UNIVERSAL, TAG_OCTET_STRING, false, what);
  return buf.subarray(t.start, t.end);
}

/** KerberosString: GeneralString in the ASN.1 module; IA5String / UTF8String accepted too. UTF-8 decoded. */
export function readKString(buf: Buffer, t: Tlv, what: string): string {
  if (t.cls !== CLS_UNIVERSAL || t.constructed || (t.tag !== 27 && t.tag !== 22 && t.tag !== 12)) {
    throw malformed(what, 'expected a KerberosString');
  }
  if (t.end - t.start > DER_LIMITS.maxString) throw malformed(what, 'string over the size cap');
  return buf.toString('utf8', t.start, t.end);
}

/** KerberosTime: GeneralizedTime "YYYYMMDDHHMMSSZ" (no fraction, always UTC). */
export function readKerberosTime(buf: Buffer, t: Tlv, what: string): Date {
  expect(t, CLS_UNIVERSAL, TAG_GENERALIZED_TIME, false, what);
  const s = buf.toString('latin1', t.start, t.end);
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) throw malformed(what, 'time not in KerberosTime form');
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, se);
  const back = new Date(ms);
  if (Number.isNaN(ms) || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || se > 60) {
    throw malformed(what, 'time out of range');
  }
  return back;
}

/** KerberosFlags (BIT STRING of at least 32 bits): the first 32 bits as an unsigned number. */
export function readFlags(buf: Buffer, t: Tlv, what: string): number {
  expect(t, CLS_UNIVERSAL, TAG_BIT_STRING, false, what);
  const len = t.end - t.start;
  if (len < 1 || buf[t.start]! > 7) throw malformed(what, 'bad bit string');
  let v = 0;
  for (let i = 0; i < 4; i++) v = v * 256 + (i + 1 < len ? buf[t.start + 1 + i]! : 0);
  return v;
}

// ---- writer -------------------------------------------------------------------------------

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(identifier: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([identifier]), lengthBytes(content.length), content]);
}

/** SEQUENCE of the given elements; undefined entries (absent OPTIONAL fields) are skipped. */
export function seq(...items: (Buffer | undefined)[]): Buffer {
  return tlv(0x30, Buffer.concat(items.filter((x): x is Buffer => x !== undefined)));
}

/** [n] EXPLICIT */
export function ctx(n: number, inner: Buffer): Buffer {
  return tlv(0xa0 | n, inner);
}

/** [APPLICATION n] */
export function app(n: number, inner: Buffer): Buffer {
  return tlv(0x60 | n, inner);
}

export function derInt(n: number | bigint): Buffer {
  let v = BigInt(n);
  const bytes: number[] = [];
  for (;;) {
    const b = Number(v & 0xffn);
    bytes.unshift(b);
    v >>= 8n;
    if ((v === 0n && (b & 0x80) === 0) || (v === -1n && (b & 0x80) !== 0)) break;
  }
  return tlv(0x02, Buffer.from(bytes));
}

export function derOctets(b: Buffer): Buffer {
  return tlv(0x04, b);
}

export function derKString(s: string): Buffer {
  return tlv(0x1b, Buffer.from(s, 'utf8'));
}

export function derKerberosTime(d: Date): Buffer {
  const iso = d.toISOString(); // 2026-01-02T03:04:05.678Z
  const s = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16) + iso.slice(17, 19) + 'Z';
  return tlv(0x18, Buffer.from(s, 'latin1'));
}

/** KerberosFlags with 32 bits; bit 0 is the most significant bit of the first byte. */
export function derFlags(bits: number): Buffer {
  const b = Buffer.alloc(5);
  b.writeUInt32BE(bits >>> 0, 1);
  return tlv(0x03, b);
}
