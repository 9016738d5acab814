/** The preflight's verdict in words: the inconclusive finding when nothing proved the credential, and the one-sentence headline. */
import { finding, type Finding, type Verdict } from '../findings/finding.js';
import { fixes } from '../findings/catalog.js';
import type { PreflightReport, StepName, StepReport } from './types.js';

/** The codes that prove the credential itself; without one of them the verdict is never ok. */
export const PROOF: ReadonlySet<string> = new Set(['ldap.ok', 'rdp.nla-ok']);

/** The inconclusive verdict's finding: what ran, what did not, and what to add. */
export function notProven(steps: StepReport[], t: PreflightReport['target'], haveCredential: boolean, haveDirectory: boolean): Finding {
  const note = (n: StepName) => steps.find((s) => s.name === n)?.note ?? 'it did not run';
  const acct = t.account ?? 'the account';
  if (!haveCredential) {
    return finding('preflight', 'credential.not-checked', 'warning',
      `Cannot tell whether a credential will work on ${t.host}: no credential was given, so only the host side was checked.`,
      { provider: note('provider') }, fixes('credential.not-checked', 'no-credential'));
  }
  return finding('preflight', 'credential.not-checked', 'warning',
    `Cannot tell whether ${acct} can log on to ${t.host}: nothing checked the password (LDAP bind: ${note('ldap-bind')}; NLA: ${note('rdp-nla')}).`,
    { ldapBind: note('ldap-bind'), rdpNla: note('rdp-nla') },
    haveDirectory ? fixes('credential.not-checked', 'bind-not-run', { detail: note('ldap-bind') }) : fixes('credential.not-checked', 'no-directory'));
}

/** One sentence: the cause and the fix, in the words of the 0x904/0x7 story. */
export function headline(v: Verdict, t: PreflightReport['target'], steps: StepReport[]): string {
  const acct = t.account ?? 'the account';
  const fromVault = !!t.credentialSource && t.credentialSource !== 'caller' && !t.credentialSource.startsWith('stdin') && !t.credentialSource.startsWith('env');
  const decider = v.findings.find((f) => f.code === v.code);
  const fix = v.remediation[0]?.action;
  if (v.ok) {
    const nc = steps.filter((s) => s.status === 'not-checked').map((s) => s.name);
    return `${acct} can log on to ${t.host}: ${v.cause}${nc.length ? ` (not checked: ${nc.join(', ')})` : ''}`;
  }
  switch (v.code) {
    case 'ldap.invalid-credentials':
    case 'rdp.logon-failure': {
      const sub = decider?.evidence.adSubCode ? ` (AD ${String(decider.evidence.adSubCode)})` : '';
      return fromVault
        ? `The vault's password for ${acct} is wrong${sub} — rotate or reconcile it in the vault; do not purge the client cache.`
        : `The password given for ${acct} is wrong${sub} — get the current one from the vault.`;
    }
    case 'cache.stale-password': {
      const target = String(decider?.evidence.target ?? `TERMSRV/${t.host}`);
      const proven = steps.some((s) => (s.name === 'ldap-bind' || s.name === 'rdp-nla') && s.status === 'passed');
      const whose = fromVault ? `The vault's password for ${acct}` : `The password given for ${acct}`;
      return `${proven ? `${whose} is right; t` : 'T'}he client caches an older one for ${target}, written before the password last changed — purge ${target}.`;
    }
    default:
      return `${v.cause.replace(/\.$/, '')}${fix ? ` — ${fix.charAt(0).toLowerCase()}${fix.slice(1)}` : '.'}`;
  }
}
