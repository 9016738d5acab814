/**
 * A small, bounded LDAPv3 wire codec (RFC 4511 BER, definite lengths only) for exactly what bulk
 * verification needs: BindRequest (simple, optionally with the ppolicy request control),
 * StartTLS, UnbindRequest, and the responses to them (BindResponse, ExtendedResponse with its
 * controls, the unsolicited Notice of Disconnection). The persistent connection that uses it is
 * connection.ts.
 *
 * Why not ldapts here: a bulk run re-binds tens of thousands of times on a few connections, and
 * the library's per-operation bookkeeping is a measurable share of the client CPU on a 2-core box.
 * Everything that reads bytes from the network checks every length against its container and a
 * hard message-size cap, and fails with PROTOCOL_ERROR; test/unit/protocols/ldap/wire.test.ts fuzzes it.
 * The same cap and the same answer rule (answerKind: only the response type RFC 4511 pairs with
 * the request, for a messageID credgate is waiting on) hold the ldapts client too (strict.ts).
 */
import { CredgateError } from '../../core/errors.js';
import { decodePasswordPolicyValue, PPOLICY_OID, type PasswordPolicyResponse } from './ppolicy.js';

export { answerKind, carriesResult, RESPONSE_OPS } from './answer.js';

/**
 * Largest LDAPMessage accepted from a server, by every LDAP client in credgate (this codec and
 * ldapts through strict.ts): a bind answer is a few hundred bytes, an account-state entry a few
 * KB. A server announcing more is a protocol error at once, never buffered.
 */
export const MAX_MESSAGE_BYTES = 256 * 1024;
export const STARTTLS_OID = '1.3.6.1.4.1.1466.20037';
const PPOLICY_OID_BYTES = Buffer.from(PPOLICY_OID, 'latin1');
export const NOTICE_OF_DISCONNECTION_OID = '1.3.6.1.4.1.1466.20036';

export const TAG = {
  SEQUENCE: 0x30,
  INTEGER: 0x02,
  OCTET_STRING: 0x04,
  BOOLEAN: 0x01,
  ENUMERATED: 0x0a,
  BIND_REQUEST: 0x60,
  BIND_RESPONSE: 0x61,
  UNBIND_REQUEST: 0x42,
  EXTENDED_REQUEST: 0x77,
  EXTENDED_RESPONSE: 0x78,
  CONTROLS: 0xa0,
} as const;

function wireError(message: string): CredgateError {
  return new CredgateError(`The LDAP server sent a malformed message: ${message}.`, { code: 'PROTOCOL_ERROR', details: { kind: 'malformed' } });
}

// ---------------------------------------------------------------- encoding

function lengthBytes(n: number): number {
  return n < 0x80 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x1000000 ? 4 : 5;
}

function writeLength(buf: Buffer, at: number, n: number): number {
  if (n < 0x80) {
    buf[at] = n;
    return at + 1;
  }
  const k = lengthBytes(n) - 1;
  buf[at++] = 0x80 | k;
  for (let i = k - 1; i >= 0; i--) buf[at++] = (n >>> (8 * i)) & 0xff;
  return at;
}

const tlvSize = (contentLen: number): number => 1 + lengthBytes(contentLen) + contentLen;

function intContentLen(v: number): number {
  // non-negative INTEGER, two's complement, minimal
  if (v < 0x80) return 1;
  if (v < 0x8000) return 2;
  if (v < 0x800000) return 3;
  return v < 0x80000000 ? 4 : 5;
}

function writeInt(buf: Buffer, at: number, tag: number, v: number): number {
  const n = intContentLen(v);
  buf[at++] = tag;
  buf[at++] = n;
  for (let i = n - 1; i >= 0; i--) buf[at++] = Math.floor(v / 2 ** (8 * i)) & 0xff;
  return at;
}

