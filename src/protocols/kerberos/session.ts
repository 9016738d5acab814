// The plumbing of one Kerberos call: the deadline and the caller's abort (ABORTED vs TIMEOUT), the
// validated settings, a request/reply round trip with the UDP -> TCP retry on
// KRB_ERR_RESPONSE_TOO_BIG, the KDC failover loop (used only for requests without a password
// proof), and turning a KRB-ERROR into plain result facts.
import { CredgateError, type ErrorCode } from '../../core/errors.js';
import { KRB_ERR, SUPPORTED_ETYPES, failureReason, krbErrorName, ntstatusName, type SupportedEtype } from './constants.js';
import { DER_LIMITS } from './der.js';
import { decodeEData, type EDataInfo } from './edata.js';
import { discoverKdcs, parseKdcList, type KdcAddress } from './kdcs.js';
import { parseClientPrincipal, type ClientPrincipal } from './principal.js';
import { isKrbErrorCode, parseKdcReply, type KdcReply, type KrbErrorMessage } from './replies.js';
import { tcpRoundTrip, udpRoundTrip, type KerberosTransport, type RoundTripOptions } from './transport.js';
import type { EDataSummary, KdcClock, KdcFailover, KerberosCallOptions, KrbErrorFacts } from './types.js';

export const DEFAULT_TIMEOUT_MS = 15_000;
export const DEFAULT_KDC_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_REPLY_BYTES = 256 * 1024;
/** Requests larger than this go straight to TCP (as MIT's udp_preference_limit). */
export const UDP_PREFERENCE_LIMIT = 1465;

export interface Scope {
  signal: AbortSignal;
  abortError: () => CredgateError;
  remaining: () => number;
  check: () => void;
  dispose: () => void;
}

/** The call's deadline and the caller's signal as one signal with the right error for each. */
export function openScope(callerSignal: AbortSignal | undefined, timeoutMs: number, what: string): Scope {
  const ctl = new AbortController();
  const started = Date.now();
  const timer = setTimeout(() => {
    ctl.abort(new CredgateError(`${what} did not finish within ${timeoutMs} ms; raise timeoutMs or check that the KDC answers.`, { code: 'TIMEOUT', details: { timeoutMs } }));
  }, timeoutMs);
  const onAbort = () => {
    const reason = callerSignal?.reason as unknown;
    const isTimeout = reason instanceof Error && reason.name === 'TimeoutError';
    ctl.abort(
      isTimeout
        ? new CredgateError(`${what} hit the caller's deadline; raise it or check that the KDC answers.`, { code: 'TIMEOUT', cause: reason })
        : new CredgateError(`${what} was aborted by the caller.`, { code: 'ABORTED', cause: reason }),
    );
  };
  if (callerSignal?.aborted) onAbort();
  else callerSignal?.addEventListener('abort', onAbort, { once: true });
  const abortError = () => ctl.signal.reason as CredgateError;
  return {
    signal: ctl.signal,
    abortError,
    remaining: () => Math.max(0, timeoutMs - (Date.now() - started)),
    check: () => {
      if (ctl.signal.aborted) throw abortError();
    },
    dispose: () => {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onAbort);
    },
  };
}

export interface Settings {
  principal: ClientPrincipal;
  transport: KerberosTransport;
  timeoutMs: number;
  kdcTimeoutMs: number;
  etypes: readonly SupportedEtype[];
  maxReplyBytes: number;
  workstation?: string;
}

function configError(message: string, option: string): CredgateError {
  return new CredgateError(message, { code: 'CONFIG_INVALID', details: { option } });
}

const positive = (v: number | undefined, dflt: number, option: string, max = 24 * 3600_000) => {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v <= 0 || v > max) throw configError(`${option} must be a positive number of milliseconds up to ${max}; got ${String(v)}.`, option);
  return Math.floor(v);
};

