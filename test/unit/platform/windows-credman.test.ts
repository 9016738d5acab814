// The live Credential Manager source's logic over a stand-in for advapi32 (any OS): a failed
// enumeration is an error with its Win32 code, never an empty list; a refused
// CRED_ENUMERATE_ALL_CREDENTIALS falls back to flags 0; GetLastError is read right after the
// failing call and only then; TargetNames in the namespace:attribute=target form are taken back
// to the credential's own name. The real advapi32 is exercised by the Windows tier (test/windows).
import { describe, it, expect } from 'vitest';
import { credmanTargetName, win32ErrorText, type CredmanApi } from '../../../src/platform/windows-credman.js';
import { credentialManagerSource } from '../../../src/cache/sources/credman.js';
import { CredgateError } from '../../../src/core/errors.js';

interface FakeCred { Type: number; TargetName: string; UserName: string | null; Persist: number; Comment: string | null; LastWritten: { lo: number; hi: number } }

/** advapi32 as a script: each CredEnumerateW call takes the next answer; calls are logged in order. */
function fake(answers: Array<{ ok: true; creds: FakeCred[] } | { ok: false; err: number; count?: number }>, del: Array<{ ok: boolean; err?: number }> = []) {
  const calls: string[] = [];
  let last = 0;
  let pending = 0;
  const handles = new Map<object, FakeCred[]>();
  const a: CredmanApi = {
    koffi: {
      decode: ((p: unknown, type: unknown, n?: number) => {
        if (type === 'void *') return handles.get(p as object)!.slice(0, n);
        return p;
      }) as CredmanApi['koffi']['decode'],
    },
    CREDENTIALW: {} as CredmanApi['CREDENTIALW'],
    CredEnumerateW: ((filter: unknown, flags: number, count: number[], out: unknown[]) => {
      calls.push(`CredEnumerateW(${String(filter)}, ${flags})`);
      const x = answers.shift()!;
      if (!x.ok) {
        last = x.err;
        count[0] = x.count ?? 0;
        return false;
      }
      const h = {};
      handles.set(h, x.creds);
      count[0] = x.creds.length;
      out[0] = h;
      pending++;
      last = 0;
      return true;
    }) as unknown as CredmanApi['CredEnumerateW'],
    CredFree: (() => {
      calls.push('CredFree');
      pending--;
    }) as unknown as CredmanApi['CredFree'],
    CredDeleteW: ((name: string, type: number) => {
      calls.push(`CredDeleteW(${name}, ${type})`);
      const x = del.shift()!;
      last = x.err ?? 0;
      return x.ok;
    }) as unknown as CredmanApi['CredDeleteW'],
    CredWriteW: (() => true) as unknown as CredmanApi['CredWriteW'],
    GetLastError: (() => {
      calls.push('GetLastError');
      return last;
    }) as unknown as CredmanApi['GetLastError'],
  };
  return { src: credentialManagerSource(async () => a), calls, pending: () => pending };
}

const cred = (TargetName: string, Type = 2, UserName: string | null = 'CORP\\alice'): FakeCred => ({ Type, TargetName, UserName, Persist: 2, Comment: null, LastWritten: { lo: 0xd53e8000, hi: 0x01dc5e2a } });

