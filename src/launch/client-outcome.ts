/**
 * The RDP client's outcome as findings: what FreeRDP's log (freerdp-log.ts) and exit code say
 * about a session that did not start, or about how a started one ended. The causes and fixes are
 * the catalog's `launch.*` rows; this file only decides which row and which context (variant).
 */
import { finding, type Finding } from '../findings/finding.js';
import { fixes, type FixContext } from '../findings/catalog.js';
import type { ClientLog } from './freerdp-log.js';

export type LaunchFindingCode =
  | 'launch.cert-changed' | 'launch.cert-refused' | 'launch.tls-failed' | 'launch.nego-failed' | 'launch.connect-failed'
  | 'launch.logon-failure' | 'launch.account-unusable' | 'launch.server-denied' | 'launch.licensing' | 'launch.disconnected'
  | 'launch.client-failed' | 'launch.client-exited' | 'launch.establish-timeout';

/** A decoded cause: the catalog row and the context its fix is written for. */
export interface Cause {
  code: LaunchFindingCode;
  variant: string;
}

const c = (code: LaunchFindingCode, variant = 'default'): Cause => ({ code, variant });

/** ERRCONNECT_* (include/freerdp/error.h) by name without the prefix. */
export const ERRCONNECT_CAUSES: Readonly<Record<string, Cause>> = {
  PRE_CONNECT_FAILED: c('launch.client-failed', 'config'),
  CONNECT_UNDEFINED: c('launch.connect-failed'),
  POST_CONNECT_FAILED: c('launch.client-failed', 'config'),
  DNS_ERROR: c('launch.connect-failed', 'dns'),
  DNS_NAME_NOT_FOUND: c('launch.connect-failed', 'dns'),
  CONNECT_FAILED: c('launch.connect-failed'),
  MCS_CONNECT_INITIAL_ERROR: c('launch.connect-failed'),
  TLS_CONNECT_FAILED: c('launch.tls-failed'),
  AUTHENTICATION_FAILED: c('launch.logon-failure'),
  INSUFFICIENT_PRIVILEGES: c('launch.server-denied', 'privileges'),
  CONNECT_CANCELLED: c('launch.client-exited'),
  SECURITY_NEGO_CONNECT_FAILED: c('launch.nego-failed'),
  CONNECT_TRANSPORT_FAILED: c('launch.connect-failed'),
  PASSWORD_EXPIRED: c('launch.account-unusable', 'password-expired'),
  PASSWORD_CERTAINLY_EXPIRED: c('launch.account-unusable', 'password-expired'),
  CLIENT_REVOKED: c('launch.account-unusable', 'revoked'),
  KDC_UNREACHABLE: c('launch.connect-failed', 'kdc'),
  ACCOUNT_DISABLED: c('launch.account-unusable', 'disabled'),
  PASSWORD_MUST_CHANGE: c('launch.account-unusable', 'password-must-change'),
  LOGON_FAILURE: c('launch.logon-failure'),
  WRONG_PASSWORD: c('launch.logon-failure'),
  ACCESS_DENIED: c('launch.account-unusable', 'access-denied'),
  ACCOUNT_RESTRICTION: c('launch.account-unusable', 'restricted'),
  ACCOUNT_LOCKED_OUT: c('launch.account-unusable', 'locked'),
  ACCOUNT_EXPIRED: c('launch.account-unusable', 'expired'),
  LOGON_TYPE_NOT_GRANTED: c('launch.account-unusable', 'logon-type'),
  NO_OR_MISSING_CREDENTIALS: c('launch.client-failed', 'credentials'),
};

