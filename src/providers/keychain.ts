/** fromKeychain: a credential from the OS keychain (keytar: Secret Service, macOS Keychain, Windows Credential Manager). */
import type { z } from 'zod';
import { loadZod, once } from '../core/lazy.js';
import { Secret, scrub } from '../core/secret.js';
import { ConfigError, ProviderError, CredgateError, abortError, disposedError } from '../core/errors.js';
import { describeIssues, validateOptions } from './options.js';
import { withSignal } from '../core/abort.js';
import type { OwnedProvider, ResolveOptions } from './types.js';
import { observed } from './observed.js';
import type { CredentialRef, FetchedCredential } from '../core/credential.js';
import { secretServiceModified } from '../platform/secret-service.js';

/** The part of the keytar API credgate uses (keytar, @github/keytar and compatible shims). */
export interface KeytarApi {
  getPassword(service: string, account: string): Promise<string | null>;
  findCredentials(service: string): Promise<Array<{ account: string; password: string }>>;
}

/** The zod schemas of this module, made (and zod loaded) when first used. */
const schemas = once(() => {
  const { z } = loadZod();
  const KeychainOptions = z.object({
    /** The keychain service name; when set, a string ref is just the account. */
    service: z.string().min(1).optional(),
    /** The user name to report; default: the keychain account name. */
    username: z.string().min(1).optional(),
    domain: z.string().min(1).optional(),
    /** Module implementing the keytar API, loaded on the first resolve. Default `@github/keytar`. */
    module: z.string().min(1).default('@github/keytar'),
    /** Deadline per resolve (ms). Default 10 s. */
    timeoutMs: z.number().int().positive().default(10_000),
    /**
     * On Linux, read the item's modification time from the Secret Service over D-Bus (busctl or
     * gdbus) as `changedAt`. Default true; keytar itself exposes no time.
     */
    changedAt: z.boolean().default(true),
  }).strict();
  const RefObject = z.object({
    service: z.string().min(1).optional(),
    account: z.string().min(1).optional(),
    username: z.string().min(1).optional(),
    domain: z.string().min(1).optional(),
  }).strict();
  return { KeychainOptions, RefObject };
});
type Schemas = ReturnType<typeof schemas>;
export type KeychainProviderOptions = z.input<Schemas['KeychainOptions']>;
/** A reference for fromKeychain: "service/account", or { service?, account?, username?, domain? }. */
export type KeychainRef = string | z.input<Schemas['RefObject']>;


interface Target {
  service: string;
  account?: string;
  username?: string;
  domain?: string;
}

function isKeytar(m: unknown): m is KeytarApi {
  return typeof m === 'object' && m !== null && typeof (m as KeytarApi).getPassword === 'function' && typeof (m as KeytarApi).findCredentials === 'function';
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Load the keytar module by name; an actionable PROVIDER_MISSING_DEPENDENCY when it is absent or cannot load. */
export async function loadKeytar(moduleName: string): Promise<KeytarApi> {
  let ns: unknown;
  try {
    ns = await import(/* @vite-ignore */ moduleName);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const msg = errText(e);
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new ProviderError(
        `The keychain provider needs the optional package ${moduleName}, which is not installed; run "npm install ${moduleName}" next to credgate.`,
        { code: 'PROVIDER_MISSING_DEPENDENCY', cause: e, details: { module: moduleName } },
      );
    }
    const lib = /lib[\w.-]+\.so[.\d]*/.exec(msg)?.[0];
    throw new ProviderError(
      lib
        ? `The keychain package ${moduleName} is installed but its native part cannot load ${lib}; install the system library (on Debian/Ubuntu: apt-get install libsecret-1-0).`
        : `The keychain package ${moduleName} is installed but failed to load (${msg.slice(0, 200)}); reinstall it for this platform and Node version.`,
      { code: 'PROVIDER_MISSING_DEPENDENCY', cause: e, details: { module: moduleName, ...(lib ? { library: lib } : {}) } },
    );
  }
  const candidates = [ns, (ns as { default?: unknown })?.default];
  const api = candidates.find(isKeytar);
  if (!api) {
    throw new ProviderError(`The module ${moduleName} does not provide the keytar API (getPassword, findCredentials); use @github/keytar or keytar.`, {
      code: 'PROVIDER_MISSING_DEPENDENCY', details: { module: moduleName },
    });
  }
  return api;
}

/** Map a failure of the keychain itself to a provider error (the message never carries a secret). */
function keychainError(e: unknown, t: Target, secrets: string[]): CredgateError {
  if (e instanceof CredgateError) return e;
  const msg = scrub(errText(e), secrets).slice(0, 300);
  const where = `${t.service}${t.account ? `/${t.account}` : ''}`;
  if (/prompt|dismiss|locked|unlock|cancel|denied|not allowed|authoriz/i.test(msg)) {
    return new ProviderError(`The OS keychain refused to hand out ${where} (it is locked or asked for a confirmation nobody can give); unlock the keychain for this session first.`, {
      code: 'PROVIDER_AUTH_FAILED', details: { service: t.service, account: t.account, reason: msg },
    });
  }
  return new ProviderError(`The OS keychain could not be reached while reading ${where}; on Linux start a Secret Service (gnome-keyring, KeePassXC) in this session and make sure DBUS_SESSION_BUS_ADDRESS is set.`, {
    code: 'PROVIDER_UNAVAILABLE', details: { service: t.service, account: t.account, reason: msg },
  });
}

