/**
 * The LDAP password policy control (draft-behera-ldap-password-policy, OID 1.3.6.1.4.1.42.2.27.8.5.1),
 * as OpenLDAP's ppolicy overlay and others send it. Request: the control with no value.
 * Response value:
 *   PasswordPolicyResponseValue ::= SEQUENCE {
 *     warning [0] CHOICE { timeBeforeExpiration [0] INTEGER, graceAuthNsRemaining [1] INTEGER } OPTIONAL,
 *     error   [1] ENUMERATED { passwordExpired(0), accountLocked(1), changeAfterReset(2), ... } OPTIONAL }
 *
 * ldapts does not hand response controls back from bind(). Its control parser, for an OID it does
 * not know, calls parse() on the *request* control with the same OID, so this class reads the
 * response into the instance we sent (one instance per bind). The decoding itself is our own
 * bounded BER reader over the raw value bytes, so a hostile value cannot make it misbehave.
 */
import type { Control } from 'ldapts';
import { loadLdapts, once } from '../../core/lazy.js';

export const PPOLICY_OID = '1.3.6.1.4.1.42.2.27.8.5.1';
export const PPOLICY_ERRORS = [
  'passwordExpired', 'accountLocked', 'changeAfterReset', 'passwordModNotAllowed', 'mustSupplyOldPassword',
  'insufficientPasswordQuality', 'passwordTooShort', 'passwordTooYoung', 'passwordInHistory', 'passwordTooLong',
] as const;

export interface PasswordPolicyResponse {
  received: boolean;
  timeBeforeExpiration?: number;
  graceAuthNsRemaining?: number;
  error?: number;
  errorName?: string;
}

/** Decode the control value bytes (the OCTET STRING contents). */
export function decodePasswordPolicyValue(value: Uint8Array): PasswordPolicyResponse {
  const out: PasswordPolicyResponse = { received: true };
  let i = 0;
  const len = (): number => {
    const b = value[i++];
    if (b === undefined) throw new RangeError('truncated length');
    if (b < 0x80) return b;
    const n = b & 0x7f;
    if (n === 0 || n > 3) throw new RangeError('unsupported length');
    let l = 0;
    for (let k = 0; k < n; k++) {
      const x = value[i++];
      if (x === undefined) throw new RangeError('truncated length');
      l = (l << 8) | x;
    }
    return l;
  };
  const int = (l: number): number => {
    if (l < 1 || l > 6 || i + l > value.length) throw new RangeError('bad integer');
    let v = (value[i]! & 0x80) ? -1 : 0;
    for (let k = 0; k < l; k++) v = v * 256 + value[i + k]!;
    i += l;
    return v;
  };
  if (value[i++] !== 0x30) throw new RangeError('not a SEQUENCE');
  const seqLen = len();
  const end = i + seqLen;
  if (end > value.length) throw new RangeError('truncated SEQUENCE');
  while (i < end) {
    const tag = value[i++];
    const l = len();
    if (i + l > end) throw new RangeError('element overruns SEQUENCE');
    if (tag === 0xa0) {
      const wtag = value[i++];
      const wl = len();
      const v = int(wl);
      if (wtag === 0x80) out.timeBeforeExpiration = v;
      else if (wtag === 0x81) out.graceAuthNsRemaining = v;
    } else if (tag === 0x81) {
      out.error = int(l);
      out.errorName = PPOLICY_ERRORS[out.error] ?? `unknown(${out.error})`;
    } else {
      i += l;
    }
  }
  return out;
}

interface RawReader {
  readString(tag?: number, asBuffer?: boolean): Buffer | string | null;
  peek(): number | null;
  length: number;
  offset: number;
  buffer?: Buffer;
}

/** The request control for one bind; after the bind its `result` holds what the server answered. */
export interface PasswordPolicyRequest extends Control {
  result: PasswordPolicyResponse;
}

/** The control class, defined when first used (it extends ldapts' Control, which loads ldapts). */
const controlClass = once((): new () => PasswordPolicyRequest => {
  return class PasswordPolicyControl extends loadLdapts().Control {
    static type = PPOLICY_OID;
    result: PasswordPolicyResponse = { received: false };

    constructor() {
      super(PPOLICY_OID, { critical: false });
    }

    protected override writeControl(): void {
      // the request control has no value
    }

    protected override parseControl(reader: unknown): void {
      const r = reader as RawReader;
      try {
        // ldapts hands us a reader over the controlValue bytes; `buffer` is what is left of them
        const raw = r.buffer;
        if (!raw || raw.length === 0) {
          this.result = { received: true };
          return;
        }
        this.result = decodePasswordPolicyValue(raw);
      } catch {
        this.result = { received: true, errorName: 'undecodable' };
      }
    }
  };
});

/** `new PasswordPolicyControl()`: one request control per bind (ldapts is loaded on first use). */
export const PasswordPolicyControl = new Proxy(function PasswordPolicyControl() {} as unknown as (new () => PasswordPolicyRequest) & { type: string }, {
  construct: () => new (controlClass())(),
  get: (_t, p) => (p === 'type' ? PPOLICY_OID : Reflect.get(controlClass(), p)),
});
