/**
 * Read an AD account's state with a read-only service account — without binding as the target,
 * so it costs the target nothing (no bad-password count) — and report it as findings: disabled,
 * locked, expired, must change, password expired/expiring, logon hours, and the lockout risk
 * (badPwdCount one short of the effective lockout threshold, PSO-aware). A threshold (or
 * badPwdCount) that cannot be read is unknown, never "no lockout": it is reported as a lockout
 * risk — credgate does not bind — unless the caller accepts the risk with allowUnknownThreshold.
 */
import type { Client, Entry } from 'ldapts';
import { ldapResultCode } from '../findings/faults.js';
import { CredgateError, abortError } from '../core/errors.js';
import { finding, type Finding } from '../findings/finding.js';
import { fixes } from '../findings/catalog.js';
import { parseAccountName } from '../core/credential.js';
import { scrub, type Secret } from '../core/secret.js';
import { adSubCode } from '../protocols/ldap/ad-codes.js';
import { filetimeToDate } from '../protocols/ldap/filetime.js';
import { attrString, escapeFilter } from '../protocols/ldap/search.js';
import {
  assertBindTransport, attemptDeadlines, closeClient, loadCa, newClient, onRequestSent, parseLdapUrls,
  tlsOptionsFor, withSignal, type LdapTransportOptions,
} from '../protocols/ldap/transport.js';
import { connectionFinding } from '../findings/faults.js';

export interface AccountStateOptions extends LdapTransportOptions {
  /** The read-only service account. */
  serviceUser: string;
  servicePassword: Secret;
  /** The account to read, in any form (UPN, DOMAIN\user, DN, bare + defaultDomain). */
  target: string;
  defaultDomain?: string;
  /** Search base; default: the directory's defaultNamingContext. */
  baseDn?: string;
  /** For deterministic tests. */
  now?: Date;
  /** Warn when the password expires within this many days. Default 14. */
  expiryWarningDays?: number;
  /**
   * Accept an unknown lockout threshold (the service account cannot read lockoutThreshold on the
   * domain object, the account's password settings object, or the account's badPwdCount).
   * Default false: that is reported as `ldap.lockout-risk` and checkCredential does not bind.
   * With true it is a `ldap.lockout-threshold-unknown` warning and the bind may go ahead.
   */
  allowUnknownThreshold?: boolean;
}

export interface AccountState {
  dn: string;
  sAMAccountName?: string;
  userPrincipalName?: string;
  userAccountControl: number;
  computedFlags: number;
  disabled: boolean;
  locked: boolean;
  lockoutTime?: Date;
  accountExpires?: Date;
  pwdLastSet?: Date;
  mustChangePassword: boolean;
  passwordExpires?: Date;
  passwordNeverExpires: boolean;
  badPwdCount?: number;
  /**
   * The effective lockout threshold; 0 = no lockout. When it could not be read
   * (lockoutThresholdSource 'unknown') this is 1, the worst case, so anything comparing
   * badPwdCount with it stays on the safe side.
   */
  lockoutThreshold: number;
  lockoutThresholdSource: 'domain' | 'pso' | 'unknown';
  /** With source 'unknown': the object whose threshold could not be read. */
  lockoutThresholdUnreadable?: string;
  resultantPso?: string;
  userWorkstations?: string;
  logonHoursDenyAll?: boolean;
  logonHoursAllowedNow?: boolean;
}

const SOURCE = 'account-state';
const UAC_ACCOUNTDISABLE = 0x2;
const UAC_DONT_EXPIRE_PASSWD = 0x10000;
const COMPUTED_LOCKOUT = 0x10;
const COMPUTED_PASSWORD_EXPIRED = 0x800000;
/** The user attributes the account state is built from. */
export const ACCOUNT_STATE_ATTRS = [
  'sAMAccountName', 'userPrincipalName', 'userAccountControl', 'lockoutTime', 'accountExpires', 'pwdLastSet',
  'badPwdCount', 'msDS-User-Account-Control-Computed', 'msDS-UserPasswordExpiryTimeComputed', 'msDS-ResultantPSO',
  'userWorkstations', 'logonHours',
];

/**
 * The search options that read them: `logonHours` is 21 bytes of bits (MS-ADA1), and ldapts hands a
 * value over as text whenever its bytes happen to be valid UTF-8 (C2 80 is one character), so a
 * map could come back shorter than 21 bytes and the hours went unread.
 */
