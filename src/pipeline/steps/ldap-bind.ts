/** The ldap-bind step: one bind as the target, when the lockout policy allows it (after the KDC accepted the password, when one is configured). */
import { validateLdapBind } from '../../checks/ldap-bind.js';
import { bindStop, directoryRefusal, passwordGate } from '../lockout-policy.js';
import type { Step } from '../types.js';

export const ldapBindStep: Step = {
  name: 'ldap-bind',
  after: ['provider', 'account-state', 'kerberos'],
  async run(d) {
    const dir = d.options.directory;
    const { ctx } = d;
    if (!dir) return { notChecked: 'no directory configured' };
    if (!ctx.credential) return { notChecked: (await d.report('provider')).status === 'error' ? 'the provider failed' : 'no credential to check' };
    const stop = bindStop((await d.report('account-state')).findings);
    const gate = passwordGate({
      ...(ctx.guardFailed ? { guardFailed: ctx.guardFailed } : {}),
      ...(stop ? { stop } : {}),
      earlier: ctx.kerberos ? [ctx.kerberos] : [],
    });
    if (gate) return { notChecked: gate };
    const f = await validateLdapBind({
      ...dir, username: ctx.credential.username, password: ctx.credential.secret,
      ...(dir.defaultDomain ? { defaultDomain: dir.defaultDomain } : ctx.credential.domain ? { defaultDomain: ctx.credential.domain } : {}),
      timeoutMs: d.stepTimeoutMs, signal: d.overall, ...(d.options.stop ? { stop: d.options.stop } : {}),
    });
    const rejected = f.find((x) => x.severity === 'error' && x.code.startsWith('ldap.'));
    if (rejected) ctx.bindRejected = rejected.code;
    return { findings: f };
  },
  settle(rep, d) {
    // what NLA waits for: the directory's acceptance; a lost answer (net.connection-lost / net.timeout
    // after the bind was written), a skipped or failed bind is a refusal
    d.ctx.bindRefusal = directoryRefusal(rep.findings, rep.note ? `LDAP bind ${rep.status}: ${rep.note}` : `LDAP bind ${rep.status}`);
  },
};
