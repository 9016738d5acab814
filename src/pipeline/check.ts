/**
 * The single check (`credgate check`): the account's state (with a service account), then the
 * password tries in the lockout policy's order — the KDC's pre-authentication, the directory's
 * bind, the RDP host's NLA step — each only after the one before it accepted the password. NLA
 * alone (no KDC, no directory) runs at once. A pass carries what it did not prove (the RDP logon
 * right).
 */
import { finding, type Finding } from '../findings/finding.js';
import { nlaFaultFinding } from '../findings/faults.js';
import { parseHostPort } from '../core/target.js';
import type { Secret } from '../core/secret.js';
import type { KerberosConfig } from './types.js';
import type { CredentialCheckOptions } from './credential-check.js';
import { directoryRefusal, kerberosRefusal, passwordGate, stoppedFinding, type EarlierTry } from './lockout-policy.js';
import { catalogRow } from '../findings/catalog.js';
import { logonRightNote, weighNtlmBlocked } from './verdict.js';

// Each try's protocol code loads only when the check makes that try: `credgate check --rdp` does
// not pay for the LDAP or Kerberos modules' start-up, nor --ldap for NLA's.
const directorySide = () => Promise.all([import('./credential-check.js'), import('../checks/ldap-bind.js')]);
const kdcSide = () => Promise.all([import('../checks/kerberos.js'), import('./steps/kerberos.js')]);
const nlaSide = () => import('../checks/rdp-nla.js');

export interface CheckOptions {
  credential: { username: string; password: Secret; domain?: string };
  /** The directory to bind against (and read the account state from, with a service account). */
  directory?: Omit<CredentialCheckOptions, 'username' | 'password' | 'timeoutMs' | 'signal'>;
  /** The KDC to pre-authenticate with (before the bind); its SPN look-up defaults to the RDP host. */
  kerberos?: KerberosConfig & { defaultDomain?: string };
  /** The RDP host (`host[:port]`) whose NLA step checks the credential too. */
  rdp?: { target: string; caFile?: string[] };
  timeoutMs: number;
  /**
   * The caller's stop (a terminating signal): once aborted no credential is sent (lockout-policy
   * stopRefusal); a try already in flight finishes and its answer is reported.
   */
  stop?: AbortSignal;
  /** Timings are added here (accountState, kerberos, bind, rdpNla). */
  timingsMs?: Record<string, number>;
}

/** A try that did not run, as the finding the check reports (it never passes). */
const skipped = (step: string, why: string, extra: Record<string, unknown> = {}) =>
  finding('check', 'not-checked', 'info', `${step}: not checked — ${why}.`, { step, ...extra });

/** How a later try sees this one: accepted, refused (rejectedBy when it answered with a rejection). */
function earlierTry(who: string, fs: readonly Finding[], refusal: string | undefined): EarlierTry {
  const rejected = fs.find((f) => f.severity === 'error' && ['rejected', 'unusable'].includes(catalogRow(f.code)?.category ?? ''));
  return { who, ...(refusal !== undefined ? { refusal } : {}), ...(rejected ? { rejectedBy: rejected.code } : {}) };
}

