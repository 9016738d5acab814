/**
 * The preflight's host-side steps (RDP endpoint, NLA, client cache), as data: each names what it
 * waits for and how it runs. A capability that is not built yet is simply absent from this list,
 * and preflight reports it as "not checked".
 */
import type { Finding } from '../findings/finding.js';
import type { PreflightOptions, PreflightTarget, StepName } from './preflight.js';
import type { FetchedCredential } from '../core/credential.js';
import type { AccountState } from '../checks/account-state.js';
import { probeRdp } from '../checks/rdp-endpoint.js';
import { validateRdpNla } from '../checks/rdp-nla.js';
import { loadCacheFile, mergeSnapshots } from '../cache/load.js';
import { inspectCache } from '../cache/inspect.js';
import type { CacheSnapshot } from '../cache/types.js';
import fs from 'node:fs';

export interface StepDeps {
  host: string;
  port: number;
  overall: AbortSignal;
  stepTimeoutMs: number;
  options: PreflightOptions;
  target: PreflightTarget;
  ctx: {
    credential?: FetchedCredential;
    state?: AccountState;
    reachableRdp?: boolean;
    nlaOffered?: boolean;
    presentedThumbprints?: string[];
    hostAliases?: string[];
    /** Set when the LDAP bind answered with a rejection (the finding code). */
    bindRejected?: string;
    /**
     * Set once the ldap-bind step is over (a directory configured): 'ldap.ok' when the directory
     * accepted the credential, else why not (the deciding code, or why the bind did not run).
     * NLA runs only after 'ldap.ok': a bind skipped by the lockout guard, or one whose answer was
     * lost, must not be followed by the same password at the host.
     */
    bindOutcome?: string;
    /**
     * Set (with the reason) when a service account is configured but the account state could not
     * be read: the lockout guard did not run, so neither the bind nor NLA may try the password.
     */
    guardFailed?: string;
  };
  cacheConfig?: {
    /** Collector JSON, reg exports, cmdkey /list captures. */
    files?: string[];
    /** Or a snapshot already read (SDK callers, live sources). */
    snapshot?: CacheSnapshot;
    /** Inventory file (one host per line) or list. */
    inventory?: string | string[];
  };
}

export interface PreflightStep {
  name: StepName;
  after: Array<'provider' | 'account-state' | 'ldap-bind'>;
  afterExtra?: StepName[];
  run(d: StepDeps): Promise<{ findings: Finding[]; note?: string } | { notChecked: string }>;
}

