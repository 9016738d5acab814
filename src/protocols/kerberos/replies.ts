// Parsers for what a KDC sends back (RFC 4120 section 5): KRB-ERROR, AS-REP / TGS-REP, the
// decrypted EncKDCRepPart, PA-DATA sequences and (PA-)ETYPE-INFO(2). Every parser takes untrusted
// bytes and either returns plain data or throws CredgateError PROTOCOL_ERROR.
import {
  CLS_APPLICATION,
  CLS_UNIVERSAL,
  TAG_SEQUENCE,
  expect,
  fields,
  malformed,
  readFlags,
  readInt32,
  readKerberosTime,
  readKString,
  readOctets,
  readTlv,
  readUInt32,
  readWhole,
  required,
  sequenceOf,
  type Tlv,
} from './der.js';
import { MSG, PVNO } from './constants.js';
import type { EncryptedData, PaData, PrincipalName } from './messages.js';

/** Most name components / PA-DATA entries / ETYPE-INFO2 entries kept from one reply. */
const MAX_NAME_PARTS = 16;
const MAX_ENTRIES = 64;

export interface KrbErrorMessage {
  errorCode: number;
  stime: Date;
  susec: number;
  ctime?: Date;
  cusec?: number;
  crealm?: string;
  cname?: PrincipalName;
  realm: string;
  sname?: PrincipalName;
  eText?: string;
  eData?: Buffer;
}

export interface KdcRepMessage {
  msgType: typeof MSG.AS_REP | typeof MSG.TGS_REP;
  padata: PaData[];
  crealm: string;
  cname: PrincipalName;
  /** The Ticket exactly as received (APPLICATION 1), to be echoed in a TGS-REQ. */
  ticket: Buffer;
  ticketEtype: number;
  ticketKvno?: number;
  encPart: EncryptedData;
}

export type KdcReply = { kind: 'error'; error: KrbErrorMessage } | { kind: 'rep'; rep: KdcRepMessage };

export interface EtypeInfoEntry {
  etype: number;
  salt?: Buffer;
  s2kparams?: Buffer;
}

export interface EncKdcRepPart {
  keytype: number;
  /** The session key: callers wipe it as soon as they are done. */
  keyvalue: Buffer;
  nonce: number;
  keyExpiration?: Date;
  flags: number;
  authtime: Date;
  endtime: Date;
  srealm: string;
  sname: PrincipalName;
}

export function parsePrincipalName(buf: Buffer, t: Tlv, what: string): PrincipalName {
  const f = fields(buf, t, what);
  const nameType = readInt32(buf, required(f, 0, what), `${what}.name-type`);
  const parts = sequenceOf(buf, required(f, 1, what), `${what}.name-string`);
  if (parts.length > MAX_NAME_PARTS) throw malformed(what, 'too many name components');
  return { nameType, names: parts.map((p) => readKString(buf, p, `${what}.name-string`)) };
}

export function parseEncryptedData(buf: Buffer, t: Tlv, what: string): EncryptedData {
  const f = fields(buf, t, what);
  const kvnoT = f.get(1);
  return {
    etype: readInt32(buf, required(f, 0, what), `${what}.etype`),
    ...(kvnoT ? { kvno: readUInt32(buf, kvnoT, `${what}.kvno`) } : {}),
    cipher: readOctets(buf, required(f, 2, what), `${what}.cipher`),
  };
}

function parsePaDataSeq(buf: Buffer, t: Tlv, what: string): PaData[] {
  const items = sequenceOf(buf, t, what);
  if (items.length > MAX_ENTRIES) throw malformed(what, 'too many PA-DATA entries');
  return items.map((it) => {
    const f = fields(buf, it, `${what}.PA-DATA`);
    return {
      type: readInt32(buf, required(f, 1, `${what}.PA-DATA`), `${what}.padata-type`),
      value: readOctets(buf, required(f, 2, `${what}.PA-DATA`), `${what}.padata-value`),
    };
  });
}

/** METHOD-DATA / SEQUENCE OF PA-DATA, e.g. the e-data of KDC_ERR_PREAUTH_REQUIRED. */
export function parseMethodData(bytes: Buffer): PaData[] {
  return parsePaDataSeq(bytes, readWhole(bytes, 'METHOD-DATA'), 'METHOD-DATA');
}

