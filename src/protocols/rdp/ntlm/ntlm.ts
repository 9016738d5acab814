/**
 * The client side of NTLM (MS-NLMP) as CredSSP needs it: NEGOTIATE, CHALLENGE parsing (target
 * info AV pairs, MsvAvTimestamp), AUTHENTICATE with NTLMv2 (NTOWFv2, NTProofStr, session base
 * key, key exchange with an RC4-encrypted random session key, MIC over the three messages). The
 * constants are constants.ts, session security (SEAL / UNSEAL for CredSSP's public-key binding)
 * session.ts.
 *
 * Section numbers refer to [MS-NLMP]. Parsing is strict and bounded: every offset and length is
 * checked against the message, nothing allocates more than the message's own size.
 */
import { randomBytes } from 'node:crypto';
import { CredgateError } from '../../../core/errors.js';
import { ntHash } from '../../crypto/md4.js';
import { Rc4 } from '../../crypto/rc4.js';
import { hmacMd5 } from '../../crypto/hmac.js';
import { AV, AV_FLAG_MIC_PRESENT, DEFAULT_NEGOTIATE_FLAGS, NTLM_FLAGS as F } from './constants.js';
import { NtlmSession } from './session.js';

export { NTLM_FLAGS, DEFAULT_NEGOTIATE_FLAGS, AV, AV_FLAG_MIC_PRESENT } from './constants.js';
export { NtlmSession, signKey, sealKey } from './session.js';

const SIGNATURE = Buffer.from('NTLMSSP\0', 'latin1');
/** Largest NTLM message credgate parses (a real CHALLENGE is a few hundred bytes). */
export const MAX_NTLM_MESSAGE = 16 * 1024;
/** Windows 10 / Server 2016+ version block, NTLMSSP_REVISION_W2K3. */
const VERSION = Buffer.from([10, 0, 0x61, 0x4a, 0, 0, 0, 15]);

function bad(why: string): never {
  throw new CredgateError(`The server's NTLM message is malformed (${why}).`, { code: 'PROTOCOL_ERROR', details: { kind: 'ntlm', why } });
}


// ---------------------------------------------------------------- keys (3.3.2)

/** NTOWFv1 = MD4(UNICODE(password)): the NT hash. */
export function ntowfv1(password: string): Buffer {
  return ntHash(password);
}

/** NTOWFv2 = HMAC_MD5(NTOWFv1, UNICODE(UPPER(user) + domain)). Pass an NT hash instead of a password with `ntHash`. */
export function ntowfv2(o: { user: string; domain: string; password?: string; ntHash?: Uint8Array }): Buffer {
  const nt = o.ntHash ?? (o.password !== undefined ? ntowfv1(o.password) : undefined);
  if (!nt || nt.length !== 16) throw new TypeError('ntowfv2 needs a password or a 16-byte NT hash');
  return hmacMd5(nt, Buffer.from(o.user.toUpperCase() + o.domain, 'utf16le'));
}

// ---------------------------------------------------------------- AV pairs

export interface AvPair {
  id: number;
  value: Buffer;
}

/** Parse a target info block. Bounded: stops at MsvAvEOL; a pair that runs past the end is an error. */
export function parseAvPairs(buf: Uint8Array): AvPair[] {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: AvPair[] = [];
  let off = 0;
  while (true) {
    if (off + 4 > b.length) bad('target info ends without MsvAvEOL');
    const id = b.readUInt16LE(off);
    const len = b.readUInt16LE(off + 2);
    off += 4;
    if (id === AV.EOL) break;
    if (off + len > b.length) bad(`AV pair ${id} runs past the target info`);
    out.push({ id, value: Buffer.from(b.subarray(off, off + len)) });
    off += len;
    if (out.length > 64) bad('too many AV pairs');
  }
  return out;
}

