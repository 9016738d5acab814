/**
 * Optional capabilities of `credgate check`, wired in by the modules that provide them, so the
 * check command does not import every provider and the NLA client unless they exist.
 */
import type { FetchedCredential } from '../../core/credential.js';
import type { Finding } from '../../core/findings.js';
import type { Secret } from '../../core/secret.js';
import type { Provider } from '../../providers/types.js';

export interface CheckExtensions {
  resolveProvider?: (o: { provider: string; ref: string | undefined; config: string | undefined; cwd: string }) => Promise<FetchedCredential>;
  loadProvider?: (o: { provider: string; config: string | undefined; cwd: string }) => Promise<Provider>;
  rdpNla?: (o: { target: string; username: string; password: Secret; domain?: string; timeoutMs: number; caFile?: string[] }) => Promise<Finding[]>;
}

export const checkExtensions: CheckExtensions = {};
