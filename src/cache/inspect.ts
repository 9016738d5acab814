/**
 * The rules that find the cached credentials behind 0x904 / extended 0x7, each a finding with
 * evidence and a fix:
 *   cache.stale-password          written before the account's password last changed (the 0x904/0x7 case);
 *                                 only entries for the account (same user, or no user recorded)
 *   cache.unknown-age             a password change time is known but the entry's write time is not
 *                                 (cmdkey captures, keychains off Linux): not judged, so not clean
 *   cache.wrong-user              cached for another user than the vault's target account for the
 *                                 host: needs the host (the account says nothing about other hosts)
 *   cache.conflicting-entries     the same host cached under several names with different users or times
 *                                 (a warning: exit 6 and purge are for stale and wrong-user entries)
 *   cache.username-hint-mismatch  the RDP client remembers another user name for the host
 *   cache.cert-changed            the remembered CertHash differs from the certificate the host presents now
 *   cache.orphan                  a cached RDP host that is not in the inventory
 * Linear in the number of entries: grouped by machine, then by host.
 */
import net from 'node:net';
import { finding, type Finding } from '../findings/finding.js';
import { fixes } from '../findings/catalog.js';
import { parseAccountName } from '../core/credential.js';
import { hostKey, hostMatcher, type HostKey } from './hosts.js';
import { termsrvHost, type CachedCredential, type RdpServerHint } from './types.js';

export interface InspectInput {
  entries: readonly CachedCredential[];
  hints?: readonly RdpServerHint[];
  /** The target account the vault says to use (any form). */
  account?: string;
  /** Only entries for this RDP host (any form). */
  host?: string;
  /** Other names/addresses of the host (e.g. what DNS returned). */
  hostAliases?: readonly string[];
  /** The directory's pwdLastSet for the account. */
  pwdLastSet?: Date;
  /** The vault's record of the last password change. */
  changedAt?: Date;
  /** Hosts that should exist; RDP entries for others are orphans. */
  inventory?: readonly string[];
  /** SHA-1 thumbprints the host presents now (from the RDP probe). */
  presentedThumbprints?: readonly string[];
  /** The time of the inspection (default: now): a change time after it is a clock problem and is not used. */
  now?: Date;
  /** Clock slack: entries written within this many ms after the change still count as stale. Default 0. */
  slackMs?: number;
}

export interface InspectResult {
  findings: Finding[];
  /** Entries the rules looked at (RDP targets for the host, or all RDP targets). */
  entries: CachedCredential[];
  /** How many entries the rules looked at (`entries.length`). */
  considered: number;
  /** The entries behind the findings that a purge would remove. */
  stale: CachedCredential[];
  /** Entries the stale-password rule could not judge: a password change time is known, their write time is not. */
  unknownAge: number;
}

const SRC = 'cache';

/** Same account? Compares user parts case-insensitively and domains when both sides name one. */
export function sameAccount(a: string, b: string): boolean {
  const pa = parseAccountName(a);
  const pb = parseAccountName(b);
  if (pa.user.toLowerCase() !== pb.user.toLowerCase()) return false;
  if (!pa.domain || !pb.domain) return true;
  const da = pa.domain.toLowerCase();
  const db = pb.domain.toLowerCase();
  // NETBIOS vs DNS domain: compare the first label
  return da === db || da.split('.')[0] === db.split('.')[0];
}

// evidence holds JSON values, times as ISO strings (as the LDAP validators' evidence does): a
// fleet's findings are written as tens of MB of JSON, and Date objects make that a slow path
/** sameAccount(x, account) with the account parsed once and each user name judged once (a fleet repeats a few names 100k times). */
function accountMatcher(account: string): (name: string) => boolean {
  const seen = new Map<string, boolean>();
  return (name) => {
    let same = seen.get(name);
    if (same === undefined) {
      if (seen.size >= 10_000) seen.clear();
      seen.set(name, (same = sameAccount(name, account)));
    }
    return same;
  };
}

/** A valid Date as an ISO string; undefined for none or an invalid one (an SDK caller's new Date('garbage')). */
const isoOf = (d: Date | undefined): string | undefined => (d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString() : undefined);

