// The Kerberos client's three calls. asProbe sends only an AS-REQ without pre-authentication and
// never touches the password. asExchange probes, then sends exactly one AS-REQ with PA-ENC-TIMESTAMP
// (the password-derived proof a KDC can count as a bad password) to the KDC that answered the
// probe: never to a second KDC, never retried, whatever happens. tgsExchange does asExchange and
// asks that same KDC for service tickets. Keys, tickets and session keys stay in local Buffers
// that are wiped before the call returns; results carry only plain facts.
import { randomInt } from 'node:crypto';
import { CredgateError } from '../../core/errors.js';
import { Secret } from '../../core/secret.js';
import { ETYPE, KDC_OPT, KRB_ERR, MSG, NT, PA, USAGE, etypeName, type SupportedEtype } from './constants.js';
import { decrypt, encrypt, stringToKey, s2kIterations, wipe, type KerberosKey } from './crypto.js';
import type { EtypeInfoEntry } from './replies.js';
import { parseEtypeInfo2, parseEncKdcRepPart, type KdcRepMessage } from './replies.js';
import { encodeEncryptedData, encodeKdcReq, encodeKdcReqBody, encodePaEncTsEnc, netbiosAddress, type PaData } from './messages.js';
import { tgsForSpns, type Tgt } from './tgs.js';
import { parseServicePrincipal } from './principal.js';
import type { KdcAddress } from './kdcs.js';
import {
  clockOf,
  exchange,
  exchangeWithFailover,
  kdcsFor,
  krbErrorFacts,
  openScope,
  settingsFrom,
  tryDecodeEData,
  type Exchanged,
  type Scope,
  type Settings,
  untilDeadline,
} from './session.js';
import type {
  AsExchangeOptions,
  AsExchangeResult,
  AsKrbError,
  AsProbeResult,
  AsUnsupported,
  ExchangeFacts,
  KerberosCallOptions,
  TgsExchangeOptions,
  TgsExchangeResult,
} from './types.js';

/** Sends a password-derived proof a KDC may count as a bad password: asExchange and tgsExchange do; asProbe never does. */
export const SENDS_PASSWORD_PROOF = { asProbe: false, asExchange: true, tgsExchange: true } as const;

const TILL = new Date(Date.UTC(2037, 8, 13, 2, 48, 5));
const AS_OPTIONS = KDC_OPT.FORWARDABLE | KDC_OPT.RENEWABLE_OK | KDC_OPT.CANONICALIZE;
const ETYPE_PREFERENCE: readonly SupportedEtype[] = [ETYPE.AES256_CTS_HMAC_SHA1_96, ETYPE.AES128_CTS_HMAC_SHA1_96, ETYPE.RC4_HMAC];

function asReq(s: Settings, padata: readonly PaData[], nonce: number): Buffer {
  const p = s.principal;
  const body = encodeKdcReqBody({
    options: AS_OPTIONS,
    cname: p.name,
    realm: p.realm,
    sname: { nameType: NT.SRV_INST, names: ['krbtgt', p.realm] },
    till: TILL,
    nonce,
    etypes: s.etypes,
    ...(s.workstation ? { addresses: [netbiosAddress(s.workstation)] } : {}),
  });
  return encodeKdcReq(MSG.AS_REQ, padata, body);
}

interface ProbeState {
  facts: ExchangeFacts;
  kdc: KdcAddress;
  entries: EtypeInfoEntry[];
}

type ProbeOutcome =
  | { kind: 'answer'; result: AsKrbError | AsUnsupported }
  | { kind: 'preauth'; state: ProbeState; etype: SupportedEtype; padataTypes: number[] }
  | { kind: 'no-preauth'; state: ProbeState; rep: KdcRepMessage; nonce: number; receivedAt: Date; raw: Buffer };

