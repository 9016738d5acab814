/**
 * One error type for every fault credgate raises. A fault is something that stopped a check
 * from giving an answer (bad config, cannot connect, the vault is down). A *rejected credential*
 * is an answer, not a fault: validators return it as a Finding.
 *
 * Codes are stable: they are part of the public contract, documented in README.md, and never
 * renamed. Add new ones at the end of the table.
 */

export const ERROR_CODES = {
  CONFIG_INVALID: 'A configuration value or option is invalid.',
  USAGE: 'The command line is not valid.',
  INPUT_INVALID: 'An input file or value could not be read or parsed.',
  PROVIDER_NOT_FOUND: 'The provider has no credential under that reference.',
  PROVIDER_AUTH_FAILED: 'The provider refused credgate\'s own authentication (token, certificate, client secret).',
  PROVIDER_UNAVAILABLE: 'The provider could not be reached or answered with a server error.',
  PROVIDER_BAD_RESPONSE: 'The provider answered with something credgate cannot use.',
  PROVIDER_RATE_LIMITED: 'The provider kept rate-limiting credgate until the deadline.',
  PROVIDER_FORBIDDEN: 'The provider authenticated credgate but denied access to that credential.',
  PROVIDER_UNSUPPORTED: 'The provider cannot do what was asked (an unsupported secret format or feature).',
  PROVIDER_MISSING_DEPENDENCY: 'An optional package the provider needs is not installed.',
  CONNECTION_FAILED: 'A network connection could not be made or was lost.',
  TIMEOUT: 'An operation did not finish within its deadline.',
  TLS_FAILED: 'A TLS handshake failed or the peer certificate was rejected.',
  PROTOCOL_ERROR: 'A peer answered with bytes that do not follow the protocol.',
  ABORTED: 'The caller aborted the operation.',
  UNSUPPORTED_PLATFORM: 'This operation is not available on this operating system.',
  LAB_FAILED: 'A lab server could not be started or stopped.',
  INTERNAL: 'An unexpected internal error.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

const MARK = Symbol.for('credgate.CredgateError');

export interface CredgateErrorOptions {
  code: ErrorCode;
  cause?: unknown;
  /** Plain, non-secret data about the failure (a URL, a status code, a path). */
  details?: Record<string, unknown>;
}

export class CredgateError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(message: string, options: CredgateErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    // an abort is recognisable as one everywhere (err.name === 'AbortError', as fetch and Node's own APIs throw it)
    this.name = options.code === 'ABORTED' ? 'AbortError' : 'CredgateError';
    this.code = options.code;
    this.details = options.details;
    Object.defineProperty(this, MARK, { value: true });
  }

  static override [Symbol.hasInstance](obj: unknown): boolean {
    return typeof obj === 'object' && obj !== null && (obj as Record<symbol, unknown>)[MARK] === true;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

function subclass(name: string, mark: string) {
  const sym = Symbol.for(mark);
  const C = class extends CredgateError {
    constructor(message: string, options: CredgateErrorOptions) {
      super(message, options);
      if (options.code !== 'ABORTED') this.name = name;
      Object.defineProperty(this, sym, { value: true });
    }
    static override [Symbol.hasInstance](obj: unknown): boolean {
      return typeof obj === 'object' && obj !== null && (obj as Record<symbol, unknown>)[sym] === true;
    }
  };
  Object.defineProperty(C, 'name', { value: name });
  return C;
}

export const ConfigError = subclass('ConfigError', 'credgate.ConfigError');
export type ConfigError = InstanceType<typeof ConfigError>;
export const ProviderError = subclass('ProviderError', 'credgate.ProviderError');
export type ProviderError = InstanceType<typeof ProviderError>;
export const ConnectionError = subclass('ConnectionError', 'credgate.ConnectionError');
export type ConnectionError = InstanceType<typeof ConnectionError>;
export const UnsupportedPlatformError = subclass('UnsupportedPlatformError', 'credgate.UnsupportedPlatformError');
export type UnsupportedPlatformError = InstanceType<typeof UnsupportedPlatformError>;

export function isCredgateError(e: unknown, code?: ErrorCode): e is CredgateError {
  return e instanceof CredgateError && (code === undefined || (e as CredgateError).code === code);
}

/** Wrap an AbortSignal's reason into an ABORTED/TIMEOUT error. */
export function abortError(signal: AbortSignal, what: string): CredgateError {
  const reason = signal.reason as unknown;
  const isTimeout = reason instanceof Error && reason.name === 'TimeoutError';
  return new CredgateError(
    isTimeout ? `${what} timed out; raise --timeout or check that the server answers.` : `${what} was aborted by the caller.`,
    { code: isTimeout ? 'TIMEOUT' : 'ABORTED', cause: reason },
  );
}