/** xfreerdp's own exit codes 128–159 (XF_EXIT_*, client/X11/xfreerdp.h) and the ERRCONNECT each stands for. */
const XF_EXIT_CLIENT: ReadonlyArray<[string, string]> = [
  ['PARSE_ARGUMENTS', ''], ['MEMORY', ''], ['PROTOCOL', ''], ['CONN_FAILED', 'CONNECT_FAILED'], ['AUTH_FAILURE', 'AUTHENTICATION_FAILED'],
  ['NEGO_FAILURE', 'SECURITY_NEGO_CONNECT_FAILED'], ['LOGON_FAILURE', 'LOGON_FAILURE'], ['ACCOUNT_LOCKED_OUT', 'ACCOUNT_LOCKED_OUT'],
  ['PRE_CONNECT_FAILED', 'PRE_CONNECT_FAILED'], ['CONNECT_UNDEFINED', 'CONNECT_UNDEFINED'], ['POST_CONNECT_FAILED', 'POST_CONNECT_FAILED'],
  ['DNS_ERROR', 'DNS_ERROR'], ['DNS_NAME_NOT_FOUND', 'DNS_NAME_NOT_FOUND'], ['CONNECT_FAILED', 'CONNECT_FAILED'],
  ['MCS_CONNECT_INITIAL_ERROR', 'MCS_CONNECT_INITIAL_ERROR'], ['TLS_CONNECT_FAILED', 'TLS_CONNECT_FAILED'],
  ['INSUFFICIENT_PRIVILEGES', 'INSUFFICIENT_PRIVILEGES'], ['CONNECT_CANCELLED', 'CONNECT_CANCELLED'],
  ['SECURITY_NEGO_CONNECT_FAILED', 'SECURITY_NEGO_CONNECT_FAILED'], ['CONNECT_TRANSPORT_FAILED', 'CONNECT_TRANSPORT_FAILED'],
  ['CONNECT_PASSWORD_EXPIRED', 'PASSWORD_EXPIRED'], ['CONNECT_PASSWORD_MUST_CHANGE', 'PASSWORD_MUST_CHANGE'],
  ['CONNECT_KDC_UNREACHABLE', 'KDC_UNREACHABLE'], ['CONNECT_ACCOUNT_DISABLED', 'ACCOUNT_DISABLED'],
  ['CONNECT_PASSWORD_CERTAINLY_EXPIRED', 'PASSWORD_CERTAINLY_EXPIRED'], ['CONNECT_CLIENT_REVOKED', 'CLIENT_REVOKED'],
  ['CONNECT_WRONG_PASSWORD', 'WRONG_PASSWORD'], ['CONNECT_ACCESS_DENIED', 'ACCESS_DENIED'], ['CONNECT_ACCOUNT_RESTRICTION', 'ACCOUNT_RESTRICTION'],
  ['CONNECT_ACCOUNT_EXPIRED', 'ACCOUNT_EXPIRED'], ['CONNECT_LOGON_TYPE_NOT_GRANTED', 'LOGON_TYPE_NOT_GRANTED'],
  ['CONNECT_NO_OR_MISSING_CREDENTIALS', 'NO_OR_MISSING_CREDENTIALS'],
];

/** The ERRINFO codes (MS-RDPBCGR 2.2.5.1.1) that mean the user ended the session. */
const USER_ENDED = new Set([0x0b, 0x0c]);

/** ERRINFO_* (the host's Set Error Info PDU) by code. */
export function errinfoCause(code: number): Cause | undefined {
  if (USER_ENDED.has(code) || code === 0) return undefined;
  if (code === 0x01 || code === 0x02) return c('launch.disconnected', 'admin');
  if (code === 0x03) return c('launch.disconnected', 'idle');
  if (code === 0x04) return c('launch.disconnected', 'logon-timeout');
  if (code === 0x05) return c('launch.disconnected', 'replaced');
  if (code === 0x07) return c('launch.server-denied', 'denied');
  if (code === 0x08) return c('launch.server-denied', 'fips');
  if (code === 0x09) return c('launch.server-denied', 'privileges');
  if (code === 0x0a) return c('launch.server-denied', 'fresh-credentials');
  if (code >= 0x100 && code <= 0x10a) return c('launch.licensing');
  if (code >= 0x400 && code <= 0x412) return c('launch.connect-failed', 'broker');
  if (code >= 0x10c9 && code <= 0x1196) return c('launch.disconnected', 'protocol');
  return c('launch.disconnected', 'server-error');
}

/** The name of an xfreerdp exit code (XF_EXIT_*), for the evidence. */
export function xfExitName(code: number): string | undefined {
  const low = ['SUCCESS', 'DISCONNECT', 'LOGOFF', 'IDLE_TIMEOUT', 'LOGON_TIMEOUT', 'CONN_REPLACED', 'OUT_OF_MEMORY', 'CONN_DENIED', 'CONN_DENIED_FIPS', 'USER_PRIVILEGES', 'FRESH_CREDENTIALS_REQUIRED', 'DISCONNECT_BY_USER'];
  if (code >= 0 && code < low.length) return `XF_EXIT_${low[code]}`;
  if (code >= 16 && code <= 26) return `XF_EXIT_LICENSE_${code - 16}`;
  if (code === 32) return 'XF_EXIT_RDP';
  const hi = XF_EXIT_CLIENT[code - 128];
  if (hi) return `XF_EXIT_${hi[0]}`;
  return code === 255 ? 'XF_EXIT_UNKNOWN' : undefined;
}

