/**
 * One configuration, many targets: `createPreflight(config)` gives `check(target)` (the whole
 * preflight), `verify(accounts)` (a bulk run against the same directory) and `dispose()`.
 */
import { ConfigError, disposedError } from '../core/errors.js';
import { preflight } from '../pipeline/preflight.js';
import type { PreflightOptions, PreflightReport, PreflightTarget } from '../pipeline/types.js';
import { verifyMany } from './verify-many.js';
import type { AccountLine, VerifyManyOptions, VerifyResult } from './types.js';

/**
 * The preflight's configuration kept for many targets: `check(target)` runs the whole preflight,
 * `verify(accounts)` a bulk run with the same directory settings (see verifyMany), `dispose()`
 * closes open verify runs, then disposes the providers once.
 */
export function createPreflight(options: PreflightOptions) {
  let disposed = false;
  const open = new Set<AsyncIterableIterator<VerifyResult> & AsyncDisposable>();
  const gone = () => disposedError('preflight (createPreflight)', 'create a new one');
  return {
    check(target: PreflightTarget, extra: Partial<PreflightOptions> = {}): Promise<PreflightReport> {
      if (disposed) return Promise.reject(gone());
      return preflight(target, { ...options, ...extra });
    },
    /**
     * verifyMany over the preflight's directory (URLs, TLS, service account for the lockout guard,
     * defaultDomain) — or, when the preflight has a KDC (`kerberos`), one pre-authentication per
     * account with it — the per-step timeout, signal and logger; `extra` overrides any of them
     * (concurrency, rate, ...). Throws CONFIG_INVALID at once when there is nothing to verify against.
     */
    verify(accounts: AsyncIterable<AccountLine> | Iterable<AccountLine>, extra: Partial<VerifyManyOptions> = {}): AsyncIterableIterator<VerifyResult> & AsyncDisposable {
      if (disposed) throw gone();
      const dir = options.directory;
      const krb = options.kerberos;
      if (!dir && !krb && extra.urls === undefined && extra.kerberos === undefined) {
        throw new ConfigError('verify needs a directory or a KDC: createPreflight({ directory: { urls, ... } }) or ({ kerberos: { kdc } }), or verify(accounts, { urls }).', { code: 'CONFIG_INVALID', details: { option: 'directory' } });
      }
      const inner = verifyMany(accounts, {
        ...(dir ?? {}),
        // the preflight's KDC settings (its SPN look-up has no place in a bulk run)
        ...(krb ? { kerberos: krb } : {}),
        ...(options.stepTimeoutMs !== undefined ? { timeoutMs: options.stepTimeoutMs } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.logger ? { logger: options.logger } : {}),
        ...extra,
      } as VerifyManyOptions);
      open.add(inner);
      const forget = () => open.delete(inner);
      const it: AsyncIterableIterator<VerifyResult> & AsyncDisposable = {
        async next() {
          try {
            const r = await inner.next();
            if (r.done) forget();
            return r;
          } catch (e) {
            forget();
            throw e;
          }
        },
        async return() {
          forget();
          return inner.return ? inner.return() : { value: undefined, done: true };
        },
        async throw(e?: unknown) {
          forget();
          if (inner.throw) return inner.throw(e);
          throw e;
        },
        [Symbol.asyncIterator]() {
          return it;
        },
        async [Symbol.asyncDispose]() {
          forget();
          await inner[Symbol.asyncDispose]();
        },
      };
      return it;
    },
    async dispose(): Promise<void> {
      if (disposed) return;
      disposed = true;
      for (const v of [...open]) await v.return?.().catch(() => undefined);
      open.clear();
      for (const p of Object.values(options.providers ?? {})) await p.dispose?.();
    },
    async [Symbol.asyncDispose](): Promise<void> {
      await this.dispose();
    },
  };
}

