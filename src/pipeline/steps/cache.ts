/** The cache step: the client's cached credentials rated against what the other steps learned. */
import fs from 'node:fs';
import { loadCacheFile, mergeSnapshots } from '../../cache/load.js';
import { inspectCache } from '../../cache/inspect.js';
import type { Step } from '../types.js';

export const cacheStep: Step = {
  name: 'cache',
  after: ['provider', 'account-state', 'rdp-endpoint'],
  async run(d) {
    const c = d.options.cache;
    const { ctx } = d;
    if (!c || (!c.files?.length && !c.snapshot)) return { notChecked: 'no client cache given (--cache-from collector JSON / reg export / cmdkey capture)' };
    const snap = c.snapshot ?? mergeSnapshots(c.files!.map(loadCacheFile));
    const inventory = typeof c.inventory === 'string'
      ? fs.readFileSync(c.inventory, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter(Boolean)
      : c.inventory;
    const account = ctx.credential?.username ?? d.target.account;
    const r = inspectCache({
      entries: snap.entries, hints: snap.hints, host: d.host,
      ...(account ? { account } : {}),
      ...(ctx.state?.pwdLastSet ? { pwdLastSet: ctx.state.pwdLastSet } : {}),
      ...(ctx.credential?.changedAt ? { changedAt: ctx.credential.changedAt } : {}),
      ...(ctx.presentedThumbprints ? { presentedThumbprints: ctx.presentedThumbprints } : {}),
      ...(ctx.hostAliases ? { hostAliases: ctx.hostAliases } : {}),
      ...(inventory ? { inventory } : {}),
    });
    const note = ctx.state?.pwdLastSet || ctx.credential?.changedAt ? undefined : 'no password change time known (no service account, no vault changedAt): the stale-password rule could not run';
    return { findings: r.findings, ...(note ? { note } : {}) };
  },
};
