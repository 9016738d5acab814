/**
 * The single check (`credgate check`): the directory (account state, then one bind) and the RDP
 * host's NLA step for one credential. NLA runs in parallel when there is no directory; with one,
 * only after the directory accepted the password (the lockout policy).
 */
import { finding, type Finding } from '../findings/finding.js';
import { nlaFaultFinding } from '../findings/faults.js';
import { parseHostPort } from '../core/target.js';
import type { Secret } from '../core/secret.js';
import type { CredentialCheckOptions } from './credential-check.js';

// The directory side (the LDAP modules) and the NLA side (the RDP ones) load only when the check
// uses them: `credgate check --rdp` does not pay for the LDAP code's start-up, nor --ldap for NLA.
const directorySide = () => import('./credential-check.js');
const nlaSide = () => import('../checks/rdp-nla.js');
const policy = () => import('./lockout-policy.js');

export interface CheckOptions {
  credential: { username: string; password: Secret; domain?: string };
  /** The directory to bind against (and read the account state from, with a service account). */
  directory?: Omit<CredentialCheckOptions, 'username' | 'password' | 'timeoutMs' | 'signal'>;
  /** The RDP host (`host[:port]`) whose NLA step checks the credential too. */
  rdp?: { target: string; caFile?: string[] };
  timeoutMs: number;
  /**
   * The caller's stop (a terminating signal): once aborted no credential is sent (lockout-policy
   * stopRefusal); a bind or NLA exchange already in flight finishes and its answer is reported.
   */
  stop?: AbortSignal;
  /** Timings are added here (accountState, bind, rdpNla). */
  timingsMs?: Record<string, number>;
}

export async function runCheck(o: CheckOptions): Promise<{ findings: Finding[]; timingsMs: Record<string, number> }> {
  const timingsMs = o.timingsMs ?? {};
  const findings: Finding[] = [];
  const { credential: cred, timeoutMs } = o;
  const directory = o.directory
    ? directorySide().then(({ checkCredential }) => checkCredential({ ...o.directory!, username: cred.username, password: cred.password, timeoutMs, ...(o.stop ? { stop: o.stop } : {}) })).then((r) => {
      findings.push(...r.findings);
      Object.assign(timingsMs, r.timingsMs);
    })
    : undefined;
  const rdp = o.rdp;
  const runNla = rdp && (async () => {
    if (o.stop?.aborted) {
      findings.push((await policy()).stoppedFinding('check', 'rdp-nla', o.stop));
      return;
    }
    const tr = performance.now();
    const { host, port } = parseHostPort(rdp.target);
    try {
      const { validateRdpNla } = await nlaSide();
      findings.push(...await validateRdpNla({
        host, port, username: cred.username, password: cred.password, ...(cred.domain ? { domain: cred.domain } : {}), timeoutMs,
        ...(rdp.caFile ? { caFile: rdp.caFile } : {}),
      }));
    } catch (e) {
      // a host that cannot be reached or spoken to is a finding (exit 4), not a crash
      const f = nlaFaultFinding(e, host, port);
      if (!f) throw e;
      findings.push(f);
    } finally {
      timingsMs.rdpNla = performance.now() - tr;
    }
  });
  if (!directory) {
    if (runNla) await runNla();
    return { findings, timingsMs };
  }
  await directory;
  if (runNla) {
    const refusal = (await policy()).directoryRefusal(findings);
    if (refusal !== undefined) {
      findings.push(finding('check', 'not-checked', 'info', `rdp-nla: not checked — the directory already answered ${refusal}; trying the same password at ${rdp.target} would only add a bad-password count.`, { step: 'rdp-nla', host: rdp.target, because: refusal }));
    } else {
      await runNla();
    }
  }
  return { findings, timingsMs };
}