/** PA-ETYPE-INFO2: etype, salt (a KerberosString, kept as its bytes), s2kparams. */
export function parseEtypeInfo2(bytes: Buffer): EtypeInfoEntry[] {
  const entries = sequenceOf(bytes, readWhole(bytes, 'ETYPE-INFO2'), 'ETYPE-INFO2');
  if (entries.length === 0 || entries.length > MAX_ENTRIES) throw malformed('ETYPE-INFO2', 'no entries or too many');
  return entries.map((e) => {
    const f = fields(bytes, e, 'ETYPE-INFO2-ENTRY');
    const saltT = f.get(1);
    const paramsT = f.get(2);
    if (saltT) readKString(bytes, saltT, 'ETYPE-INFO2-ENTRY.salt');
    return {
      etype: readInt32(bytes, required(f, 0, 'ETYPE-INFO2-ENTRY'), 'ETYPE-INFO2-ENTRY.etype'),
      ...(saltT ? { salt: bytes.subarray(saltT.start, saltT.end) } : {}),
      ...(paramsT ? { s2kparams: readOctets(bytes, paramsT, 'ETYPE-INFO2-ENTRY.s2kparams') } : {}),
    };
  });
}

/** PA-ETYPE-INFO (pre-RFC 4120 form): etype and salt as an OCTET STRING. */
export function parseEtypeInfo(bytes: Buffer): EtypeInfoEntry[] {
  const entries = sequenceOf(bytes, readWhole(bytes, 'ETYPE-INFO'), 'ETYPE-INFO');
  if (entries.length > MAX_ENTRIES) throw malformed('ETYPE-INFO', 'too many entries');
  return entries.map((e) => {
    const f = fields(bytes, e, 'ETYPE-INFO-ENTRY');
    const saltT = f.get(1);
    return {
      etype: readInt32(bytes, required(f, 0, 'ETYPE-INFO-ENTRY'), 'ETYPE-INFO-ENTRY.etype'),
      ...(saltT ? { salt: readOctets(bytes, saltT, 'ETYPE-INFO-ENTRY.salt') } : {}),
    };
  });
}

function parseKrbError(buf: Buffer, body: Tlv): KrbErrorMessage {
  const w = 'KRB-ERROR';
  const f = fields(buf, body, w);
  if (readInt32(buf, required(f, 0, w), `${w}.pvno`) !== PVNO) throw malformed(w, 'pvno is not 5');
  if (readInt32(buf, required(f, 1, w), `${w}.msg-type`) !== MSG.KRB_ERROR) throw malformed(w, 'msg-type is not 30');
  const opt = <T>(n: number, read: (t: Tlv) => T): T | undefined => {
    const t = f.get(n);
    return t ? read(t) : undefined;
  };
  const susec = readUInt32(buf, required(f, 5, w), `${w}.susec`);
  if (susec > 999999) throw malformed(w, 'susec out of range');
  const out: KrbErrorMessage = {
    errorCode: readInt32(buf, required(f, 6, w), `${w}.error-code`),
    stime: readKerberosTime(buf, required(f, 4, w), `${w}.stime`),
    susec,
    realm: readKString(buf, required(f, 9, w), `${w}.realm`),
  };
  const ctime = opt(2, (t) => readKerberosTime(buf, t, `${w}.ctime`));
  const cusec = opt(3, (t) => readUInt32(buf, t, `${w}.cusec`));
  const crealm = opt(7, (t) => readKString(buf, t, `${w}.crealm`));
  const cname = opt(8, (t) => parsePrincipalName(buf, t, `${w}.cname`));
  const sname = opt(10, (t) => parsePrincipalName(buf, t, `${w}.sname`));
  const eText = opt(11, (t) => readKString(buf, t, `${w}.e-text`));
  const eData = opt(12, (t) => readOctets(buf, t, `${w}.e-data`));
  return {
    ...out,
    ...(ctime ? { ctime } : {}),
    ...(cusec !== undefined ? { cusec } : {}),
    ...(crealm !== undefined ? { crealm } : {}),
    ...(cname ? { cname } : {}),
    ...(sname ? { sname } : {}),
    ...(eText !== undefined ? { eText } : {}),
    ...(eData ? { eData } : {}),
  };
}

