/**
 * Kerberos credential check: the KDC's answer to one AS exchange — a first AS-REQ that carries no
 * password (it learns the etypes and salt, and already answers an unknown account), then exactly
 * one PA-ENC-TIMESTAMP proof, never retried and never sent to a second KDC — as findings (krb.*).
 * After a good AS exchange, a TGS-REQ per name clients connect to the RDP host by (TERMSRV/<name>,
 * and HOST/<name> as Active Directory maps it): krb.spn-ok or krb.no-spn. Evidence names the KDC,
 * realm, principal, etype, KRB-ERROR and NTSTATUS and the measured clock skew; never a key, a
 * ticket or the password. Faults (no KDC reachable, a silent KDC) are net.* findings.
 */
import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import { CredgateError } from '../core/errors.js';
import type { Secret } from '../core/secret.js';
import { parseAccountName } from '../core/credential.js';
import { finding, type Finding } from '../findings/finding.js';
import { fixes } from '../findings/catalog.js';
import { kdcFaultFinding } from '../findings/faults.js';
import { asExchange, tgsExchange } from '../protocols/kerberos/client.js';
import type { SrvResolver } from '../protocols/kerberos/kdcs.js';
import { parseClientPrincipal, type ClientPrincipal } from '../protocols/kerberos/principal.js';
import type { AsExchangeResult, AsKrbError, KerberosCallOptions, ProofFacts, ServiceTicketResult } from '../protocols/kerberos/types.js';
import type { KerberosTransport } from '../protocols/kerberos/transport.js';
import type { AccountState } from './account-state.js';

const SRC = 'kerberos';

