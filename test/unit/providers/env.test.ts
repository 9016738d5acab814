// fromEnv: the password from an environment variable; unset/empty is "not found", a bad ref or
// option names the field, and the value never appears in an error.
import { describe, it, expect } from 'vitest';
import { fromEnv } from '../../../src/providers/env.js';
import type { CredgateError } from '../../../src/core/errors.js';
import { failsWith } from '../../helpers/provider-conformance.js';

const PW = 'Env!Secret-Value-31';

const fails = (p: Promise<unknown>, code: string): Promise<CredgateError> => failsWith(p, code, [PW]);

describe('fromEnv', () => {
  const env = { RDP_PW: PW, RDP_USER: 'PAMTEST\\alice', RDP_CHANGED: '2026-11-20T10:00:00Z', BAD_DATE: `x${PW}`, EMPTY: '' };

  it('string ref and object ref; username from a variable or fixed; changedAt from a variable', async () => {
    const c = await fromEnv({ env, usernameVar: 'RDP_USER', changedAtVar: 'RDP_CHANGED', domain: 'PAMTEST' }).resolve('RDP_PW');
    expect(c).toMatchObject({ username: 'PAMTEST\\alice', domain: 'PAMTEST', source: 'env RDP_PW' });
    expect(c.secret.reveal()).toBe(PW);
    expect(c.changedAt?.toISOString()).toBe('2026-11-20T10:00:00.000Z');
    const d = await fromEnv({ env }).resolve({ passwordVar: 'RDP_PW', username: 'bob' });
    expect(d.username).toBe('bob');
    expect(d.changedAt).toBeUndefined();
    const e = await fromEnv({ env, passwordVar: 'RDP_PW', username: 'carol' }).resolve({});
    expect(e.username).toBe('carol');
  });

  it('unset or empty variables are not found; the user-name variable too', async () => {
    const e = await fails(fromEnv({ env }).resolve('NOPE_UNSET'), 'PROVIDER_NOT_FOUND');
    expect(e.details).toMatchObject({ variable: 'NOPE_UNSET' });
    expect((await fails(fromEnv({ env }).resolve('EMPTY'), 'PROVIDER_NOT_FOUND')).message).toMatch(/empty/);
    await fails(fromEnv({ env, usernameVar: 'NO_USER_VAR' }).resolve('RDP_PW'), 'PROVIDER_NOT_FOUND');
  });

  it('a bad changedAt is a bad response that does not quote the value', async () => {
    const e = await fails(fromEnv({ env, changedAtVar: 'BAD_DATE' }).resolve('RDP_PW'), 'PROVIDER_BAD_RESPONSE');
    expect(e.message).toContain('BAD_DATE');
  });

  it('invalid refs and options name the field; abort and dispose', async () => {
    await fails(fromEnv({ env }).resolve({ passwordvar: 'RDP_PW' } as never), 'CONFIG_INVALID');
    await fails(fromEnv({ env }).resolve({}), 'CONFIG_INVALID');
    expect(() => fromEnv({ usrname: 'x' } as never)).toThrow(/"usrname"/);
    expect(() => fromEnv({ passwordVar: 'A=B' })).toThrow(/passwordVar/);
    const p = fromEnv({ env });
    await fails(p.resolve('RDP_PW', { signal: AbortSignal.abort() }), 'ABORTED');
    p.dispose?.();
    await p[Symbol.asyncDispose]?.();
    await fails(p.resolve('RDP_PW'), 'USAGE');
  });
});