/** What an exit code alone says (for a client whose log said nothing decisive). */
export function exitCodeCause(code: number, established: boolean): Cause | undefined {
  if (code === 0 || code === 11 || code === 12 || (code === 2 && established)) return undefined;
  if (code === 1 && !established) return c('launch.client-failed', 'config');
  if (code >= 1 && code <= 10) return errinfoCause(code);
  if (code >= 16 && code <= 26) return c('launch.licensing');
  if (code === 32 || code === 130) return c('launch.disconnected', 'protocol');
  if (code === 128) return c('launch.client-failed', 'arguments');
  if (code === 129) return c('launch.client-failed', 'config');
  const hi = XF_EXIT_CLIENT[code - 128];
  if (hi?.[1]) return ERRCONNECT_CAUSES[hi[1]];
  return c('launch.client-exited');
}

export interface ClientEnd {
  /** The client's exit code, or null when a signal ended it. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface DecodeContext {
  host: string;
  port: number;
  /** The command, for messages (`xfreerdp`). */
  client: string;
  /** SHA-256 fingerprints (upper-case hex) credgate verified and handed to the client; empty when it verified none. */
  verified: readonly string[];
  /** The session reached CONNECTION_STATE_ACTIVE. */
  established: boolean;
  /** credgate passed this signal on (Ctrl-C, SIGTERM, SIGHUP), so the end is the caller's. */
  stoppedBy?: NodeJS.Signals;
  /** credgate stopped the client because it neither established nor exited in time. */
  timedOutMs?: number;
  /** The end of the client's stdout/stderr, already scrubbed. */
  output?: string;
  /** The log lines kept as evidence, already scrubbed. */
  lines?: readonly string[];
}

const colons = (hex: string) => hex.toUpperCase().replace(/(..)(?!$)/g, '$1:');

/** The decided cause of a failed or ended session, or undefined when it ended by the user's hand. */
export function clientCause(log: ClientLog, end: ClientEnd, ctx: Pick<DecodeContext, 'verified' | 'established' | 'timedOutMs'>): Cause | undefined {
  if (ctx.timedOutMs !== undefined) return c('launch.establish-timeout');
  const tlsFailed = log.errconnect?.name === 'ERRCONNECT_TLS_CONNECT_FAILED';
  if (log.certRefused || (tlsFailed && (log.nameMismatch || log.hostKeyChanged))) {
    if (ctx.verified.length) return c('launch.cert-changed');
    return c('launch.cert-refused', log.hostKeyChanged ? 'host-key-changed' : log.nameMismatch ? 'name-mismatch' : 'untrusted');
  }
  if (log.errinfo) {
    if (USER_ENDED.has(log.errinfo.code)) return ctx.established ? undefined : c('launch.client-exited');
    return errinfoCause(log.errinfo.code);
  }
  if (log.errconnect) {
    const cause = ERRCONNECT_CAUSES[log.errconnect.name.replace(/^ERRCONNECT_/, '')];
    if (cause) return cause;
  }
  if (log.negoFailure) return c('launch.nego-failed');
  if (log.displayFailed) return c('launch.client-failed', 'display');
  if (log.connectPhaseFailed) return c('launch.client-failed', 'config');
  if (end.code === null) return c('launch.client-exited');
  const byExit = exitCodeCause(end.code, ctx.established);
  if (byExit) return byExit;
  return ctx.established ? undefined : c('launch.client-exited');
}

/**
 * The findings for the client's end: one deciding finding — `launch.session-ended` (info) when
 * the user or credgate's signal ended a session, else the decoded `launch.*` cause (error).
 */