function facts(s: Settings, ex: Exchanged, failover: ExchangeFacts['failover'], proofSent: boolean): ExchangeFacts {
  return { kdc: ex.kdc.label, transport: ex.transport, realm: s.principal.realm, principal: s.principal.display, proofSent, failover };
}

/** Best etype the KDC offered that we asked for: AES256, then AES128, RC4 only when nothing else. */
function pickEtype(entries: readonly EtypeInfoEntry[], asked: readonly SupportedEtype[]): SupportedEtype | undefined {
  return ETYPE_PREFERENCE.find((e) => asked.includes(e) && entries.some((x) => x.etype === e));
}

function unsupported(f: ExchangeFacts, reason: AsUnsupported['reason'], offered: number[], padataTypes: number[]): AsUnsupported {
  return { ...f, outcome: 'unsupported', reason, offeredEtypes: offered, padataTypes };
}

async function probe(o: KerberosCallOptions, s: Settings, scope: Scope): Promise<ProbeOutcome> {
  const kdcs = await kdcsFor(o, s, scope);
  const nonce = randomInt(1, 0x7fffffff);
  const ex = await exchangeWithFailover(kdcs, asReq(s, [], nonce), s, scope, 'AS-REQ');
  const f = facts(s, ex, ex.failover, false);
  if (ex.reply.kind === 'rep') {
    if (ex.reply.rep.msgType !== MSG.AS_REP) throw new CredgateError(`The KDC ${ex.kdc.label} answered an AS-REQ with a TGS-REP; check that it is a Kerberos KDC.`, { code: 'PROTOCOL_ERROR', details: { kdc: ex.kdc.label } });
    const info = ex.reply.rep.padata.find((p) => p.type === PA.ETYPE_INFO2);
    const entries = info ? parseEtypeInfo2(info.value) : [];
    return { kind: 'no-preauth', state: { facts: f, kdc: ex.kdc, entries }, rep: ex.reply.rep, nonce, receivedAt: ex.receivedAt, raw: ex.raw };
  }
  const err = ex.reply.error;
  if (err.errorCode !== KRB_ERR.PREAUTH_REQUIRED) {
    const kf = krbErrorFacts(err, ex.receivedAt, false);
    return { kind: 'answer', result: { ...f, ...kf, outcome: 'krb-error', phase: 'probe' } };
  }
  f.clock = krbErrorFacts(err, ex.receivedAt, false).clock;
  const info = err.eData ? tryDecodeEData(err.eData) : undefined;
  if (err.eData && !info) {
    throw new CredgateError(`The KDC ${ex.kdc.label} sent PREAUTH_REQUIRED with e-data that does not parse; check that it is a Kerberos KDC.`, { code: 'PROTOCOL_ERROR', details: { kdc: ex.kdc.label } });
  }
  const entries = info?.etypeInfo2 ?? info?.etypeInfo ?? [];
  const padataTypes = info?.padataTypes ?? [];
  const offered = entries.map((e) => e.etype);
  // A KDC that lists its methods but not PA-ENC-TIMESTAMP (smart card only, FAST only) cannot take
  // a password proof; one that lists nothing at all gets the encrypted timestamp, as MIT kinit does.
  if (info?.padataTypes && !padataTypes.includes(PA.ENC_TIMESTAMP)) return { kind: 'answer', result: unsupported(f, 'preauth-unsupported', offered, padataTypes) };
  // no ETYPE-INFO at all (pre-RFC 4120 KDC): the best etype we asked for, with the default salt
  const etype = entries.length ? pickEtype(entries, s.etypes) : s.etypes[0];
  if (etype === undefined) return { kind: 'answer', result: unsupported(f, 'etype-unsupported', offered, padataTypes) };
  for (const e of entries) if (e.etype === etype && e.etype !== ETYPE.RC4_HMAC) s2kIterations(e.s2kparams); // a hostile count fails here, before any work
  return { kind: 'preauth', state: { facts: f, kdc: ex.kdc, entries }, etype, padataTypes };
}