export function encodeAvPairs(pairs: readonly AvPair[]): Buffer {
  const parts: Buffer[] = [];
  for (const p of pairs) {
    if (p.id === AV.EOL) continue;
    const h = Buffer.alloc(4);
    h.writeUInt16LE(p.id, 0);
    h.writeUInt16LE(p.value.length, 2);
    parts.push(h, p.value);
  }
  parts.push(Buffer.alloc(4));
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------- NEGOTIATE (2.2.1.1)

export function buildNegotiate(flags: number = DEFAULT_NEGOTIATE_FLAGS): Buffer {
  const b = Buffer.alloc(40);
  SIGNATURE.copy(b, 0);
  b.writeUInt32LE(1, 8);
  b.writeUInt32LE(flags >>> 0, 12);
  // DomainNameFields, WorkstationFields: empty, offset 40
  b.writeUInt32LE(40, 20);
  b.writeUInt32LE(40, 28);
  VERSION.copy(b, 32);
  return b;
}

// ---------------------------------------------------------------- CHALLENGE (2.2.1.2)

export interface ChallengeMessage {
  flags: number;
  serverChallenge: Buffer;
  targetName: string;
  targetInfo: Buffer;
  avPairs: AvPair[];
  /** MsvAvTimestamp (FILETIME, 8 bytes) when the server sent one. */
  timestamp?: Buffer;
  version?: { major: number; minor: number; build: number };
  /** The whole message as received (the MIC covers it). */
  raw: Buffer;
}

function field(b: Buffer, at: number, what: string): Buffer {
  const len = b.readUInt16LE(at);
  const off = b.readUInt32LE(at + 4);
  if (len === 0) return Buffer.alloc(0);
  if (off > b.length || off + len > b.length) bad(`${what} (offset ${off}, length ${len}) lies outside the ${b.length}-byte message`);
  return b.subarray(off, off + len);
}

function checkHeader(b: Buffer, type: number): void {
  if (b.length > MAX_NTLM_MESSAGE) bad(`${b.length} bytes is larger than any NTLM message`);
  if (b.length < 12 || !b.subarray(0, 8).equals(SIGNATURE)) bad('no NTLMSSP signature');
  const t = b.readUInt32LE(8);
  if (t !== type) bad(`message type ${t} instead of ${type}`);
}

export function parseChallenge(input: Uint8Array): ChallengeMessage {
  const b = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  checkHeader(b, 2);
  if (b.length < 48) bad('CHALLENGE shorter than 48 bytes');
  const flags = b.readUInt32LE(20);
  const serverChallenge = Buffer.from(b.subarray(24, 32));
  const tn = field(b, 12, 'TargetName');
  const targetName = flags & F.UNICODE ? tn.toString('utf16le') : tn.toString('latin1');
  const targetInfo = Buffer.from(field(b, 40, 'TargetInfo'));
  const avPairs = targetInfo.length ? parseAvPairs(targetInfo) : [];
  const ts = avPairs.find((p) => p.id === AV.Timestamp)?.value;
  if (ts && ts.length !== 8) bad('MsvAvTimestamp is not 8 bytes');
  const out: ChallengeMessage = { flags, serverChallenge, targetName, targetInfo, avPairs, raw: Buffer.from(b) };
  if (ts) out.timestamp = ts;
  if (flags & F.VERSION && b.length >= 56) out.version = { major: b[48]!, minor: b[49]!, build: b.readUInt16LE(50) };
  return out;
}

/** The AV pairs as readable text (for evidence: the server's NetBIOS / DNS names). */
export function describeAvPairs(pairs: readonly AvPair[]): Record<string, string> {
  const names: Record<number, string> = { 1: 'nbComputer', 2: 'nbDomain', 3: 'dnsComputer', 4: 'dnsDomain', 5: 'dnsTree' };
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const n = names[p.id];
    if (n) out[n] = p.value.toString('utf16le');
  }
  return out;
}

// ---------------------------------------------------------------- AUTHENTICATE (2.2.1.3, 3.1.5.1.2, 3.3.2)

