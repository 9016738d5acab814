/**
 * Optional capabilities of `credgate check`, wired in by the modules that provide them, so the
 * check command does not import every provider and the NLA client unless they exist.
 */
import type { FetchedCredential } from '../../core/credential.js';
import type { Finding } from '../../findings/finding.js';
import type { Secret } from '../../core/secret.js';
import type { Provider } from '../../providers/types.js';
import { CredgateError } from '../../core/errors.js';

export interface CheckExtensions {
  resolveProvider?: (o: { provider: string; ref: string | undefined; config: string | undefined; cwd: string }) => Promise<FetchedCredential>;
  loadProvider?: (o: { provider: string; config: string | undefined; cwd: string }) => Promise<Provider>;
  rdpNla?: (o: { target: string; username: string; password: Secret; domain?: string; timeoutMs: number; caFile?: string[] }) => Promise<Finding[]>;
}

import { loadConfig, createProvider } from '../../providers/config.js';
import { validateRdpNla } from '../../checks/rdp-nla.js';
import { parseHostPort } from '../../core/target.js';

/** Provider resolution for --provider/--ref: the config next to the caller (or --config). */
async function loadProvider(o: { provider: string; config: string | undefined; cwd: string }): Promise<Provider> {
  const config = await loadConfig({ cwd: o.cwd, ...(o.config ? { path: o.config } : {}) });
  return createProvider(config, o.provider);
}

export const checkExtensions: CheckExtensions = {
  loadProvider,
  rdpNla: (o) => {
    const { host, port } = parseHostPort(o.target);
    return validateRdpNla({ host, port, username: o.username, password: o.password, ...(o.domain ? { domain: o.domain } : {}), timeoutMs: o.timeoutMs, ...(o.caFile ? { caFile: o.caFile } : {}) });
  },
  async resolveProvider(o) {
    const p = await loadProvider(o);
    try {
      if (o.ref === undefined) throw new CredgateError('--provider needs --ref <ref>.', { code: 'USAGE' });
      return await p.resolve(o.ref, { signal: AbortSignal.timeout(30_000) });
    } finally {
      await p.dispose?.();
    }
  },
};