export interface KerberosCheckOptions {
  /** alice@corp.example (sent as NT-ENTERPRISE), CORP\alice or alice with realm / defaultDomain. Not a DN. */
  username: string;
  password: Secret;
  /** KDCs to ask, in order ("dc1.corp.example", "10.0.0.5:88"); omitted: DNS SRV records of the realm. */
  kdcs?: string | readonly string[];
  realm?: string;
  /** DNS domain used as the realm for DOMAIN\user and bare names. */
  defaultDomain?: string;
  /** Send a UPN as NT-ENTERPRISE (default true) or as NT-PRINCIPAL. */
  enterprise?: boolean;
  /** Default 'tcp': an AD AS-REP (it carries a PAC) does not fit a datagram, and over UDP the KDC does the logon twice. */
  transport?: KerberosTransport;
  /** DNS servers for SRV discovery ("10.0.0.2", "127.0.0.1:5353"); default the system's. */
  dnsServers?: readonly string[];
  /** Or a resolver of your own for SRV discovery. */
  resolver?: SrvResolver;
  /** NetBIOS name of the computer the logon is for, so the KDC enforces "Log On To" (userWorkstations). */
  workstation?: string;
  /** Names clients connect to the RDP host by, first the one they use: each is asked for TERMSRV/ and HOST/. */
  spnHosts?: readonly string[];
  /** The account's state (read with a service account): tells which state a CLIENT_REVOKED without a status means. */
  state?: AccountState;
  /** Called right before the password proof leaves; false withholds it (a lockout guard, a stopped run). */
  beforeProof?: (facts: ProofFacts) => boolean | Promise<boolean>;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface KerberosCheckResult {
  findings: Finding[];
  /** Whether the password proof was sent (the KDC may have counted it). */
  proofSent: boolean;
  /** beforeProof returned false: the probe was answered, no proof sent, no findings. */
  withheld: boolean;
  /** The KDC that answered, when one did. */
  kdc?: string;
}

const hex = (n: number) => `0x${(n >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;

/** "1 h 02 min", "3 min 10 s", "850 ms": a skew for people. */
export function formatSkew(ms: number): string {
  const a = Math.abs(ms);
  if (a < 1000) return `${Math.round(a)} ms`;
  const s = Math.round(a / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

function baseEvidence(r: AsExchangeResult): Record<string, unknown> {
  return {
    kdc: r.kdc, realm: r.realm, principal: r.principal, transport: r.transport, proofSent: r.proofSent,
    ...(r.clock ? { skewMs: r.clock.skewMs, kdcTime: r.clock.serverTime } : {}),
    ...(r.failover.length ? { failover: r.failover } : {}),
  };
}

/** What CLIENT_REVOKED without a status can mean, and what the account state says it is. */
export const REVOKED_CANDIDATES = ['disabled', 'locked out', 'expired', 'outside its logon hours'] as const;

function revoked(r: AsKrbError, ev: Record<string, unknown>, state: AccountState | undefined): Finding {
  const now = Date.now();
  const said = `The KDC ${r.kdc} answered ${r.errorName} without a status`;
  if (state) {
    const stEv = { ...ev, accountState: { disabled: state.disabled, locked: state.locked, ...(state.lockoutTime ? { lockoutTime: state.lockoutTime.toISOString() } : {}), ...(state.accountExpires ? { accountExpires: state.accountExpires.toISOString() } : {}) } };
    if (state.locked) return finding(SRC, 'krb.account-locked', 'error', `${said}; the account state shows it locked out${state.lockoutTime ? ` since ${state.lockoutTime.toISOString()}` : ''}.`, stEv, fixes('krb.account-locked', 'default'));
    if (state.disabled) return finding(SRC, 'krb.account-disabled', 'error', `${said}; the account state shows it disabled.`, stEv, fixes('krb.account-disabled', 'default'));
    if (state.accountExpires && state.accountExpires.getTime() <= now) return finding(SRC, 'krb.account-expired', 'error', `${said}; the account state shows it expired on ${state.accountExpires.toISOString()}.`, stEv, fixes('krb.account-expired', 'default'));
    if (state.logonHoursDenyAll || state.logonHoursAllowedNow === false) return finding(SRC, 'krb.logon-hours', 'error', `${said}; the account state shows no logon allowed at this hour.`, stEv, fixes('krb.logon-hours', 'default'));
    return finding(SRC, 'krb.account-revoked', 'error', `${said}, and the account state read before it shows none of: ${REVOKED_CANDIDATES.join(', ')} (it may have changed since).`, { ...stEv, candidates: [...REVOKED_CANDIDATES] }, fixes('krb.account-revoked', 'default', { items: REVOKED_CANDIDATES }));
  }
  return finding(SRC, 'krb.account-revoked', 'error', `${said}: the account is ${REVOKED_CANDIDATES.slice(0, -1).join(', ')} or ${REVOKED_CANDIDATES.at(-1)} (Samba sends no status only for a lockout).`,
    { ...ev, candidates: [...REVOKED_CANDIDATES] }, fixes('krb.account-revoked', 'default', { items: REVOKED_CANDIDATES }));
}

type Reason = AsKrbError['reason'];
const BY_REASON: Partial<Record<Reason, { code: 'krb.invalid-credentials' | 'krb.user-not-found' | 'krb.account-disabled' | 'krb.account-locked' | 'krb.account-expired' | 'krb.password-expired' | 'krb.password-must-change' | 'krb.logon-hours' | 'krb.workstation-restricted' | 'krb.policy' | 'krb.etype-unsupported'; says: string }>> = {
  'invalid-credentials': { code: 'krb.invalid-credentials', says: 'the password is wrong' },
  'user-not-found': { code: 'krb.user-not-found', says: 'it has no such principal' },
  'account-disabled': { code: 'krb.account-disabled', says: 'the account is disabled' },
  'account-locked': { code: 'krb.account-locked', says: 'the account is locked out' },
  'account-expired': { code: 'krb.account-expired', says: 'the account has expired' },
  'password-expired': { code: 'krb.password-expired', says: 'the password has expired' },
  'password-must-change': { code: 'krb.password-must-change', says: 'the password must be changed first' },
  'logon-hours': { code: 'krb.logon-hours', says: 'the account may not log on at this hour' },
  'workstation-restricted': { code: 'krb.workstation-restricted', says: 'the account may not log on from this workstation' },
  policy: { code: 'krb.policy', says: 'a policy forbids the logon' },
  'etype-unsupported': { code: 'krb.etype-unsupported', says: 'it has no key of an encryption type credgate offered' },
};

function krbError(r: AsKrbError, state: AccountState | undefined, workstation: string | undefined): Finding {
  const ev: Record<string, unknown> = {
    ...baseEvidence(r), phase: r.phase, errorCode: r.errorCode, errorName: r.errorName,
    ...(r.ntstatus !== undefined ? { ntstatus: hex(r.ntstatus), ntstatusName: r.ntstatusName } : {}),
    ...(r.eText ? { eText: r.eText } : {}),
  };
  const status = r.ntstatus !== undefined ? ` + ${r.ntstatusName}` : '';
  const sent = r.phase === 'probe' ? ' (to the first AS-REQ, which carries no password)' : '';
  if (r.reason === 'account-revoked') return revoked(r, ev, state);
  if (r.reason === 'clock-skew') {
    const skew = formatSkew(r.clock.skewMs);
    return finding(SRC, 'krb.clock-skew', 'error', `The KDC ${r.kdc} answered ${r.errorName}: its clock is ${skew} ${r.clock.skewMs > 0 ? 'ahead of' : 'behind'} this machine's, more than it allows, so it did not judge the password.`,
      ev, fixes('krb.clock-skew', 'default', { detail: skew }));
  }
  if (r.reason === 'wrong-realm') {
    const realm = r.referralRealm ?? 'the account\'s realm';
    return finding(SRC, 'krb.wrong-realm', 'error', `The KDC ${r.kdc} answered ${r.errorName}: ${r.principal} belongs to ${realm}.`, { ...ev, ...(r.referralRealm ? { referralRealm: r.referralRealm } : {}) }, fixes('krb.wrong-realm', 'default', { detail: realm }));
  }
  const known = BY_REASON[r.reason];
  if (known) {
    return finding(SRC, known.code, 'error', `The KDC ${r.kdc} answered ${r.errorName}${status}${sent}: ${known.says}.`, ev,
      fixes(known.code, 'default', { detail: workstation ?? 'the workstation' }));
  }
  const what = r.reason === 'service-not-found' ? `: it does not serve the realm ${r.realm} (no krbtgt/${r.realm}); check --realm and --kdc` : '';
  return finding(SRC, 'krb.error', 'error', `The KDC ${r.kdc} answered ${r.errorName}${status}${sent}${what}.`, ev, fixes('krb.error', 'default'));
}

