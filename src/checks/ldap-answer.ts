/**
 * A bind's answer as findings, for every caller that binds (validateLdapBind over ldapts, the bulk
 * pool over the wire client): result 0 with the password policy news, 49 with the AD `data`
 * sub-code or the ppolicy error, 8 (strong authentication required), anything else.
 */
import { finding, type Finding } from '../findings/finding.js';
import { fixes } from '../findings/catalog.js';
import { scrub } from '../core/secret.js';
import { adSubCode, parseAdDiagnostic } from '../protocols/ldap/ad-codes.js';
import type { PasswordPolicyResponse } from '../protocols/ldap/ppolicy.js';

const SOURCE = 'ldap-bind';
const OK_MESSAGE = 'The directory accepted the credential.';

export interface BindAnswer {
  resultCode: number;
  /** The server's diagnosticMessage, as received (scrubbed of the password here). */
  diagnosticMessage: string;
  ppolicy?: PasswordPolicyResponse | undefined;
  /** The library's name for the result (ldapts' error class), added to an unexpected result's message. */
  resultName?: string;
}

/** The findings for a bind's answer. `password` is scrubbed from the server's text; `warnDays` for expiry warnings. */
export function bindAnswerFindings(a: BindAnswer, password: string, warnDays: number): Finding[] {
  if (a.resultCode === 0) return successFindings(a.ppolicy, warnDays);
  const diag = a.diagnosticMessage.length ? scrub(a.diagnosticMessage, [password]) : '';
  if (a.resultCode === 49) return [rejectedFinding(diag, a.ppolicy)];
  if (a.resultCode === 8) {
    return [finding(SOURCE, 'ldap.strong-auth-required', 'error', 'The directory refuses simple binds without transport encryption (LDAP signing / channel binding policy).', {
      resultCode: 8, diagnosticMessage: diag,
    }, fixes('ldap.strong-auth-required', 'default'))];
  }
  return [finding(SOURCE, 'ldap.bind-error', 'error', `The directory answered the bind with LDAP result ${a.resultCode}${a.resultName ? ` (${a.resultName})` : ''}.`, {
    resultCode: a.resultCode, diagnosticMessage: diag,
  }, fixes('ldap.bind-error', 'default'))];
}

/** A ppolicy response control with nothing in it (OpenLDAP sends one with every bind). */
const PP_RECEIVED: Readonly<PasswordPolicyResponse> = Object.freeze({ received: true });
const isEmptyPolicy = (pp: PasswordPolicyResponse) =>
  pp.error === undefined && pp.timeBeforeExpiration === undefined && pp.graceAuthNsRemaining === undefined && pp.errorName === undefined;

/**
 * bindAnswerFindings with the account in the deciding finding's evidence, allocation-light for the
 * common case (accepted, no password policy news): the bulk pool's per-account path.
 */
export function accountAnswerFindings(a: BindAnswer, password: string, warnDays: number, account: string): Finding[] {
  const pp = a.ppolicy;
  if (a.resultCode === 0 && (!pp || isEmptyPolicy(pp))) {
    const evidence: Record<string, unknown> = pp ? { resultCode: 0, passwordPolicy: PP_RECEIVED, account } : { resultCode: 0, account };
    return [{ code: 'ldap.ok', severity: 'ok', message: OK_MESSAGE, evidence, remediation: [], source: SOURCE }];
  }
  const out = bindAnswerFindings(a, password, warnDays);
  if (out[0]) out[0].evidence.account = account;
  return out;
}

function successFindings(pp: PasswordPolicyResponse | undefined, warnDays: number): Finding[] {
  const ev: Record<string, unknown> = { resultCode: 0 };
  if (pp?.received) ev.passwordPolicy = { ...pp };
  if (pp?.error === 2) {
    return [finding(SOURCE, 'ldap.password-must-change', 'error', 'The password was accepted, but the directory requires it to be changed before any other operation (ppolicy changeAfterReset).', ev, fixes('ldap.password-must-change', 'ppolicy'))];
  }
  const out = [finding(SOURCE, 'ldap.ok', 'ok', OK_MESSAGE, ev)];
  if (pp?.timeBeforeExpiration !== undefined && pp.timeBeforeExpiration <= warnDays * 86400) {
    const days = Math.floor(pp.timeBeforeExpiration / 86400);
    out.push(finding(SOURCE, 'ldap.password-expiring', 'warning', `The password expires in ${days} day(s) (${pp.timeBeforeExpiration} s).`, { timeBeforeExpiration: pp.timeBeforeExpiration }, fixes('ldap.password-expiring', 'default')));
  }
  if (pp?.graceAuthNsRemaining !== undefined) {
    out.push(finding(SOURCE, 'ldap.grace-logins', 'warning', `The password has expired; the bind used a grace login and ${pp.graceAuthNsRemaining} remain.`, { graceAuthNsRemaining: pp.graceAuthNsRemaining }, fixes('ldap.grace-logins', 'default')));
  }
  return out;
}

function rejectedFinding(diag: string, pp: PasswordPolicyResponse | undefined): Finding {
  const ev: Record<string, unknown> = { resultCode: 49, diagnosticMessage: diag };
  const ad = diag ? parseAdDiagnostic(diag) : undefined;
  if (ad) {
    const row = adSubCode(ad.hex);
    ev.adSubCode = ad.hex;
    if (ad.dsid) ev.dsid = ad.dsid;
    if (row) {
      ev.win32 = `${row.win32Name} (${row.win32})`;
      ev.ntstatus = `${row.ntstatusName} (0x${row.ntstatus.toString(16).toUpperCase()})`;
      return finding(SOURCE, row.finding, 'error', row.message, ev, row.remediation);
    }
    return finding(SOURCE, 'ldap.bind-error', 'error', `The directory rejected the bind with an unknown AD sub-code ${ad.hex}.`, ev, fixes('ldap.bind-error', 'unknown-subcode', { detail: ad.hex }));
  }
  if (pp?.received) {
    ev.passwordPolicy = { ...pp };
    if (pp.error === 1) return finding(SOURCE, 'ldap.account-locked', 'error', 'The account is locked (ppolicy accountLocked).', ev, fixes('ldap.account-locked', 'ppolicy'));
    if (pp.error === 0) return finding(SOURCE, 'ldap.password-expired', 'error', 'The password has expired (ppolicy passwordExpired) and no grace logins remain.', ev, fixes('ldap.password-expired', 'ppolicy'));
  }
  return finding(SOURCE, 'ldap.invalid-credentials', 'error', 'The directory rejected the user name or password.', ev, fixes('ldap.invalid-credentials', 'default'));
}
