/**
 * Faults → findings → exit codes: the one place that decides what a fault (a CredgateError, a
 * socket or TLS error) means for the verdict. A network fault met by a check becomes the finding
 * an admin acts on (net.*, tls.*, rdp.not-rdp); a fault that stopped a preflight step becomes the
 * finding that decides the verdict by its error code; a fault that ends a CLI command gives its
 * exit code.
 */
import { CredgateError, type ErrorCode } from '../core/errors.js';
import { finding, type Finding } from './finding.js';
import { EXIT_CODES, fixes } from './catalog.js';

// ---------------------------------------------------------------- the exit code of a fault

/** The exit code a command ends with when a fault stops it (README "Exit codes"). */
export function exitCodeForError(e: unknown): number {
  if (!(e instanceof CredgateError)) return EXIT_CODES.internal;
  return exitCodeForErrorCode(e.code);
}

export function exitCodeForErrorCode(code: ErrorCode): number {
  switch (code) {
    case 'USAGE':
    case 'CONFIG_INVALID':
    case 'INPUT_INVALID':
    case 'UNSUPPORTED_PLATFORM':
      return EXIT_CODES.usage;
    case 'CONNECTION_FAILED':
    case 'TIMEOUT':
    case 'TLS_FAILED':
    case 'PROTOCOL_ERROR':
      return EXIT_CODES.unreachable;
    case 'ABORTED':
      return EXIT_CODES.interrupted;
    case 'INTERNAL':
    case 'LAB_FAILED':
      return EXIT_CODES.internal;
    default:
      return code.startsWith('PROVIDER_') ? EXIT_CODES.provider : EXIT_CODES.internal;
  }
}

/**
 * The exit code of a run stopped by a terminating signal: 128 + the signal's number, as a shell
 * reports a process the signal killed (SIGHUP 129, SIGINT 130, SIGTERM 143). Windows' Ctrl-Break
 * (SIGBREAK) is its console's other interrupt key: 130, as Ctrl-C.
 */
export function exitCodeForSignal(signal: string): number {
  switch (signal) {
    case 'SIGHUP':
      return EXIT_CODES.hangup;
    case 'SIGTERM':
      return EXIT_CODES.terminated;
    default:
      return EXIT_CODES.interrupted;
  }
}

// ---------------------------------------------------------------- a preflight step's fault

/**
 * A step's fault (a CredgateError) as the finding that decides the verdict by its code:
 * PROVIDER_* → provider (exit 5); TLS / connection / timeout / protocol → unreachable (exit 4);
 * configuration → usage (exit 2); anything else → internal (exit 70). Never informational.
 */
export function stepFaultFinding(step: string, e: CredgateError): Finding {
  const ev = { errorCode: e.code, ...(e.details ?? {}) };
  if (e.code.startsWith('PROVIDER_') || (step === 'provider' && e.code === 'TIMEOUT')) {
    // a vault that does not answer in time is the vault's fault, not the RDP host's
    const code = e.code === 'PROVIDER_NOT_FOUND' ? 'provider.not-found' : e.code === 'PROVIDER_AUTH_FAILED' ? 'provider.auth-failed'
      : e.code === 'PROVIDER_UNAVAILABLE' || e.code === 'PROVIDER_RATE_LIMITED' || e.code === 'TIMEOUT' ? 'provider.unavailable' : 'provider.error';
    return finding(step, code, 'error', e.message, ev, fixes(code, 'default'));
  }
  switch (e.code) {
    case 'TIMEOUT':
      return finding(step, 'net.timeout', 'error', `${step}: ${e.message}`, ev, fixes('net.timeout', 'step'));
    case 'ABORTED':
      return finding(step, 'step.aborted', 'error', `${step}: ${e.message}`, ev, fixes('step.aborted', 'default'));
    case 'CONFIG_INVALID':
    case 'USAGE':
    case 'INPUT_INVALID':
      return finding(step, 'config.invalid', 'error', e.message, ev, fixes('config.invalid', 'default'));
    case 'TLS_FAILED':
      return finding(step, 'step.tls-failed', 'error', `${step}: ${e.message}`, ev, fixes('step.tls-failed', 'default'));
    case 'CONNECTION_FAILED':
      return finding(step, 'step.connection-failed', 'error', `${step}: ${e.message}`, ev, fixes('step.connection-failed', 'default'));
    case 'PROTOCOL_ERROR':
      return finding(step, 'step.protocol-error', 'error', `${step}: ${e.message}`, ev, fixes('step.protocol-error', 'default'));
    default:
      return finding(step, 'step.error', 'error', `${step} could not run: ${e.message}`, ev, fixes('step.error', 'default'));
  }
}