export const ACCOUNT_STATE_SEARCH = { attributes: ACCOUNT_STATE_ATTRS, explicitBufferAttributes: ['logonHours'] };

export interface AccountStateResult {
  state?: AccountState;
  findings: Finding[];
}

export async function readAccountState(opts: AccountStateOptions): Promise<AccountStateResult> {
  const urls = parseLdapUrls(opts.urls);
  assertBindTransport(urls, opts);
  const ca = loadCa(opts);
  const deadlines = attemptDeadlines(opts, urls.length);
  const target = parseAccountName(opts.target, opts.defaultDomain);
  const service = parseAccountName(opts.serviceUser, opts.defaultDomain);
  const spw = opts.servicePassword.reveal();
  const unreachable: Finding[] = [];
  for (const [i, u] of urls.entries()) {
    if (opts.signal?.aborted) throw abortError(opts.signal, 'Reading the account state');
    if (deadlines.overall.aborted) {
      const last = unreachable.at(-1);
      if (last) last.evidence.notTried = urls.slice(i).map((x) => x.url);
      break;
    }
    // each URL gets its own timeout: a silent first DC still leaves time for the next one
    const signal = deadlines.attempt();
    const client = newClient(u, opts, ca);
    // 'connect' (TCP, and TLS for ldaps://) → 'starttls' → 'service bind' once it is written → 'search'
    let phase = 'connect';
    // reads are harmless to repeat on the next DC (the target is never bound as), but a request
    // written and never answered is a lost connection or a timeout, not a TLS failure
    let unanswered = 0;
    onRequestSent(client, (_op, answered) => {
      unanswered++;
      if (phase === 'connect') phase = 'service bind';
      answered.then(() => unanswered--, () => {});
    });
    try {
      if (u.scheme === 'ldap' && opts.starttls) {
        phase = 'starttls';
        await withSignal(client.startTLS(tlsOptionsFor(u, opts, ca)), signal, () => closeClient(client));
        phase = 'service bind';
      }
      try {
        await withSignal(client.bind(service.bindName, spw), signal, () => closeClient(client));
      } catch (e) {
        if ((e as { code?: unknown }).code === 49) {
          throw new CredgateError(
            `The service account ${service.bindName} was rejected by ${u.url}; check --service-user and its password (the target account was not touched).`,
            { code: 'CONFIG_INVALID', details: { url: u.url, serviceUser: service.bindName, diagnosticMessage: scrub((e as Error).message, [spw]) } },
          );
        }
        throw e;
      }
      phase = 'search';
      return await withSignal(readWithClient(client, target, opts), signal, () => closeClient(client));
    } catch (e) {
      // a protocol error is the server's (a finding, like a lost connection); other faults are credgate's to raise
      if (e instanceof CredgateError && e.code !== 'PROTOCOL_ERROR') throw e;
      if (opts.signal?.aborted) throw abortError(opts.signal, 'Reading the account state');
      const f = connectionFinding(e, u, SOURCE, phase, signal.aborted, { requestSent: unanswered > 0 });
      if (f) {
        unreachable.push(f);
        continue;
      }
      throw new CredgateError(`Reading the account state from ${u.url} failed during ${phase}: ${scrub(e instanceof Error ? e.message : String(e), [spw])}`, {
        code: 'CONNECTION_FAILED',
        details: { url: u.url, phase },
      });
    } finally {
      closeClient(client);
    }
  }
  return { findings: unreachable };
}

/**
 * A lockout threshold attribute, or undefined when it cannot be read: no such object, no access,
 * the attribute hidden by an ACL, or not a number. Connection failures still throw (fail over).
 */
