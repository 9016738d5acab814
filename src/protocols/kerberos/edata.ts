// The e-data of a KRB-ERROR, in the three shapes KDCs use: MS-KILE KERB-ERROR-DATA (data-type 3 =
// KERB_ERR_TYPE_EXTENDED carrying a KERB-EXT-ERROR {status, reserved, flags}), METHOD-DATA (a
// SEQUENCE OF PA-DATA: ETYPE-INFO2 for PREAUTH_REQUIRED, and on Windows a PA-PW-SALT holding the
// NTSTATUS), or RFC 4120 TYPED-DATA. The result is plain, non-secret data.
import { CLS_CONTEXT, CLS_UNIVERSAL, TAG_SEQUENCE, fields, malformed, readInt32, readOctets, readTlv, readWhole, required, sequenceOf } from './der.js';
import { PA } from './constants.js';
import { parseEtypeInfo, parseEtypeInfo2, parseMethodData, type EtypeInfoEntry } from './replies.js';

/** MS-KILE 2.2.2 data-type values. */
export const KERB_ERR_TYPE_EXTENDED = 3;
export const KERB_AP_ERR_TYPE_SKEW_RECOVERY = 2;

export interface ExtendedError {
  /** NTSTATUS, e.g. 0xC0000072 (STATUS_ACCOUNT_DISABLED). */
  status: number;
  reserved: number;
  flags: number;
}

export interface EDataInfo {
  form: 'kerb-error-data' | 'method-data' | 'typed-data';
  /** KERB-ERROR-DATA data-type, or the TYPED-DATA data-types. */
  dataTypes?: number[];
  /** The extended error from KERB-EXT-ERROR or a PA-PW-SALT carrying one. */
  extended?: ExtendedError;
  /** Where the NTSTATUS came from. */
  extendedFrom?: 'kerb-ext-error' | 'pa-pw-salt';
  /** PA-DATA types listed in METHOD-DATA (which pre-authentication methods the KDC offers). */
  padataTypes?: number[];
  etypeInfo2?: EtypeInfoEntry[];
  etypeInfo?: EtypeInfoEntry[];
  /** A PA-PW-SALT that is a real salt (not an NTSTATUS). */
  pwSalt?: Buffer;
}

/** A KERB-EXT-ERROR: 12 bytes, three little-endian 32-bit values. */
export function parseExtendedError(b: Buffer, what: string): ExtendedError {
  if (b.length < 12) throw malformed(what, 'KERB-EXT-ERROR shorter than 12 bytes');
  return { status: b.readUInt32LE(0), reserved: b.readUInt32LE(4), flags: b.readUInt32LE(8) };
}

/** PA-PW-SALT in an error: Windows puts a KERB-EXT-ERROR there; a real salt is text. */
function pwSaltStatus(v: Buffer): ExtendedError | undefined {
  if (v.length !== 12) return undefined;
  const e = parseExtendedError(v, 'PA-PW-SALT');
  return (e.status & 0xc0000000) >>> 0 === 0xc0000000 ? e : undefined;
}

function fromMethodData(bytes: Buffer): EDataInfo {
  const pa = parseMethodData(bytes);
  const out: EDataInfo = { form: 'method-data', padataTypes: pa.map((p) => p.type) };
  for (const p of pa) {
    if (p.type === PA.ETYPE_INFO2 && !out.etypeInfo2) out.etypeInfo2 = parseEtypeInfo2(p.value);
    else if (p.type === PA.ETYPE_INFO && !out.etypeInfo) out.etypeInfo = parseEtypeInfo(p.value);
    else if (p.type === PA.PW_SALT) {
      const ext = pwSaltStatus(p.value);
      if (ext && !out.extended) {
        out.extended = ext;
        out.extendedFrom = 'pa-pw-salt';
      } else if (!ext) out.pwSalt = p.value;
    }
  }
  return out;
}

/** Decode e-data bytes; PROTOCOL_ERROR when they fit none of the three shapes. */
export function decodeEData(bytes: Buffer): EDataInfo {
  const top = readWhole(bytes, 'e-data');
  if (top.cls !== CLS_UNIVERSAL || top.tag !== TAG_SEQUENCE || !top.constructed) throw malformed('e-data', 'not a SEQUENCE');
  if (top.end === top.start) return { form: 'method-data', padataTypes: [] };
  const first = readTlv(bytes, top.start, top.end, 'e-data');
  if (first.cls === CLS_CONTEXT) {
    // KERB-ERROR-DATA ::= SEQUENCE { data-type [1] INTEGER, data-value [2] OCTET STRING OPTIONAL }
    const f = fields(bytes, top, 'KERB-ERROR-DATA');
    const dataType = readInt32(bytes, required(f, 1, 'KERB-ERROR-DATA'), 'KERB-ERROR-DATA.data-type');
    const valueT = f.get(2);
    const out: EDataInfo = { form: 'kerb-error-data', dataTypes: [dataType] };
    if (dataType === KERB_ERR_TYPE_EXTENDED && valueT) {
      out.extended = parseExtendedError(readOctets(bytes, valueT, 'KERB-ERROR-DATA.data-value'), 'KERB-EXT-ERROR');
      out.extendedFrom = 'kerb-ext-error';
    }
    return out;
  }
  if (first.cls !== CLS_UNIVERSAL || first.tag !== TAG_SEQUENCE) throw malformed('e-data', 'unknown shape');
  const firstField = readTlv(bytes, first.start, first.end, 'e-data');
  if (firstField.cls === CLS_CONTEXT && firstField.tag === 0) {
    // TYPED-DATA ::= SEQUENCE OF SEQUENCE { data-type [0] Int32, data-value [1] OCTET STRING OPTIONAL }
    const items = sequenceOf(bytes, top, 'TYPED-DATA');
    const dataTypes = items.map((it) => readInt32(bytes, required(fields(bytes, it, 'TYPED-DATA'), 0, 'TYPED-DATA'), 'TYPED-DATA.data-type'));
    return { form: 'typed-data', dataTypes };
  }
  return fromMethodData(bytes);
}

/** The NTSTATUS a KRB-ERROR's e-data carries, if any; never throws. */
export function ntstatusOf(info: EDataInfo | undefined): number | undefined {
  return info?.extended?.status;
}