async function keyFor(password: Secret, etype: SupportedEtype, s: Settings, entries: readonly EtypeInfoEntry[], scope: Scope): Promise<KerberosKey> {
  const entry = entries.find((e) => e.etype === etype);
  const salt = entry?.salt ?? Buffer.from(s.principal.defaultSalt, 'utf8');
  const key = await stringToKey(etype, password.reveal(), salt, entry?.s2kparams);
  if (scope.signal.aborted) {
    wipe(key.bytes);
    scope.check();
  }
  return key;
}

/** Decrypt an AS-REP's enc-part; returns the session key (caller wipes) or null on a key mismatch. */
function openAsRep(rep: KdcRepMessage, key: KerberosKey, nonce: number, kdc: KdcAddress): { sessionKey: KerberosKey; authtime: Date; keyExpiration?: Date } | null {
  const plain = decrypt(key, USAGE.AS_REP_ENC_PART, rep.encPart.cipher);
  if (!plain) return null;
  try {
    const part = parseEncKdcRepPart(plain);
    if (part.nonce !== nonce) throw new CredgateError(`The KDC ${kdc.label} answered with an AS-REP for another request (nonce mismatch); retry, and check for a replaying middlebox if it persists.`, { code: 'PROTOCOL_ERROR', details: { kdc: kdc.label } });
    if (part.keytype !== 17 && part.keytype !== 18 && part.keytype !== 23) throw new CredgateError(`The KDC ${kdc.label} issued a session key of etype ${part.keytype}, which was not asked for; check the KDC's etype settings.`, { code: 'PROTOCOL_ERROR', details: { kdc: kdc.label } });
    return { sessionKey: { etype: part.keytype, bytes: Buffer.from(part.keyvalue) }, authtime: part.authtime, ...(part.keyExpiration ? { keyExpiration: part.keyExpiration } : {}) };
  } finally {
    wipe(plain);
  }
}

/**
 * A fault once the proof may have reached the KDC: same code and message, plus details.proofSent
 * so a lockout guard knows this attempt may have been counted (it was sent to no other KDC).
 */
export function afterProof(e: unknown, phase: 'proof' | 'tgs'): unknown {
  if (!(e instanceof CredgateError)) return e;
  return new CredgateError(e.message, { code: e.code, cause: e, details: { ...e.details, proofSent: true, phase } });
}

interface AsRun {
  result: AsExchangeResult;
  tgt?: Tgt;
}

