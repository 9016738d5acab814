/**
 * The credential behind --provider / --ref: the provider configuration next to the caller (or
 * --config), the named provider, one resolve. Commands load this module only when --provider is
 * given, so their start does not load every provider.
 */
import type { FetchedCredential } from '../core/credential.js';
import type { Provider } from '../providers/types.js';
import { CredgateError } from '../core/errors.js';
import { loadConfig, createProvider } from '../providers/config.js';

/** The named provider from the configuration (credgate.config.{json,mjs} in cwd, or --config). */
export async function loadProvider(o: { provider: string; config: string | undefined; cwd: string }): Promise<Provider> {
  const config = await loadConfig({ cwd: o.cwd, ...(o.config ? { path: o.config } : {}) });
  return createProvider(config, o.provider);
}

/** Resolve one reference with the named provider, then dispose it. */
export async function resolveProvider(o: { provider: string; ref: string | undefined; config: string | undefined; cwd: string }): Promise<FetchedCredential> {
  const p = await loadProvider(o);
  try {
    if (o.ref === undefined) throw new CredgateError('--provider needs --ref <ref>.', { code: 'USAGE' });
    return await p.resolve(o.ref, { signal: AbortSignal.timeout(30_000) });
  } finally {
    await p.dispose?.();
  }
}
