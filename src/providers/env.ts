import { z } from 'zod';
import { Secret } from '../core/secret.js';
import { ConfigError, ProviderError } from '../core/errors.js';
import { abortError } from '../core/errors.js';
import type { Provider, ResolveOptions } from './types.js';
import type { CredentialRef, FetchedCredential } from '../core/credential.js';

const EnvOptions = z.object({
  /** Variable holding the password (when the ref does not name one). */
  passwordVar: z.string().min(1).optional(),
  /** Variable holding the user name, or a fixed username. */
  usernameVar: z.string().min(1).optional(),
  username: z.string().min(1).optional(),
  domain: z.string().optional(),
  /** Defaults to process.env; tests pass their own. */
  env: z.record(z.string(), z.string().optional()).optional(),
}).strict();
export type EnvProviderOptions = z.input<typeof EnvOptions>;

/**
 * The password from an environment variable. `resolve('VAR')` reads VAR; `resolve({ passwordVar, username })` too.
 */
export function fromEnv(options: EnvProviderOptions = {}): Provider {
  const parsed = EnvOptions.safeParse(options);
  if (!parsed.success) {
    throw new ConfigError(`Invalid env provider options: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}.`, {
      code: 'CONFIG_INVALID',
    });
  }
  const opts = parsed.data;
  return {
    name: 'env',
    async resolve(ref: CredentialRef, { signal }: ResolveOptions = {}): Promise<FetchedCredential> {
      if (signal?.aborted) throw abortError(signal, 'Reading the environment');
      const env = opts.env ?? process.env;
      const r = typeof ref === 'string' ? { passwordVar: ref } : (ref as Record<string, unknown>);
      const varName = (typeof r.passwordVar === 'string' ? r.passwordVar : undefined) ?? opts.passwordVar;
      if (!varName) {
        throw new ProviderError('The env provider needs the name of the variable holding the password; pass it as the ref.', {
          code: 'PROVIDER_NOT_FOUND',
        });
      }
      const value = env[varName];
      if (value === undefined) {
        throw new ProviderError(`Environment variable ${varName} is not set; export it or choose another variable.`, {
          code: 'PROVIDER_NOT_FOUND',
          details: { variable: varName },
        });
      }
      const userVar = (typeof r.usernameVar === 'string' ? r.usernameVar : undefined) ?? opts.usernameVar;
      const username = (typeof r.username === 'string' ? r.username : undefined) ?? (userVar ? env[userVar] : undefined) ?? opts.username ?? '';
      return {
        username,
        secret: new Secret(value),
        ...(opts.domain ? { domain: opts.domain } : {}),
        source: `env ${varName}`,
      };
    },
  };
}
