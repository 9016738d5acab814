/**
 * The bulk run's lockout guard: with a read-only service account, the AD account state of every
 * account is read in batches (one search per batch, each lockout threshold once) and judged by
 * the account-state check's rules before any bind; the lockout policy decides which accounts are
 * not bound.
 */
import type { Client, Entry } from 'ldapts';
import { CredgateError } from '../core/errors.js';
import { parseAccountName, type AccountName } from '../core/credential.js';
import { scrub } from '../core/secret.js';
import { finding, type Finding } from '../findings/finding.js';
import { fixes } from '../findings/catalog.js';
import { connectionFinding } from '../findings/faults.js';
import { ACCOUNT_STATE_SEARCH, accountStateFrom, readThreshold, stateFindings, thresholdObject, type AccountState } from '../checks/account-state.js';
import { closeClient, deadline, newClient, tlsOptionsFor, withSignal, type ParsedUrl } from '../protocols/ldap/transport.js';
import { attrString, escapeFilter, normalizeDn } from '../protocols/ldap/search.js';
import { bindStop } from '../pipeline/lockout-policy.js';
import type { Failover } from './failover.js';
import type { DirectoryRunOptions } from './types.js';

const SOURCE = 'account-state';

/** An account as the guard sees it: its parsed name in, its decision out. */
export interface GuardItem {
  name?: AccountName;
  /** Decided before any bind (bad input, guard): the findings, and no bind. */
  decided?: Finding[];
  /** Guard findings to add to the bind's answer. */
  state?: Finding[];
  /** The state read (a Kerberos CLIENT_REVOKED without a status is resolved with it). */
  stateRead?: AccountState;
}

export class BatchGuard {
  private svc: Client | undefined;
  private svcUrl: ParsedUrl | undefined;
  private baseDn: string | undefined;
  /** The domain object (defaultNamingContext), where the domain's lockout threshold lives. */
  private domainDn: string | undefined;
  /** Lockout thresholds read so far, by object DN (the domain, PSOs); undefined = unreadable. */
  private readonly thresholds = new Map<string, number | undefined>();

  constructor(
    private readonly opts: DirectoryRunOptions,
    private readonly ca: Array<string | Buffer> | undefined,
    private readonly failover: Failover,
    private readonly timeoutMs: number,
    private readonly warnDays: number,
  ) {}

  /** Decide a batch of accounts: `decided` (not bound) or `state` (bound, with these findings). */
  async read(items: GuardItem[]): Promise<void> {
    if (!items.length) return;
    const svcDown = (fs: Finding[]) => {
      for (const i of items) i.decided = fs.map((f) => ({ ...f, evidence: { ...f.evidence, account: i.name!.bindName } }));
    };
    if (this.failover.down) return svcDown(this.failover.down.findings);
    const now = new Date();
    let client: Client;
    try {
      client = await this.serviceClient();
    } catch (e) {
      if (e instanceof CredgateError) throw e;
      const down = this.failover.down as Failover['down'];
      return svcDown(down?.findings.length ? down.findings : [
        finding(SOURCE, 'net.connection-lost', 'error', 'The lockout guard could not reach the directory; credgate did not bind.', {}, fixes('net.connection-lost', 'bulk')),
      ]);
    }
    const signal = deadline(undefined, this.timeoutMs);
    try {
      const terms: string[] = [];
      for (const i of items) {
        const n = i.name!;
        if (n.form === 'dn') terms.push(`(distinguishedName=${escapeFilter(n.bindName)})`);
        else if (n.form === 'upn') terms.push(`(userPrincipalName=${escapeFilter(n.bindName)})(sAMAccountName=${escapeFilter(n.user)})`);
        else terms.push(`(sAMAccountName=${escapeFilter(n.user)})`);
      }
      const filter = `(&(objectClass=user)(|${terms.join('')}))`;
      const r = await withSignal(
        client.search(this.baseDn!, { scope: 'sub', filter, ...ACCOUNT_STATE_SEARCH, sizeLimit: items.length * 2 + 10 }),
        signal, () => closeClient(client),
      );
      const bySam = new Map<string, Entry>();
      const byUpn = new Map<string, Entry>();
      const byDn = new Map<string, Entry>();
      for (const e of r.searchEntries) {
        byDn.set(normalizeDn(e.dn), e);
        const sam = attrString(e, 'sAMAccountName');
        if (sam) bySam.set(sam.toLowerCase(), e);
        const upn = attrString(e, 'userPrincipalName');
        if (upn) byUpn.set(upn.toLowerCase(), e);
      }
      for (const i of items) {
        const n = i.name!;
        const e = n.form === 'dn' ? byDn.get(normalizeDn(n.bindName))
          : n.form === 'upn' ? byUpn.get(n.bindName.toLowerCase()) ?? bySam.get(n.user.toLowerCase())
            : bySam.get(n.user.toLowerCase());
        if (!e) {
          i.decided = [finding(SOURCE, 'ldap.user-not-found', 'error', `The directory has no account ${n.input}; credgate did not bind.`, { target: n.input, baseDn: this.baseDn }, fixes('ldap.user-not-found', 'ad'))];
          continue;
        }
        // the same rules as readAccountState: the PSO's threshold when one applies, the domain
        // object's otherwise; unreadable = unknown = not bound unless allowUnknownThreshold
        const pso = attrString(e, 'msDS-ResultantPSO');
        const where = thresholdObject(pso, this.domainDn!);
        const t = await this.lockoutThreshold(client, where, signal);
        const st = accountStateFrom(e, pso, where.dn, t, now);
        const fs = stateFindings(st, now, this.warnDays, { allowUnknownThreshold: this.opts.allowUnknownThreshold === true });
        if (bindStop(fs)) i.decided = fs;
        else {
          i.state = fs;
          i.stateRead = st;
        }
      }
    } catch (e) {
      this.svc = undefined;
      closeClient(client);
      if (e instanceof CredgateError && e.code !== 'PROTOCOL_ERROR') throw e;
      const u = this.svcUrl!;
      const f = connectionFinding(e, u, SOURCE, 'search', signal.aborted)
        ?? finding(SOURCE, 'ldap.bind-error', 'error', `Reading the account states from ${u.url} failed: ${(e instanceof Error ? e.message : String(e)).slice(0, 200)}; credgate did not bind.`, { url: u.url }, fixes('ldap.bind-error', 'default'));
      svcDown([f]);
    }
  }