async function runAs(o: AsExchangeOptions, s: Settings, scope: Scope, keepTgt: boolean): Promise<AsRun> {
  if (!(o.password instanceof Secret)) throw new CredgateError('password must be a Secret (new Secret(value)), so it never prints.', { code: 'CONFIG_INVALID', details: { option: 'password' } });
  const pr = await probe(o, s, scope);
  if (pr.kind === 'answer') return { result: pr.result };
  const { state } = pr;
  if (pr.kind === 'no-preauth') {
    // The KDC issued a ticket without any proof: check the password locally; nothing is sent.
    try {
      const etype = pr.rep.encPart.etype;
      if (etype !== 17 && etype !== 18 && etype !== 23) return { result: unsupported(state.facts, 'etype-unsupported', [etype], []) };
      const key = await keyFor(o.password, etype, s, state.entries, scope);
      try {
        const opened = openAsRep(pr.rep, key, pr.nonce, state.kdc);
        if (!opened) return { result: { ...state.facts, outcome: 'key-mismatch', reason: 'invalid-credentials', etype } };
        return finishOk(state.facts, pr.rep, etype, false, opened, pr.receivedAt, keepTgt, state.kdc);
      } finally {
        wipe(key.bytes);
      }
    } finally {
      wipe(pr.raw);
    }
  }
  const proofFacts = { kdc: state.kdc.label, realm: s.principal.realm, principal: s.principal.display, etype: pr.etype, ...(state.facts.clock ? { clock: state.facts.clock } : {}) };
  if (o.beforeProof && !(await o.beforeProof(proofFacts))) return { result: { ...state.facts, outcome: 'proof-withheld', etype: pr.etype } };
  scope.check();
  const key = await keyFor(o.password, pr.etype, s, state.entries, scope);
  const keys: KerberosKey[] = [key];
  let raw: Buffer | undefined;
  try {
    const ts = encodePaEncTsEnc(new Date());
    const proof: PaData = { type: PA.ENC_TIMESTAMP, value: encodeEncryptedData({ etype: key.etype, cipher: encrypt(key, USAGE.PA_ENC_TIMESTAMP, ts) }) };
    const nonce = randomInt(1, 0x7fffffff);
    // The proof goes to the KDC that answered the probe and nowhere else, exactly once.
    const f: ExchangeFacts = { ...state.facts, proofSent: true };
    const ex = await exchange(state.kdc, asReq(s, [proof], nonce), s, scope, untilDeadline(scope)).catch((e: unknown) => {
      throw afterProof(e, 'proof');
    });
    raw = ex.raw;
    f.transport = ex.transport;
    if (ex.reply.kind === 'error') {
      const kf = krbErrorFacts(ex.reply.error, ex.receivedAt, true);
      return { result: { ...f, ...kf, outcome: 'krb-error', phase: 'proof' } };
    }
    const rep = ex.reply.rep;
    if (rep.msgType !== MSG.AS_REP) throw new CredgateError(`The KDC ${state.kdc.label} answered an AS-REQ with a TGS-REP; check that it is a Kerberos KDC.`, { code: 'PROTOCOL_ERROR', details: { kdc: state.kdc.label } });
    let useKey = key;
    if (rep.encPart.etype !== key.etype) {
      const e = rep.encPart.etype;
      if (e !== 17 && e !== 18 && e !== 23) throw new CredgateError(`The KDC ${state.kdc.label} sealed its AS-REP with etype ${e}, which was not asked for; check the KDC's etype settings.`, { code: 'PROTOCOL_ERROR', details: { kdc: state.kdc.label } });
      useKey = await keyFor(o.password, e, s, state.entries, scope);
      keys.push(useKey);
    }
    const opened = openAsRep(rep, useKey, nonce, state.kdc);
    if (!opened) {
      throw new CredgateError(`The KDC ${state.kdc.label} accepted the pre-authentication but its AS-REP does not decrypt with the same password; check the KDC (salt or key version mismatch).`, {
        code: 'PROTOCOL_ERROR',
        details: { kdc: state.kdc.label },
      });
    }
    return finishOk(f, rep, useKey.etype, true, opened, ex.receivedAt, keepTgt, state.kdc);
  } finally {
    for (const k of keys) wipe(k.bytes);
    wipe(raw);
  }
}

function finishOk(
  f: ExchangeFacts,
  rep: KdcRepMessage,
  etype: SupportedEtype,
  preauthRequired: boolean,
  opened: { sessionKey: KerberosKey; authtime: Date; keyExpiration?: Date },
  receivedAt: Date,
  keepTgt: boolean,
  kdc: KdcAddress,
): AsRun {
  const result: AsExchangeResult = {
    ...f,
    outcome: 'ok',
    etype,
    etypeName: etypeName(etype),
    preauthRequired,
    canonicalPrincipal: `${rep.cname.names.join('/')}@${rep.crealm}`,
    ...(opened.keyExpiration ? { keyExpiration: opened.keyExpiration.toISOString() } : {}),
    // the probe's KRB-ERROR has the KDC's time to the microsecond; authtime only to the second
    clock: f.clock ?? clockOf(opened.authtime, receivedAt),
  };
  if (!keepTgt) {
    wipe(opened.sessionKey.bytes, rep.ticket, rep.encPart.cipher);
    return { result };
  }
  return { result, tgt: { kdc, rep, sessionKey: opened.sessionKey } };
}