// ---------------------------------------------------------------- a directory's connection fault

/** The LDAP server a fault happened with. */
export interface DirectoryTarget {
  url: string;
  scheme: 'ldap' | 'ldaps';
  host: string;
  port: number;
}

const TLS_UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'CERT_REVOKED', 'INVALID_CA', 'CERT_CHAIN_TOO_LONG', 'PATH_LENGTH_EXCEEDED',
]);

/** The errno-style code of an error or its causes (ECONNREFUSED, CERT_HAS_EXPIRED, ...). */
export function errnoOf(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  const msg = e instanceof Error ? e.message : '';
  const m = /\b(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ECONNRESET|EPIPE)\b/.exec(msg);
  return m?.[1];
}

/**
 * An LDAP result (ldapts' ResultCodeError: an answer from the server, with its numeric result
 * code), not a network failure. DOMException has a numeric legacy code too (a deadline's
 * TimeoutError is 23): that is no answer.
 */
export function ldapResultCode(e: unknown): number | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return e instanceof Error && !(e instanceof DOMException) && typeof code === 'number' ? code : undefined;
}
/** The error as an LDAP result (code, name, message) when it is one. */
export function asLdapResult(e: unknown): (Error & { code: number }) | undefined {
  return ldapResultCode(e) === undefined ? undefined : (e as Error & { code: number });
}
const isLdapResult = (e: unknown): boolean => ldapResultCode(e) !== undefined;

/**
 * A failure to connect to a directory / upgrade to TLS as a finding (an answer about the network),
 * or undefined when the error is something else.
 *
 * With `requestSent` (the request was already written to the server), every failure is either
 * `net.timeout` or `net.connection-lost`, never a TLS/handshake finding: the server had the
 * request (for a bind: it may have checked the password).
 */
export function connectionFinding(
  e: unknown, u: DirectoryTarget, source: string, phase: string, timedOut: boolean, o: { requestSent?: boolean } = {},
): Finding | undefined {
  const code = errnoOf(e);
  const msg = e instanceof Error ? e.message : String(e);
  const ev: Record<string, unknown> = { url: u.url, host: u.host, port: u.port, phase, error: code ?? msg.slice(0, 300) };
  const ctx = { host: u.host, port: u.port, url: u.url };
  if (e instanceof CredgateError && e.code === 'PROTOCOL_ERROR') {
    // the server's bytes broke the protocol: said when they arrive, whatever the phase
    Object.assign(ev, { error: msg.slice(0, 300), ...(e.details ?? {}), ...(o.requestSent ? { requestSent: true } : {}) });
    return finding(source, 'ldap.protocol-error', 'error', `${u.url} broke the LDAP protocol during the ${phase}: ${msg}`, ev, fixes('ldap.protocol-error', o.requestSent ? 'directory-sent' : 'directory', ctx));
  }
  if (o.requestSent) {
    if (isLdapResult(e)) return undefined;
    ev.requestSent = true;
    const timeout = timedOut || code === 'ETIMEDOUT' || /timed? ?out/i.test(msg);
    return timeout
      ? finding(source, 'net.timeout', 'error', `${u.url} received the ${phase} request but did not answer within the deadline.`, ev, fixes('net.timeout', 'directory-sent', ctx))
      : finding(source, 'net.connection-lost', 'error', `The connection to ${u.url} was lost after the ${phase} request was sent, before the server answered.`, ev, fixes('net.connection-lost', 'directory-sent', ctx));
  }
  if (timedOut || code === 'ETIMEDOUT' || /timed? ?out/i.test(msg)) {
    return finding(source, 'net.timeout', 'error', `${u.url} did not answer within the deadline (${phase}).`, ev, fixes('net.timeout', 'directory', ctx));
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') {
    return finding(source, 'net.dns-failure', 'error', `The host name ${u.host} does not resolve.`, ev, fixes('net.dns-failure', 'directory', ctx));
  }
  if (code === 'ECONNREFUSED') {
    return finding(source, 'net.refused', 'error', `Nothing accepts connections on ${u.host} port ${u.port}.`, ev, fixes('net.refused', u.scheme === 'ldaps' ? 'directory-ldaps' : 'directory', ctx));
  }
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') {
    return finding(source, 'net.unreachable', 'error', `There is no route to ${u.host}.`, ev, fixes('net.unreachable', 'directory', ctx));
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return finding(source, 'tls.name-mismatch', 'error', `The directory's certificate is not issued for ${u.host}.`, ev, fixes('tls.name-mismatch', 'directory', ctx));
  }
  if (code === 'CERT_HAS_EXPIRED') {
    return finding(source, 'tls.expired', 'error', `The directory's certificate at ${u.url} has expired.`, ev, fixes('tls.expired', 'directory', ctx));
  }
  if (code && TLS_UNTRUSTED.has(code)) {
    return finding(source, 'tls.untrusted', 'error', `The directory's certificate at ${u.url} is not trusted (${code}).`, ev, fixes('tls.untrusted', 'directory', ctx));
  }
  if (code === 'ECONNRESET' || code === 'EPIPE' || /ssl|tls|handshake|secure/i.test(msg)) {
    return finding(source, 'tls.handshake-failed', 'error', `The TLS handshake with ${u.url} failed.`, ev, fixes('tls.handshake-failed', 'directory', ctx));
  }
  return undefined;
}

