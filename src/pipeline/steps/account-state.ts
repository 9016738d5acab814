/** The account-state step: the target's state read with the read-only service account (the lockout guard's input). */
import { readAccountState } from '../../checks/account-state.js';
import type { Step } from '../types.js';

export const accountStateStep: Step = {
  name: 'account-state',
  after: [],
  async run(d) {
    const dir = d.options.directory;
    if (!dir) return { notChecked: 'no directory configured' };
    if (!dir.service) return { notChecked: 'no read-only service account configured (lockout guard off)' };
    const name = d.target.account ?? (await d.report('provider'), d.ctx.credential?.username);
    if (!name) return { notChecked: 'the account name is not known' };
    const r = await readAccountState({
      ...dir, serviceUser: dir.service.username, servicePassword: dir.service.password, target: name,
      timeoutMs: d.stepTimeoutMs, signal: d.overall,
    });
    if (r.state) d.ctx.state = r.state;
    return { findings: r.findings };
  },
  settle(sr, d) {
    // lockout guard: with a service account configured, the target is tried (bind, NLA) only once
    // its state has been read
    if (d.options.directory?.service && sr.status !== 'not-checked' && !d.ctx.state && !sr.findings.some((f) => f.code === 'ldap.user-not-found')) {
      const why = sr.findings.find((f) => f.severity === 'error')?.code ?? 'no state returned';
      d.ctx.guardFailed = `the account state could not be read (${why}), so the lockout guard could not run`;
    }
  },
};
