/**
 * Prove a credential with an LDAP simple bind, over LDAPS or StartTLS, and explain the answer:
 * every AD `data XXX` sub-code and every ppolicy response becomes a finding with the cause and
 * the fix. A rejected password is a finding, not an exception. Connection failures are findings
 * too (net.*, tls.*). Several URLs fail over in order, each with its own timeout (timeoutMs) inside
 * an overall bound (overallTimeoutMs, default timeoutMs × URLs), but only while the bind has not
 * reached a server: once the bind request is written, whatever happens next (an answer, a lost
 * connection, no answer) is final — credgate never re-sends a bind, so it never costs the account
 * a second bad-password count.
 */
import { ConfigError, CredgateError, abortError } from '../core/errors.js';
import { finding, type Finding } from '../findings/finding.js';
import { fixes } from '../findings/catalog.js';
import { parseAccountName } from '../core/credential.js';
import { scrub, type Secret } from '../core/secret.js';
import { bindAnswerFindings } from './ldap-answer.js';
import {
  assertBindTransport, attemptDeadlines, loadCa, parseLdapUrls, tlsOptionsFor, withSignal, type LdapTransportOptions, type ParsedUrl,
} from '../protocols/ldap/transport.js';
import { LdapWireConnection, WireConnectionError } from '../protocols/ldap/connection.js';
import { connectionFinding } from '../findings/faults.js';
import { decideAccount } from '../findings/diagnose.js';
import { CHANNELS, traced } from '../core/telemetry.js';

export interface LdapBindOptions extends LdapTransportOptions {
  /** alice@corp.example, CORP\alice, CN=Alice,OU=...,DC=corp,DC=example, or alice + defaultDomain */
  username: string;
  password: Secret;
  /** For a bare user name: a DNS domain (→ UPN) or a NetBIOS name (→ DOMAIN\user). */
  defaultDomain?: string;
  /** Send the password policy request control (OpenLDAP ppolicy and others). Default true. */
  passwordPolicy?: boolean;
  /** Warn when the password expires within this many days (ppolicy). Default 14. */
  expiryWarningDays?: number;
  /**
   * The caller's stop (a terminating signal): a bind in flight finishes and is answered, but no
   * bind is sent to the next URL once it fired (the URLs left are reported as not tried).
   */
  stop?: AbortSignal;
}

const SOURCE = 'ldap-bind';

export async function validateLdapBind(opts: LdapBindOptions): Promise<Finding[]> {
  const urls = parseLdapUrls(opts.urls);
  assertBindTransport(urls, opts);
  const account = parseAccountName(opts.username, opts.defaultDomain);
  const pw = opts.password.reveal();
  if (pw.length === 0) {
    throw new ConfigError(
      'The password is empty; an LDAP simple bind with an empty password is an unauthenticated bind and proves nothing.',
      { code: 'CONFIG_INVALID', details: { option: 'password' } },
    );
  }
  const ca = loadCa(opts);
  const deadlines = attemptDeadlines(opts, urls.length);
  const warnings: Finding[] = [];
  if (opts.insecureSkipTlsVerify) {
    warnings.push(finding(SOURCE, 'tls.verification-disabled', 'warning', 'TLS certificate verification was switched off for this check; the server was not authenticated.', {}, fixes('tls.verification-disabled', 'default')));
  }
  if (opts.allowPlainBind && !opts.starttls && urls.some((u) => u.scheme === 'ldap')) {
    warnings.push(finding(SOURCE, 'ldap.plain-bind', 'warning', 'The password was sent over plain LDAP without TLS, readable by anyone on the path.', {}, fixes('ldap.plain-bind', 'default')));
  }
  const connectionFindings: Finding[] = [];
  for (const [i, u] of urls.entries()) {
    if (opts.signal?.aborted) throw abortError(opts.signal, 'The LDAP check');
    if (deadlines.overall.aborted || opts.stop?.aborted) {
      // the overall bound ran out (or the caller stopped) before this URL's turn: say which servers were never tried
      const last = connectionFindings.at(-1);
      if (last) last.evidence.notTried = urls.slice(i).map((x) => x.url);
      break;
    }
    const r = await traced(CHANNELS.bind, { protocol: 'ldap', source: SOURCE, url: u.url, account: account.bindName },
      () => bindOnce(u, opts, account.bindName, pw, ca, deadlines.attempt()),
      (x) => ({ outcome: x.kind === 'final' && x.answered ? 'answered' : 'fault', code: x.kind === 'final' ? decideAccount(x.findings).code : x.finding.code }));
    if (r.kind === 'final') {
      const out: Finding[] = r.findings.map((f) => ({ ...f, evidence: { ...f.evidence, account: account.bindName, url: u.url } }));
      if (connectionFindings.length) {
        for (const f of out) f.evidence.failover = `reached after ${connectionFindings.map((c) => `${String(c.evidence.url)} (${c.code})`).join(', ')}`;
      }
      return [...warnings, ...out];
    }
    connectionFindings.push(r.finding);
  }
  if (opts.signal?.aborted) throw abortError(opts.signal, 'The LDAP check');
  if (connectionFindings.length > 1) {
    for (const f of connectionFindings) f.evidence.failover = `${connectionFindings.length} URLs tried in order`;
  }
  return [...warnings, ...connectionFindings];
}

