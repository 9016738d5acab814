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

/** The subclass each code's faults are instances of (codes not listed: plain CredgateError). */
export const ERROR_CLASSES = {
  CONFIG_INVALID: 'ConfigError',
  PROVIDER_NOT_FOUND: 'ProviderError',
  PROVIDER_AUTH_FAILED: 'ProviderError',
  PROVIDER_UNAVAILABLE: 'ProviderError',
  PROVIDER_BAD_RESPONSE: 'ProviderError',
  PROVIDER_RATE_LIMITED: 'ProviderError',
  PROVIDER_FORBIDDEN: 'ProviderError',
  PROVIDER_UNSUPPORTED: 'ProviderError',
  PROVIDER_MISSING_DEPENDENCY: 'ProviderError',
  CONNECTION_FAILED: 'ConnectionError',
  TIMEOUT: 'ConnectionError',
  TLS_FAILED: 'ConnectionError',
  UNSUPPORTED_PLATFORM: 'UnsupportedPlatformError',
} as const satisfies Partial<Record<ErrorCode, string>>;

type SubclassName = (typeof ERROR_CLASSES)[keyof typeof ERROR_CLASSES];
/** Filled as the subclasses are defined below (a constructor runs only after that). */
const SUBCLASSES = new Map<string, { prototype: CredgateError; mark: symbol }>();

export class CredgateError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  /**
   * `new CredgateError(message, { code })` makes an instance of the code's subclass
   * (ERROR_CLASSES: a CONNECTION_FAILED fault is a ConnectionError wherever it is raised), so the
   * class can never disagree with the code. A subclass constructed by name stays that class.
   */
  constructor(message: string, options: CredgateErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.details = options.details;
    Object.defineProperty(this, MARK, { value: true });
    const family = new.target === CredgateError ? (ERROR_CLASSES as Partial<Record<ErrorCode, SubclassName>>)[options.code] : undefined;
    const sub = family && SUBCLASSES.get(family);
    if (sub) {
      Object.setPrototypeOf(this, sub.prototype);
      Object.defineProperty(this, sub.mark, { value: true });
    }
    // an abort is recognisable as one everywhere (err.name === 'AbortError', as fetch and Node's own APIs throw it)
    // by hand for CredgateError itself: a bundler may rename the class (esbuild's _CredgateError)
    this.name = options.code === 'ABORTED' ? 'AbortError' : family ?? (new.target === CredgateError ? 'CredgateError' : new.target.name);
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

function subclass(name: SubclassName) {
  const mark = Symbol.for(`credgate.${name}`);
  const C = class extends CredgateError {
    constructor(message: string, options: CredgateErrorOptions) {
      super(message, options);
      Object.defineProperty(this, mark, { value: true });
    }
    // by mark, not prototype: `instanceof` holds across credgate's ESM and CJS builds
    static override [Symbol.hasInstance](obj: unknown): boolean {
      return typeof obj === 'object' && obj !== null && (obj as Record<symbol, unknown>)[mark] === true;
    }
  };
  Object.defineProperty(C, 'name', { value: name });
  SUBCLASSES.set(name, { prototype: C.prototype, mark });
  return C;
}

export const ConfigError = subclass('ConfigError');
export type ConfigError = InstanceType<typeof ConfigError>;
export const ProviderError = subclass('ProviderError');
export type ProviderError = InstanceType<typeof ProviderError>;
export const ConnectionError = subclass('ConnectionError');
export type ConnectionError = InstanceType<typeof ConnectionError>;
export const UnsupportedPlatformError = subclass('UnsupportedPlatformError');
export type UnsupportedPlatformError = InstanceType<typeof UnsupportedPlatformError>;

export function isCredgateError(e: unknown, code?: ErrorCode): e is CredgateError {
  return e instanceof CredgateError && (code === undefined || (e as CredgateError).code === code);
}

/**
 * The one fault for a call on something already disposed (a provider, a preflight, a bulk run):
 * USAGE — the caller's mistake, not a backend fault (chain() does not move on, nothing is retried).
 */
export function disposedError(what: string, instead: string, details: Record<string, unknown> = {}): CredgateError {
  return new CredgateError(`The ${what} was disposed; ${instead}.`, { code: 'USAGE', details: { ...details, disposed: true } });
}

/** The signal ended by a deadline (AbortSignal.timeout, or a TimeoutError reason), not by someone's abort(). */
export function timedOut(signal: AbortSignal): boolean {
  const r = signal.reason as unknown;
  return typeof r === 'object' && r !== null && (r as { name?: unknown }).name === 'TimeoutError';
}

/** Wrap an AbortSignal's reason into an ABORTED/TIMEOUT error. */
export function abortError(signal: AbortSignal, what: string): CredgateError {
  const reason = signal.reason as unknown;
  const isTimeout = timedOut(signal);
  return new CredgateError(
    isTimeout ? `${what} timed out; raise --timeout or check that the server answers.` : `${what} was aborted by the caller.`,
    { code: isTimeout ? 'TIMEOUT' : 'ABORTED', cause: reason },
  );
}