export const PREFLIGHT_STEPS: PreflightStep[] = [
  {
    name: 'rdp-endpoint',
    after: [],
    async run(d) {
      if (d.options.rdp?.probe === false) return { notChecked: 'RDP host checks switched off' };
      const r = await probeRdp({
        host: d.host, port: d.port, timeoutMs: d.stepTimeoutMs, signal: d.overall,
        ...(d.options.rdp?.caFile ? { caFile: d.options.rdp.caFile } : {}),
        ...(d.options.rdp?.expiringDays !== undefined ? { expiringDays: d.options.rdp.expiringDays } : {}),
      });
      d.ctx.reachableRdp = r.findings.some((f) => f.code === 'rdp.reachable');
      d.ctx.nlaOffered = r.selectedProtocol !== undefined && (r.selectedProtocol & 0xa) !== 0;
      if (r.sha1Thumbprint) d.ctx.presentedThumbprints = [r.sha1Thumbprint];
      const reach = r.findings.find((f) => f.code === 'rdp.reachable');
      if (reach && Array.isArray(reach.evidence.addresses)) d.ctx.hostAliases = reach.evidence.addresses as string[];
      return { findings: r.findings };
    },
  },
  {
    name: 'rdp-nla',
    // after the bind: on a domain-joined host a wrong password at NLA is one more bad-password
    // count on the DC, so NLA runs only when the directory did not already reject it
    after: ['provider', 'account-state', 'ldap-bind'],
    afterExtra: ['rdp-endpoint'],
    async run(d) {
      if (d.options.rdp?.probe === false || d.options.rdp?.nla === false) return { notChecked: 'NLA check switched off' };
      if (!d.ctx.credential) return { notChecked: 'no credential to present' };
      if (d.ctx.guardFailed) return { notChecked: `not attempted: ${d.ctx.guardFailed}; a wrong password at NLA is a bad-password count on the DC too` };
      if (d.ctx.bindRejected) return { notChecked: `not attempted: the directory already rejected the credential (${d.ctx.bindRejected}), another try could only add a bad-password count` };
      // with a directory configured, NLA only after the directory accepted the password: a bind the
      // lockout guard stopped, or one whose answer was lost, may already have cost a bad-password count
      if (d.options.directory && d.ctx.bindOutcome !== 'ldap.ok') {
        return { notChecked: `not attempted: the directory did not accept the credential (${d.ctx.bindOutcome ?? 'the LDAP bind did not run'}); a wrong password at NLA is a bad-password count on the DC too` };
      }
      if (!d.ctx.reachableRdp) return { notChecked: 'the RDP host was not reachable' };
      if (!d.ctx.nlaOffered) return { notChecked: 'the host does not offer NLA (CredSSP), so it checks the password only after the session starts' };
      // a threshold the reader could not see is a placeholder, not a count to compare with (the
      // caller accepted that with allowUnknownThreshold, and the directory accepted the password)
      const known = d.ctx.state && d.ctx.state.lockoutThresholdSource !== 'unknown';
      const risky = known && d.ctx.state!.lockoutThreshold > 0 && d.ctx.state!.badPwdCount !== undefined && d.ctx.state!.badPwdCount >= d.ctx.state!.lockoutThreshold - 1;
      if (risky || d.ctx.state?.locked) return { notChecked: 'not attempted: one more failure could lock the account' };
      const f = await validateRdpNla({
        host: d.host, port: d.port, username: d.ctx.credential.username, password: d.ctx.credential.secret,
        ...(d.ctx.credential.domain ?? d.options.rdp?.domain ? { domain: d.ctx.credential.domain ?? d.options.rdp?.domain } : {}),
        timeoutMs: d.stepTimeoutMs, signal: d.overall,
        ...(d.options.rdp?.caFile ? { caFile: d.options.rdp.caFile } : {}),
      });
      return { findings: f };
    },
  },
  {
    name: 'cache',
    after: ['provider', 'account-state'],
    afterExtra: ['rdp-endpoint'],
    async run(d) {
      const c = d.options.cache;
      if (!c || (!c.files?.length && !c.snapshot)) return { notChecked: 'no client cache given (--cache-from collector JSON / reg export / cmdkey capture)' };
      const snap = c.snapshot ?? mergeSnapshots(c.files!.map(loadCacheFile));
      const inventory = typeof c.inventory === 'string'
        ? fs.readFileSync(c.inventory, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter(Boolean)
        : c.inventory;
      const account = d.ctx.credential?.username ?? d.target.account;
      const r = inspectCache({
        entries: snap.entries, hints: snap.hints, host: d.host,
        ...(account ? { account } : {}),
        ...(d.ctx.state?.pwdLastSet ? { pwdLastSet: d.ctx.state.pwdLastSet } : {}),
        ...(d.ctx.credential?.changedAt ? { changedAt: d.ctx.credential.changedAt } : {}),
        ...(d.ctx.presentedThumbprints ? { presentedThumbprints: d.ctx.presentedThumbprints } : {}),
        ...(d.ctx.hostAliases ? { hostAliases: d.ctx.hostAliases } : {}),
        ...(inventory ? { inventory } : {}),
      });
      const note = d.ctx.state?.pwdLastSet || d.ctx.credential?.changedAt ? undefined : 'no password change time known (no service account, no vault changedAt): the stale-password rule could not run';
      return { findings: r.findings, ...(note ? { note } : {}) };
    },
  },
];