const PPOLICY_CONTROL = (() => {
  const oid = Buffer.from(PPOLICY_OID, 'latin1');
  const ctl = Buffer.alloc(tlvSize(oid.length));
  ctl[0] = TAG.OCTET_STRING;
  oid.copy(ctl, writeLength(ctl, 1, oid.length));
  const seq = Buffer.alloc(tlvSize(ctl.length));
  seq[0] = TAG.SEQUENCE;
  ctl.copy(seq, writeLength(seq, 1, ctl.length));
  const all = Buffer.alloc(tlvSize(seq.length));
  all[0] = TAG.CONTROLS;
  seq.copy(all, writeLength(all, 1, seq.length));
  return all;
})();

function checkMessageId(id: number): void {
  if (!Number.isInteger(id) || id < 1 || id > 0x7fffffff) throw new RangeError(`LDAP message ID out of range: ${id}`);
}

/**
 * LDAPMessage { messageID, BindRequest { version 3, name, simple [0] password }, controls? }.
 * The caller should zero the returned buffer once the socket has taken it (it holds the password).
 */
export function encodeBindRequest(messageId: number, name: string, password: string, opts: { ppolicy?: boolean } = {}): Buffer {
  checkMessageId(messageId);
  const nameLen = Buffer.byteLength(name, 'utf8');
  const pwLen = Buffer.byteLength(password, 'utf8');
  const opLen = 3 + tlvSize(nameLen) + tlvSize(pwLen);
  const ctl = opts.ppolicy ? PPOLICY_CONTROL : undefined;
  const msgLen = tlvSize(intContentLen(messageId)) + tlvSize(opLen) + (ctl ? ctl.length : 0);
  const buf = Buffer.allocUnsafe(tlvSize(msgLen));
  let at = 0;
  buf[at++] = TAG.SEQUENCE;
  at = writeLength(buf, at, msgLen);
  at = writeInt(buf, at, TAG.INTEGER, messageId);
  buf[at++] = TAG.BIND_REQUEST;
  at = writeLength(buf, at, opLen);
  buf[at++] = TAG.INTEGER;
  buf[at++] = 1;
  buf[at++] = 3;
  buf[at++] = TAG.OCTET_STRING;
  at = writeLength(buf, at, nameLen);
  at += buf.write(name, at, 'utf8');
  buf[at++] = 0x80; // simple [0]
  at = writeLength(buf, at, pwLen);
  at += buf.write(password, at, 'utf8');
  if (ctl) at += ctl.copy(buf, at);
  if (at !== buf.length) throw new Error('internal: BindRequest length mismatch');
  return buf;
}

/** LDAPMessage { messageID, ExtendedRequest { requestName [0] 1.3.6.1.4.1.1466.20037 } }. */
export function encodeStartTlsRequest(messageId: number): Buffer {
  checkMessageId(messageId);
  const oid = Buffer.from(STARTTLS_OID, 'latin1');
  const opLen = tlvSize(oid.length);
  const msgLen = tlvSize(intContentLen(messageId)) + tlvSize(opLen);
  const buf = Buffer.alloc(tlvSize(msgLen));
  let at = 0;
  buf[at++] = TAG.SEQUENCE;
  at = writeLength(buf, at, msgLen);
  at = writeInt(buf, at, TAG.INTEGER, messageId);
  buf[at++] = TAG.EXTENDED_REQUEST;
  at = writeLength(buf, at, opLen);
  buf[at++] = 0x80;
  at = writeLength(buf, at, oid.length);
  oid.copy(buf, at);
  return buf;
}

/** LDAPMessage { messageID, UnbindRequest NULL }. */
export function encodeUnbindRequest(messageId: number): Buffer {
  checkMessageId(messageId);
  const msgLen = tlvSize(intContentLen(messageId)) + 2;
  const buf = Buffer.alloc(tlvSize(msgLen));
  let at = writeLength(buf, 1, msgLen);
  buf[0] = TAG.SEQUENCE;
  at = writeInt(buf, at, TAG.INTEGER, messageId);
  buf[at++] = TAG.UNBIND_REQUEST;
  buf[at++] = 0;
  return buf;
}

// ---------------------------------------------------------------- decoding

