// The Kerberos client's public options and results: plain data, no secrets. Results are what a
// check module turns into findings (krb.ok, krb.invalid-credentials, krb.account-locked, ...);
// faults (no KDC reachable, malformed replies, deadline, abort) are thrown as CredgateError.
import type { ErrorCode } from '../../core/errors.js';
import type { Secret } from '../../core/secret.js';
import type { KerberosFailureReason, SupportedEtype } from './constants.js';
import type { SrvResolver } from './kdcs.js';
import type { KerberosTransport } from './transport.js';

export interface KerberosCallOptions {
  /** The account: a UPN (alice@corp.example), DOMAIN\user or a bare name (with realm / defaultDomain). */
  username: string;
  /** The realm; required for DOMAIN\user and bare names unless defaultDomain is a DNS name. */
  realm?: string;
  /** DNS domain used as the realm for DOMAIN\user and bare names. */
  defaultDomain?: string;
  /** Send a UPN as NT-ENTERPRISE (default true) or as NT-PRINCIPAL with the UPN prefix. */
  enterprise?: boolean;
  /** KDCs to ask, in order ("host[:port]", "[v6]:port"); omitted: DNS SRV records of the realm. */
  kdcs?: string | readonly string[];
  /** DNS resolver for SRV discovery (tests inject one; default: node:dns). */
  resolver?: SrvResolver;
  /** 'udp' (default): UDP, then TCP when the KDC answers KRB_ERR_RESPONSE_TOO_BIG; 'tcp': TCP only. */
  transport?: KerberosTransport;
  /** Deadline for the whole call (default 15000 ms); past it the call throws TIMEOUT. */
  timeoutMs?: number;
  /** How long one KDC gets before the next is tried, while failover is allowed (default 5000 ms). */
  kdcTimeoutMs?: number;
  /** The caller's abort: the call throws ABORTED (TIMEOUT if the signal's reason is a TimeoutError). */
  signal?: AbortSignal;
  /** Etypes offered in the AS-REQ, best first (default [18, 17, 23]); RC4 is used only if nothing better is offered back. */
  etypes?: readonly SupportedEtype[];
  /**
   * NetBIOS name of the machine the logon is for (1-15 characters), sent as the AS-REQ's NetBIOS
   * address so an AD KDC enforces the account's userWorkstations list. Without it no KDC can check
   * a workstation restriction.
   */
  workstation?: string;
  /** Largest KDC reply accepted (default 262144 bytes, at most 1048576). */
  maxReplyBytes?: number;
}

/** What a lockout guard sees just before the password-derived proof would leave. */
export interface ProofFacts {
  kdc: string;
  realm: string;
  principal: string;
  etype: SupportedEtype;
  /** The KDC's clock from the probe: a skew over 5 minutes will be answered with KRB_AP_ERR_SKEW. */
  clock?: KdcClock;
}

export interface AsExchangeOptions extends KerberosCallOptions {
  password: Secret;
  /**
   * Called once, after the unauthenticated AS-REQ was answered and right before the AS-REQ with
   * PA-ENC-TIMESTAMP (the only request a KDC can count as a bad password) is sent. Return false
   * to send nothing (outcome 'proof-withheld'). A lockout guard belongs here.
   */
  beforeProof?: (facts: ProofFacts) => boolean | Promise<boolean>;
}

export interface TgsExchangeOptions extends AsExchangeOptions {
  /** Service principals to ask tickets for, e.g. ["TERMSRV/rdp01.corp.example", "HOST/rdp01.corp.example"]. */
  spns: readonly string[];
}

/** Times from a KDC message against this machine's clock when it arrived (ISO 8601). */
export interface KdcClock {
  serverTime: string;
  clientTime: string;
  /** serverTime - clientTime, in ms (positive: the KDC is ahead). */
  skewMs: number;
}

/** A KDC skipped before one answered (only ever before the password proof was sent). */
export interface KdcFailover {
  kdc: string;
  code: ErrorCode;
  kind?: string;
}