export async function readThreshold(client: Client, dn: string, attribute: string): Promise<number | undefined> {
  let r;
  try {
    r = await client.search(dn, { scope: 'base', attributes: [attribute] });
  } catch (e) {
    if (ldapResultCode(e) !== undefined) return undefined;
    throw e;
  }
  const e = r.searchEntries[0];
  const key = e && Object.keys(e).find((k) => k.toLowerCase() === attribute.toLowerCase());
  const v = key ? attrString(e, key)?.trim() : undefined;
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

async function readWithClient(client: Client, target: ReturnType<typeof parseAccountName>, opts: AccountStateOptions): Promise<AccountStateResult> {
  // the lockout policy lives on the domain object (defaultNamingContext), whatever the search base
  const root = await client.search('', { scope: 'base', attributes: ['defaultNamingContext'] });
  const domainDn = root.searchEntries[0] ? attrString(root.searchEntries[0], 'defaultNamingContext') : undefined;
  let baseDn = opts.baseDn;
  if (!baseDn) {
    baseDn = domainDn;
    if (!baseDn) {
      throw new CredgateError('The directory did not announce a defaultNamingContext; pass the search base explicitly.', { code: 'PROTOCOL_ERROR' });
    }
  }
  let entry: Entry | undefined;
  if (target.form === 'dn') {
    const r = await client.search(target.bindName, { scope: 'base', ...ACCOUNT_STATE_SEARCH }).catch((e: unknown) => {
      if ((e as { code?: unknown }).code === 32) return { searchEntries: [] as Entry[] };
      throw e;
    });
    entry = r.searchEntries[0];
  } else {
    const filter = target.form === 'upn'
      ? `(&(objectClass=user)(|(userPrincipalName=${escapeFilter(target.bindName)})(sAMAccountName=${escapeFilter(target.user)})))`
      : `(&(objectClass=user)(sAMAccountName=${escapeFilter(target.user)}))`;
    const r = await client.search(baseDn, { scope: 'sub', filter, ...ACCOUNT_STATE_SEARCH, sizeLimit: 2 });
    // with a UPN, prefer the exact UPN match
    entry = r.searchEntries.find((x) => attrString(x, 'userPrincipalName')?.toLowerCase() === target.bindName.toLowerCase()) ?? r.searchEntries[0];
  }
  if (!entry) {
    const row = adSubCode('525')!;
    return {
      findings: [finding(SOURCE, 'ldap.user-not-found', 'error', `The directory has no account ${target.input}.`, { target: target.input, baseDn }, row.remediation)],
    };
  }
  const pso = attrString(entry, 'msDS-ResultantPSO');
  const where = thresholdObject(pso, domainDn ?? baseDn);
  const threshold = await readThreshold(client, where.dn, where.attribute);
  const now = opts.now ?? new Date();
  const state = accountStateFrom(entry, pso, where.dn, threshold, now);
  return { state, findings: stateFindings(state, now, opts.expiryWarningDays ?? 14, { allowUnknownThreshold: opts.allowUnknownThreshold === true }) };
}

/**
 * Where an account's lockout threshold lives: a PSO, when one applies (msDS-ResultantPSO),
 * replaces the domain's; the domain's is on the domain object (defaultNamingContext), never on
 * a search base that may be an OU. Shared by readAccountState and verifyMany's guard.
 */
export function thresholdObject(pso: string | undefined, domainDn: string): { dn: string; attribute: 'msDS-LockoutThreshold' | 'lockoutThreshold' } {
  return pso ? { dn: pso, attribute: 'msDS-LockoutThreshold' } : { dn: domainDn, attribute: 'lockoutThreshold' };
}

/**
 * An entry (read with ACCOUNT_STATE_SEARCH) as an AccountState, given the threshold read from
 * `thresholdDn` (thresholdObject): undefined = it could not be read, so the threshold is unknown
 * (never the domain's in place of an unreadable PSO's: the PSO's may be lower).
 */
export function accountStateFrom(entry: Entry, pso: string | undefined, thresholdDn: string, threshold: number | undefined, now: Date): AccountState {
  return threshold === undefined
    ? { ...buildState(entry, 1, 'unknown', pso, now), lockoutThresholdUnreadable: thresholdDn }
    : buildState(entry, threshold, pso ? 'pso' : 'domain', pso, now);
}

function buildState(e: Entry, threshold: number, thresholdSource: AccountState['lockoutThresholdSource'], pso: string | undefined, now: Date): AccountState {
  const uac = Number(attrString(e, 'userAccountControl') ?? 0);
  const computed = Number(attrString(e, 'msDS-User-Account-Control-Computed') ?? 0);
  const pwdLastSetRaw = attrString(e, 'pwdLastSet');
  const lockoutTime = filetimeToDate(attrString(e, 'lockoutTime'));
  const hours = e.logonHours;
  let logonHoursDenyAll: boolean | undefined;
  let logonHoursAllowedNow: boolean | undefined;
  const hb = Array.isArray(hours) ? hours[0] : hours;
  if (hb !== undefined) {
    const buf = Buffer.isBuffer(hb) ? hb : Buffer.from(String(hb), 'latin1');
    if (buf.length === 21) {
      logonHoursDenyAll = buf.every((b) => b === 0);
      // bit i of the 168-bit map = hour i of the week, Sunday 00:00 UTC first
      const hour = now.getUTCDay() * 24 + now.getUTCHours();
      logonHoursAllowedNow = ((buf[hour >> 3]! >> (hour & 7)) & 1) === 1;
    }
  }
  const badPwd = attrString(e, 'badPwdCount');
  const state: AccountState = {
    dn: e.dn,
    userAccountControl: uac,
    computedFlags: computed,
    disabled: (uac & UAC_ACCOUNTDISABLE) !== 0,
    locked: (computed & COMPUTED_LOCKOUT) !== 0,
    mustChangePassword: pwdLastSetRaw === '0',
    passwordNeverExpires: (uac & UAC_DONT_EXPIRE_PASSWD) !== 0,
    lockoutThreshold: threshold,
    lockoutThresholdSource: thresholdSource,
  };
  const sam = attrString(e, 'sAMAccountName');
  if (sam) state.sAMAccountName = sam;
  const upn = attrString(e, 'userPrincipalName');
  if (upn) state.userPrincipalName = upn;
  if (lockoutTime) state.lockoutTime = lockoutTime;
  const exp = filetimeToDate(attrString(e, 'accountExpires'));
  if (exp) state.accountExpires = exp;
  const pls = filetimeToDate(pwdLastSetRaw);
  if (pls) state.pwdLastSet = pls;
  const pexp = filetimeToDate(attrString(e, 'msDS-UserPasswordExpiryTimeComputed'));
  if (pexp) state.passwordExpires = pexp;
  if (badPwd !== undefined) state.badPwdCount = Number(badPwd);
  if (pso) state.resultantPso = pso;
  const ws = attrString(e, 'userWorkstations');
  if (ws) state.userWorkstations = ws;
  if (logonHoursDenyAll !== undefined) state.logonHoursDenyAll = logonHoursDenyAll;
  if (logonHoursAllowedNow !== undefined) state.logonHoursAllowedNow = logonHoursAllowedNow;
  void now;
  return state;
}

function evidenceOf(s: AccountState): Record<string, unknown> {
  return {
    dn: s.dn,
    userAccountControl: `0x${s.userAccountControl.toString(16)}`,
    'msDS-User-Account-Control-Computed': `0x${s.computedFlags.toString(16)}`,
    ...(s.pwdLastSet ? { pwdLastSet: s.pwdLastSet.toISOString() } : { pwdLastSet: s.mustChangePassword ? '0 (must change)' : 'never set' }),
    ...(s.lockoutTime ? { lockoutTime: s.lockoutTime.toISOString() } : {}),
    ...(s.accountExpires ? { accountExpires: s.accountExpires.toISOString() } : {}),
    ...(s.passwordExpires ? { passwordExpires: s.passwordExpires.toISOString() } : {}),
    ...(s.badPwdCount !== undefined ? { badPwdCount: s.badPwdCount } : {}),
    lockoutThreshold: s.lockoutThresholdSource === 'unknown' ? 'unknown' : s.lockoutThreshold,
    lockoutThresholdSource: s.lockoutThresholdSource,
    ...(s.lockoutThresholdUnreadable ? { lockoutThresholdUnreadable: s.lockoutThresholdUnreadable } : {}),
    ...(s.resultantPso ? { resultantPso: s.resultantPso } : {}),
    ...(s.userWorkstations ? { userWorkstations: s.userWorkstations } : {}),
  };
}

function fromSubcode(hex: string, message: string, ev: Record<string, unknown>): Finding {
  const row = adSubCode(hex)!;
  return finding(SOURCE, row.finding, 'error', message, ev, row.remediation);
}

/**
 * Whether the lockout guard can decide: 'unknown' when the threshold could not be read, or when
 * the account locks at all (or might) and its badPwdCount could not be read.
 */
export function lockoutRiskKnown(s: AccountState): boolean {
  if (s.lockoutThresholdSource === 'unknown') return false;
  return s.lockoutThreshold === 0 || s.badPwdCount !== undefined;
}

/**
 * Whether one more bad password would lock the account: a known threshold, and badPwdCount one
 * short of it. The one statement of that rule (the account-state read and the NLA gate use it).
 */
export function oneFailureFromLockout(s: AccountState): boolean {
  return s.lockoutThresholdSource !== 'unknown' && s.lockoutThreshold > 0 && s.badPwdCount !== undefined && s.badPwdCount >= s.lockoutThreshold - 1;
}

export function stateFindings(s: AccountState, now: Date, warnDays: number, o: { allowUnknownThreshold?: boolean } = {}): Finding[] {
  const ev = evidenceOf(s);
  const out: Finding[] = [];
  if (s.disabled) out.push(fromSubcode('533', 'The account is disabled (userAccountControl ACCOUNTDISABLE).', ev));
  if (s.locked) out.push(fromSubcode('775', `The account is locked out${s.lockoutTime ? ` since ${s.lockoutTime.toISOString()}` : ''}.`, ev));
  if (s.accountExpires && s.accountExpires.getTime() <= now.getTime()) {
    out.push(fromSubcode('701', `The account expired on ${s.accountExpires.toISOString()}.`, ev));
  }
  if (s.mustChangePassword) out.push(fromSubcode('773', 'The account must change its password at next logon (pwdLastSet = 0).', ev));
  else if ((s.computedFlags & COMPUTED_PASSWORD_EXPIRED) !== 0 || (s.passwordExpires && s.passwordExpires.getTime() <= now.getTime())) {
    out.push(fromSubcode('532', `The password expired${s.passwordExpires ? ` on ${s.passwordExpires.toISOString()}` : ''}.`, ev));
  } else if (s.passwordExpires && s.passwordExpires.getTime() - now.getTime() < warnDays * 86400e3) {
    const days = Math.floor((s.passwordExpires.getTime() - now.getTime()) / 86400e3);
    out.push(finding(SOURCE, 'ldap.password-expiring', 'warning', `The password expires in ${days} day(s), on ${s.passwordExpires.toISOString()}.`, ev, fixes('ldap.password-expiring', 'default')));
  }
  if (s.logonHoursDenyAll) out.push(fromSubcode('530', 'The account\'s logon hours allow no logon at any time.', ev));
  else if (s.logonHoursAllowedNow === false) out.push(fromSubcode('530', 'The account\'s logon hours do not allow a logon at this hour.', ev));
  if (s.userWorkstations) {
    out.push(finding(SOURCE, 'ldap.workstation-list', 'info', `The account may log on only from: ${s.userWorkstations}.`, ev, fixes('ldap.workstation-list', 'default')));
  }
  if (!s.locked && !lockoutRiskKnown(s)) {
    const what = s.lockoutThresholdSource === 'unknown'
      ? `the lockout threshold (${s.lockoutThresholdUnreadable ? `on ${s.lockoutThresholdUnreadable}` : 'domain or password settings object'})`
      : 'the account\'s badPwdCount';
    if (o.allowUnknownThreshold) {
      out.push(finding(SOURCE, 'ldap.lockout-threshold-unknown', 'warning',
        `The service account cannot read ${what}, so credgate cannot tell how close the account is to a lockout; the caller accepted that risk (allowUnknownThreshold).`, ev, fixes('ldap.lockout-threshold-unknown', 'default')));
    } else {
      out.push(finding(SOURCE, 'ldap.lockout-risk', 'error',
        `The service account cannot read ${what}, so credgate cannot tell whether one more bad password would lock the account; it did not try the password.`, { ...ev, lockoutRisk: 'unknown' }, fixes('ldap.lockout-risk', 'unreadable')));
    }
  } else if (!s.locked && oneFailureFromLockout(s)) {
    out.push(finding(SOURCE, 'ldap.lockout-risk', 'error',
      `The account has ${s.badPwdCount} recent bad password(s) and locks at ${s.lockoutThreshold}; credgate did not try the password so as not to lock it.`, ev, fixes('ldap.lockout-risk', 'near')));
  }
  if (out.filter((f) => f.severity === 'error').length === 0) {
    out.unshift(finding(SOURCE, 'account.ok', 'ok', 'The account is enabled, unlocked, not expired and its password is current.', ev));
  }
  return out;
}
