/**
 * The bulk pool's Kerberos try: one AS exchange per account (a first AS-REQ without a password,
 * then exactly one PA-ENC-TIMESTAMP proof to the KDC that answered, never retried). No connection
 * is kept: each request is one TCP exchange (or one UDP datagram). Without --kdc the realm's KDCs
 * are looked up in DNS once per realm, not per account. A run that stops between the two requests
 * sends no proof (beforeProof) and reports nothing for that account.
 */
import { CredgateError } from '../core/errors.js';
import { finding, type Finding } from '../findings/finding.js';
import { fixes } from '../findings/catalog.js';
import { kdcFaultFinding } from '../findings/faults.js';
import { kerberosPrincipal, srvResolver, validateKerberos } from '../checks/kerberos.js';
import { discoverKdcs } from '../protocols/kerberos/kdcs.js';
import type { Attempt, Attempter, BulkItem } from './attempt.js';
import type { BulkKerberosOptions } from './types.js';

export const KERBEROS_SOURCE = 'kerberos';

/** The principal an account is tried as (the run's key) and its realm; CONFIG_INVALID for a DN or a name without a realm. */
export function kerberosTarget(username: string, k: BulkKerberosOptions, defaultDomain?: string): { name: string; realm: string } {
  const p = kerberosPrincipal(username, { ...k, ...(k.defaultDomain ?? defaultDomain ? { defaultDomain: k.defaultDomain ?? defaultDomain } : {}) });
  return { name: p.display, realm: p.realm };
}

export function kerberosAttempter(k: BulkKerberosOptions, o: { timeoutMs: number; defaultDomain?: string; stopping: () => boolean }): Attempter {
  const dd = k.defaultDomain ?? o.defaultDomain;
  const resolver = srvResolver({ ...k, timeoutMs: o.timeoutMs });
  // one SRV look-up per realm for the whole run
  const discovered = new Map<string, Promise<string[]>>();
  const kdcsOf = (realm: string): Promise<string[]> => {
    let p = discovered.get(realm);
    if (!p) {
      p = discoverKdcs(realm, { ...(resolver ? { resolver } : {}), ...(k.transport === 'udp' ? {} : { transport: 'tcp' as const }), timeoutMs: Math.min(5000, o.timeoutMs) }).then((l) => l.map((a) => a.label));
      discovered.set(realm, p);
    }
    return p;
  };
  return {
    async attempt(item: BulkItem): Promise<Attempt | undefined> {
      if (o.stopping()) return undefined;
      let kdcs = k.kdc;
      if (kdcs === undefined) {
        try {
          kdcs = await kdcsOf(item.realm!);
        } catch (e) {
          const f: Finding | undefined = kdcFaultFinding(e, KERBEROS_SOURCE)
            ?? (e instanceof CredgateError ? finding(KERBEROS_SOURCE, 'config.invalid', 'error', e.message, { realm: item.realm, account: item.acct.username }, fixes('config.invalid', 'default')) : undefined);
          if (!f) throw e;
          return { findings: [f], bound: false };
        }
      }
      const r = await validateKerberos({
        username: item.acct.username, password: item.acct.password, kdcs,
        ...(k.realm ? { realm: k.realm } : {}),
        ...(dd ? { defaultDomain: dd } : {}),
        ...(k.enterprise !== undefined ? { enterprise: k.enterprise } : {}),
        ...(k.transport ? { transport: k.transport } : {}),
        ...(k.workstation ? { workstation: k.workstation } : {}),
        ...(item.stateRead ? { state: item.stateRead } : {}),
        timeoutMs: o.timeoutMs,
        // stopped while the first AS-REQ was answered: the proof is not sent
        beforeProof: () => !o.stopping(),
      });
      if (r.withheld) return undefined;
      for (const f of r.findings) f.evidence.account ??= item.acct.username;
      return { findings: r.findings, bound: r.proofSent, ...(r.kdc ? { kdc: r.kdc } : {}) };
    },
    close() {},
  };
}