describe('live Credential Manager source: enumeration failures', () => {
  it('a failed CredEnumerateW is an INTERNAL error with the Win32 code, even with a count of 0 (was: read as "no credentials")', async () => {
    const f = fake([{ ok: false, err: 1312, count: 0 }]);
    const e = await f.src.list().then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(CredgateError);
    expect((e as CredgateError).code).toBe('INTERNAL');
    expect((e as CredgateError).details).toEqual({ win32: 1312, function: 'CredEnumerateW', flags: 1 });
    expect((e as Error).message).toContain('CredEnumerateW failed with Win32 error 1312 (ERROR_NO_SUCH_LOGON_SESSION); nothing was inspected');
    expect(f.calls).toEqual(['CredEnumerateW(null, 1)', 'GetLastError']);
  });

  it('ERROR_INVALID_FLAGS for CRED_ENUMERATE_ALL_CREDENTIALS (Wine, pre-Vista): enumerated again with flags 0', async () => {
    const f = fake([{ ok: false, err: 1004 }, { ok: true, creds: [cred('TERMSRV/web01'), cred('TERMSRV/web02')] }]);
    const list = await f.src.list();
    expect(list.map((e) => e.target)).toEqual(['TERMSRV/web01', 'TERMSRV/web02']);
    expect(f.calls).toEqual(['CredEnumerateW(null, 1)', 'GetLastError', 'CredEnumerateW(null, 0)', 'CredFree']);
    expect(f.pending()).toBe(0);
  });

  it('flags 0 failing too: the error names flags 0 and its own code', async () => {
    const f = fake([{ ok: false, err: 1004 }, { ok: false, err: 5 }]);
    const e = (await f.src.list().catch((x: unknown) => x)) as CredgateError;
    expect(e.details).toEqual({ win32: 5, function: 'CredEnumerateW', flags: 0 });
    expect(e.message).toContain('Win32 error 5 (ERROR_ACCESS_DENIED)');
  });

  it('ERROR_NOT_FOUND is the only empty answer', async () => {
    expect(await fake([{ ok: false, err: 1168 }]).src.list()).toEqual([]);
    expect(await fake([{ ok: false, err: 1004 }, { ok: false, err: 1168 }]).src.list()).toEqual([]);
  });

  it('GetLastError is read right after a failing call and never after a succeeding one', async () => {
    const f = fake([{ ok: true, creds: [cred('TERMSRV/a')] }], [{ ok: true }, { ok: false, err: 1168 }, { ok: false, err: 87 }]);
    await f.src.list();
    expect(await f.src.remove!('Domain:target=TERMSRV/a', 'domain-password')).toBe(true);
    expect(await f.src.remove!('Domain:target=TERMSRV/a', 'domain-password')).toBe(false);
    const e = (await f.src.remove!('LegacyGeneric:target=x').catch((x: unknown) => x)) as CredgateError;
    expect(e.details).toEqual({ win32: 87, function: 'CredDeleteW', target: 'x' });
    expect(e.message).toBe('CredDeleteW failed with Win32 error 87 (ERROR_INVALID_PARAMETER) for x; nothing else was touched.');
    expect(f.calls).toEqual(['CredEnumerateW(null, 1)', 'CredFree', 'CredDeleteW(TERMSRV/a, 2)', 'CredDeleteW(TERMSRV/a, 2)', 'GetLastError', 'CredDeleteW(x, 1)', 'GetLastError']);
  });
});

describe('live Credential Manager source: target names', () => {
  it('CRED_ENUMERATE_ALL_CREDENTIALS names (namespace:attribute=target, as Windows documents them) are the credential\'s own name again', async () => {
    const f = fake([{ ok: true, creds: [cred('Domain:target=TERMSRV/web01'), cred('LegacyGeneric:target=git:https://x', 1), cred('WindowsLive:target=virtualapp/didlogical', 1), cred('TERMSRV/plain')] }]);
    const list = await f.src.list();
    expect(list.map((e) => [e.target, e.rawTarget, e.normalizedHost])).toEqual([
      ['TERMSRV/web01', 'Domain:target=TERMSRV/web01', 'web01'],
      ['git:https://x', 'LegacyGeneric:target=git:https://x', undefined],
      ['virtualapp/didlogical', 'LegacyGeneric:target=WindowsLive:target=virtualapp/didlogical', undefined],
      ['TERMSRV/plain', 'Domain:target=TERMSRV/plain', 'plain'],
    ]);
  });

  it('credmanTargetName takes off only the namespace of the credential\'s type', () => {
    expect(credmanTargetName('Domain:target=TERMSRV/x', 2)).toBe('TERMSRV/x');
    expect(credmanTargetName('LegacyGeneric:target=a=b', 1)).toBe('a=b');
    expect(credmanTargetName('Domain:target=TERMSRV/x', 1)).toBe('Domain:target=TERMSRV/x');
    expect(credmanTargetName('LegacyGeneric:target=x', 2)).toBe('LegacyGeneric:target=x');
    expect(credmanTargetName('WindowsLive:target=virtualapp/didlogical', 1)).toBe('WindowsLive:target=virtualapp/didlogical');
  });

  it('win32ErrorText names the documented errors', () => {
    expect(win32ErrorText(1004)).toBe('1004 (ERROR_INVALID_FLAGS)');
    expect(win32ErrorText(31)).toBe('31');
  });
});