async function withScope<T>(o: KerberosCallOptions, what: string, run: (s: Settings, scope: Scope) => Promise<T>): Promise<T> {
  const s = settingsFrom(o);
  const scope = openScope(o.signal, s.timeoutMs, what);
  try {
    scope.check();
    return await run(s, scope);
  } catch (e) {
    if (scope.signal.aborted && !(e instanceof CredgateError && (e.code === 'ABORTED' || e.code === 'TIMEOUT'))) throw scope.abortError();
    throw e;
  } finally {
    scope.dispose();
  }
}

/**
 * Ask a KDC about an account without any password: an AS-REQ with no PA-DATA. Learns whether the
 * account exists and needs pre-authentication, which etypes/salts/iterations the KDC offers, and
 * the KDC's clock. Never counts as a bad password. Fails over between KDCs freely.
 */
export function asProbe(o: KerberosCallOptions): Promise<AsProbeResult> {
  return withScope(o, `The Kerberos AS exchange for ${String(o.username).slice(0, 200)}`, async (s, scope) => {
    const pr = await probe(o, s, scope);
    if (pr.kind === 'answer') return pr.result;
    if (pr.kind === 'no-preauth') {
      wipe(pr.rep.ticket, pr.raw);
      return { ...pr.state.facts, outcome: 'no-preauth', etype: pr.rep.encPart.etype };
    }
    return {
      ...pr.state.facts,
      outcome: 'preauth-required',
      etype: pr.etype,
      padataTypes: pr.padataTypes,
      offeredEtypes: pr.state.entries.map((e) => ({
        etype: e.etype,
        etypeName: etypeName(e.etype),
        ...((e.etype === 17 || e.etype === 18) && e.s2kparams?.length === 4 ? { iterations: e.s2kparams.readUInt32BE(0) } : {}),
      })),
    };
  });
}

/**
 * Prove a password with an AS exchange: probe (no password), then ONE AS-REQ with PA-ENC-TIMESTAMP
 * to the KDC that answered. SENDS A PASSWORD PROOF: gate it with a lockout guard (beforeProof or
 * before the call). A failed pre-authentication is never retried, and the proof is never sent to a
 * second KDC. The AS-REP is decrypted only to prove the key was right, then wiped.
 */
export function asExchange(o: AsExchangeOptions): Promise<AsExchangeResult> {
  return withScope(o, `The Kerberos AS exchange for ${String(o.username).slice(0, 200)}`, async (s, scope) => (await runAs(o, s, scope, false)).result);
}

/**
 * asExchange, then a TGS-REQ per SPN to the same KDC: 'found', or a KRB-ERROR such as
 * S_PRINCIPAL_UNKNOWN (no such SPN). SENDS A PASSWORD PROOF (the AS exchange). The TGT and its
 * session key exist only inside this call and are wiped before it returns.
 */
export function tgsExchange(o: TgsExchangeOptions): Promise<TgsExchangeResult> {
  return withScope(o, `The Kerberos TGS exchange for ${String(o.username).slice(0, 200)}`, async (s, scope) => {
    if (!Array.isArray(o.spns) || o.spns.length === 0 || o.spns.length > 16) {
      throw new CredgateError('spns must list 1 to 16 service principal names, e.g. ["TERMSRV/rdp01.corp.example"].', { code: 'CONFIG_INVALID', details: { option: 'spns' } });
    }
    const spns = o.spns.map((text) => ({ text: String(text), spn: parseServicePrincipal(String(text), s.principal.realm) }));
    const run = await runAs(o, s, scope, true);
    if (!run.tgt) return { as: run.result, services: [] };
    const tgt = run.tgt;
    try {
      return { as: run.result, services: await tgsForSpns(spns, tgt, s, scope).catch((e: unknown) => Promise.reject(afterProof(e, 'tgs'))) };
    } finally {
      wipe(tgt.sessionKey.bytes, tgt.rep.ticket, tgt.rep.encPart.cipher);
    }
  });
}