export function clientEndFindings(log: ClientLog, end: ClientEnd, ctx: DecodeContext): Finding[] {
  const where = `${ctx.host}:${ctx.port}`;
  const exitName = end.code !== null ? xfExitName(end.code) : undefined;
  const evidence: Record<string, unknown> = {
    client: ctx.client, established: ctx.established,
    clientExitCode: end.code, ...(exitName ? { clientExit: exitName } : {}), ...(end.signal ? { clientSignal: end.signal } : {}),
    ...(log.errconnect ? { errconnect: `${log.errconnect.name} [${log.errconnect.hex}]` } : {}),
    ...(log.errinfo ? { errinfo: `${log.errinfo.name} [${log.errinfo.hex}]${log.errinfo.description ? ` ${log.errinfo.description}` : ''}` } : {}),
    ...(ctx.verified.length ? { verifiedSha256: ctx.verified.map(colons) } : {}),
    ...(log.verifyFailure ? { clientVerify: log.verifyFailure } : {}),
    ...(log.certNames.length ? { certificateNames: log.certNames } : {}),
    ...(log.negoFailure ? { negotiation: log.negoFailure } : {}),
    ...(ctx.timedOutMs !== undefined ? { timeoutMs: ctx.timedOutMs } : {}),
    ...(ctx.lines?.length ? { log: ctx.lines.slice(-12) } : {}),
    ...(ctx.output ? { output: ctx.output } : {}),
  };
  if (ctx.stoppedBy) {
    return [finding('launch', 'launch.session-ended', 'info', `credgate passed ${ctx.stoppedBy} on to ${ctx.client}, which ${ctx.established ? 'ended the session' : 'stopped before the session was established'}.`, { ...evidence, stoppedBy: ctx.stoppedBy })];
  }
  const decided = clientCause(log, end, ctx);
  // a connection that drops once the session is up is lost, not refused
  const cause = decided?.code === 'launch.connect-failed' && decided.variant === 'default' && ctx.established ? { ...decided, variant: 'lost' } : decided;
  if (!cause) {
    const how = log.errinfo?.code === 0x0c ? 'the user logged off' : log.errinfo?.code === 0x0b ? 'the user disconnected' : `${ctx.client} exited with ${end.code}`;
    return [finding('launch', 'launch.session-ended', 'info', `The session with ${where} ended: ${how}.`, evidence)];
  }
  const phase = ctx.established ? 'after the session was established' : 'before the session was established';
  const said = log.errinfo ? log.errinfo.name : log.errconnect ? log.errconnect.name : exitName ?? (end.signal ? `signal ${end.signal}` : `exit code ${end.code}`);
  const ctxFix: FixContext = { host: ctx.host, port: ctx.port };
  let message: string;
  switch (cause.code) {
    case 'launch.cert-changed':
      message = `${ctx.client} refused the certificate ${where} presented: it is not the one credgate verified (SHA-256 ${colons(ctx.verified[0]!)})${log.verifyFailure ? `; the client found "${log.verifyFailure}"` : ''}. The host's certificate changed between the check and the launch.`;
      break;
    case 'launch.cert-refused':
      message = `${ctx.client} did not trust the certificate ${where} presented (${cause.variant === 'host-key-changed' ? 'it differs from the one the client remembers' : cause.variant === 'name-mismatch' ? `it is issued for ${log.certNames.join(', ') || 'another name'}` : log.verifyFailure ?? 'not in its trust store'}), and credgate had verified none to hand it.`;
      if (log.certNames[0]) ctxFix.detail = log.certNames[0];
      break;
    case 'launch.nego-failed':
      message = `${ctx.client} and ${where} agreed on no security protocol: the host answered ${log.negoFailure ?? said}.`;
      ctxFix.detail = log.negoFailure ?? said;
      break;
    case 'launch.establish-timeout':
      message = `${ctx.client} neither established the session with ${where} nor exited within ${ctx.timedOutMs} ms; credgate stopped it.`;
      break;
    case 'launch.client-exited':
      message = `${ctx.client} exited ${phase} (${end.signal ? `signal ${end.signal}` : `exit code ${end.code}`}) without a cause credgate can decode.`;
      break;
    default:
      message = `${ctx.client} ${ctx.established ? 'lost' : 'could not establish'} the session with ${where} (${said}${log.errinfo?.description ? `: ${log.errinfo.description}` : ''}), ${phase}.`;
      ctxFix.detail = said;
  }
  return [finding('launch', cause.code, 'error', message, evidence, fixes(cause.code, cause.variant as never, ctxFix))];
}
