/** The kerberos step: one pre-authentication with the KDC (the first password try), then the RDP host's SPNs. */
import { validateKerberos } from '../../checks/kerberos.js';
import { catalogRow } from '../../findings/catalog.js';
import { bindStop, kerberosRefusal, passwordGate } from '../lockout-policy.js';
import type { Step } from '../types.js';

export const kerberosStep: Step = {
  name: 'kerberos',
  after: ['provider', 'account-state'],
  async run(d) {
    const k = d.options.kerberos;
    const { ctx } = d;
    if (!k) return { notChecked: 'no KDC configured' };
    if (!ctx.credential) return { notChecked: (await d.report('provider')).status === 'error' ? 'the provider failed' : 'no credential to check' };
    const gate = passwordGate({
      ...(ctx.guardFailed ? { guardFailed: ctx.guardFailed } : {}),
      ...(d.options.directory?.service ? { stop: bindStop((await d.report('account-state')).findings) } : {}),
      ...(ctx.state ? { state: ctx.state } : {}),
    });
    if (gate) return { notChecked: gate };
    const domain = d.options.directory?.defaultDomain ?? ctx.credential.domain;
    const r = await validateKerberos({
      username: ctx.credential.username, password: ctx.credential.secret,
      ...(k.kdc !== undefined ? { kdcs: k.kdc } : {}),
      ...(k.realm ? { realm: k.realm } : {}),
      ...(domain ? { defaultDomain: domain } : {}),
      ...(k.transport ? { transport: k.transport } : {}),
      ...(k.dnsServers ? { dnsServers: k.dnsServers } : {}),
      ...(k.resolver ? { resolver: k.resolver } : {}),
      ...(k.workstation ? { workstation: k.workstation } : {}),
      ...(k.enterprise !== undefined ? { enterprise: k.enterprise } : {}),
      // the SPNs of the name clients connect by, when the RDP host is part of this preflight
      spnHosts: k.spnHosts === false ? [] : k.spnHosts ?? (d.options.rdp?.probe === false ? [] : [d.host]),
      ...(ctx.state ? { state: ctx.state } : {}),
      timeoutMs: d.stepTimeoutMs, signal: d.overall,
    });
    return { findings: r.findings };
  },
  settle(rep, d) {
    if (!d.options.kerberos) return;
    // what the bind and NLA wait for: the KDC's acceptance; a refusal, a lost answer or a skipped step stops them
    const rejected = rep.findings.find((f) => f.severity === 'error' && ['rejected', 'unusable'].includes(catalogRow(f.code)?.category ?? ''));
    const refusal = kerberosRefusal(rep.findings, rep.note ? `Kerberos ${rep.status}: ${rep.note}` : `Kerberos ${rep.status}`);
    d.ctx.kerberos = { who: 'the KDC', ...(refusal !== undefined ? { refusal } : {}), ...(rejected ? { rejectedBy: rejected.code } : {}) };
  },
};
