/** The provider shape every vault backend and third-party provider implements. */
import type { FetchedCredential, CredentialRef } from '../core/credential.js';

export interface ResolveOptions {
  signal?: AbortSignal;
}

/**
 * A provider fetches the target account's credential from one backend. It is a plain object;
 * a third-party provider is any object of this shape. Factories (`fromVault(options)`) validate
 * their options with zod when called and do no I/O before the first `resolve`.
 *
 * `resolve` throws `CredgateError` with code `PROVIDER_NOT_FOUND` when the backend has nothing
 * under that reference (the only error on which `chain()` moves on), or another `PROVIDER_*`
 * code for faults. Messages, details and `toJSON` never contain tokens or passwords.
 */
export interface Provider {
  readonly name: string;
  resolve(ref: CredentialRef, options?: ResolveOptions): Promise<FetchedCredential>;
  dispose?(): void | Promise<void>;
  [Symbol.asyncDispose]?(): Promise<void>;
}

/**
 * What every built-in factory returns: `dispose()` and `[Symbol.asyncDispose]()` are always there,
 * so `await using p = fromVault(...)` type-checks and releases the provider at the end of the block,
 * and `resolve` takes that provider's reference type (`VaultRef`, `EnvRef`, ...), so a misspelt
 * field or a wrong value type does not type-check.
 */
export interface OwnedProvider<R extends CredentialRef = CredentialRef> extends Provider {
  resolve(ref: R, options?: ResolveOptions): Promise<FetchedCredential>;
  dispose(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Identity helper that gives a third-party provider object the right type. */
export function defineProvider<P extends Provider>(provider: P): P {
  return provider;
}

export function isProvider(value: unknown): value is Provider {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Provider).name === 'string' &&
    typeof (value as Provider).resolve === 'function'
  );
}