// ---------------------------------------------------------------- an RDP host's connection fault

/**
 * A connection fault with an RDP host (CredgateError details.kind from the X.224 client) as the
 * finding an admin acts on: DNS, refused, timed out, unreachable, lost, not RDP, TLS. Each names
 * a different fix.
 */
export function rdpFaultFinding(e: CredgateError, host: string, port: number, extra: Record<string, unknown> = {}, source = 'rdp-endpoint'): Finding {
  const kind = String(e.details?.kind ?? '');
  const ev = { host, port, ...extra, error: e.message, ...(e.details ?? {}) };
  const ctx = { host, port };
  switch (kind) {
    case 'dns':
      return finding(source, 'net.dns-failure', 'error', `The host name ${host} does not resolve.`, ev, fixes('net.dns-failure', 'rdp', ctx));
    case 'refused':
      return finding(source, 'net.refused', 'error', `Nothing accepts connections on ${host} port ${port}: Remote Desktop is off or listens elsewhere.`, ev, fixes('net.refused', 'rdp', ctx));
    case 'timeout':
      return finding(source, 'net.timeout', 'error', `${host} port ${port} did not answer in time${e.details?.phase && e.details.phase !== 'tcp' ? ` (during ${String(e.details.phase)})` : ''}: a firewall drops the packets, a port forward is missing, or the service hangs.`, ev, fixes('net.timeout', 'rdp', ctx));
    case 'unreachable':
      return finding(source, 'net.unreachable', 'error', `There is no route to ${host} (${String(e.details?.errno ?? 'unreachable')}).`, ev, fixes('net.unreachable', 'rdp', ctx));
    case 'socket':
      return finding(source, 'net.connection-lost', 'error', `The connection to ${host}:${port} failed (${String(e.details?.errno ?? e.message)}).`, ev, fixes('net.connection-lost', 'rdp', ctx));
    case 'not-rdp':
    case 'reset':
      return finding(source, 'rdp.not-rdp', 'error', `Something answers on ${host}:${port}, but it is not an RDP server (${e.message})`, ev, fixes('rdp.not-rdp', 'default', ctx));
    case 'tls':
      return finding(source, 'tls.handshake-failed', 'error', `The TLS handshake with the RDP host failed (${String(e.details?.errno ?? e.message)}).`, ev, fixes('tls.handshake-failed', 'rdp'));
    default:
      // an RDP host that speaks its protocols wrongly (a malformed TSRequest, NTLM challenge or
      // certificate) is a protocol error, never a network one
      if (e.code === 'PROTOCOL_ERROR') return rdpProtocolFinding(e, host, port, ev, source);
      return finding(source, 'net.unreachable', 'error', `Connecting to ${host}:${port} failed: ${e.message}`, ev, fixes('net.unreachable', 'other'));
  }
}

function rdpProtocolFinding(e: CredgateError, host: string, port: number, ev: Record<string, unknown>, source: string): Finding {
  return finding(source, 'rdp.protocol-error', 'error', `${host}:${port} broke the protocol: ${e.message}`, ev, fixes('rdp.protocol-error', 'default', { host, port }));
}

const NLA_FAULTS = new Set(['CONNECTION_FAILED', 'TIMEOUT', 'TLS_FAILED', 'PROTOCOL_ERROR']);