export interface AuthenticateInput {
  negotiate: Buffer;
  challenge: ChallengeMessage;
  user: string;
  domain: string;
  /** NTOWFv2 for (user, domain, password): the only form the password takes here. */
  responseKeyNT: Buffer;
  workstation?: string;
  /** Service principal added as MsvAvTargetName (e.g. TERMSRV/host). */
  spn?: string;
  /** Test hooks for the worked examples; random / now by default. */
  clientChallenge?: Buffer;
  exportedSessionKey?: Buffer;
  /** FILETIME for the blob when the server sent no MsvAvTimestamp. */
  time?: Buffer;
  /** Keep the server's target info exactly (no MsvAvFlags, no MIC): only for the MS-NLMP 4.2.4 example. */
  plainTargetInfo?: boolean;
}

export interface AuthenticateResult {
  message: Buffer;
  flags: number;
  ntProofStr: Buffer;
  sessionBaseKey: Buffer;
  exportedSessionKey: Buffer;
  encryptedRandomSessionKey: Buffer;
  lmChallengeResponse: Buffer;
  ntChallengeResponse: Buffer;
  mic?: Buffer;
  session: NtlmSession;
}

/** FILETIME (100 ns since 1601) of a Date, little-endian. */
export function filetime(d: Date = new Date()): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE((BigInt(d.getTime()) + 11_644_473_600_000n) * 10_000n);
  return b;
}

export function buildAuthenticate(i: AuthenticateInput): AuthenticateResult {
  const ch = i.challenge;
  const ourFlags = i.negotiate.length >= 16 ? i.negotiate.readUInt32LE(12) : DEFAULT_NEGOTIATE_FLAGS;
  // the negotiated set: what both sides support; UNICODE wins over OEM
  let flags = (ourFlags & ch.flags) >>> 0;
  if (!(flags & F.UNICODE)) bad('the server does not offer Unicode');
  if (!(ch.flags & F.EXTENDED_SESSIONSECURITY) && ch.flags & F.SEAL) bad('the server offers sealing without extended session security (NTLMv1-style), which credgate does not do');
  // OEM goes (Unicode is used); REQUEST_TARGET stays as the client asked (as in the 4.2.4 example)
  flags = ((flags & ~F.OEM) | (ourFlags & F.REQUEST_TARGET)) >>> 0;
  const clientChallenge = i.clientChallenge ?? randomBytes(8);
  const serverTs = ch.timestamp;
  const useMic = !i.plainTargetInfo && serverTs !== undefined;

  let pairs = ch.avPairs.map((p) => ({ id: p.id, value: p.value }));
  if (!i.plainTargetInfo) {
    if (useMic) {
      const fl = pairs.find((p) => p.id === AV.Flags && p.value.length === 4);
      const v = Buffer.alloc(4);
      v.writeUInt32LE(((fl ? fl.value.readUInt32LE(0) : 0) | AV_FLAG_MIC_PRESENT) >>> 0);
      if (fl) fl.value = v;
      else pairs.push({ id: AV.Flags, value: v });
    }
    if (i.spn) {
      pairs = pairs.filter((p) => p.id !== AV.TargetName);
      pairs.push({ id: AV.TargetName, value: Buffer.from(i.spn, 'utf16le') });
    }
  }
  const targetInfo = i.plainTargetInfo ? ch.targetInfo : encodeAvPairs(pairs);
  const time = serverTs ?? i.time ?? filetime();
  // temp = Responserversion, HiResponserversion, Z(6), Time, ClientChallenge, Z(4), ServerName, Z(4)
  const temp = Buffer.concat([Buffer.from([1, 1, 0, 0, 0, 0, 0, 0]), time, clientChallenge, Buffer.alloc(4), targetInfo, Buffer.alloc(4)]);
  const ntProofStr = hmacMd5(i.responseKeyNT, ch.serverChallenge, temp);
  const ntChallengeResponse = Buffer.concat([ntProofStr, temp]);
  // with a server timestamp the LM response is Z(24) (3.1.5.1.2); otherwise LMv2
  const lmChallengeResponse = useMic
    ? Buffer.alloc(24)
    : Buffer.concat([hmacMd5(i.responseKeyNT, ch.serverChallenge, clientChallenge), clientChallenge]);
  const sessionBaseKey = hmacMd5(i.responseKeyNT, ntProofStr);
  const keyExchangeKey = sessionBaseKey; // NTLMv2: KXKEY = SessionBaseKey
  let exportedSessionKey: Buffer = keyExchangeKey;
  let encryptedRandomSessionKey: Buffer = Buffer.alloc(0);
  if (flags & F.KEY_EXCH) {
    exportedSessionKey = i.exportedSessionKey ?? randomBytes(16);
    encryptedRandomSessionKey = new Rc4(keyExchangeKey).update(exportedSessionKey);
  }

  const unicode = (s: string) => Buffer.from(s, 'utf16le');
  const domain = unicode(i.domain);
  const user = unicode(i.user);
  const ws = unicode(i.workstation ?? '');
  const headerLen = 64 + 8 + (useMic ? 16 : 0);
  const payload = [lmChallengeResponse, ntChallengeResponse, domain, user, ws, encryptedRandomSessionKey];
  const total = headerLen + payload.reduce((n, p) => n + p.length, 0);
  const m = Buffer.alloc(total);
  SIGNATURE.copy(m, 0);
  m.writeUInt32LE(3, 8);
  let off = headerLen;
  const put = (at: number, p: Buffer) => {
    m.writeUInt16LE(p.length, at);
    m.writeUInt16LE(p.length, at + 2);
    m.writeUInt32LE(off, at + 4);
    p.copy(m, off);
    off += p.length;
  };
  // payload order as Windows writes it: domain, user, workstation, LM, NT, session key
  put(28, domain);
  put(36, user);
  put(44, ws);
  put(12, lmChallengeResponse);
  put(20, ntChallengeResponse);
  put(52, encryptedRandomSessionKey);
  m.writeUInt32LE(flags, 60);
  VERSION.copy(m, 64);
  let mic: Buffer | undefined;
  if (useMic) {
    mic = hmacMd5(exportedSessionKey, i.negotiate, ch.raw, m);
    mic.copy(m, 72);
  }
  const session = new NtlmSession(exportedSessionKey, flags);
  return {
    message: m, flags, ntProofStr, sessionBaseKey, exportedSessionKey, encryptedRandomSessionKey,
    lmChallengeResponse, ntChallengeResponse, session, ...(mic ? { mic } : {}),
  };
}