/**
 * The total byte length of the LDAPMessage starting at `offset`, or -1 when more bytes are
 * needed. Throws PROTOCOL_ERROR for anything that is not a definite-length SEQUENCE within the cap.
 */
export function messageLength(buf: Uint8Array, offset = 0, max = MAX_MESSAGE_BYTES): number {
  const avail = buf.length - offset;
  if (avail < 2) return -1;
  if (buf[offset] !== TAG.SEQUENCE) throw wireError(`expected an LDAPMessage SEQUENCE, got tag 0x${buf[offset]!.toString(16)}`);
  const b = buf[offset + 1]!;
  let len: number;
  let hdr: number;
  if (b < 0x80) {
    len = b;
    hdr = 2;
  } else {
    const n = b & 0x7f;
    if (n === 0) throw wireError('indefinite length');
    if (n > 4) throw wireError('length of length over 4 bytes');
    if (avail < 2 + n) return -1;
    len = 0;
    for (let k = 0; k < n; k++) len = len * 256 + buf[offset + 2 + k]!;
    hdr = 2 + n;
  }
  if (hdr + len > max) throw wireError(`message of ${hdr + len} bytes exceeds the ${max}-byte cap`);
  return avail < hdr + len ? -1 : hdr + len;
}

/**
 * A bounds-checked cursor over one TLV container. `next()` reads one element's header, records
 * its tag and content bounds, and moves past it; the content is then read with int/str/bytes, or
 * entered with sub() (the only allocation).
 */
class Cursor {
  tag = 0;
  cs = 0;
  ce = 0;
  constructor(private readonly buf: Uint8Array, public at: number, public readonly end: number) {}

  get done(): boolean {
    return this.at >= this.end;
  }

  next(expect?: number): number {
    const buf = this.buf;
    if (this.at >= this.end) throw wireError('unexpected end of element');
    const tag = buf[this.at]!;
    if (expect !== undefined && tag !== expect) throw wireError(`expected tag 0x${expect.toString(16)}, got 0x${tag.toString(16)}`);
    if ((tag & 0x1f) === 0x1f) throw wireError('multi-byte tags are not used by LDAP');
    let p = this.at + 1;
    if (p >= this.end) throw wireError('truncated length');
    const b = buf[p++]!;
    let len: number;
    if (b < 0x80) len = b;
    else {
      const n = b & 0x7f;
      if (n === 0) throw wireError('indefinite length');
      if (n > 4) throw wireError('length of length over 4 bytes');
      if (p + n > this.end) throw wireError('truncated length');
      len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + buf[p++]!;
    }
    if (p + len > this.end) throw wireError('element overruns its container');
    this.tag = tag;
    this.cs = p;
    this.ce = p + len;
    this.at = p + len;
    return tag;
  }

  /** Whether the last element's content is exactly these bytes. */
  equals(b: Uint8Array): boolean {
    if (this.ce - this.cs !== b.length) return false;
    for (let i = 0; i < b.length; i++) if (this.buf[this.cs + i] !== b[i]) return false;
    return true;
  }

  sub(): Cursor {
    return new Cursor(this.buf, this.cs, this.ce);
  }

  bytes(): Uint8Array {
    return this.buf.subarray(this.cs, this.ce);
  }

  str(): string {
    if (this.ce === this.cs) return '';
    return Buffer.from(this.buf.buffer, this.buf.byteOffset + this.cs, this.ce - this.cs).toString('utf8');
  }

  int(): number {
    const n = this.ce - this.cs;
    if (n < 1 || n > 5) throw wireError(`integer of ${n} bytes`);
    let v = this.buf[this.cs]! & 0x80 ? -1 : 0;
    for (let k = this.cs; k < this.ce; k++) v = v * 256 + this.buf[k]!;
    return v;
  }
}

export interface LdapControl {
  type: string;
  critical: boolean;
  value?: Uint8Array;
}