/** Validate every option before any packet leaves (CONFIG_INVALID). */
export function settingsFrom(o: KerberosCallOptions): Settings {
  if (typeof o.username !== 'string') throw configError('username must be a string such as alice@corp.example.', 'username');
  const principal = parseClientPrincipal(o.username, { realm: o.realm, defaultDomain: o.defaultDomain, enterprise: o.enterprise });
  if (o.transport !== undefined && o.transport !== 'udp' && o.transport !== 'tcp') throw configError(`transport must be 'udp' or 'tcp'; got ${String(o.transport)}.`, 'transport');
  const etypes = o.etypes ?? SUPPORTED_ETYPES;
  if (etypes.length === 0 || etypes.some((e) => !SUPPORTED_ETYPES.includes(e))) {
    throw configError(`etypes must list some of ${SUPPORTED_ETYPES.join(', ')} (AES256, AES128, RC4-HMAC).`, 'etypes');
  }
  const timeoutMs = positive(o.timeoutMs, DEFAULT_TIMEOUT_MS, 'timeoutMs');
  if (o.workstation !== undefined && !/^[A-Za-z0-9!@#$%^&'()._{}~-]{1,15}$/.test(o.workstation)) {
    throw configError(`workstation must be a NetBIOS computer name of 1 to 15 characters; got "${String(o.workstation).slice(0, 40)}".`, 'workstation');
  }
  return {
    principal,
    transport: o.transport ?? 'udp',
    timeoutMs,
    kdcTimeoutMs: Math.min(positive(o.kdcTimeoutMs, DEFAULT_KDC_TIMEOUT_MS, 'kdcTimeoutMs'), timeoutMs),
    etypes: [...new Set(etypes)],
    maxReplyBytes: positive(o.maxReplyBytes, DEFAULT_MAX_REPLY_BYTES, 'maxReplyBytes', DER_LIMITS.maxBytes),
    ...(o.workstation !== undefined ? { workstation: o.workstation } : {}),
  };
}

/** The KDCs to try: the kdcs option, or DNS SRV records for the realm. */
export async function kdcsFor(o: KerberosCallOptions, s: Settings, scope: Scope): Promise<KdcAddress[]> {
  if (o.kdcs !== undefined) return parseKdcList(o.kdcs);
  return discoverKdcs(s.principal.realm, { resolver: o.resolver, transport: s.transport, signal: scope.signal, timeoutMs: untilDeadline(scope, s.kdcTimeoutMs) });
}

export interface Exchanged {
  kdc: KdcAddress;
  reply: KdcReply;
  transport: KerberosTransport;
  /** This machine's clock when the reply arrived. */
  receivedAt: Date;
  /** The reply's bytes (parsed fields point into them): wipe once done, it holds tickets. */
  raw: Buffer;
}

function withKdc(e: CredgateError, kdc: KdcAddress, transport: KerberosTransport): CredgateError {
  const problem = (e.details?.problem as string | undefined) ?? e.message;
  const element = e.details?.element as string | undefined;
  return new CredgateError(
    `The KDC ${kdc.label} sent a malformed Kerberos reply over ${transport.toUpperCase()} (${element ? `${element}: ` : ''}${problem}); check that ${kdc.label} is a Kerberos KDC.`,
    { code: 'PROTOCOL_ERROR', cause: e, details: { kdc: kdc.label, transport, ...(element ? { element } : {}), problem } },
  );
}

/** Send `request` to one KDC and parse its reply (UDP first unless TCP-only or too large). */
/**
 * The wait for one exchange: `limitMs` (a KDC's own timeout) when it ends before the call's
 * deadline, else a little past the deadline — so that when the deadline comes first its TIMEOUT
 * decides, never a wait timer due at the same instant (which of two timers due together fires
 * first is the event loop's choice). Without a limit (the proof, the TGS request) the deadline alone.
 */
export function untilDeadline(scope: Scope, limitMs = Infinity): number {
  const left = scope.remaining();
  return limitMs < left ? Math.max(1, limitMs) : left + 50;
}

export async function exchange(kdc: KdcAddress, request: Buffer, s: Settings, scope: Scope, waitMs: number): Promise<Exchanged> {
  const o: RoundTripOptions = { signal: scope.signal, abortError: scope.abortError, waitMs, maxReplyBytes: s.maxReplyBytes };
  let transport: KerberosTransport = s.transport === 'tcp' || request.length > UDP_PREFERENCE_LIMIT ? 'tcp' : 'udp';
  let bytes = transport === 'udp' ? await udpRoundTrip(kdc, request, o) : await tcpRoundTrip(kdc, request, o);
  if (transport === 'udp' && isKrbErrorCode(bytes, KRB_ERR.RESPONSE_TOO_BIG)) {
    transport = 'tcp';
    bytes = await tcpRoundTrip(kdc, request, { ...o, waitMs: untilDeadline(scope, waitMs) });
  }
  const receivedAt = new Date();
  try {
    return { kdc, reply: parseKdcReply(bytes), transport, receivedAt, raw: bytes };
  } catch (e) {
    bytes.fill(0);
    if (e instanceof CredgateError && e.code === 'PROTOCOL_ERROR') throw withKdc(e, kdc, transport);
    throw e;
  }
}

/**
 * Send a request that carries no password proof to each KDC in turn until one answers. Faults
 * (refused, silent, garbage) move on to the next KDC; the call's deadline and abort do not.
 */
export async function exchangeWithFailover(kdcs: readonly KdcAddress[], request: Buffer, s: Settings, scope: Scope, what: string): Promise<Exchanged & { failover: KdcFailover[] }> {
  const failover: KdcFailover[] = [];
  let last: CredgateError | undefined;
  for (const kdc of kdcs) {
    scope.check();
    try {
      const ex = await exchange(kdc, request, s, scope, untilDeadline(scope, s.kdcTimeoutMs));
      return { ...ex, failover };
    } catch (e) {
      if (!(e instanceof CredgateError) || scope.signal.aborted) throw scope.signal.aborted ? scope.abortError() : e;
      if (e.code !== 'CONNECTION_FAILED' && e.code !== 'PROTOCOL_ERROR') throw e;
      failover.push({ kdc: kdc.label, code: e.code, ...(typeof e.details?.kind === 'string' ? { kind: e.details.kind } : {}) });
      last = e;
    }
  }
  if (kdcs.length === 1 && last) throw last;
  const codes = new Set<ErrorCode>(failover.map((f) => f.code));
  const list = failover.map((f) => `${f.kdc}: ${f.kind ?? f.code.toLowerCase()}`).join('; ');
  throw new CredgateError(`No KDC of ${s.principal.realm} answered the ${what} (${list}); check kdcs and that the KDCs are reachable.`, {
    code: codes.size === 1 ? [...codes][0]! : 'CONNECTION_FAILED',
    cause: last,
    details: { realm: s.principal.realm, kdcs: failover },
  });
}

export function clockOf(server: Date, receivedAt: Date): KdcClock {
  return { serverTime: server.toISOString(), clientTime: receivedAt.toISOString(), skewMs: server.getTime() - receivedAt.getTime() };
}

function summarize(info: EDataInfo | undefined, raw: Buffer | undefined): EDataSummary | undefined {
  if (!raw) return undefined;
  if (!info) return { form: 'unparsed' };
  return {
    form: info.form,
    ...(info.dataTypes ? { dataTypes: info.dataTypes } : {}),
    ...(info.padataTypes ? { padataTypes: info.padataTypes } : {}),
    ...(info.extendedFrom ? { extendedFrom: info.extendedFrom, extendedFlags: info.extended?.flags } : {}),
  };
}

/** e-data decoded if it can be; an undecodable e-data is reported as 'unparsed', not thrown. */
export function tryDecodeEData(raw: Buffer | undefined): EDataInfo | undefined {
  if (!raw) return undefined;
  try {
    return decodeEData(raw);
  } catch {
    return undefined;
  }
}

const clean = (s: string) => s.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 512);

/** The facts of a KRB-ERROR, as results carry them. */
export function krbErrorFacts(err: KrbErrorMessage, receivedAt: Date, proofSent: boolean): KrbErrorFacts {
  const info = tryDecodeEData(err.eData);
  const status = info?.extended?.status;
  const eData = summarize(info, err.eData);
  const server = new Date(err.stime.getTime() + Math.floor(err.susec / 1000));
  return {
    errorCode: err.errorCode,
    errorName: krbErrorName(err.errorCode),
    reason: failureReason(err.errorCode, status, proofSent),
    ...(err.eText ? { eText: clean(err.eText) } : {}),
    ...(status !== undefined ? { ntstatus: status, ntstatusName: ntstatusName(status) } : {}),
    ...(eData ? { eData } : {}),
    ...(err.errorCode === KRB_ERR.WRONG_REALM && err.crealm ? { referralRealm: clean(err.crealm) } : {}),
    clock: clockOf(server, receivedAt),
  };
}
