/**
 * OS keychain entries (Secret Service on Linux, Keychain on macOS, Credential Vault on Windows)
 * written through the keytar API by credgate or a PAM client, as a cache source. Lists
 * service + account only: keytar's `findCredentials` returns passwords too, and this source drops
 * them on the spot — no entry, log line or error ever carries one. keytar exposes no modification
 * time: on Linux `lastWritten` is the Secret Service item's `Modified` time (read over D-Bus, see
 * providers/secret-service.ts), so the stale-password rule judges these entries too; elsewhere
 * they have none (the wrong-user and orphan rules still apply).
 */
import { withSignal } from '../../core/abort.js';
import { z } from 'zod';
import { CredgateError, abortError } from '../../core/errors.js';
import { loadKeytar, type KeytarApi } from '../../providers/keychain.js';
import { secretServiceModified } from '../../platform/secret-service.js';
import { hostField, normalizeTarget, type CacheSource, type CachedCredential } from '../types.js';

/** keytar plus the delete call this source's `remove` uses. */
export interface KeytarListApi extends Pick<KeytarApi, 'findCredentials'> {
  deletePassword?(service: string, account: string): Promise<boolean>;
}

const Options = z.object({
  /** The keychain service names to list (keytar cannot enumerate services). */
  services: z.array(z.string().min(1).max(4096)).min(1).max(10_000),
  /** Module implementing the keytar API. Default `@github/keytar`. */
  module: z.string().min(1).default('@github/keytar'),
  /** Deadline per keychain call (ms). Default 10 s. */
  timeoutMs: z.number().int().positive().max(600_000).default(10_000),
  /** On Linux, read each item's modification time from the Secret Service (lastWritten). Default true. */
  lastWritten: z.boolean().default(true),
}).strict();
export type KeychainCacheOptions = z.input<typeof Options> & { keytar?: KeytarListApi };

/** The keychain source: `warnings` holds what the last `list()` skipped (and why). */
export type KeychainCacheSource = CacheSource & { list(o?: { signal?: AbortSignal }): Promise<CachedCredential[]>; readonly warnings: string[] };

/**
 * `keychain:<service>:<account>`, each part URI-encoded so the pair splits back unambiguously and
 * exactly. A name with a lone surrogate (not valid UTF-16) has no such encoding: it is refused, never
 * replaced by U+FFFD — the raw target names what a purge deletes, and a normalised name is another item.
 */
export function keychainRawTarget(service: string, account: string): string {
  if (!isWellFormed(service) || !isWellFormed(account)) {
    throw new CredgateError('A keychain service or account name is not valid UTF-16 (a lone surrogate); it has no raw target.', { code: 'INPUT_INVALID' });
  }
  return `keychain:${encodeURIComponent(service)}:${encodeURIComponent(account)}`;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** No lone surrogate (String#isWellFormed). */
export function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/** A name for a warning: printable, short, lone surrogates shown as \uXXXX (never normalised for use). */
function shown(s: string): string {
  const t = s.replace(/[\ud800-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return t.length > 80 ? `${t.slice(0, 80)}…` : t;
}

export function parseKeychainRawTarget(raw: string): { service: string; account: string } | undefined {
  const m = /^keychain:([^:]*):([^:]*)$/.exec(raw);
  if (!m) return undefined;
  try {
    return { service: decodeURIComponent(m[1]!), account: decodeURIComponent(m[2]!) };
  } catch {
    return undefined;
  }
}

function bounded<T>(p: Promise<T>, ms: number, what: string, signal?: AbortSignal): Promise<T> {
  const deadline = AbortSignal.timeout(ms);
  return withSignal(p, signal ? AbortSignal.any([signal, deadline]) : deadline, undefined, () => signal?.aborted
    ? abortError(signal, `listing the keychain ${what}`)
    : new CredgateError(`The keychain did not answer ${what} within ${ms} ms; check that the Secret Service / keychain is running and unlocked.`, { code: 'TIMEOUT', details: { timeoutMs: ms } }));
}

/** A cache source over the OS keychain for the given service names. No I/O until `list()`. */
export function keychainCacheSource(options: KeychainCacheOptions): KeychainCacheSource {
  const { keytar: given, ...rest } = options;
  const o = Options.parse(rest);
  let api: Promise<KeytarListApi> | undefined;
  const kt = (): Promise<KeytarListApi> => (api ??= given ? Promise.resolve(given) : (loadKeytar(o.module) as Promise<KeytarListApi>));
  const warnings: string[] = [];
  return {
    name: 'keychain',
    warnings,
    async list(lo: { signal?: AbortSignal } = {}): Promise<CachedCredential[]> {
      warnings.length = 0;
      const k = await kt();
      const out: CachedCredential[] = [];
      for (const service of o.services) {
        if (!isWellFormed(service)) {
          warnings.push(`keychain service ${shown(service)} is not valid UTF-16 (a lone surrogate); skipped`);
          continue;
        }
        let found: Array<{ account: string; password?: string }>;
        try {
          found = await bounded(k.findCredentials(service), o.timeoutMs, `for service ${service}`, lo.signal);
        } catch (e) {
          if (e instanceof Error && (e as { code?: string }).code && /TIMEOUT|ABORTED/.test(String((e as { code?: string }).code))) throw e;
          // keytar errors carry D-Bus text, never the password; keep only the first line
          throw new CredgateError(`Listing keychain service ${service} failed (${String((e as Error)?.message ?? e).split('\n')[0]!.slice(0, 200)}); check that the keychain is unlocked.`, { code: 'INTERNAL', details: { service } });
        }
        for (const f of found) {
          // the password is dropped here: only service and account leave this loop
          const account = String(f.account);
          if (!isWellFormed(account)) {
            // its raw target could only name another item (U+FFFD in place of the surrogate): never listed, never purged
            warnings.push(`keychain service ${shown(service)}: account ${shown(account)} is not valid UTF-16 (a lone surrogate); skipped, it is never purged`);
            continue;
          }
          const target = normalizeTarget(service);
          const lastWritten = o.lastWritten ? await secretServiceModified(service, account, { timeoutMs: Math.min(3000, o.timeoutMs) }) : undefined;
          out.push({
            target, rawTarget: keychainRawTarget(service, account), ...hostField(target), type: 'keychain',
            ...(account ? { username: account } : {}), ...(lastWritten ? { lastWritten } : {}), source: 'keychain',
          });
        }
      }
      return out;
    },
    async remove(rawTarget: string): Promise<boolean> {
      const p = parseKeychainRawTarget(rawTarget);
      // only a raw target this source writes, byte for byte: one that decodes but does not encode back
      // exactly (lowercase escapes, unescaped characters, a normalised name) could name another item
      let exact = false;
      try {
        exact = !!p && keychainRawTarget(p.service, p.account) === rawTarget;
      } catch {
        exact = false;
      }
      if (!p || !exact) throw new CredgateError(`${rawTarget.slice(0, 200)} is not a keychain entry of this source; nothing was deleted.`, { code: 'INPUT_INVALID' });
      const k = await kt();
      if (!k.deletePassword) throw new CredgateError(`The keytar module ${o.module} has no deletePassword; nothing was deleted.`, { code: 'PROVIDER_MISSING_DEPENDENCY' });
      return bounded(k.deletePassword(p.service, p.account), o.timeoutMs, `deleting ${p.service}`);
    },
  };
}
