/** The rdp-nla step: the RDP host itself checks the credential at NLA, when the lockout policy allows it. */
import { validateRdpNla } from '../../checks/rdp-nla.js';
import { nlaGate } from '../lockout-policy.js';
import { weighNtlmBlocked } from '../verdict.js';
import type { Step } from '../types.js';

export const rdpNlaStep: Step = {
  name: 'rdp-nla',
  // after the bind: on a domain-joined host a wrong password at NLA is one more bad-password count on the DC
  after: ['provider', 'account-state', 'kerberos', 'ldap-bind', 'rdp-endpoint'],
  async run(d) {
    const rdp = d.options.rdp;
    const { ctx } = d;
    if (rdp?.probe === false || rdp?.nla === false) return { notChecked: 'NLA check switched off' };
    if (!ctx.credential) return { notChecked: 'no credential to present' };
    const gate = nlaGate({
      directory: !!d.options.directory,
      ...(ctx.guardFailed ? { guardFailed: ctx.guardFailed } : {}),
      ...(ctx.bindRejected ? { rejectedBy: ctx.bindRejected } : {}),
      ...(ctx.bindRefusal !== undefined ? { refusal: ctx.bindRefusal } : {}),
      ...(ctx.state ? { state: ctx.state } : {}),
      ...(ctx.kerberos ? { kerberos: ctx.kerberos } : {}),
    });
    if (gate) return { notChecked: gate };
    if (!ctx.reachableRdp) return { notChecked: 'the RDP host was not reachable' };
    if (!ctx.nlaOffered) return { notChecked: 'the host does not offer NLA (CredSSP), so it checks the password only after the session starts' };
    const domain = ctx.credential.domain ?? rdp?.domain;
    const f = await validateRdpNla({
      host: d.host, port: d.port, username: ctx.credential.username, password: ctx.credential.secret,
      ...(domain ? { domain } : {}),
      timeoutMs: d.stepTimeoutMs, signal: d.overall,
      ...(rdp?.caFile ? { caFile: rdp.caFile } : {}),
    });
    // NTLM blocked, but the KDC accepted the password and the host's name has an SPN: clients use Kerberos there
    return { findings: weighNtlmBlocked(f, (await d.report('kerberos')).findings) };
  },
};