export interface LdapResponse {
  messageId: number;
  /** BER tag of the protocolOp: 0x61 BindResponse, 0x78 ExtendedResponse, ... */
  op: number;
  resultCode: number;
  matchedDN: string;
  diagnosticMessage: string;
  /** ExtendedResponse responseName, when present (the Notice of Disconnection carries one). */
  responseName?: string;
  controls: LdapControl[];
  /** The decoded password policy response control, when the server sent one. */
  ppolicy?: PasswordPolicyResponse;
}

/** Decode one complete LDAPMessage that carries an LDAPResult (BindResponse, ExtendedResponse, ...). */
export function decodeResponse(msg: Uint8Array): LdapResponse {
  const total = messageLength(msg, 0, Number.MAX_SAFE_INTEGER);
  if (total !== msg.length) throw wireError(total < 0 ? 'truncated message' : 'trailing bytes after the message');
  const outer = new Cursor(msg, 0, msg.length);
  outer.next(TAG.SEQUENCE);
  const top = outer.sub();
  top.next(TAG.INTEGER);
  const messageId = top.int();
  if (messageId < 0) throw wireError('negative message ID');
  const op = top.next();
  // LDAPResult components live directly inside the [APPLICATION n] SEQUENCE (constructed, tag class application)
  if ((op & 0xe0) !== 0x60) throw wireError(`protocolOp 0x${op.toString(16)} is not a constructed application element`);
  const body = top.sub();
  body.next(TAG.ENUMERATED);
  const resultCode = body.int();
  body.next(TAG.OCTET_STRING);
  const matchedDN = body.str();
  body.next(TAG.OCTET_STRING);
  const diagnosticMessage = body.str();
  let responseName: string | undefined;
  while (!body.done) {
    // referral [3], serverSaslCreds [7], responseValue [11]: not needed, skipped (bounds checked)
    if (body.next() === 0x8a && op === TAG.EXTENDED_RESPONSE) responseName = body.str();
  }
  const controls: LdapControl[] = [];
  let ppolicy: PasswordPolicyResponse | undefined;
  while (!top.done) {
    if (top.next() !== TAG.CONTROLS) continue;
    const list = top.sub();
    while (!list.done) {
      list.next(TAG.SEQUENCE);
      const c = list.sub();
      c.next(TAG.OCTET_STRING);
      // the ppolicy control arrives with every bind on OpenLDAP: recognise it without decoding text
      const type = c.equals(PPOLICY_OID_BYTES) ? PPOLICY_OID : c.str();
      let critical = false;
      let value: Uint8Array | undefined;
      while (!c.done) {
        const t = c.next();
        if (t === TAG.BOOLEAN) critical = c.int() !== 0;
        else if (t === TAG.OCTET_STRING) value = c.bytes();
      }
      controls.push(value ? { type, critical, value } : { type, critical });
      if (type === PPOLICY_OID) {
        try {
          ppolicy = value && value.length ? decodePasswordPolicyValue(value) : { received: true };
        } catch {
          ppolicy = { received: true, errorName: 'undecodable' };
        }
      }
    }
  }
  const out: LdapResponse = { messageId, op, resultCode, matchedDN, diagnosticMessage, controls };
  if (responseName !== undefined) out.responseName = responseName;
  if (ppolicy) out.ppolicy = ppolicy;
  return out;
}

/**
 * The messageID and protocolOp of one complete LDAPMessage (framed by messageLength), checked
 * like decodeResponse checks them; the operation's content is not read.
 */
export function messageHeader(msg: Uint8Array): { messageId: number; op: number } {
  const outer = new Cursor(msg, 0, msg.length);
  outer.next(TAG.SEQUENCE);
  if (outer.at !== msg.length) throw wireError('trailing bytes after the message');
  const top = outer.sub();
  top.next(TAG.INTEGER);
  const messageId = top.int();
  if (messageId < 0) throw wireError('negative message ID');
  const op = top.next();
  if ((op & 0xc0) !== 0x40) throw wireError(`protocolOp 0x${op.toString(16)} is not an application element`);
  return { messageId, op };
}