/** One AS exchange's result as findings (empty when the proof was withheld). */
export function asFindings(r: AsExchangeResult, o: { state?: AccountState; workstation?: string } = {}): Finding[] {
  const ev = baseEvidence(r);
  const noPreauth = () => finding(SRC, 'krb.preauth-not-required', 'warning', `The KDC ${r.kdc} answered the first AS-REQ for ${r.principal} with a ticket, without pre-authentication.`, ev, fixes('krb.preauth-not-required', 'default'));
  switch (r.outcome) {
    case 'ok': {
      const okF = finding(SRC, 'krb.ok', 'ok', `The KDC ${r.kdc} accepted the password of ${r.canonicalPrincipal} (${r.etypeName}${r.preauthRequired ? ', pre-authenticated' : ''}).`,
        { ...ev, canonicalPrincipal: r.canonicalPrincipal, etype: r.etypeName, ...(r.keyExpiration ? { passwordExpires: r.keyExpiration } : {}) });
      return r.preauthRequired ? [okF] : [okF, noPreauth()];
    }
    case 'key-mismatch':
      return [finding(SRC, 'krb.invalid-credentials', 'error', `The password is wrong for ${r.principal}: the ticket the KDC ${r.kdc} issued without pre-authentication does not open with it (nothing was sent).`,
        { ...ev, etype: r.etype }, fixes('krb.invalid-credentials', 'default')), noPreauth()];
    case 'unsupported': {
      const uev = { ...ev, offeredEtypes: r.offeredEtypes, padataTypes: r.padataTypes };
      return r.reason === 'etype-unsupported'
        ? [finding(SRC, 'krb.etype-unsupported', 'error', `The KDC ${r.kdc} offers ${r.principal} no encryption type credgate speaks (offered: ${r.offeredEtypes.join(', ') || 'none'}); no password was sent.`, uev, fixes('krb.etype-unsupported', 'default'))]
        : [finding(SRC, 'krb.preauth-unsupported', 'error', `The KDC ${r.kdc} offers ${r.principal} no encrypted-timestamp pre-authentication (methods: ${r.padataTypes.join(', ') || 'none'}); no password was sent.`, uev, fixes('krb.preauth-unsupported', 'default'))];
    }
    case 'proof-withheld':
      return [];
    case 'krb-error':
      return [krbError(r, o.state, o.workstation)];
  }
}