/** A fault of the NLA check (refused, timeout, TLS, protocol) as the finding an admin acts on; undefined for anything else. */
export function nlaFaultFinding(e: unknown, host: string, port: number): Finding | undefined {
  if (!(e instanceof CredgateError) || !NLA_FAULTS.has(e.code)) return undefined;
  const kind = String(e.details?.kind ?? '');
  const ev = { step: 'rdp-nla', host, port, error: e.message, ...(e.details ?? {}) };
  switch (kind) {
    case 'untrusted': {
      const expired = /EXPIRED/i.test(String(e.details?.reason ?? ''));
      return expired
        ? finding('rdp-nla', 'tls.expired', 'error', e.message, ev, fixes('tls.expired', 'rdp'))
        : finding('rdp-nla', 'tls.untrusted', 'error', e.message, ev, fixes('tls.untrusted', 'rdp'));
    }
    case 'pubkey-mismatch':
      return finding('rdp-nla', 'tls.handshake-failed', 'error', e.message, ev, fixes('tls.handshake-failed', 'nla-pubkey'));
    case 'closed':
      return finding('rdp-nla', 'net.connection-lost', 'error', e.message, ev, fixes('net.connection-lost', 'nla-closed'));
    case 'credssp-version':
      // a CredSSP version credgate does not speak: the protocols do not meet, nothing is malformed
      return finding('rdp-nla', 'rdp.neg-failure', 'error', e.message, ev, fixes('rdp.neg-failure', 'credssp'));
    default: {
      // a malformed TSRequest, NTLM challenge or certificate: the host speaks its protocols wrongly
      // (not-rdp / reset: the X.224 answer was no RDP at all, rdpFaultFinding's rdp.not-rdp)
      if (e.code === 'PROTOCOL_ERROR' && kind !== 'not-rdp' && kind !== 'reset') return rdpProtocolFinding(e, host, port, ev, 'rdp-nla');
      const k = kind || (e.code === 'TIMEOUT' ? 'timeout' : e.code === 'TLS_FAILED' ? 'tls' : '');
      const err = k === kind ? e : new CredgateError(e.message, { code: e.code, details: { ...(e.details ?? {}), kind: k } });
      return rdpFaultFinding(err, host, port, { step: 'rdp-nla' });
    }
  }
}

// ---------------------------------------------------------------- a KDC's connection fault

const KDC_FAULTS = new Set(['CONNECTION_FAILED', 'TIMEOUT', 'PROTOCOL_ERROR']);

/** "host:port" / "[v6]:port" (the Kerberos client's KDC labels) → host and port. */
function kdcHostPort(label: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(label) ?? /^([^:]+):(\d+)$/.exec(label);
  return m ? { host: m[1]!, port: Number(m[2]) } : { host: label, port: 88 };
}

/**
 * A fault of the Kerberos client (no KDC reachable, a KDC silent or hanging up, a reply that is
 * not Kerberos, the deadline) as the finding an admin acts on; undefined for anything else
 * (configuration, abort). After the password proof was sent (details.proofSent) a lost or late
 * answer is `net.timeout` / `net.connection-lost` with the fix that says it is not resent.
 */
export function kdcFaultFinding(e: unknown, source = 'kerberos'): Finding | undefined {
  if (!(e instanceof CredgateError) || !KDC_FAULTS.has(e.code)) return undefined;
  const d = e.details ?? {};
  const tried = Array.isArray(d.kdcs) ? (d.kdcs as Array<{ kdc: string; kind?: string }>) : [];
  const label = typeof d.kdc === 'string' ? d.kdc : tried[0]?.kdc ?? '';
  const { host, port } = label ? kdcHostPort(label) : { host: 'the KDC', port: 88 };
  const sent = d.proofSent === true;
  const kinds = new Set(tried.map((t) => t.kind));
  const kind = String(d.kind ?? (kinds.size === 1 ? [...kinds][0] : '') ?? '');
  const ctx = { host: tried.length > 1 ? tried.map((t) => t.kdc).join(', ') : host, port };
  const ev: Record<string, unknown> = { kdc: label || undefined, errorCode: e.code, ...d, error: e.message };
  if (e.code === 'PROTOCOL_ERROR') return finding(source, 'step.protocol-error', 'error', e.message, ev, fixes('step.protocol-error', 'default'));
  if (e.code === 'TIMEOUT' || kind === 'timeout') {
    return finding(source, 'net.timeout', 'error', sent
      ? `The KDC ${label} received the password proof but did not answer in time; credgate did not resend it.`
      : `${e.message}`, ev, fixes('net.timeout', sent ? 'kdc-sent' : 'kdc', ctx));
  }
  switch (kind) {
    case 'dns':
      return finding(source, 'net.dns-failure', 'error', e.message, ev, fixes('net.dns-failure', 'kdc', ctx));
    case 'refused':
      return finding(source, 'net.refused', 'error', e.message, ev, fixes('net.refused', 'kdc', ctx));
    case 'reset':
    case 'closed':
      return finding(source, 'net.connection-lost', 'error', sent ? `The KDC ${label} dropped the connection after the password proof was sent; credgate did not resend it.` : e.message, ev, fixes('net.connection-lost', sent ? 'kdc-sent' : 'kdc', ctx));
    default:
      return finding(source, 'net.unreachable', 'error', e.message, ev, fixes('net.unreachable', 'kdc', ctx));
  }
}
