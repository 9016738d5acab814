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
import { InvalidCredentialsError, ResultCodeError, StrongAuthRequiredError, type Client } from 'ldapts';
import { ConfigError, CredgateError, abortError } from '../core/errors.js';
import { finding, type Finding } from '../findings/finding.js';
import { parseAccountName } from '../core/credential.js';
import { scrub, type Secret } from '../core/secret.js';
import { adSubCode, parseAdDiagnostic } from '../protocols/ldap/ad-codes.js';
import { PasswordPolicyControl, type PasswordPolicyResponse } from '../protocols/ldap/ppolicy.js';
import {
  assertBindTransport, attemptDeadlines, BIND_REQUEST, closeClient, connectionFinding, loadCa, newClient, onRequestSent,
  parseLdapUrls, tlsOptionsFor, withSignal, type LdapTransportOptions, type ParsedUrl,
} from '../protocols/ldap/transport.js';

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
}

const SOURCE = 'ldap-bind';

/** Strip ldapts' " Code: 0x31" suffix to get the server's diagnosticMessage. */
function diagnosticOf(e: Error): string {
  return e.message.replace(/\s*Code: 0x[0-9a-f]+\s*$/i, '').trim();
}

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
    warnings.push(finding(SOURCE, 'tls.verification-disabled', 'warning', 'TLS certificate verification was switched off for this check; the server was not authenticated.', {}, [
      { action: 'Pass the directory\'s CA with --ca-file instead of disabling verification.', owner: 'caller' },
    ]));
  }
  if (opts.allowPlainBind && !opts.starttls && urls.some((u) => u.scheme === 'ldap')) {
    warnings.push(finding(SOURCE, 'ldap.plain-bind', 'warning', 'The password was sent over plain LDAP without TLS, readable by anyone on the path.', {}, [
      { action: 'Use ldaps:// or --starttls.', owner: 'caller' },
    ]));
  }
  const connectionFindings: Finding[] = [];
  for (const [i, u] of urls.entries()) {
    if (opts.signal?.aborted) throw abortError(opts.signal, 'The LDAP check');
    if (deadlines.overall.aborted) {
      // the overall bound ran out before this URL's turn: say which servers were never tried
      const last = connectionFindings.at(-1);
      if (last) last.evidence.notTried = urls.slice(i).map((x) => x.url);
      break;
    }
    const r = await bindOnce(u, opts, account.bindName, pw, ca, deadlines.attempt());
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
type BindResult = { kind: 'final'; findings: Finding[] } | { kind: 'unreachable'; finding: Finding };

async function bindOnce(
  u: ParsedUrl,
  opts: LdapBindOptions,
  bindName: string,
  pw: string,
  ca: Array<string | Buffer> | undefined,
  signal: AbortSignal,
): Promise<BindResult> {
  const client: Client = newClient(u, opts, ca);
  // 'connect' (TCP, and TLS for ldaps://) → 'starttls' → 'bind' the moment the bind request is written
  let phase = 'connect';
  let bindSent = false;
  onRequestSent(client, (op) => {
    if (op === BIND_REQUEST) {
      bindSent = true;
      phase = 'bind';
    }
  });
  try {
    if (u.scheme === 'ldap' && opts.starttls) {
      phase = 'starttls';
      await withSignal(client.startTLS(tlsOptionsFor(u, opts, ca)), signal, () => closeClient(client));
    }
    const ppc = opts.passwordPolicy === false ? undefined : new PasswordPolicyControl();
    try {
      await withSignal(client.bind(bindName, pw, ppc ? [ppc] : undefined), signal, () => closeClient(client));
      return { kind: 'final', findings: successFindings(ppc?.result, opts) };
    } catch (e) {
      if (e instanceof InvalidCredentialsError) {
        return { kind: 'final', findings: [rejectedFinding(e, ppc?.result, pw)] };
      }
      if (e instanceof StrongAuthRequiredError) {
        return {
          kind: 'final',
          findings: [
            finding(SOURCE, 'ldap.strong-auth-required', 'error', 'The directory refuses simple binds without transport encryption (LDAP signing / channel binding policy).', {
              resultCode: 8,
              diagnosticMessage: scrub(diagnosticOf(e), [pw]),
            }, [
              { action: 'Use ldaps:// (port 636) or --starttls; this is the directory working as intended.', owner: 'caller' },
            ]),
          ],
        };
      }
      if (signal.aborted) throw e;
      if (e instanceof ResultCodeError) {
        const rc = e.code;
        return {
          kind: 'final',
          findings: [
            finding(SOURCE, 'ldap.bind-error', 'error', `The directory answered the bind with LDAP result ${rc} (${e.name}).`, {
              resultCode: rc,
              diagnosticMessage: scrub(diagnosticOf(e), [pw]),
            }, [{ action: 'Read the server\'s diagnostic message above; check the directory\'s logs for this bind.', owner: 'directory' }]),
          ],
        };
      }
      throw e;
    }
  } catch (e) {
    if (opts.signal?.aborted) throw abortError(opts.signal, 'The LDAP check');
    const f = connectionFinding(e, u, SOURCE, phase, signal.aborted, { requestSent: bindSent });
    if (f && bindSent) {
      f.message += ' credgate did not send the bind to another server: the directory may already have checked the password, and a second try could add a second bad-password count.';
      return { kind: 'final', findings: [f] };
    }
    if (f) return { kind: 'unreachable', finding: f };
    if (e instanceof CredgateError) throw e;
    throw new CredgateError(`The LDAP check against ${u.url} failed unexpectedly during ${phase}: ${scrub(e instanceof Error ? e.message : String(e), [pw])}`, {
      code: 'CONNECTION_FAILED',
      details: { url: u.url, phase },
    });
  } finally {
    closeClient(client);
  }
}

function successFindings(pp: PasswordPolicyResponse | undefined, opts: LdapBindOptions): Finding[] {
  const out: Finding[] = [];
  const ev: Record<string, unknown> = { resultCode: 0 };
  if (pp?.received) ev.passwordPolicy = { ...pp };
  if (pp?.error === 2) {
    out.push(finding(SOURCE, 'ldap.password-must-change', 'error', 'The password was accepted, but the directory requires it to be changed before any other operation (ppolicy changeAfterReset).', ev, [
      { action: 'Rotate the password from the vault (an administrator reset set "must change").', owner: 'vault' },
    ]));
    return out;
  }
  out.push(finding(SOURCE, 'ldap.ok', 'ok', 'The directory accepted the credential.', ev));
  const warnDays = opts.expiryWarningDays ?? 14;
  if (pp?.timeBeforeExpiration !== undefined && pp.timeBeforeExpiration <= warnDays * 86400) {
    const days = Math.floor(pp.timeBeforeExpiration / 86400);
    out.push(finding(SOURCE, 'ldap.password-expiring', 'warning', `The password expires in ${days} day(s) (${pp.timeBeforeExpiration} s).`, { timeBeforeExpiration: pp.timeBeforeExpiration }, [
      { action: 'Rotate the password from the vault before it expires.', owner: 'vault' },
    ]));
  }
  if (pp?.graceAuthNsRemaining !== undefined) {
    out.push(finding(SOURCE, 'ldap.grace-logins', 'warning', `The password has expired; the bind used a grace login and ${pp.graceAuthNsRemaining} remain.`, { graceAuthNsRemaining: pp.graceAuthNsRemaining }, [
      { action: 'Rotate the password from the vault now, before the grace logins run out.', owner: 'vault' },
    ]));
  }
  return out;
}

function rejectedFinding(e: InvalidCredentialsError, pp: PasswordPolicyResponse | undefined, pw: string): Finding {
  const diag = scrub(diagnosticOf(e), [pw]);
  const ev: Record<string, unknown> = { resultCode: 49, diagnosticMessage: diag };
  const ad = parseAdDiagnostic(diag);
  if (ad) {
    const row = adSubCode(ad.hex);
    ev.adSubCode = ad.hex;
    if (ad.dsid) ev.dsid = ad.dsid;
    if (row) {
      ev.win32 = `${row.win32Name} (${row.win32})`;
      ev.ntstatus = `${row.ntstatusName} (0x${row.ntstatus.toString(16).toUpperCase()})`;
      return finding(SOURCE, row.finding, 'error', row.message, ev, row.remediation);
    }
    return finding(SOURCE, 'ldap.bind-error', 'error', `The directory rejected the bind with an unknown AD sub-code ${ad.hex}.`, ev, [
      { action: `Look up Win32 error 0x${ad.hex} and check the account in Active Directory.`, owner: 'directory' },
    ]);
  }
  if (pp?.received) {
    ev.passwordPolicy = { ...pp };
    if (pp.error === 1) {
      return finding(SOURCE, 'ldap.account-locked', 'error', 'The account is locked (ppolicy accountLocked).', ev, [
        { action: 'Unlock the account (remove pwdAccountLockedTime) or wait for pwdLockoutDuration; find what sent the bad passwords first.', owner: 'directory' },
      ]);
    }
    if (pp.error === 0) {
      return finding(SOURCE, 'ldap.password-expired', 'error', 'The password has expired (ppolicy passwordExpired) and no grace logins remain.', ev, [
        { action: 'Rotate the password from the vault (an administrator reset clears the expiry).', owner: 'vault' },
      ]);
    }
  }
  return finding(SOURCE, 'ldap.invalid-credentials', 'error', 'The directory rejected the user name or password.', ev, [
    { action: 'Reconcile the password in the vault with the directory (rotate it from the vault, or set it and update the vault).', owner: 'vault' },
    { action: 'Check that the account name (DN / UPN / DOMAIN\\user) in the vault entry is right.', owner: 'vault' },
  ]);
}