export interface AuthenticateMessage {
  flags: number;
  lmChallengeResponse: Buffer;
  ntChallengeResponse: Buffer;
  domain: string;
  user: string;
  workstation: string;
  encryptedRandomSessionKey: Buffer;
  mic?: Buffer;
}

/** Parse an AUTHENTICATE message (used by tests and the error-server fixture to check what a client sent). */
export function parseAuthenticate(input: Uint8Array): AuthenticateMessage {
  const b = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  checkHeader(b, 3);
  if (b.length < 64) bad('AUTHENTICATE shorter than 64 bytes');
  const flags = b.readUInt32LE(60);
  const text = (p: Buffer) => (flags & F.UNICODE ? p.toString('utf16le') : p.toString('latin1'));
  const out: AuthenticateMessage = {
    flags,
    lmChallengeResponse: Buffer.from(field(b, 12, 'LmChallengeResponse')),
    ntChallengeResponse: Buffer.from(field(b, 20, 'NtChallengeResponse')),
    domain: text(field(b, 28, 'DomainName')),
    user: text(field(b, 36, 'UserName')),
    workstation: text(field(b, 44, 'Workstation')),
    encryptedRandomSessionKey: Buffer.from(field(b, 52, 'EncryptedRandomSessionKey')),
  };
  const firstPayload = Math.min(...[12, 20, 28, 36, 44, 52].map((at) => (b.readUInt16LE(at) ? b.readUInt32LE(at + 4) : b.length)));
  if (firstPayload >= 88 && b.length >= 88) out.mic = Buffer.from(b.subarray(72, 88));
  return out;
}
