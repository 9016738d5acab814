import { describe, it, expect } from 'vitest';
import { decodePasswordPolicyValue } from '../../../../src/protocols/ldap/ppolicy.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

describe('ppolicy response control value', () => {
  it('decodes the values slapd sends (bytes from LAB.md)', () => {
    expect(decodePasswordPolicyValue(hex('3000'))).toEqual({ received: true });
    expect(decodePasswordPolicyValue(hex('3003 810101'))).toMatchObject({ error: 1, errorName: 'accountLocked' });
    expect(decodePasswordPolicyValue(hex('3003 810100'))).toMatchObject({ error: 0, errorName: 'passwordExpired' });
    expect(decodePasswordPolicyValue(hex('3003 810102'))).toMatchObject({ error: 2, errorName: 'changeAfterReset' });
    // warning [0] { timeBeforeExpiration [0] 259199 }
    expect(decodePasswordPolicyValue(hex('3007 a005 8003 03f47f'))).toMatchObject({ timeBeforeExpiration: 259199 });
    // warning [0] { graceAuthNsRemaining [1] 2 }
    expect(decodePasswordPolicyValue(hex('3005 a003 810102'))).toMatchObject({ graceAuthNsRemaining: 2 });
  });

  it('rejects malformed values without crashing (bounded fuzz)', () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const seeds = [hex('3003810101'), hex('3007a005800303f47f'), hex('3005a003810102')];
    for (let i = 0; i < 5000; i++) {
      const base = seeds[i % seeds.length]!;
      const buf = i % 2 ? Uint8Array.from(base) : new Uint8Array(Math.floor(rnd() * 16)).map(() => Math.floor(rnd() * 256));
      if (i % 2) for (let k = 0; k < 3; k++) buf[Math.floor(rnd() * buf.length)] = Math.floor(rnd() * 256);
      try {
        const r = decodePasswordPolicyValue(buf);
        expect(r.received).toBe(true);
      } catch (e) {
        expect(e).toBeInstanceOf(RangeError);
      }
    }
  });
});