function parseKdcRep(buf: Buffer, body: Tlv, msgType: typeof MSG.AS_REP | typeof MSG.TGS_REP): KdcRepMessage {
  const w = msgType === MSG.AS_REP ? 'AS-REP' : 'TGS-REP';
  const f = fields(buf, body, w);
  if (readInt32(buf, required(f, 0, w), `${w}.pvno`) !== PVNO) throw malformed(w, 'pvno is not 5');
  if (readInt32(buf, required(f, 1, w), `${w}.msg-type`) !== msgType) throw malformed(w, 'msg-type does not match');
  const paT = f.get(2);
  const ticketT = required(f, 5, w);
  expect(ticketT, CLS_APPLICATION, MSG.TICKET, true, `${w}.ticket`);
  const tf = fields(buf, readTlv(buf, ticketT.start, ticketT.end, `${w}.ticket`), `${w}.ticket`);
  const ticketEnc = parseEncryptedData(buf, required(tf, 3, `${w}.ticket`), `${w}.ticket.enc-part`);
  return {
    msgType,
    padata: paT ? parsePaDataSeq(buf, paT, `${w}.padata`) : [],
    crealm: readKString(buf, required(f, 3, w), `${w}.crealm`),
    cname: parsePrincipalName(buf, required(f, 4, w), `${w}.cname`),
    ticket: Buffer.from(buf.subarray(ticketT.begin, ticketT.end)),
    ticketEtype: ticketEnc.etype,
    ...(ticketEnc.kvno !== undefined ? { ticketKvno: ticketEnc.kvno } : {}),
    encPart: parseEncryptedData(buf, required(f, 6, w), `${w}.enc-part`),
  };
}

/** One message from a KDC: a KRB-ERROR, an AS-REP or a TGS-REP. Anything else is PROTOCOL_ERROR. */
export function parseKdcReply(bytes: Buffer): KdcReply {
  const top = readWhole(bytes, 'KDC reply');
  if (top.cls !== CLS_APPLICATION || !top.constructed) throw malformed('KDC reply', 'not a Kerberos message');
  const body = readTlv(bytes, top.start, top.end, 'KDC reply');
  if (body.next !== top.end) throw malformed('KDC reply', 'extra bytes inside the message');
  expect(body, CLS_UNIVERSAL, TAG_SEQUENCE, true, 'KDC reply');
  if (top.tag === MSG.KRB_ERROR) return { kind: 'error', error: parseKrbError(bytes, body) };
  if (top.tag === MSG.AS_REP || top.tag === MSG.TGS_REP) return { kind: 'rep', rep: parseKdcRep(bytes, body, top.tag) };
  throw malformed('KDC reply', `unexpected message type ${top.tag}`);
}

/**
 * The decrypted EncASRepPart (APPLICATION 25) or EncTGSRepPart (26). Both tags are accepted for
 * either reply: some KDCs seal an AS-REP's part as an EncTGSRepPart (RFC 4120 section 5.4.2).
 */
export function parseEncKdcRepPart(bytes: Buffer): EncKdcRepPart {
  const w = 'EncKDCRepPart';
  const top = readWhole(bytes, w);
  if (top.cls !== CLS_APPLICATION || (top.tag !== MSG.ENC_AS_REP_PART && top.tag !== MSG.ENC_TGS_REP_PART)) {
    throw malformed(w, 'not an EncASRepPart or EncTGSRepPart');
  }
  const body = readTlv(bytes, top.start, top.end, w);
  const f = fields(bytes, body, w);
  const keyF = fields(bytes, required(f, 0, w), `${w}.key`);
  const expT = f.get(3);
  return {
    keytype: readInt32(bytes, required(keyF, 0, `${w}.key`), `${w}.key.keytype`),
    keyvalue: readOctets(bytes, required(keyF, 1, `${w}.key`), `${w}.key.keyvalue`),
    nonce: readUInt32(bytes, required(f, 2, w), `${w}.nonce`),
    ...(expT ? { keyExpiration: readKerberosTime(bytes, expT, `${w}.key-expiration`) } : {}),
    flags: readFlags(bytes, required(f, 4, w), `${w}.flags`),
    authtime: readKerberosTime(bytes, required(f, 5, w), `${w}.authtime`),
    endtime: readKerberosTime(bytes, required(f, 7, w), `${w}.endtime`),
    srealm: readKString(bytes, required(f, 9, w), `${w}.srealm`),
    sname: parsePrincipalName(bytes, required(f, 10, w), `${w}.sname`),
  };
}

/** Quick look used by the transport: is this a KRB-ERROR with this code? Never throws. */
export function isKrbErrorCode(bytes: Buffer, code: number): boolean {
  try {
    const r = parseKdcReply(bytes);
    return r.kind === 'error' && r.error.errorCode === code;
  } catch {
    return false;
  }
}
