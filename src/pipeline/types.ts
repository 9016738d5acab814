/** The preflight's shapes: the target, the options, a step and its report, the report of the whole run. */
import type { Finding, Verdict } from '../findings/finding.js';
import type { CredentialRef, FetchedCredential } from '../core/credential.js';
import type { Secret } from '../core/secret.js';
import type { Provider } from '../providers/types.js';
import type { LdapTransportOptions } from '../protocols/ldap/transport.js';
import type { AccountState } from '../checks/account-state.js';
import type { CacheSnapshot } from '../cache/types.js';
import type { SrvResolver } from '../protocols/kerberos/kdcs.js';
import type { EarlierTry } from './lockout-policy.js';
import type { TelemetryLogger } from '../core/telemetry.js';

export type StepName = 'provider' | 'account-state' | 'kerberos' | 'ldap-bind' | 'rdp-endpoint' | 'rdp-nla' | 'cache';
export type StepStatus = 'passed' | 'failed' | 'not-checked' | 'error';

export interface StepReport {
  name: StepName;
  status: StepStatus;
  findings: Finding[];
  ms: number;
  /** When the step started, in ms from the start of the preflight (0 for a step that never ran). */
  startMs: number;
  /** Why a step did not run, or the fault that stopped it. */
  note?: string;
}

export interface PreflightTarget {
  /** RDP host: `web01.corp.example`, `web01:3390`, `[2001:db8::1]:3389`. */
  host: string;
  /** Target account, in any form (UPN, DOMAIN\user, DN, bare). Optional when the provider names it. */
  account?: string;
  /** The credential: a provider reference, or the password itself. */
  provider?: string | Provider;
  ref?: CredentialRef;
  password?: Secret;
}

export interface DirectoryConfig extends Omit<LdapTransportOptions, 'signal' | 'timeoutMs'> {
  defaultDomain?: string;
  /** Read-only service account: account state, lockout guard, pwdLastSet for the cache rule. */
  service?: { username: string; password: Secret };
  /**
   * Accept an unknown lockout threshold (the service account cannot read it, or badPwdCount):
   * a `ldap.lockout-threshold-unknown` warning instead of `ldap.lockout-risk`, and the bind may
   * go ahead. Default false. Applies to check() and verify().
   */
  allowUnknownThreshold?: boolean;
}

/** The KDC: one Kerberos pre-authentication (before the bind), then the RDP host's SPNs. */
export interface KerberosConfig {
  /** KDCs, in order ("dc1.corp.example", "10.0.0.5:88", "[2001:db8::5]:88"); omitted: DNS SRV records of the realm. */
  kdc?: string | string[];
  /** The realm; default the UPN's suffix, or the directory's defaultDomain for DOMAIN\user and bare names. */
  realm?: string;
  /** Default 'tcp'; 'udp' sends over UDP first and moves to TCP when the KDC answers RESPONSE_TOO_BIG. */
  transport?: 'udp' | 'tcp';
  /** DNS servers for the SRV look-up ("10.0.0.2", "127.0.0.1:5353"); default the system's. */
  dnsServers?: string[];
  /** Or a resolver of your own for the SRV look-up. */
  resolver?: SrvResolver;
  /** Names clients connect to the RDP host by (asked for TERMSRV/ and HOST/ SPNs); default the host. false: no SPN look-up. */
  spnHosts?: string[] | false;
  /** NetBIOS name of the client computer, so the KDC enforces the account's "Log On To" list. */
  workstation?: string;
  /** Send a UPN as NT-ENTERPRISE (default true), or as NT-PRINCIPAL. */
  enterprise?: boolean;
}

export interface CacheConfig {
  /** Collector JSON, reg exports, cmdkey /list captures. */
  files?: string[];
  /** Or a snapshot already read (SDK callers, live sources). */
  snapshot?: CacheSnapshot;
  /** Inventory file (one host per line) or list. */
  inventory?: string | string[];
}

