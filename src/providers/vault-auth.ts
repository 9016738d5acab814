/**
 * How the vault provider logs in to Vault / OpenBao, beside a static token. Each method is one
 * POST /v1/auth/<mount>/login whose answer is auth.client_token + auth.lease_duration, as the Vault
 * API documents (developer.hashicorp.com/vault/api-docs/auth/...):
 *   approle:    {role_id, secret_id}                                   (auth/approle)
 *   kubernetes: {role, jwt} — jwt is the pod's service account token,  (auth/kubernetes)
 *               re-read from its file at every login (kubelet rotates projected tokens)
 *   jwt / oidc: {role?, jwt} — a JWT from a file or an environment     (auth/jwt; OIDC-issued JWTs
 *               variable (a CI job's OIDC token, a workload identity)   log in the same way)
 *   cert:       {name?} over a TLS connection presenting certFile/keyFile (auth/cert)
 * Refusals are HTTP 400 (invalid role, bad JWT, no valid certificate) or 403 (permission denied).
 */
import fs from 'node:fs';
import type { z } from 'zod';
import { loadZod, once } from '../core/lazy.js';
import { ConfigError } from '../core/errors.js';
import { Secret } from '../core/secret.js';
import { secretFrom, secretInput } from './options.js';

/** Where a pod's service account token is mounted by default. */
export const K8S_TOKEN_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** The zod schemas of this module, made (and zod loaded) when first used. */
const schemas = once(() => {
  const { z } = loadZod();
  const vaultAuthSchema = {
    approle: z.object({
      roleId: z.string().min(1),
      secretId: secretInput().optional(),
      secretIdEnv: z.string().optional(),
      mount: z.string().default('approle'),
    }).strict().optional(),
    kubernetes: z.object({
      role: z.string().min(1),
      mount: z.string().default('kubernetes'),
      /** The service account token file; default the pod's mount. */
      tokenFile: z.string().default(K8S_TOKEN_FILE),
    }).strict().optional(),
    jwt: z.object({
      /** The role; Vault's default_role when absent. */
      role: z.string().min(1).optional(),
      mount: z.string().default('jwt'),
      jwtFile: z.string().optional(),
      jwtEnv: z.string().optional(),
    }).strict().optional(),
    cert: z.object({
      /** The certificate role to log in against; every matching role when absent. */
      name: z.string().min(1).optional(),
      mount: z.string().default('cert'),
    }).strict().optional(),
  };
  return { vaultAuthSchema };
});
type Schemas = ReturnType<typeof schemas>;
export const vaultAuthSchema = (): Schemas['vaultAuthSchema'] => schemas().vaultAuthSchema;

type AuthOptions = { [K in keyof Schemas['vaultAuthSchema']]?: z.output<(Schemas['vaultAuthSchema'])[K]> } & { certFile?: string; keyFile?: string };

/** One login: where it goes, its JSON body, its name for messages, and the secrets it carries (for scrubbing). */
export interface VaultLogin {
  method: 'AppRole' | 'Kubernetes' | 'JWT' | 'TLS certificate';
  url: string;
  body: string;
  secrets: string[];
}

function readJwt(file: string, option: string): Secret {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new ConfigError(`The vault provider's ${option} ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}); is this a pod with a service account token, or is the path right?`, { code: 'CONFIG_INVALID', details: { provider: 'vault', option, path: file } });
  }
  if (!text) throw new ConfigError(`The vault provider's ${option} ${file} is empty.`, { code: 'CONFIG_INVALID', details: { provider: 'vault', option, path: file } });
  return new Secret(text);
}

/**
 * The login the options ask for (at most one method), or undefined for a static token only. Checked
 * when the factory runs; files and variables are read at each login, never before the first resolve.
 */
export function vaultLogin(o: AuthOptions, env: Record<string, string | undefined>, base: string): (() => VaultLogin) | undefined {
  const chosen = (['approle', 'kubernetes', 'jwt', 'cert'] as const).filter((k) => o[k] !== undefined);
  if (chosen.length > 1) throw new ConfigError(`The vault provider takes one login method; ${chosen.join(' and ')} are both set.`, { code: 'CONFIG_INVALID', details: { provider: 'vault', option: chosen[1] } });
  const enc = (p: string) => p.split('/').map(encodeURIComponent).join('/');
  const url = (mount: string) => `${base}/v1/auth/${enc(mount)}/login`;
  const a = o.approle;
  if (a) {
    let secretId: Secret | undefined;
    return () => {
      secretId ??= secretFrom('vault', 'approle.secretId', a.secretId, a.secretIdEnv, env);
      return { method: 'AppRole', url: url(a.mount), body: JSON.stringify({ role_id: a.roleId, ...(secretId ? { secret_id: secretId.reveal() } : {}) }), secrets: secretId ? [secretId.reveal()] : [] };
    };
  }
  const k = o.kubernetes;
  if (k) {
    return () => {
      const jwt = readJwt(k.tokenFile, 'kubernetes.tokenFile');
      return { method: 'Kubernetes', url: url(k.mount), body: JSON.stringify({ role: k.role, jwt: jwt.reveal() }), secrets: [jwt.reveal()] };
    };
  }
  const j = o.jwt;
  if (j) {
    if ((j.jwtFile === undefined) === (j.jwtEnv === undefined)) throw new ConfigError('The vault provider\'s jwt login needs exactly one of jwt.jwtFile (a token file) or jwt.jwtEnv (a variable holding the JWT).', { code: 'CONFIG_INVALID', details: { provider: 'vault', option: 'jwt' } });
    return () => {
      const jwt = j.jwtFile !== undefined ? readJwt(j.jwtFile, 'jwt.jwtFile') : secretFrom('vault', 'jwt', undefined, j.jwtEnv, env)!;
      return { method: 'JWT', url: url(j.mount), body: JSON.stringify({ ...(j.role ? { role: j.role } : {}), jwt: jwt.reveal() }), secrets: [jwt.reveal()] };
    };
  }
  const c = o.cert;
  if (c) {
    if (!o.certFile || !o.keyFile) throw new ConfigError('The vault provider\'s cert login needs certFile and keyFile (the client certificate Vault\'s cert role trusts).', { code: 'CONFIG_INVALID', details: { provider: 'vault', option: 'cert' } });
    return () => ({ method: 'TLS certificate', url: url(c.mount), body: JSON.stringify(c.name ? { name: c.name } : {}), secrets: [] });
  }
  return undefined;
}
