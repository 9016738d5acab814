/** The kerberos step: one pre-authentication with the KDC (the first password try), then the RDP host's SPNs. */
import { validateKerberos, type KerberosCheckOptions } from '../../checks/kerberos.js';
import { catalogRow } from '../../findings/catalog.js';
import { bindStop, kerberosRefusal, passwordGate } from '../lockout-policy.js';
import type { KerberosConfig, Step } from '../types.js';

/**
 * The check's options from a KerberosConfig (the preflight's and runCheck's): the KDCs, realm and
 * transport as given; the SPN look-up for `spnHosts`, or for `host` (the RDP host, when there is
 * one) unless it is switched off with `spnHosts: false`.
 */
export function kerberosCheckOptions(k: KerberosConfig, o: { host?: string; defaultDomain?: string }): Omit<KerberosCheckOptions, 'username' | 'password'> {
  return {
    ...(k.kdc !== undefined ? { kdcs: k.kdc } : {}),
    ...(k.realm ? { realm: k.realm } : {}),
    ...(o.defaultDomain ? { defaultDomain: o.defaultDomain } : {}),
    ...(k.transport ? { transport: k.transport } : {}),
    ...(k.dnsServers ? { dnsServers: k.dnsServers } : {}),
    ...(k.resolver ? { resolver: k.resolver } : {}),
    ...(k.workstation ? { workstation: k.workstation } : {}),
    ...(k.enterprise !== undefined ? { enterprise: k.enterprise } : {}),
    spnHosts: k.spnHosts === false ? [] : k.spnHosts ?? (o.host ? [o.host] : []),
  };
}

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
      ...kerberosCheckOptions(k, { ...(d.options.rdp?.probe === false ? {} : { host: d.host }), ...(domain ? { defaultDomain: domain } : {}) }),
      username: ctx.credential.username, password: ctx.credential.secret,
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
