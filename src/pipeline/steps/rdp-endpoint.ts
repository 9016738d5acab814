/** The rdp-endpoint step: the RDP host probed (reachability, negotiation, certificate); no credential. */
import { probeRdp } from '../../checks/rdp-endpoint.js';
import type { Step } from '../types.js';

export const rdpEndpointStep: Step = {
  name: 'rdp-endpoint',
  after: [],
  async run(d) {
    const rdp = d.options.rdp;
    if (rdp?.probe === false) return { notChecked: 'RDP host checks switched off' };
    const r = await probeRdp({
      host: d.host, port: d.port, timeoutMs: d.stepTimeoutMs, signal: d.overall,
      ...(rdp?.caFile ? { caFile: rdp.caFile } : {}),
      ...(rdp?.expiringDays !== undefined ? { expiringDays: rdp.expiringDays } : {}),
    });
    const { ctx } = d;
    ctx.reachableRdp = r.findings.some((f) => f.code === 'rdp.reachable');
    ctx.nlaOffered = r.selectedProtocol !== undefined && (r.selectedProtocol & 0xa) !== 0;
    if (r.sha1Thumbprint) ctx.presentedThumbprints = [r.sha1Thumbprint];
    const reach = r.findings.find((f) => f.code === 'rdp.reachable');
    if (reach && Array.isArray(reach.evidence.addresses)) ctx.hostAliases = reach.evidence.addresses as string[];
    return { findings: r.findings };
  },
};
