// TGS exchanges with the TGT an AS exchange just produced: one TGS-REQ per service principal to the
// KDC that issued the TGT (PA-TGS-REQ with an AP-REQ whose authenticator checksums the request
// body), answered by a TGS-REP (decrypted only to check it) or a KRB-ERROR such as
// S_PRINCIPAL_UNKNOWN. The service ticket itself is dropped unread.
import { randomInt } from 'node:crypto';
import { CredgateError } from '../../core/errors.js';
import { KDC_OPT, MSG, USAGE, etypeName } from './constants.js';
import { checksum, decrypt, encrypt, wipe, type KerberosKey } from './crypto.js';
import { encodeApReq, encodeAuthenticator, encodeKdcReq, encodeKdcReqBody, paTgsReq } from './messages.js';
import type { ServicePrincipal } from './principal.js';
import { parseEncKdcRepPart, type KdcRepMessage } from './replies.js';
import { exchange, krbErrorFacts, untilDeadline, type Exchanged, type Scope, type Settings } from './session.js';
import type { KdcAddress } from './kdcs.js';
import type { ServiceTicketResult } from './types.js';

/** A TGT held only for the duration of one tgsExchange call. */
export interface Tgt {
  kdc: KdcAddress;
  rep: KdcRepMessage;
  sessionKey: KerberosKey;
}

const TILL = new Date(Date.UTC(2037, 8, 13, 2, 48, 5));
const TGS_OPTIONS = KDC_OPT.FORWARDABLE | KDC_OPT.RENEWABLE_OK | KDC_OPT.CANONICALIZE;

function tgsReq(spn: ServicePrincipal, tgt: Tgt, s: Settings, nonce: number): Buffer {
  const body = encodeKdcReqBody({ options: TGS_OPTIONS, realm: spn.realm, sname: spn.name, till: TILL, nonce, etypes: s.etypes });
  const cksum = checksum(tgt.sessionKey, USAGE.TGS_REQ_AUTH_CKSUM, body);
  const authenticator = encodeAuthenticator({ crealm: tgt.rep.crealm, cname: tgt.rep.cname, cksum, now: new Date() });
  const sealed = encrypt(tgt.sessionKey, USAGE.TGS_REQ_AUTHENTICATOR, authenticator);
  const apReq = encodeApReq(tgt.rep.ticket, { etype: tgt.sessionKey.etype, cipher: sealed });
  return encodeKdcReq(MSG.TGS_REQ, [paTgsReq(apReq)], body);
}

async function one(spnText: string, spn: ServicePrincipal, tgt: Tgt, s: Settings, scope: Scope): Promise<ServiceTicketResult> {
  const nonce = randomInt(1, 0x7fffffff);
  const ex = await exchange(tgt.kdc, tgsReq(spn, tgt, s, nonce), s, scope, untilDeadline(scope));
  try {
    return answer(spnText, spn, ex, tgt, nonce);
  } finally {
    wipe(ex.raw);
  }
}

function answer(spnText: string, spn: ServicePrincipal, ex: Exchanged, tgt: Tgt, nonce: number): ServiceTicketResult {
  if (ex.reply.kind === 'error') return { spn: spnText, outcome: 'krb-error', ...krbErrorFacts(ex.reply.error, ex.receivedAt, true) };
  const rep = ex.reply.rep;
  const label = tgt.kdc.label;
  if (rep.msgType !== MSG.TGS_REP) throw new CredgateError(`The KDC ${label} answered a TGS-REQ with an AS-REP; check that it is a Kerberos KDC.`, { code: 'PROTOCOL_ERROR', details: { kdc: label } });
  const plain = decrypt(tgt.sessionKey, USAGE.TGS_REP_ENC_PART_SESSION, rep.encPart.cipher);
  if (!plain) throw new CredgateError(`The KDC ${label} sent a TGS-REP that does not decrypt with the session key; check the KDC.`, { code: 'PROTOCOL_ERROR', details: { kdc: label } });
  try {
    const part = parseEncKdcRepPart(plain);
    wipe(part.keyvalue);
    if (part.nonce !== nonce) throw new CredgateError(`The KDC ${label} answered with a TGS-REP for another request (nonce mismatch); retry, and check for a replaying middlebox if it persists.`, { code: 'PROTOCOL_ERROR', details: { kdc: label } });
    const first = part.sname.names[0]?.toLowerCase();
    if (first === 'krbtgt' && spn.name.names[0]?.toLowerCase() !== 'krbtgt') {
      return { spn: spnText, outcome: 'referral', realm: part.sname.names[1] ?? part.srealm };
    }
    const kvno = rep.ticketKvno;
    return { spn: spnText, outcome: 'found', etype: rep.ticketEtype, etypeName: etypeName(rep.ticketEtype), ...(kvno !== undefined ? { kvno } : {}) };
  } finally {
    wipe(plain, rep.ticket, rep.encPart.cipher);
  }
}

/** One result per SPN, asked one after the other of the KDC that issued the TGT. */
export async function tgsForSpns(spns: readonly { text: string; spn: ServicePrincipal }[], tgt: Tgt, s: Settings, scope: Scope): Promise<ServiceTicketResult[]> {
  const out: ServiceTicketResult[] = [];
  for (const x of spns) {
    scope.check();
    out.push(await one(x.text, x.spn, tgt, s, scope));
  }
  return out;
}