function entryEvidence(e: CachedCredential): Record<string, unknown> {
  const ev: Record<string, unknown> = { target: e.target, rawTarget: e.rawTarget, source: e.source };
  if (e.username) ev.username = e.username;
  const lw = isoOf(e.lastWritten);
  if (lw) ev.lastWritten = lw;
  if (e.machine) ev.machine = e.machine;
  if (e.windowsUser) ev.windowsUser = e.windowsUser;
  return ev;
}

// the fixes of a rule are one shared frozen list (catalog): fleets have 100k entries
const FIX_STALE = fixes('cache.stale-password', 'default');
const FIX_WRONG_USER = fixes('cache.wrong-user', 'default');
const FIX_UNKNOWN_AGE = fixes('cache.unknown-age', 'default');
const FIX_ORPHAN = fixes('cache.orphan', 'default');

export function inspectCache(input: InspectInput): InspectResult {
  const findings: Finding[] = [];
  const stale: CachedCredential[] = [];
  const aliases = input.hostAliases ?? [];
  const hostFilter = input.host;
  const now = (input.now ?? new Date()).getTime();
  const future: Date[] = [];
  const changedAt = [input.pwdLastSet, input.changedAt]
    .filter((d): d is Date => d instanceof Date && !Number.isNaN(d.getTime()))
    .filter((d) => (d.getTime() > now + 300_000 ? (future.push(d), false) : true))
    .sort((a, b) => b.getTime() - a.getTime())[0];
  const consideredEntries: CachedCredential[] = [];
  const changeSource = changedAt ? (changedAt === input.pwdLastSet ? 'the directory (pwdLastSet)' : 'the vault (last rotation)') : undefined;
  const slack = input.slackMs ?? 0;
  // RDP entries by machine; conflicts are looked for within a machine
  const byMachine = new Map<string, CachedCredential[]>();
  let considered = 0;
  const keyOf = hostKeys();
  const isAccount = input.account ? accountMatcher(input.account) : undefined;
  const isHost = hostFilter ? hostMatcher(hostFilter, aliases) : undefined;
  const inInventory = input.inventory ? inventoryMatcher(input.inventory, keyOf) : undefined;
  for (const e of input.entries) {
    const h = termsrvHost(e.target);
    if (!h) continue;
    if (isHost && !isHost(keyOf(h))) {
      if (inInventory && !inInventory(h)) orphan(e, h);
      continue;
    }
    considered++;
    consideredEntries.push(e);
    if (inInventory && !inInventory(h)) orphan(e, h);
    const m = e.machine ?? '';
    let list = byMachine.get(m);
    if (!list) byMachine.set(m, (list = []));
    list.push(e);
  }
  function orphan(e: CachedCredential, h: string) {
    findings.push(finding(SRC, 'cache.orphan', 'info', `${e.machine ? `${e.machine}: ` : ''}${e.target} is cached, but ${h} is not in the inventory.`, entryEvidence(e), FIX_ORPHAN));
  }
  let unknownAge = 0;
  const iso = { changedAt: isoOf(changedAt), pwdLastSet: isoOf(input.pwdLastSet), vaultChangedAt: isoOf(input.changedAt) };
  for (const [machine, list] of byMachine) {
    const where = machine ? `${machine}: ` : '';
    for (const e of list) {
      // --account is the account the vault says to use for --host: without a host it says nothing
      // about the user cached for any other host, so wrong-user needs the host (a purge must not
      // delete other hosts' credentials)
      const otherUser = !!(isAccount && e.username && !isAccount(e.username));
      if (otherUser && hostFilter) {
        const ev = entryEvidence(e);
        ev.expectedAccount = input.account;
        findings.push(finding(SRC, 'cache.wrong-user', 'error', `${where}${e.target} is cached for ${e.username}, but the vault's account for ${termsrvHost(e.target)} is ${input.account}.`, ev, FIX_WRONG_USER));
        stale.push(e);
        continue;
      }
      // the account's password change says nothing about a password cached for another user
      if (otherUser || !changedAt) continue;
      if (!e.lastWritten) {
        unknownAge++;
        const ev = entryEvidence(e);
        ev.passwordChangedAt = iso.changedAt;
        ev.changeSource = changeSource;
        findings.push(finding(SRC, 'cache.unknown-age', 'info',
          `${where}${e.target} has no write time (${sourceKind(e)}), so whether it predates the password change (${changeSource}, ${changedAt.toISOString()}) cannot be judged.`,
          ev, FIX_UNKNOWN_AGE));
        continue;
      }
      if (e.lastWritten.getTime() < changedAt.getTime() + slack) {
        const ev = entryEvidence(e);
        ev.passwordChangedAt = iso.changedAt;
        ev.changeSource = changeSource;
        if (iso.pwdLastSet) ev.pwdLastSet = iso.pwdLastSet;
        if (iso.vaultChangedAt) ev.vaultChangedAt = iso.vaultChangedAt;
        findings.push(finding(SRC, 'cache.stale-password', 'error',
          `${where}${e.target} holds a password written before the password last changed (${changeSource}): the next launch fails with 0x904 / extended 0x7.`,
          ev, FIX_STALE));
        stale.push(e);
      }
    }
    for (const group of conflictGroups(list, !!hostFilter, keyOf)) {
      const users = new Set(group.map((x) => (x.username ?? '').toLowerCase()));
      const times = group.map((x) => x.lastWritten?.getTime()).filter((t): t is number => t !== undefined);
      const spread = times.length > 1 ? Math.max(...times) - Math.min(...times) : 0;
      const distinctTargets = new Set(group.map((x) => x.target.toLowerCase()));
      if (distinctTargets.size > 1 && (users.size > 1 || spread > 60_000)) {
        findings.push(finding(SRC, 'cache.conflicting-entries', 'warning',
          `${where}the host is cached under ${distinctTargets.size} names (${[...distinctTargets].join(', ')}) with ${users.size > 1 ? 'different users' : 'different times'}; which one the client uses depends on how the user types the host name.`,
          { targets: group.map((x) => entryEvidence(x)), ...(machine ? { machine } : {}) },
          fixes('cache.conflicting-entries', 'default', { items: group.map((x) => `cmdkey /delete:${x.target}`) })));
      }
    }
  }
  for (const h of input.hints ?? []) {
    if (isHost && !isHost(keyOf(h.server))) continue;
    const where = h.machine ? `${h.machine}: ` : '';
    if (isAccount && h.usernameHint && !isAccount(h.usernameHint)) {
      findings.push(finding(SRC, 'cache.username-hint-mismatch', 'warning', `${where}the RDP client remembers ${h.usernameHint} for ${h.server}, not ${input.account}; users will be offered the wrong account.`, { server: h.server, usernameHint: h.usernameHint, expectedAccount: input.account, source: h.source, ...(h.machine ? { machine: h.machine } : {}) }, fixes('cache.username-hint-mismatch', 'default', { host: h.server })));
    }
    if (h.certHash && input.presentedThumbprints?.length && !input.presentedThumbprints.some((t) => t.toUpperCase() === h.certHash)) {
      findings.push(finding(SRC, 'cache.cert-changed', 'info', `${where}the certificate ${h.server} presents now (${input.presentedThumbprints[0]}) is not the one the client accepted before (${h.certHash}).`, { server: h.server, rememberedCertHash: h.certHash, presented: input.presentedThumbprints, ...(h.machine ? { machine: h.machine } : {}) }, fixes('cache.cert-changed', 'default')));
    }
  }
  // clean only when every entry was judged: an entry without a write time was not
  if (findings.length === 0) {
    findings.push(finding(SRC, 'cache.clean', 'ok', `No cached credential conflicts with ${input.account ?? 'the account'}${hostFilter ? ` for ${hostFilter}` : ''} (${considered} RDP entr${considered === 1 ? 'y' : 'ies'} checked).`, {
      considered, checkedAt: new Date(now).toISOString(),
      ...(changedAt ? { passwordChangedAt: changedAt.toISOString() } : { note: 'no password change time known: the stale-password rule needs pwdLastSet (--ldap) or the vault\'s changedAt' }),
      ...(future.length ? { ignoredFutureChangeTimes: future.map((d) => d.toISOString()) } : {}),
    }));
  }
  return { findings, entries: consideredEntries, considered, stale, unknownAge };
}