/**
 * The credential from the operating system's keychain through the keytar API: macOS Keychain,
 * Windows Credential Manager, or the Secret Service on Linux (gnome-keyring, KWallet, KeePassXC).
 * The native package (`@github/keytar`, an optional dependency) is imported only on the first
 * resolve; when it is missing the error says how to install it.
 *
 * Reference: `{ service, account }`, or `"service/account"` (split at the last slash), or just
 * `"account"` when the `service` option is set, or just `"service"` when that service holds exactly
 * one account. keytar exposes no modification time; on Linux `changedAt` is the Secret Service
 * item's `Modified` time (read over D-Bus, see secret-service.ts), elsewhere it is not set.
 */
export function fromKeychain(options: KeychainProviderOptions = {}): OwnedProvider<KeychainRef> {
  const parsed = { data: validateOptions('keychain', schemas().KeychainOptions, options) };
  const opts = parsed.data;
  let api: Promise<KeytarApi> | undefined;
  let disposed = false;

  const keytar = (): Promise<KeytarApi> => {
    if (!api) {
      const p = loadKeytar(opts.module);
      api = p;
      // a failed load is not remembered: installing the package fixes the next call
      p.catch(() => {
        if (api === p) api = undefined;
      });
    }
    return api;
  };

  const target = (ref: CredentialRef): Target => {
    if (typeof ref === 'string') {
      if (opts.service) return { service: opts.service, account: ref };
      const slash = ref.lastIndexOf('/');
      if (slash > 0 && slash < ref.length - 1) return { service: ref.slice(0, slash), account: ref.slice(slash + 1) };
      return { service: ref.replace(/\/$/, '') };
    }
    const r = schemas().RefObject.safeParse(ref);
    if (!r.success) {
      throw new ProviderError(`Invalid keychain reference: ${describeIssues(r.error.issues)}; use { service, account } or "service/account".`, {
        code: 'CONFIG_INVALID', details: { provider: 'keychain' },
      });
    }
    const service = r.data.service ?? opts.service;
    if (!service) {
      throw new ProviderError('The keychain reference names no service; pass { service, account } or set the "service" option.', {
        code: 'CONFIG_INVALID', details: { provider: 'keychain' },
      });
    }
    return { service, ...r.data };
  };

  const lookup = async (t: Target): Promise<FetchedCredential> => {
    const kt = await keytar();
    const where = `${t.service}${t.account ? `/${t.account}` : ''}`;
    let account = t.account;
    let password: string | null = null;
    // every password this lookup has seen, to scrub from the keychain's error text
    const seen: string[] = [];
    try {
      if (account !== undefined) {
        password = await kt.getPassword(t.service, account);
      } else {
        const all = await kt.findCredentials(t.service);
        for (const c of all ?? []) if (typeof c?.password === 'string') seen.push(c.password);
        if (all.length > 1) {
          const names = all.map((c) => c.account);
          throw new ProviderError(`The keychain holds ${all.length} accounts under service ${t.service}; name one as "${t.service}/<account>".`, {
            code: 'PROVIDER_BAD_RESPONSE', details: { service: t.service, accounts: names.slice(0, 20) },
          });
        }
        account = all[0]?.account;
        password = all[0]?.password ?? null;
      }
    } catch (e) {
      throw keychainError(e, t, [...seen, ...(typeof password === 'string' ? [password] : [])]);
    }
    if (password === null || password === undefined || account === undefined) {
      throw new ProviderError(`The OS keychain has no item for ${where}; store one (service ${t.service}${t.account ? `, account ${t.account}` : ''}), check the names, or unlock the keychain (a locked one shows no items).`, {
        code: 'PROVIDER_NOT_FOUND', details: { service: t.service, ...(t.account ? { account: t.account } : {}) },
      });
    }
    const domain = t.domain ?? opts.domain;
    const changedAt = opts.changedAt ? await secretServiceModified(t.service, account, { timeoutMs: Math.min(3000, opts.timeoutMs) }) : undefined;
    return {
      username: t.username ?? opts.username ?? account,
      secret: new Secret(password),
      ...(domain ? { domain } : {}),
      ...(changedAt ? { changedAt } : {}),
      source: `keychain ${t.service}/${account}`,
    };
  };

  const provider: OwnedProvider<KeychainRef> = {
    name: 'keychain',
    async resolve(ref: CredentialRef, { signal }: ResolveOptions = {}): Promise<FetchedCredential> {
      if (disposed) throw disposedError('keychain provider', 'create a new one with fromKeychain()', { provider: 'keychain' });
      if (signal?.aborted) throw abortError(signal, 'Reading the OS keychain');
      const t = target(ref);
      const deadline = AbortSignal.timeout(opts.timeoutMs);
      const all = signal ? AbortSignal.any([signal, deadline]) : deadline;
      // keytar calls cannot be cancelled; the caller stops waiting and the answer is dropped
      return withSignal(lookup(t), all, undefined, () => {
        const e = abortError(all, 'Reading the OS keychain');
        return e.code === 'TIMEOUT'
          ? new ProviderError(`The OS keychain did not answer within ${opts.timeoutMs} ms (reading ${t.service}); check that it is unlocked and not waiting for a prompt.`, {
            code: 'TIMEOUT', cause: all.reason, details: { service: t.service },
          })
          : e;
      });
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
