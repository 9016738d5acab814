// Kerberos requests the client sends (RFC 4120 section 5): AS-REQ and TGS-REQ with their body,
// PA-DATA, PA-ENC-TS-ENC, the AP-REQ and Authenticator carried in PA-TGS-REQ. Encoders only;
// replies are parsed in replies.ts.
import { app, ctx, derFlags, derInt, derKerberosTime, derKString, derOctets, seq } from './der.js';
import { MSG, PA, PVNO } from './constants.js';

export interface PrincipalName {
  nameType: number;
  names: readonly string[];
}

export interface PaData {
  type: number;
  value: Buffer;
}

export interface EncryptedData {
  etype: number;
  kvno?: number;
  cipher: Buffer;
}

export interface KdcReqBody {
  options: number;
  cname?: PrincipalName;
  realm: string;
  sname: PrincipalName;
  till: Date;
  nonce: number;
  etypes: readonly number[];
  addresses?: readonly HostAddress[];
}

export interface HostAddress {
  type: number;
  value: Buffer;
}

/** HostAddress type 20: a NetBIOS name, upper-case, space-padded to 15 bytes plus the 0x20 suffix. */
export const ADDRTYPE_NETBIOS = 20;

export function netbiosAddress(name: string): HostAddress {
  const v = Buffer.alloc(16, 0x20);
  v.write(name.toUpperCase().slice(0, 15), 0, 'latin1');
  return { type: ADDRTYPE_NETBIOS, value: v };
}

export function encodePrincipalName(p: PrincipalName): Buffer {
  return seq(ctx(0, derInt(p.nameType)), ctx(1, seq(...p.names.map(derKString))));
}

export function encodeEncryptedData(e: EncryptedData): Buffer {
  return seq(ctx(0, derInt(e.etype)), e.kvno === undefined ? undefined : ctx(1, derInt(e.kvno)), ctx(2, derOctets(e.cipher)));
}

export function encodePaData(p: PaData): Buffer {
  return seq(ctx(1, derInt(p.type)), ctx(2, derOctets(p.value)));
}

export function encodeKdcReqBody(b: KdcReqBody): Buffer {
  return seq(
    ctx(0, derFlags(b.options)),
    b.cname ? ctx(1, encodePrincipalName(b.cname)) : undefined,
    ctx(2, derKString(b.realm)),
    ctx(3, encodePrincipalName(b.sname)),
    ctx(5, derKerberosTime(b.till)),
    ctx(7, derInt(b.nonce >>> 0)),
    ctx(8, seq(...b.etypes.map((e) => derInt(e)))),
    b.addresses?.length ? ctx(9, seq(...b.addresses.map((a) => seq(ctx(0, derInt(a.type)), ctx(1, derOctets(a.value)))))) : undefined,
  );
}

/** AS-REQ (10) or TGS-REQ (12) around an already encoded body (the TGS checksum covers those bytes). */
export function encodeKdcReq(msgType: typeof MSG.AS_REQ | typeof MSG.TGS_REQ, padata: readonly PaData[], body: Buffer): Buffer {
  return app(
    msgType,
    seq(
      ctx(1, derInt(PVNO)),
      ctx(2, derInt(msgType)),
      padata.length ? ctx(3, seq(...padata.map(encodePaData))) : undefined,
      ctx(4, body),
    ),
  );
}

/** PA-ENC-TS-ENC: the client's time, to be encrypted with the password-derived key. */
export function encodePaEncTsEnc(now: Date): Buffer {
  const usec = (now.getTime() % 1000) * 1000;
  return seq(ctx(0, derKerberosTime(now)), ctx(1, derInt(usec)));
}

export interface AuthenticatorFields {
  crealm: string;
  cname: PrincipalName;
  cksum: { cksumtype: number; value: Buffer };
  now: Date;
}

export function encodeAuthenticator(a: AuthenticatorFields): Buffer {
  return app(
    MSG.AUTHENTICATOR,
    seq(
      ctx(0, derInt(PVNO)),
      ctx(1, derKString(a.crealm)),
      ctx(2, encodePrincipalName(a.cname)),
      ctx(3, seq(ctx(0, derInt(a.cksum.cksumtype)), ctx(1, derOctets(a.cksum.value)))),
      ctx(4, derInt((a.now.getTime() % 1000) * 1000)),
      ctx(5, derKerberosTime(a.now)),
    ),
  );
}

/** AP-REQ for PA-TGS-REQ: `ticket` is the Ticket exactly as the KDC sent it. */
export function encodeApReq(ticket: Buffer, authenticator: EncryptedData): Buffer {
  return app(
    MSG.AP_REQ,
    seq(ctx(0, derInt(PVNO)), ctx(1, derInt(MSG.AP_REQ)), ctx(2, derFlags(0)), ctx(3, ticket), ctx(4, encodeEncryptedData(authenticator))),
  );
}

export function paTgsReq(apReq: Buffer): PaData {
  return { type: PA.TGS_REQ, value: apReq };
}