export interface ExchangeFacts {
  /** The KDC that answered ("host:port"); the only one that can have received the proof. */
  kdc: string;
  /** Transport of the last reply. */
  transport: KerberosTransport;
  realm: string;
  /** The client principal as sent, e.g. alice@PAMTEST.LOCAL or alice\@corp.example@CORP.EXAMPLE. */
  principal: string;
  /** True once an AS-REQ with PA-ENC-TIMESTAMP was sent (the KDC may have counted a bad password). */
  proofSent: boolean;
  failover: KdcFailover[];
  clock?: KdcClock;
}

/** Non-secret summary of a KRB-ERROR's e-data. */
export interface EDataSummary {
  form: 'kerb-error-data' | 'method-data' | 'typed-data' | 'unparsed';
  dataTypes?: number[];
  padataTypes?: number[];
  extendedFrom?: 'kerb-ext-error' | 'pa-pw-salt';
  extendedFlags?: number;
}

export interface KrbErrorFacts {
  errorCode: number;
  errorName: string;
  reason: KerberosFailureReason;
  eText?: string;
  /** NTSTATUS from KERB-EXT-ERROR or PA-PW-SALT, when the KDC sent one. */
  ntstatus?: number;
  ntstatusName?: string;
  eData?: EDataSummary;
  /** A WRONG_REALM referral's realm (the account lives elsewhere). */
  referralRealm?: string;
  clock: KdcClock;
}

export interface AsOk extends ExchangeFacts {
  outcome: 'ok';
  etype: SupportedEtype;
  etypeName: string;
  preauthRequired: boolean;
  /** The principal the KDC put in the ticket (canonical name). */
  canonicalPrincipal: string;
  /** key-expiration from the AS-REP: when AD says the password expires. */
  keyExpiration?: string;
}

export interface AsKrbError extends ExchangeFacts, KrbErrorFacts {
  outcome: 'krb-error';
  /** 'probe': answer to the request without password proof; 'proof': to the one with it. */
  phase: 'probe' | 'proof';
  clock: KdcClock;
}

/** The account needs no pre-authentication and the AS-REP did not decrypt: wrong password, found locally. */
export interface AsKeyMismatch extends ExchangeFacts {
  outcome: 'key-mismatch';
  reason: 'invalid-credentials';
  etype: SupportedEtype;
}

/** Nothing this client can prove the password with: no common etype, or no encrypted timestamp. */
export interface AsUnsupported extends ExchangeFacts {
  outcome: 'unsupported';
  reason: 'etype-unsupported' | 'preauth-unsupported';
  offeredEtypes: number[];
  padataTypes: number[];
}

/** beforeProof returned false: the probe was answered, no proof was sent. */
export interface AsProofWithheld extends ExchangeFacts {
  outcome: 'proof-withheld';
  etype: SupportedEtype;
}

export type AsExchangeResult = AsOk | AsKrbError | AsKeyMismatch | AsUnsupported | AsProofWithheld;

export interface EtypeOffer {
  etype: number;
  etypeName: string;
  /** PBKDF2 iterations from s2kparams (AES only). */
  iterations?: number;
}

export interface AsProbePreauthRequired extends ExchangeFacts {
  outcome: 'preauth-required';
  /** The etype asExchange would use. */
  etype: SupportedEtype;
  offeredEtypes: EtypeOffer[];
  padataTypes: number[];
}

/** The KDC issued a ticket without pre-authentication (DONT_REQUIRE_PREAUTH): the reply was dropped unread. */
export interface AsProbeNoPreauth extends ExchangeFacts {
  outcome: 'no-preauth';
  etype: number;
}

export type AsProbeResult = AsProbePreauthRequired | AsProbeNoPreauth | AsKrbError | AsUnsupported;

export type ServiceTicketResult =
  | { spn: string; outcome: 'found'; etype: number; etypeName: string; kvno?: number }
  | ({ spn: string; outcome: 'krb-error' } & KrbErrorFacts)
  | { spn: string; outcome: 'referral'; realm: string };

export interface TgsExchangeResult {
  as: AsExchangeResult;
  /** One entry per SPN, in order; empty unless as.outcome is 'ok'. */
  services: ServiceTicketResult[];
}