export async function runCheck(o: CheckOptions): Promise<{ findings: Finding[]; timingsMs: Record<string, number> }> {
  const timingsMs = o.timingsMs ?? {};
  const findings: Finding[] = [];
  const { credential: cred, timeoutMs } = o;
  const dir = o.directory ? { ...o.directory, username: cred.username, password: cred.password, timeoutMs } : undefined;
  const rdpAt = o.rdp ? parseHostPort(o.rdp.target) : undefined;
  const { stop } = o;
  // once stopped, nothing more is sent, the service account's read included
  const guard = dir && !stop?.aborted ? await (await directorySide())[0].guardAccount(dir, timingsMs) : { findings: [] as Finding[] };
  // the tries made so far, in TRY_ORDER: each later one goes only when every earlier one accepted
  const earlier: EarlierTry[] = [];
  /** A try the caller's stop kept from running: reported, and no later try goes. */
  const halted = (step: string, who: string): boolean => {
    if (!stop?.aborted) return false;
    findings.push(stoppedFinding('check', step, stop));
    earlier.push({ who, refusal: 'the run was stopped' });
    return true;
  };
  const gateFor = () => passwordGate({ ...(guard.stop ? { stop: guard.stop } : {}), earlier, ...(guard.state ? { state: guard.state } : {}) });
  let kdcFindings: Finding[] = [];

  if (o.kerberos && !halted('kerberos', 'the KDC')) {
    const gate = gateFor();
    if (gate) {
      findings.push(skipped('kerberos', gate));
      earlier.push({ who: 'the KDC', refusal: 'the pre-authentication did not run' });
    } else {
      const [{ validateKerberos }, { kerberosCheckOptions }] = await kdcSide();
      const t0 = performance.now();
      const domain = o.kerberos.defaultDomain ?? o.directory?.defaultDomain ?? cred.domain;
      const r = await validateKerberos({
        ...kerberosCheckOptions(o.kerberos, { ...(rdpAt ? { host: rdpAt.host } : {}), ...(domain ? { defaultDomain: domain } : {}) }),
        username: cred.username, password: cred.password, timeoutMs,
        ...(guard.state ? { state: guard.state } : {}),
      });
      timingsMs.kerberos = performance.now() - t0;
      kdcFindings = r.findings;
      findings.push(...r.findings);
      earlier.push(earlierTry('the KDC', r.findings, kerberosRefusal(r.findings)));
    }
  }

  if (dir && !halted('ldap-bind', 'the directory')) {
    const gate = guard.stop ? undefined : gateFor();
    let bind: Finding[] = [];
    if (gate) {
      findings.push(skipped('ldap-bind', gate));
    } else if (!guard.stop) {
      const [, { validateLdapBind }] = await directorySide();
      const t1 = performance.now();
      bind = await validateLdapBind(dir);
      timingsMs.bind = performance.now() - t1;
      // the bind's answer before the state's: it is the direct evidence
      findings.push(...bind);
    }
    findings.push(...guard.findings);
    // the directory accepted the password only with ldap.ok and no failure, the state's included
    const dirFindings = [...bind, ...guard.findings];
    earlier.push(earlierTry('the directory', dirFindings, directoryRefusal(dirFindings)));
  }

  const rdp = o.rdp;
  if (rdp && rdpAt && !halted('rdp-nla', 'the RDP host')) {
    const { host, port } = rdpAt;
    // NLA is the last try: alone it goes at once; after others, only when all of them accepted the password
    const gate = earlier.length ? passwordGate({ earlier, ...(guard.state ? { state: guard.state } : {}) }) : undefined;
    const refused = earlier.find((t) => t.refusal !== undefined);
    if (gate) {
      findings.push(skipped('rdp-nla', `${gate} (NLA at ${rdp.target})`, { host: rdp.target, because: refused?.rejectedBy ?? refused?.refusal }));
    } else {
      const { validateRdpNla } = await nlaSide();
      const tr = performance.now();
      try {
        const nla = await validateRdpNla({
          host, port, username: cred.username, password: cred.password, ...(cred.domain ? { domain: cred.domain } : {}), timeoutMs,
          ...(rdp.caFile ? { caFile: rdp.caFile } : {}),
        });
        findings.push(...weighNtlmBlocked(nla, kdcFindings));
      } catch (e) {
        // a host that cannot be reached or spoken to is a finding (exit 4), not a crash
        const f = nlaFaultFinding(e, host, port);
        if (!f) throw e;
        findings.push(f);
      } finally {
        timingsMs.rdpNla = performance.now() - tr;
      }
    }
  }
  const note = logonRightNote(findings, cred.username, rdpAt?.host);
  if (note) findings.push(note);
  return { findings, timingsMs };
}
