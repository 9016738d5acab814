/** fromEnv: a credential from environment variables. */
import type { z } from 'zod';
import { loadZod, once } from '../core/lazy.js';
import { Secret } from '../core/secret.js';
import { ConfigError, ProviderError, abortError, disposedError } from '../core/errors.js';
import { describeIssues, issueFields, validateOptions } from './options.js';
import type { OwnedProvider, ResolveOptions } from './types.js';
import { observed } from './observed.js';
import type { CredentialRef, FetchedCredential } from '../core/credential.js';

/** The zod schemas of this module, made (and zod loaded) when first used. */
const schemas = once(() => {
  const { z } = loadZod();
  const varName = z.string().min(1).regex(/^[^=\0]+$/, 'must be a variable name');
  const EnvOptions = z.object({
    /** Variable holding the password (when the ref does not name one). */
    passwordVar: varName.optional(),
    /** Variable holding the user name. */
    usernameVar: varName.optional(),
    /** A fixed user name (when no variable holds it). */
    username: z.string().min(1).optional(),
    domain: z.string().min(1).optional(),
    /** Variable holding the last change time (ISO 8601), e.g. exported by a rotation job. */
    changedAtVar: varName.optional(),
    /** Defaults to process.env; tests and embedders pass their own. */
    env: z.record(z.string(), z.string().optional()).optional(),
  }).strict();
  const RefObject = z.object({
    passwordVar: varName.optional(),
    usernameVar: varName.optional(),
    username: z.string().min(1).optional(),
    domain: z.string().min(1).optional(),
    changedAtVar: varName.optional(),
  }).strict();
  const IsoDate = z.iso.datetime({ offset: true });
  return { varName, EnvOptions, RefObject, IsoDate };
});
type Schemas = ReturnType<typeof schemas>;

export type EnvProviderOptions = z.input<Schemas['EnvOptions']>;
/** A reference for fromEnv: the password's variable name, or { passwordVar, username | usernameVar, domain?, changedAtVar? }. */
export type EnvRef = string | z.input<Schemas['RefObject']>;



/**
 * The password from an environment variable. `resolve('VAR')` reads VAR; `resolve({ passwordVar,
 * username | usernameVar, domain?, changedAtVar? })` too. An unset or empty variable is
 * PROVIDER_NOT_FOUND (so `chain()` moves on); the value never appears in an error.
 */
export function fromEnv(options: EnvProviderOptions = {}): OwnedProvider<EnvRef> {
  const parsed = { data: validateOptions('env', schemas().EnvOptions, options) };
  const opts = parsed.data;
  let disposed = false;
  const provider: OwnedProvider<EnvRef> = {
    name: 'env',
    async resolve(ref: CredentialRef, { signal }: ResolveOptions = {}): Promise<FetchedCredential> {
      if (disposed) throw disposedError('env provider', 'create a new one with fromEnv()', { provider: 'env' });
      if (signal?.aborted) throw abortError(signal, 'Reading the environment');
      const env = opts.env ?? process.env;
      let r: z.infer<Schemas['RefObject']>;
      if (typeof ref === 'string') {
        r = { passwordVar: ref };
      } else {
        const p = schemas().RefObject.safeParse(ref);
        if (!p.success) {
          throw new ProviderError(`Invalid env provider reference: ${describeIssues(p.error.issues)}; use "VAR" or { passwordVar, username }.`, {
            code: 'CONFIG_INVALID', details: { provider: 'env', fields: issueFields(p.error.issues) },
          });
        }
        r = p.data;
      }
      const pwVar = r.passwordVar ?? opts.passwordVar;
      if (!pwVar) {
        throw new ProviderError('The env provider needs the name of the variable holding the password; pass it as the ref or set passwordVar.', {
          code: 'CONFIG_INVALID', details: { provider: 'env' },
        });
      }
      const value = env[pwVar];
      if (value === undefined || value === '') {
        throw new ProviderError(`Environment variable ${pwVar} is ${value === '' ? 'empty' : 'not set'}; export the password in it or choose another variable.`, {
          code: 'PROVIDER_NOT_FOUND', details: { provider: 'env', variable: pwVar },
        });
      }
      const userVar = r.usernameVar ?? opts.usernameVar;
      let username = r.username;
      if (username === undefined && userVar !== undefined) {
        username = env[userVar];
        if (!username) {
          throw new ProviderError(`Environment variable ${userVar} (the user name) is not set; export it or give username.`, {
            code: 'PROVIDER_NOT_FOUND', details: { provider: 'env', variable: userVar },
          });
        }
      }
      username ??= opts.username ?? '';
      const domain = r.domain ?? opts.domain;
      let changedAt: Date | undefined;
      const changedVar = r.changedAtVar ?? opts.changedAtVar;
      if (changedVar !== undefined && env[changedVar]) {
        const raw = env[changedVar]!;
        if (!schemas().IsoDate.safeParse(raw).success) {
          throw new ProviderError(`Environment variable ${changedVar} is not an ISO 8601 date-time (e.g. 2026-01-31T12:00:00Z).`, {
            code: 'PROVIDER_BAD_RESPONSE', details: { provider: 'env', variable: changedVar },
          });
        }
        changedAt = new Date(raw);
      }
      return {
        username,
        secret: new Secret(value),
        ...(domain ? { domain } : {}),
        ...(changedAt ? { changedAt } : {}),
        source: `env ${pwVar}`,
      };
    },
    async dispose() {
      disposed = true;
    },
    async [Symbol.asyncDispose]() {
      provider.dispose?.();
    },
  };
  return observed(provider);
}
