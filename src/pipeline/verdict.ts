/**
 * The preflight's verdict in words: what a pass proved and what it did not (the RDP logon right),
 * the inconclusive finding when nothing proved the credential, and the one-sentence headline — by
 * a table of rows for the causes whose sentence needs more than the catalog's cause and fix.
 */
import { finding, type Finding, type Verdict } from '../findings/finding.js';
import { fixes } from '../findings/catalog.js';
import { isFailure } from '../findings/diagnose.js';
import type { PreflightReport, StepName, StepReport } from './types.js';

/** The codes that prove the credential itself; without one of them the verdict is never ok. */
export const PROOF: ReadonlySet<string> = new Set(['ldap.ok', 'rdp.nla-ok', 'krb.ok']);

/** Who accepted the credential, per proof code, in the words of a passing verdict. */
const PROVED_BY: ReadonlyArray<[string, string]> = [['rdp.nla-ok', 'the RDP host at NLA'], ['ldap.ok', 'the directory'], ['krb.ok', 'the KDC']];

/** Who accepted the credential in these findings ("the directory and the KDC"), or undefined when nobody did. */
export function provedBy(findings: readonly Finding[]): string | undefined {
  const who = PROVED_BY.filter(([code]) => findings.some((f) => f.code === code)).map(([, w]) => w);
  return who.length ? `${who.slice(0, -1).join(', ')}${who.length > 1 ? ' and ' : ''}${who.at(-1)}` : undefined;
}

/**
 * What a pass does not prove: the right to an RDP session, which the host checks only after
 * authentication (0x904 / extended 0x7 when it is missing). Added to findings that proved the
 * credential and hold no failure; undefined otherwise.
 */
export function logonRightNote(findings: readonly Finding[], account: string | undefined, host?: string): Finding | undefined {
  if (findings.some(isFailure) || !findings.some((f) => PROOF.has(f.code))) return undefined;
  const who = account ?? 'the account';
  return finding('verdict', 'rdp.logon-right-not-checked', 'info',
    `Proved: the credential (accepted by ${provedBy(findings)}). Not proved: the right of ${who} to an RDP session${host ? ` on ${host}` : ''}, which the host checks only after authentication.`,
    { provedBy: PROVED_BY.filter(([code]) => findings.some((f) => f.code === code)).map(([c]) => c), ...(host ? { host } : {}) },
    host ? fixes('rdp.logon-right-not-checked', 'host', { host, detail: who }) : fixes('rdp.logon-right-not-checked', 'any', { detail: who }));
}

/**
 * The NLA check met STATUS_NTLM_BLOCKED, but the KDC accepted the password and issues a ticket for
 * the name clients connect by: those clients use Kerberos at NLA, so NTLM being blocked does not
 * stop them. The finding stays, as information; the Kerberos proof is what stands.
 */
export function weighNtlmBlocked(nla: Finding[], kdc: readonly Finding[]): Finding[] {
  const spn = kdc.find((f) => f.code === 'krb.spn-ok');
  if (!spn || !kdc.some((f) => f.code === 'krb.ok')) return nla;
  return nla.map((f) => (f.code === 'rdp.ntlm-blocked' && f.severity === 'error'
    ? { ...f, severity: 'info' as const, message: `${f.message} Clients that connect by ${String(spn.evidence.host)} use Kerberos, which the KDC accepted (the host's own acceptance of Kerberos at NLA is not checked: credgate's NLA check speaks NTLM).`, evidence: { ...f.evidence, kerberosName: spn.evidence.host } }
    : f));
}

/** The inconclusive verdict's finding: what ran, what did not, and what to add. */
export function notProven(steps: StepReport[], t: PreflightReport['target'], haveCredential: boolean, haveDirectory: boolean, haveKdc = false): Finding {
  const note = (n: StepName) => steps.find((s) => s.name === n)?.note ?? 'it did not run';
  const acct = t.account ?? 'the account';
  if (!haveCredential) {
    return finding('preflight', 'credential.not-checked', 'warning',
      `Cannot tell whether a credential will work on ${t.host}: no credential was given, so only the host side was checked.`,
      { provider: note('provider') }, fixes('credential.not-checked', 'no-credential'));
  }
  return finding('preflight', 'credential.not-checked', 'warning',
    `Cannot tell whether ${acct} can log on to ${t.host}: nothing checked the password (${haveKdc ? `Kerberos: ${note('kerberos')}; ` : ''}LDAP bind: ${note('ldap-bind')}; NLA: ${note('rdp-nla')}).`,
    { ...(haveKdc ? { kerberos: note('kerberos') } : {}), ldapBind: note('ldap-bind'), rdpNla: note('rdp-nla') },
    haveDirectory ? fixes('credential.not-checked', 'bind-not-run', { detail: note('ldap-bind') }) : fixes('credential.not-checked', 'no-directory'));
}

