/**
 * The credential behind --provider / --ref: the provider configuration next to the caller (or
 * --config), the named provider, one resolve. Commands load this module only when --provider is
 * given, so their start does not load every provider. Neither option's value is ever repeated in
 * an error: a password typed into either must not be echoed.
 */
import type { CredentialRef, FetchedCredential } from '../core/credential.js';
import type { Provider } from '../providers/types.js';
import { ConfigError, CredgateError } from '../core/errors.js';
import { scrub } from '../core/secret.js';
import { loadConfig, createProvider } from '../providers/config.js';

/** The named provider from the configuration (credgate.config.{json,mjs} in cwd, or --config). */
export async function loadProvider(o: { provider: string; config: string | undefined; cwd: string }): Promise<Provider> {
  const config = await loadConfig({ cwd: o.cwd, ...(o.config ? { path: o.config } : {}) });
  const names = Object.keys(config.providers ?? {});
  if (!names.includes(o.provider)) {
    throw new ConfigError(
      `--provider names no provider configured in ${config.file ?? 'the config'} (the name given is not shown: it may be a password); configured: ${names.join(', ') || 'none'}.`,
      { code: 'CONFIG_INVALID', details: { option: 'provider', ...(config.file ? { file: config.file } : {}), configured: names } },
    );
  }
  return refNotRepeated(await createProvider(config, o.provider));
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

/** The strings of a reference worth redacting (a one- to three-character reference is no password, and would shred the text). */
function refTexts(ref: CredentialRef): string[] {
  const all = typeof ref === 'string' ? [ref] : Object.values(ref).filter((v): v is string => typeof v === 'string');
  return all.filter((s) => s.length >= 4);
}

/** A value with every string in it scrubbed of `texts`. */
function scrubbed(v: unknown, texts: string[]): unknown {
  if (typeof v === 'string') return scrub(v, texts);
  if (Array.isArray(v)) return v.map((x) => scrubbed(x, texts));
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, scrubbed(x, texts)]));
  }
  return v;
}

/**
 * The provider, with every error of its resolve() scrubbed of the reference it was asked for:
 * providers name the reference they could not find ("no entry X"), and a password typed into
 * --ref would be echoed in the message, the evidence and the JSON.
 */
function refNotRepeated(p: Provider): Provider {
  return {
    name: p.name,
    async resolve(ref, options) {
      try {
        return await p.resolve(ref, options);
      } catch (e) {
        const texts = refTexts(ref);
        if (!texts.length || !(e instanceof Error)) throw e;
        const message = scrub(e.message, texts);
        if (message !== e.message) {
          Object.defineProperty(e, 'message', { value: `${message} (the --ref value is not repeated: it may be a password)`, configurable: true, writable: true });
          if (typeof e.stack === 'string') Object.defineProperty(e, 'stack', { value: scrub(e.stack, texts), configurable: true, writable: true });
        }
        if (e instanceof CredgateError && e.details) Object.defineProperty(e, 'details', { value: scrubbed(e.details, texts), configurable: true });
        throw e;
      }
    },
    ...(p.dispose ? { dispose: () => p.dispose!() } : {}),
  };
}
