/** Secret, the string that never prints, and scrub, the one redaction rule for outside text. */
import { timingSafeEqual, createHash } from 'node:crypto';

const REDACTED = '[REDACTED]';
const inspectSymbol = Symbol.for('nodejs.util.inspect.custom');
const SECRET_MARK = Symbol.for('credgate.Secret');
/** Each copy's reveal, under one name: how a copy of this module reveals a Secret another copy made. */
const REVEAL = Symbol.for('credgate.Secret.reveal');

/**
 * A string that never prints. `toString`, `toJSON`, template literals, `util.inspect` and
 * `console.log` all show `[REDACTED]`; the value is only reachable through `reveal()`.
 * The value is a private field: enumerating the object's keys (symbols too), structured-cloning
 * it or inspecting it without the custom inspector shows nothing of it. Every copy of this module
 * in the process (the root entry, the subpaths' chunks and the CJS build are each a copy)
 * recognises the others' Secrets (`instanceof`, by a registered symbol) and reveals them (through
 * the copy that made them). A private field, not a WeakMap of values: a bulk run makes a Secret
 * per account, and a WeakMap entry each cost it 2× the time and ephemeron work for the collector.
 */
export class Secret {
  readonly #value: string;

  /** The brand every copy recognises (on the prototype: an instance has no keys of its own). */
  get [SECRET_MARK](): true {
    return true;
  }

  constructor(value: string) {
    if (typeof value !== 'string') {
      throw new TypeError('Secret expects a string value');
    }
    this.#value = value;
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
    if (#value in this) return this.#value;
    // a Secret of another copy of this module: its own copy reveals it
    const other = (this as unknown as Record<symbol, unknown>)[REVEAL];
    if (typeof other !== 'function' || other === Secret.prototype[REVEAL]) throw new TypeError('Secret value is not available (not a Secret)');
    return (other as () => string).call(this);
  }

  /** This copy's reveal, for the other copies (reveal() above); not enumerable, like every method. */
  [REVEAL](): string {
    return this.#value;
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