const isAddress = (h: string) => isIP(h.replace(/^\[|\]$/g, '')) !== 0;

/** The TGS answers for the connect-by names as findings: krb.spn-ok for the first name, or krb.no-spn. */
export function spnFindings(names: readonly string[], services: readonly ServiceTicketResult[], kdc: string): Finding[] {
  const has = (name: string) => services.filter((s) => s.outcome !== 'krb-error' && s.spn.split('/')[1] === name);
  const answers = Object.fromEntries(services.map((s) => [s.spn, s.outcome === 'krb-error' ? s.errorName : s.outcome === 'referral' ? `referral to ${s.realm}` : 'found']));
  const primary = names[0]!;
  const ev = { kdc, host: primary, spns: answers };
  const found = has(primary);
  if (found.length) {
    const termsrv = found.find((s) => s.spn.toUpperCase().startsWith('TERMSRV/'));
    const which = termsrv ? termsrv.spn : `${found[0]!.spn} (TERMSRV/${primary} itself is not registered; Active Directory maps it to the HOST/ principal)`;
    return [finding(SRC, 'krb.spn-ok', 'ok', `The KDC ${kdc} issues a service ticket for ${which}: clients that connect by ${primary} can use Kerberos at NLA.`, ev)];
  }
  const others = names.slice(1).filter((n) => has(n).length);
  const detail = others.length ? `: ${others.join(', ')}` : '';
  const ip = isAddress(primary);
  return [finding(SRC, 'krb.no-spn', 'warning',
    `The KDC ${kdc} has no service principal for ${primary} (${services.filter((s) => s.spn.split('/')[1] === primary).map((s) => `${s.spn}: ${answers[s.spn]}`).join('; ')})${ip ? ': it is an IP address' : ''}: clients that connect by this name cannot use Kerberos, so where NTLM is blocked NLA fails.`,
    { ...ev, ...(others.length ? { namesWithSpn: others } : {}) }, ip ? fixes('krb.no-spn', 'ip', { detail }) : fixes('krb.no-spn', 'default', { host: primary, detail }))];
}

/** The resolver for SRV discovery: the caller's, one asking `dnsServers`, or undefined (the system's). */
export function srvResolver(o: Pick<KerberosCheckOptions, 'resolver' | 'dnsServers' | 'timeoutMs'>): SrvResolver | undefined {
  if (o.resolver) return o.resolver;
  if (!o.dnsServers?.length) return undefined;
  const r = new Resolver({ timeout: Math.min(5000, o.timeoutMs ?? 5000), tries: 1 });
  try {
    r.setServers([...o.dnsServers]);
  } catch (e) {
    throw new CredgateError(`The DNS server list "${o.dnsServers.join(',').slice(0, 200)}" is not a list of IP addresses (with optional :port); pass e.g. 10.0.0.2 or 127.0.0.1:5353.`, { code: 'CONFIG_INVALID', cause: e, details: { option: 'dnsServers' } });
  }
  return r;
}