  /** A threshold (readThreshold: unreadable = undefined; a lost connection throws), once per object. */
  private async lockoutThreshold(client: Client, where: ReturnType<typeof thresholdObject>, signal: AbortSignal): Promise<number | undefined> {
    if (this.thresholds.has(where.dn)) return this.thresholds.get(where.dn);
    const t = await withSignal(readThreshold(client, where.dn, where.attribute), signal, () => closeClient(client));
    this.thresholds.set(where.dn, t);
    return t;
  }

  private async serviceClient(): Promise<Client> {
    if (this.svc) return this.svc;
    const svc = this.opts.service!;
    const account = parseAccountName(svc.username, this.opts.defaultDomain);
    const spw = svc.password.reveal();
    const failures: Finding[] = [];
    const { urls } = this.failover;
    for (let k = 0; k < urls.length; k++) {
      const u = urls[(this.failover.index + k) % urls.length]!;
      const client = newClient(u, this.opts, this.ca);
      const signal = deadline(this.opts.signal, this.timeoutMs);
      let phase = 'connect';
      try {
        if (u.scheme === 'ldap' && this.opts.starttls) {
          phase = 'starttls';
          await withSignal(client.startTLS(tlsOptionsFor(u, this.opts, this.ca)), signal, () => closeClient(client));
        }
        phase = 'service bind';
        try {
          await withSignal(client.bind(account.bindName, spw), signal, () => closeClient(client));
        } catch (e) {
          if ((e as { code?: unknown }).code === 49) {
            throw new CredgateError(
              `The service account ${account.bindName} was rejected by ${u.url}; check --service-user and its password (no target account was touched).`,
              { code: 'CONFIG_INVALID', details: { url: u.url, serviceUser: account.bindName } },
            );
          }
          throw e;
        }
        phase = 'search';
        if (!this.baseDn) {
          const root = await withSignal(client.search('', { scope: 'base', attributes: ['defaultNamingContext'] }), signal, () => closeClient(client));
          const dnc = root.searchEntries[0] ? attrString(root.searchEntries[0], 'defaultNamingContext') : undefined;
          // the search base may be an OU; the lockout policy is on the domain object
          this.baseDn = this.opts.baseDn ?? dnc;
          this.domainDn = dnc ?? this.opts.baseDn;
          if (!this.baseDn) {
            throw new CredgateError(
              `${u.url} is not an Active Directory domain controller (no defaultNamingContext); the lockout guard reads AD attributes — omit the service account for this directory.`,
              { code: 'CONFIG_INVALID', details: { url: u.url } },
            );
          }
        }
        this.svc = client;
        this.svcUrl = u;
        return client;
      } catch (e) {
        closeClient(client);
        // a protocol error is the server's (a finding, like a lost connection); other faults are credgate's to raise
        if (e instanceof CredgateError && e.code !== 'PROTOCOL_ERROR') throw e;
        const f = connectionFinding(e, u, SOURCE, phase, signal.aborted);
        if (!f) {
          throw new CredgateError(`The lockout guard could not read from ${u.url} during ${phase}: ${scrub(e instanceof Error ? e.message : String(e), [spw])}`, {
            code: 'CONNECTION_FAILED', details: { url: u.url, phase },
          });
        }
        failures.push(f);
      }
    }
    if (!this.failover.down) this.failover.down = { findings: failures, url: urls[0]!.url };
    throw new Error('service connection failed');
  }

  /** Close the service connection. Idempotent. */
  dispose(): void {
    if (this.svc) closeClient(this.svc);
    this.svc = undefined;
  }
}
