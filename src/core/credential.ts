/** A fetched credential and the forms of an account name (UPN, DOMAIN\\user, DN, bare), parsed once. */
import type { z } from 'zod';
import { lazyObject, loadZod } from './lazy.js';
import { Secret } from './secret.js';
import { ConfigError } from './errors.js';

/** What a provider hands back: the target account's credential, and when it last changed. */
export interface FetchedCredential {
  username: string;
  secret: Secret;
  domain?: string;
  /** The backend's own record of the last password change (Vault updated_time, LAPS update time, ...). */
  changedAt?: Date;
  /** Where it came from, for humans and audit (`vault kv-v2 secret/rdp/web01`). Never the secret. */
  source: string;
}

/** A reference to a credential inside one provider: a path, an id, a name. */
const credentialRefSchema = () => {
  const { z } = loadZod();
  return z.union([
    z.string().min(1, 'the reference is empty'),
    z.record(z.string(), z.unknown()),
  ]);
};
/** The reference's schema (made, and zod loaded, when first used). */
export const CredentialRefSchema: ReturnType<typeof credentialRefSchema> = lazyObject(credentialRefSchema);
export type CredentialRef = z.infer<ReturnType<typeof credentialRefSchema>>;

export type AccountForm = 'upn' | 'dn' | 'down-level' | 'bare';

export interface AccountName {
  /** As the caller wrote it. */
  input: string;
  form: AccountForm;
  /** The sAMAccountName / uid part (`alice`), or the first RDN value for a DN. */
  user: string;
  /** NetBIOS domain (`PAMTEST`) for down-level names, the DNS suffix for a UPN, else undefined. */
  domain?: string;
  /** What to send as the bind name. */
  bindName: string;
}

/**
 * Parse an account name in any of the forms AD accepts for a simple bind:
 * `alice@pamtest.local` (UPN), `CN=Alice,CN=Users,DC=pamtest,DC=local` (DN),
 * `PAMTEST\alice` (down-level), or a bare `alice` plus a default domain (becomes a UPN, or a
 * down-level name when the default domain has no dot).
 */
export function parseAccountName(input: string, defaultDomain?: string): AccountName {
  const name = input.trim();
  if (name.length === 0) {
    throw new ConfigError('The account name is empty; pass --user <name> as alice@domain, DOMAIN\\alice or a DN.', {
      code: 'CONFIG_INVALID',
      details: { option: 'user' },
    });
  }
  if (/^[A-Za-z][A-Za-z0-9-]*=/.test(name) && name.includes(',')) {
    const first = name.split(/(?<!\\),/)[0] ?? name;
    const user = first.slice(first.indexOf('=') + 1).replace(/\\(.)/g, '$1');
    return { input, form: 'dn', user, bindName: name };
  }
  const bs = name.indexOf('\\');
  if (bs > 0) {
    const domain = name.slice(0, bs);
    const user = name.slice(bs + 1);
    if (!user) {
      throw new ConfigError(`The account name "${input}" has a domain but no user; write DOMAIN\\user.`, {
        code: 'CONFIG_INVALID',
        details: { option: 'user' },
      });
    }
    return { input, form: 'down-level', user, domain, bindName: name };
  }
  const at = name.lastIndexOf('@');
  if (at > 0 && at < name.length - 1) {
    return { input, form: 'upn', user: name.slice(0, at), domain: name.slice(at + 1), bindName: name };
  }
  if (defaultDomain) {
    const d = defaultDomain.trim();
    if (d.includes('.')) return { input, form: 'upn', user: name, domain: d, bindName: `${name}@${d}` };
    return { input, form: 'down-level', user: name, domain: d, bindName: `${d}\\${name}` };
  }
  return { input, form: 'bare', user: name, bindName: name };
}
