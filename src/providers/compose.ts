/**
 * Provider composition, after the AWS SDK's credential chain: `chain(a, b)` moves to the next
 * provider only when the previous one says "not here" (PROVIDER_NOT_FOUND) — any other fault
 * stops the chain, so a down vault is never silently skipped. `memoize(p, { ttlMs })` coalesces
 * concurrent resolves of the same ref and keeps the answer for ttlMs.
 */
import { withSignal } from '../core/abort.js';
import { ConfigError, ProviderError, abortError, isCredgateError } from '../core/errors.js';
import type { CredentialRef, FetchedCredential } from '../core/credential.js';
import type { Provider, OwnedProvider, ResolveOptions } from './types.js';

export function chain(...providers: Provider[]): OwnedProvider {
  if (providers.length === 0) throw new ConfigError('chain() needs at least one provider.', { code: 'CONFIG_INVALID' });
  return {
    name: `chain(${providers.map((p) => p.name).join(', ')})`,
    async resolve(ref: CredentialRef, opts: ResolveOptions = {}): Promise<FetchedCredential> {
      const misses: string[] = [];
      for (const p of providers) {
        try {
          return await p.resolve(ref, opts);
        } catch (e) {
          if (isCredgateError(e, 'PROVIDER_NOT_FOUND')) {
            misses.push(p.name);
            continue;
          }
          throw e;
        }
      }
      throw new ProviderError(`No provider in the chain has this credential (tried ${misses.join(', ')}).`, { code: 'PROVIDER_NOT_FOUND', details: { tried: misses } });
    },
    async dispose() {
      for (const p of providers) await p.dispose?.();
    },
    async [Symbol.asyncDispose]() {
      await this.dispose();
    },
  };
}

/** The memoized provider takes the same references as the one it wraps. */
export function memoize<R extends CredentialRef = CredentialRef>(provider: Provider & { resolve(ref: R, options?: ResolveOptions): Promise<FetchedCredential> }, { ttlMs = 60_000 }: { ttlMs?: number } = {}): OwnedProvider<R> {
  const cache = new Map<string, { at: number; value: Promise<FetchedCredential> }>();
  const keyOf = (ref: CredentialRef) => (typeof ref === 'string' ? `s:${ref}` : `o:${stableJson(ref)}`);
  return {
    name: provider.name,
    resolve(ref: R, opts: ResolveOptions = {}): Promise<FetchedCredential> {
      const k = keyOf(ref);
      const hit = cache.get(k);
      if (hit && Date.now() - hit.at < ttlMs) return hit.value;
      // one in-flight call per ref; the caller's signal is not shared with others
      const value = provider.resolve(ref, {});
      cache.set(k, { at: Date.now(), value });
      value.catch(() => cache.delete(k));
      if (!opts.signal) return value;
      const signal = opts.signal;
      return withSignal(value, signal, undefined, () => abortError(signal, 'The resolve'));
    },
    async dispose() {
      cache.clear();
      await provider.dispose?.();
    },
    async [Symbol.asyncDispose]() {
      await this.dispose();
    },
  };
}

/** JSON with object keys sorted, so { a, b } and { b, a } are the same memo key. */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v) ?? 'undefined';
}
