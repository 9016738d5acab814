/** The shapes of a bulk run: one account in, one result out, and the run's options. */
import type { Secret } from '../core/secret.js';
import type { Finding, FindingCode } from '../findings/finding.js';
import type { Category } from '../findings/catalog.js';
import type { LdapTransportOptions } from '../protocols/ldap/transport.js';
import type { SrvResolver } from '../protocols/kerberos/kdcs.js';
import type { TelemetryLogger } from '../core/telemetry.js';

/** One account to verify. */
export interface AccountLine {
  /** alice@corp.example, CORP\alice, a DN, or alice with `defaultDomain`. */
  username: string;
  password: Secret;
  /** The input line number, echoed in the result. */
  line?: number;
  /** The caller's own identifier, echoed in the result. */
  id?: string;
}

/** The answer for one account. */
export interface VerifyResult {
  line?: number;
  id?: string;
  /** The account as given. */
  account: string;
  /** True when the directory accepted the credential and nothing blocks its use. */
  ok: boolean;
  /** The deciding finding's code (ldap.ok, ldap.invalid-credentials, net.refused, ...). */
  code: FindingCode;
  category: Category;
  /** The exit code this account alone would give (src/findings/diagnose.ts). */
  exitCode: number;
  /** Whether credgate sent this account's password: a bind, or a Kerberos pre-authentication's proof. */
  bound: boolean;
  /** The directory URL that answered (or was last tried). */
  url?: string;
  /** The KDC that answered (Kerberos runs). */
  kdc?: string;
  findings: Finding[];
  /** Wall time for this account, from taking it to its answer. */
  ms: number;
}

/** A bulk run's Kerberos side: each account is tried with one pre-authentication instead of a bind. */
export interface BulkKerberosOptions {
  /** KDCs, in order ("dc1.corp.example", "10.0.0.5:88"); omitted: DNS SRV records, looked up once per realm. */
  kdc?: string | string[];
  realm?: string;
  /** DNS domain used as the realm for DOMAIN\user and bare names (default: the run's defaultDomain). */
  defaultDomain?: string;
  /** Default 'tcp' (an AD AS-REP does not fit a datagram: over UDP the KDC would do each logon twice). */
  transport?: 'udp' | 'tcp';
  dnsServers?: string[];
  resolver?: SrvResolver;
  enterprise?: boolean;
  workstation?: string;
}

export interface VerifyManyOptions extends Omit<LdapTransportOptions, 'urls'> {
  /** The directory's URLs (replicas, failover in order): what each account binds against, or only what the lockout guard reads with `kerberos`. */
  urls?: string | string[];
  /**
   * Try each account with one Kerberos pre-authentication instead of a bind (same input, output,
   * resume, concurrency, rate limit and guard). With a service account the guard still reads the
   * directory (`urls`).
   */
  kerberos?: BulkKerberosOptions;
  /** Accounts in flight: persistent connections to the directory (= binds in flight), or AS exchanges. Default 8. */
  concurrency?: number;
  /** At most this many password tries (binds, pre-authentications) per second over the whole pool. 0 / undefined = no limit. */
  rate?: number;
  /** Read-only service account: enables the lockout guard (batched account-state reads, AD). */
  service?: { username: string; password: Secret };
  defaultDomain?: string;
  /** Search base for the guard; default the directory's defaultNamingContext. */
  baseDn?: string;
  /** Send the ppolicy request control with each bind. Default true. */
  passwordPolicy?: boolean;
  /** Warn when a password expires within this many days. Default 14. */
  expiryWarningDays?: number;
  /** Accounts per guard read. Default 50. */
  guardBatchSize?: number;
  /**
   * Accept an unknown lockout threshold (the service account cannot read lockoutThreshold on the
   * domain object, the account's PSO, or its badPwdCount), as readAccountState does: default
   * false, such an account is `ldap.lockout-risk` and not bound; with true it is bound, with a
   * `ldap.lockout-threshold-unknown` warning.
   */
  allowUnknownThreshold?: boolean;
  /**
   * Aborting `signal` stops taking accounts from the input; binds already in flight finish (each
   * bounded by timeoutMs) and their results are still yielded; then, when accounts were left
   * unchecked, the iteration rejects with an AbortError (`name` 'AbortError', code ABORTED; TIMEOUT
   * for a signal that timed out), as every entry point does. Accounts taken but not yet sent
   * (waiting on the rate limit or a connection) are not bound and get no result.
   */
  signal?: AbortSignal;
  /** Receives the run's structured events (binds, retries, progress; docs/sdk.md#observability). */
  logger?: TelemetryLogger;
}

/** The options of a run that talks to the directory (a bind per account, or the guard's reads): its URLs are known. */
export type DirectoryRunOptions = VerifyManyOptions & { urls: string | string[] };