/**
 * final: the bind reached the server (an answer, or a connection lost / timed out after the bind
 * request was written) — never re-sent. unreachable: the bind never left; try the next URL.
 */
type BindResult = { kind: 'final'; findings: Finding[]; answered: boolean } | { kind: 'unreachable'; finding: Finding };

/**
 * One URL: connect (TCP, TLS for ldaps://, StartTLS for ldap:// with starttls) and one simple bind
 * over the wire client (protocols/ldap/connection.ts, the bulk pool's: it holds the answer to the
 * message cap and the RFC 4511 pairing itself, and loads no LDAP library — ldapts costs ~20 ms
 * at the start of `credgate check`).
 */
async function bindOnce(
  u: ParsedUrl,
  opts: LdapBindOptions,
  bindName: string,
  pw: string,
  ca: Array<string | Buffer> | undefined,
  signal: AbortSignal,
): Promise<BindResult> {
  const mode = u.scheme === 'ldaps' ? 'ldaps' : opts.starttls ? 'starttls' : 'plain';
  // 'connect' (TCP, and TLS for ldaps://) or 'starttls' → 'bind' once the bind request is written
  let phase = mode === 'starttls' ? 'starttls' : 'connect';
  let bindSent = false;
  let conn: LdapWireConnection | undefined;
  try {
    const timeoutMs = opts.timeoutMs ?? 10_000;
    conn = await LdapWireConnection.connect({ host: u.host, port: u.port, mode, tls: tlsOptionsFor(u, opts, ca), timeoutMs, signal });
    const c = conn;
    const warnDays = opts.expiryWarningDays ?? 14;
    phase = 'bind';
    // the request is written as bind() is called (the connection is open): from here it is sent,
    // unless the connection says it never left
    bindSent = true;
    const r = await withSignal(c.bind(bindName, pw, { ppolicy: opts.passwordPolicy !== false, timeoutMs }), signal, () => c.dispose());
    return { kind: 'final', answered: true, findings: bindAnswerFindings({ resultCode: r.resultCode, diagnosticMessage: r.diagnosticMessage, ppolicy: r.ppolicy }, pw, warnDays) };
  } catch (e) {
    if (e instanceof WireConnectionError && !e.sent) bindSent = false;
    if (opts.signal?.aborted) throw abortError(opts.signal, 'The LDAP check');
    const f = connectionFinding(e, u, SOURCE, phase, signal.aborted, { requestSent: bindSent });
    if (f && bindSent) {
      f.message += ' credgate did not send the bind to another server: the directory may already have checked the password, and a second try could add a second bad-password count.';
      return { kind: 'final', answered: false, findings: [f] };
    }
    if (f) return { kind: 'unreachable', finding: f };
    if (e instanceof CredgateError) throw e;
    throw new CredgateError(`The LDAP check against ${u.url} failed unexpectedly during ${phase}: ${scrub(e instanceof Error ? e.message : String(e), [pw])}`, {
      code: 'CONNECTION_FAILED',
      details: { url: u.url, phase },
    });
  } finally {
    conn?.dispose();
  }
}