/** The client principal an account name is tried as; CONFIG_INVALID for a DN or a name without a realm. */
export function kerberosPrincipal(username: string, o: Pick<KerberosCheckOptions, 'realm' | 'defaultDomain' | 'enterprise'> = {}): ClientPrincipal {
  if (parseAccountName(username).form === 'dn') {
    throw new CredgateError(`Kerberos names an account by its UPN or DOMAIN\\user, not by a DN ("${username.slice(0, 200)}"); pass alice@corp.example.`, { code: 'CONFIG_INVALID', details: { option: 'user' } });
  }
  return parseClientPrincipal(username, { ...(o.realm ? { realm: o.realm } : {}), ...(o.defaultDomain ? { defaultDomain: o.defaultDomain } : {}), ...(o.enterprise !== undefined ? { enterprise: o.enterprise } : {}) });
}

/** The call options of the Kerberos client for this check (names checked, DN refused). */
export function kerberosCallOptions(o: KerberosCheckOptions): KerberosCallOptions {
  kerberosPrincipal(o.username, o);
  const resolver = srvResolver(o);
  return {
    username: o.username,
    transport: o.transport ?? 'tcp',
    ...(o.kdcs !== undefined ? { kdcs: o.kdcs } : {}),
    ...(o.realm ? { realm: o.realm } : {}),
    ...(o.defaultDomain ? { defaultDomain: o.defaultDomain } : {}),
    ...(o.enterprise !== undefined ? { enterprise: o.enterprise } : {}),
    ...(resolver ? { resolver } : {}),
    ...(o.workstation ? { workstation: o.workstation } : {}),
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    ...(o.signal ? { signal: o.signal } : {}),
  };
}

/**
 * Prove a password with the KDC (one pre-authentication, never retried) and, after a good AS
 * exchange, look up the RDP host's service principals. SENDS A PASSWORD PROOF: gate it (the
 * lockout policy) before calling, or with beforeProof. Configuration errors and an abort throw.
 */
export async function validateKerberos(o: KerberosCheckOptions): Promise<KerberosCheckResult> {
  const call = kerberosCallOptions(o);
  const names = [...new Set((o.spnHosts ?? []).map((h) => h.trim()).filter(Boolean))].slice(0, 8);
  const spns = names.flatMap((n) => [`TERMSRV/${n}`, `HOST/${n}`]);
  const common = { ...call, password: o.password, ...(o.beforeProof ? { beforeProof: o.beforeProof } : {}) };
  try {
    const { as, services } = spns.length ? await tgsExchange({ ...common, spns }) : { as: await asExchange(common), services: [] };
    const findings = asFindings(as, { ...(o.state ? { state: o.state } : {}), ...(o.workstation ? { workstation: o.workstation } : {}) });
    if (as.outcome === 'ok' && services.length) findings.push(...spnFindings(names, services, as.kdc));
    return { findings, proofSent: as.proofSent, withheld: as.outcome === 'proof-withheld', kdc: as.kdc };
  } catch (e) {
    if (e instanceof CredgateError && e.details?.phase === 'tgs') {
      // the AS exchange was good (the TGS-REQs come only after it); the SPN look-up did not finish
      const kdc = typeof e.details.kdc === 'string' ? e.details.kdc : '';
      return {
        findings: [
          finding(SRC, 'krb.ok', 'ok', `The KDC${kdc ? ` ${kdc}` : ''} accepted the password (the service-ticket look-up after it failed).`, { ...(kdc ? { kdc } : {}), proofSent: true }),
          finding(SRC, 'not-checked', 'info', `RDP host SPN: not checked — the KDC did not answer the TGS-REQ (${e.message})`, { step: 'kerberos', ...(kdc ? { kdc } : {}), error: e.message }),
        ],
        proofSent: true, withheld: false, ...(kdc ? { kdc } : {}),
      };
    }
    const f = kdcFaultFinding(e, SRC);
    if (!f) throw e;
    const sent = e instanceof CredgateError && e.details?.proofSent === true;
    return { findings: [f], proofSent: sent, withheld: false, ...(typeof f.evidence.kdc === 'string' ? { kdc: f.evidence.kdc } : {}) };
  }
}