export interface PreflightOptions {
  /** Named providers a target can refer to. */
  providers?: Record<string, Provider>;
  directory?: DirectoryConfig;
  /** The KDC (one pre-authentication, before the bind; the RDP host's SPNs after it). */
  kerberos?: KerberosConfig;
  /** The RDP host checks. `probe: false` skips them (reported as not checked). */
  rdp?: { port?: number; caFile?: string | string[]; expiringDays?: number; nla?: boolean; domain?: string; probe?: boolean };
  cache?: CacheConfig;
  /**
   * One deadline over the whole preflight. Default 20,000 ms. Every step is raced against it: a
   * step still running then is reported as timed out, one not started yet as not checked.
   */
  deadlineMs?: number;
  /** Per network step. Default: the deadline. */
  stepTimeoutMs?: number;
  /**
   * The caller's abort: the preflight stops its steps and rejects with an AbortError (`name`
   * 'AbortError', code ABORTED), like every entry point. A signal that times out
   * (`AbortSignal.timeout`) is a deadline instead: the report says which steps ran out.
   */
  signal?: AbortSignal;
  /**
   * A graceful stop (a terminating signal): no step starts once it fired (each is reported as not
   * checked), steps already running finish within the deadline, so a bind or NLA exchange in
   * flight is answered and reported, never dropped.
   */
  stop?: AbortSignal;
  /**
   * Called for every finding as it is produced (the vendor's own logging / audit), and for the
   * final `not-checked` finding of each step that did not run. A hook that throws (or returns a
   * rejected promise) is ignored: it never breaks the check.
   */
  onFinding?: (f: Finding, step: StepName) => void;
  /**
   * Receives the run's structured events (steps, provider calls and requests, binds, retries,
   * warnings; docs/sdk.md#observability): a function or a logger object (pino, winston, console).
   * Never a secret; a logger that throws is ignored.
   */
  logger?: TelemetryLogger;
}

export interface PreflightReport {
  ok: boolean;
  verdict: Verdict;
  /** One sentence an RDP admin can act on. */
  headline: string;
  target: { host: string; port: number; account?: string; credentialSource?: string; changedAt?: string };
  steps: StepReport[];
  timingsMs: Record<string, number>;
}

/** What the steps learn from each other during one preflight. */
export interface StepContext {
  credential?: FetchedCredential;
  state?: AccountState;
  reachableRdp?: boolean;
  nlaOffered?: boolean;
  presentedThumbprints?: string[];
  hostAliases?: string[];
  /** Set when the LDAP bind answered with a rejection (the finding code). */
  bindRejected?: string;
  /**
   * Set once the ldap-bind step is over (a directory configured): undefined when the directory
   * accepted the credential, else why not (the deciding code, or why the bind did not run).
   */
  bindRefusal?: string;
  /**
   * Set (with the reason) when a service account is configured but the account state could not
   * be read: the lockout guard did not run, so neither the bind nor NLA may try the password.
   */
  guardFailed?: string;
  /** Set once the kerberos step is over (a KDC configured): whether the KDC accepted the password. */
  kerberos?: EarlierTry;
}

export interface StepDeps {
  host: string;
  port: number;
  /** The caller's signal and the preflight's deadline. */
  overall: AbortSignal;
  /** The preflight's deadline alone (tells a timeout from the caller's abort), and its length. */
  deadline: AbortSignal;
  deadlineMs: number;
  stepTimeoutMs: number;
  options: PreflightOptions;
  target: PreflightTarget;
  ctx: StepContext;
  /** The report of another step, once it is over. */
  report(name: StepName): Promise<StepReport>;
}

export type StepOutcome = { findings: Finding[]; note?: string } | { notChecked: string };

/** One step of the preflight: what it waits for, how it runs, what later steps learn from it. */
export interface Step {
  name: StepName;
  /** Steps whose reports this one waits for before it starts. */
  after: readonly StepName[];
  run(d: StepDeps): Promise<StepOutcome>;
  /** Once the step's report is made: record what later steps need in the context. */
  settle?(rep: StepReport, d: StepDeps): void;
}
