/** Secret, the string that never prints, and scrub, the one redaction rule for outside text. */
import { timingSafeEqual, createHash } from 'node:crypto';

const REDACTED = '[REDACTED]';
const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');
const SECRET_MARK = Symbol.for('credgate.Secret');
const VALUES = Symbol.for('credgate.Secret.values');
/**
 * The values, one store for every copy of this module in the process (the root entry, the
 * subpaths' chunks and the CJS build are each a copy): a Secret made by one copy reveals through
 * any other. A WeakMap, so it holds no Secret alive and cannot be listed; defined once, read-only.
 */
const values: WeakMap<Secret, string> = (() => {
  const g = globalThis as unknown as Record<symbol, WeakMap<Secret, string> | undefined>;
  if (!(g[VALUES] instanceof WeakMap)) Object.defineProperty(globalThis, VALUES, { value: new WeakMap(), writable: false, enumerable: false, configurable: false });
  return g[VALUES]!;
})();

/**
 * A string that never prints. `toString`, `toJSON`, template literals, `util.inspect` and
 * `console.log` all show `[REDACTED]`; the value is only reachable through `reveal()`.
 * The value lives in a WeakMap (`values` below), so even enumerating the object's own keys
 * or structured-cloning it cannot leak it.
 */
export class Secret {
  readonly [SECRET_MARK] = true;

  constructor(value: string) {
    if (typeof value !== 'string') {
      throw new TypeError('Secret expects a string value');
    }
    values.set(this, value);
    Object.freeze(this);
  }

  static from(value: string | Secret): Secret {
    return value instanceof Secret ? value : new Secret(value);
  }

  static [Symbol.hasInstance](obj: unknown): boolean {
    return typeof obj === 'object' && obj !== null && (obj as Record<symbol, unknown>)[SECRET_MARK] === true;
  }

  /** The plain value. Call it only where the value leaves for its destination (a bind, a hash). */
  reveal(): string {
    const v = values.get(this);
    if (v === undefined) throw new TypeError('Secret value is not available (foreign Secret instance)');
    return v;
  }

  get length(): number {
    return this.reveal().length;
  }

  get isEmpty(): boolean {
    return this.reveal().length === 0;
  }

  /** Constant-time comparison (hashes both sides first so lengths do not leak). */
  equals(other: Secret | string): boolean {
    const a = createHash('sha256').update(this.reveal(), 'utf8').digest();
    const b = createHash('sha256').update(typeof other === 'string' ? other : other.reveal(), 'utf8').digest();
    return timingSafeEqual(a, b);
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.toPrimitive](): string {
    return REDACTED;
  }

  [inspectSymbol](): string {
    return `Secret(${REDACTED})`;
  }
}

export const REDACTED_TEXT = REDACTED;

/** The name of an environment variable that may hold a secret (--password-env, password_env columns). */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A value and its URL-encoded forms (a lone surrogate has none: encodeURIComponent throws on it). */
function encodedForms(v: string): Set<string> {
  const forms = new Set([v]);
  try {
    forms.add(encodeURIComponent(v));
    forms.add(new URLSearchParams({ x: v }).toString().slice(2));
  } catch {
    // not encodable, so it cannot appear encoded either
  }
  return forms;
}

/**
 * Replace every occurrence of the given secret values — and their URL-encoded forms (vendors echo
 * request fields in their errors) — in text that came from elsewhere (server diagnostics, vendor
 * errors, child process output) before it goes into a message. The one redaction rule.
 */
export function scrub(text: string, secrets: Iterable<Secret | string | undefined>): string {
  let out = text;
  for (const s of secrets) {
    if (s === undefined) continue;
    const v = typeof s === 'string' ? s : s.reveal();
    if (v.length < 1) continue;
    for (const form of encodedForms(v)) out = out.split(form).join(REDACTED);
  }
  return out;
}