/**
 * hostKey, each spelling once per inspection: a fleet names a few hundred hosts in 100k entries.
 * Bounded (emptied at 4,096 spellings): a capture of one machine may name 200,000 hosts, and
 * keeping a key for each cost ~25 MB for nothing.
 */
function hostKeys(): (h: string) => HostKey {
  const keys = new Map<string, HostKey>();
  return (h) => {
    let k = keys.get(h);
    if (!k) {
      if (keys.size >= 4096) keys.clear();
      keys.set(h, (k = hostKey(h)));
    }
    return k;
  };
}

function sourceKind(e: CachedCredential): string {
  if (e.source.startsWith('cmdkey:')) return 'cmdkey /list shows no write time';
  if (e.source === 'keychain') return 'this keychain records no modification time';
  return 'its source recorded none';
}

/**
 * The groups of one machine's entries that name the same host, with the same equivalence as
 * sameHost: a name, its case and trailing-dot variants; an FQDN and its own short name; an IP literal
 * in any form. web01.a.example and web01.b.example are different hosts (a bare web01 joins both);
 * an IP joins a name only through the host's aliases, i.e. with a host filter, where every entry
 * considered is that host and they form one group.
 */
function conflictGroups(list: readonly CachedCredential[], filtered: boolean, keyOf: (h: string) => HostKey): CachedCredential[][] {
  if (list.length < 2) return [];
  if (filtered) return [list as CachedCredential[]];
  // by canonical host (the reader's normalizedHost, else the host's key): an entry alone stays
  // itself — most hosts are cached once, and a capture of one machine may name 200,000 — and a
  // second entry makes the group
  const byCanon = new Map<string, CachedCredential | CachedCredential[]>();
  for (const e of list) {
    const canon = e.normalizedHost ?? keyOf(termsrvHost(e.target)!).canonical;
    const g = byCanon.get(canon);
    if (g === undefined) byCanon.set(canon, e);
    else if (Array.isArray(g)) g.push(e);
    else byCanon.set(canon, [g, e]);
  }
  const itemsOf = (g: CachedCredential | CachedCredential[]): CachedCredential[] => (Array.isArray(g) ? g : [g]);
  // a canonical name, not an IP literal
  const isName = (canon: string) => net.isIP(canon) === 0;
  const groups: CachedCredential[][] = [];
  const joined = new Set<string>();
  for (const [canon, g] of byCanon) {
    const dot = canon.indexOf('.');
    if (dot < 0 || !isName(canon)) continue;
    const shortName = canon.slice(0, dot);
    const short = byCanon.get(shortName);
    if (short !== undefined && isName(shortName)) {
      joined.add(shortName);
      groups.push([...itemsOf(g), ...itemsOf(short)]);
    } else if (Array.isArray(g)) groups.push(g);
  }
  for (const [canon, g] of byCanon) {
    if (!Array.isArray(g)) continue;
    if ((canon.includes('.') || joined.has(canon)) && isName(canon)) continue;
    groups.push(g);
  }
  return groups.filter((g) => g.length > 1);
}

/** O(1) inventory membership with the same matching rules as sameHost (case, dots, short vs FQDN, IP forms). */
function inventoryMatcher(inventory: readonly string[], keyOf: (h: string) => HostKey): (h: string) => boolean {
  const canon = new Set<string>();
  const shortOfShort = new Set<string>();
  const shortOfFqdn = new Set<string>();
  for (const i of inventory) {
    const k = hostKey(i);
    canon.add(k.canonical);
    if (k.kind === 'name') (k.canonical.includes('.') ? shortOfFqdn : shortOfShort).add(k.short!);
  }
  return (h) => {
    const k = keyOf(h);
    if (canon.has(k.canonical)) return true;
    if (k.kind !== 'name') return false;
    return k.canonical.includes('.') ? shortOfShort.has(k.short!) : shortOfFqdn.has(k.short!);
  };
}
