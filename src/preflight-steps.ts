/**
 * The preflight's host-side steps (RDP endpoint, NLA, client cache), as data: each names what it
 * waits for and how it runs. A capability that is not built yet is simply absent from this list,
 * and preflight reports it as "not checked".
 */
import type { Finding } from './core/findings.js';
import type { PreflightOptions, PreflightTarget, StepName } from './preflight.js';
import type { FetchedCredential } from './core/credential.js';
import type { AccountState } from './validators/account-state.js';
import { probeRdp } from './validators/rdp-endpoint.js';

export interface StepDeps {
  host: string;
  port: number;
  overall: AbortSignal;
  stepTimeoutMs: number;
  options: PreflightOptions;
  target: PreflightTarget;
  ctx: {
    credential?: FetchedCredential;
    state?: AccountState;
    reachableRdp?: boolean;
    nlaOffered?: boolean;
    presentedThumbprints?: string[];
  };
  cacheConfig?: Record<string, unknown>;
}

export interface PreflightStep {
  name: StepName;
  after: Array<'provider' | 'account-state' | 'ldap-bind'>;
  afterExtra?: StepName[];
  run(d: StepDeps): Promise<{ findings: Finding[]; note?: string } | { notChecked: string }>;
}

export const PREFLIGHT_STEPS: PreflightStep[] = [
  {
    name: 'rdp-endpoint',
    after: [],
    async run(d) {
      const r = await probeRdp({
        host: d.host, port: d.port, timeoutMs: d.stepTimeoutMs, signal: d.overall,
        ...(d.options.rdp?.caFile ? { caFile: d.options.rdp.caFile } : {}),
        ...(d.options.rdp?.expiringDays !== undefined ? { expiringDays: d.options.rdp.expiringDays } : {}),
      });
      d.ctx.reachableRdp = r.findings.some((f) => f.code === 'rdp.reachable');
      d.ctx.nlaOffered = r.selectedProtocol !== undefined && (r.selectedProtocol & 0xa) !== 0;
      if (r.sha1Thumbprint) d.ctx.presentedThumbprints = [r.sha1Thumbprint];
      return { findings: r.findings };
    },
  },
];