interface HeadlineCase {
  v: Verdict;
  t: PreflightReport['target'];
  steps: StepReport[];
  acct: string;
  fromVault: boolean;
  decider?: Finding;
  /** A finding of this code among the verdict's, if any. */
  has(code: string): Finding | undefined;
}

const wrongPassword = (c: HeadlineCase) => {
  const sub = c.decider?.evidence.adSubCode ? ` (AD ${String(c.decider.evidence.adSubCode)})` : '';
  return c.fromVault
    ? `The vault's password for ${c.acct} is wrong${sub} — rotate or reconcile it in the vault; do not purge the client cache.`
    : `The password given for ${c.acct} is wrong${sub} — get the current one from the vault.`;
};

/**
 * The verdict table: the causes whose sentence takes more than the catalog's cause and first fix
 * (the vault named or not, another finding beside the decider). Anything else reads "cause — fix".
 */
export const HEADLINES: Readonly<Record<string, (c: HeadlineCase) => string>> = {
  'ldap.invalid-credentials': wrongPassword,
  'rdp.logon-failure': wrongPassword,
  'krb.invalid-credentials': wrongPassword,
  'cache.stale-password': (c) => {
    const target = String(c.decider?.evidence.target ?? `TERMSRV/${c.t.host}`);
    const proven = c.steps.some((s) => (s.name === 'ldap-bind' || s.name === 'rdp-nla' || s.name === 'kerberos') && s.status === 'passed');
    const whose = c.fromVault ? `The vault's password for ${c.acct}` : `The password given for ${c.acct}`;
    return `${proven ? `${whose} is right; t` : 'T'}he client caches an older one for ${target}, written before the password last changed — purge ${target}.`;
  },
  // NLA meets NTLM blocked: what the KDC said about the host's name decides what to do
  'rdp.ntlm-blocked': (c) => {
    const noSpn = c.has('krb.no-spn');
    if (noSpn) {
      const other = (noSpn.evidence.namesWithSpn as string[] | undefined)?.[0];
      const name = String(noSpn.evidence.host ?? c.t.host);
      return `NLA needs NTLM here and NTLM is blocked: ${name} has no Kerberos service principal, so clients that connect by it fall back to NTLM — connect by ${other ?? `the host's fully qualified name once it has one (setspn -S TERMSRV/<fqdn> <computer>)`}.`;
    }
    return `${c.t.host} refuses NTLM at NLA — connect by its fully qualified name with a TERMSRV/ or HOST/ SPN so the client uses Kerberos (add --kdc to check the KDC and the host's SPN).`;
  },
};

/** One sentence: the cause and the fix, in the words of the 0x904/0x7 story; a pass says what it proved and what it did not. */
export function headline(v: Verdict, t: PreflightReport['target'], steps: StepReport[]): string {
  const acct = t.account ?? 'the account';
  const fromVault = !!t.credentialSource && t.credentialSource !== 'caller' && !t.credentialSource.startsWith('stdin') && !t.credentialSource.startsWith('env');
  const decider = v.findings.find((f) => f.code === v.code);
  if (v.ok) {
    const nc = steps.filter((s) => s.status === 'not-checked').map((s) => s.name);
    return `The credential of ${acct} is good: accepted by ${provedBy(v.findings) ?? 'no check'}${nc.length ? ` (not checked: ${nc.join(', ')})` : ''}. Not proved: its right to an RDP session on ${t.host} (Remote Desktop Users / "Allow log on through Remote Desktop Services"), which the host checks only after authentication.`;
  }
  const row = HEADLINES[v.code];
  if (row) return row({ v, t, steps, acct, fromVault, ...(decider ? { decider } : {}), has: (code) => v.findings.find((f) => f.code === code) });
  const fix = v.remediation[0]?.action;
  return `${v.cause.replace(/\.$/, '')}${fix ? ` — ${fix.charAt(0).toLowerCase()}${fix.slice(1)}` : '.'}`;
}
