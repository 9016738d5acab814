// The Credential Manager binding (src/platform/windows-credman.ts) against advapi32 itself: the
// live source lists what CredWriteW wrote, deletes exactly one credential, reports ERROR_NOT_FOUND
// as "already gone", writes for launch, and reads every Win32 error where koffi keeps it reliable.
import { describe, it, expect, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { inspect } from 'node:util';
import { writeWindowsCredential, CRED_ENUMERATE_ALL_CREDENTIALS, ERROR_INVALID_FLAGS } from '../../src/platform/windows-credman.js';
import { windowsCredentialManager } from '../../src/cache/sources/credman.js';
import { inspectCache } from '../../src/cache/inspect.js';
import { Secret } from '../../src/core/secret.js';
import { CredgateError } from '../../src/core/errors.js';
import { credWrite, credRead, credList, credDelete, blobHashOf, wineVersion, setLastError, getLastError, enumerateFlagsResult, TYPE } from './helpers/win32.js';

const id = `${process.pid}-${randomBytes(3).toString('hex')}`;
const host = `bind-${id}.corp.example`;
const pw = () => `Pw-${randomBytes(12).toString('base64url')}`;
const written: Array<[string, keyof typeof TYPE]> = [];
function write(target: string, type: keyof typeof TYPE, user: string, password = pw(), persist: 'session' | 'local-machine' = 'local-machine') {
  credWrite({ target, type, user, password, persist });
  written.push([target, type]);
  return password;
}
afterAll(() => {
  for (const [t, ty] of written) credDelete(t, ty);
});

describe.runIf(process.platform === 'win32')('the live Credential Manager binding (win32)', () => {
  it('two TERMSRV domain-password entries written by CredWriteW are listed, and inspect finds them stale (the "entries: []" / CLEAN defect)', async () => {
    const p1 = write(`TERMSRV/${host}`, 'domain-password', 'CORP\\alice');
    const p2 = write(`TERMSRV/web02-${id}.corp.example`, 'domain-password', 'CORP\\alice');
    const changedAt = new Date(Date.now() + 2000);
    const list = await windowsCredentialManager().list();
    const mine = list.filter((e) => e.target.includes(id)).sort((a, b) => a.target.localeCompare(b.target));
    expect(mine.map((e) => [e.target, e.rawTarget, e.type, e.username, e.persist, e.normalizedHost, e.source])).toEqual([
      [`TERMSRV/${host}`, `Domain:target=TERMSRV/${host}`, 'domain-password', 'CORP\\alice', 'local-machine', host, 'credman'],
      [`TERMSRV/web02-${id}.corp.example`, `Domain:target=TERMSRV/web02-${id}.corp.example`, 'domain-password', 'CORP\\alice', 'local-machine', `web02-${id}.corp.example`, 'credman'],
    ]);
    for (const e of mine) {
      expect(e.machine).toBe(os.hostname());
      expect(Math.abs(e.lastWritten!.getTime() - Date.now())).toBeLessThan(5 * 60_000);
    }
    const shown = JSON.stringify(list) + inspect(list, { depth: 5 });
    expect(shown, 'a password blob leaked into the listing').not.toContain(p1);
    expect(shown).not.toContain(p2);
    const r = inspectCache({ entries: list, account: 'CORP\\alice', host, changedAt });
    expect(r.findings.map((f) => [f.code, f.evidence.target])).toEqual([['cache.stale-password', `TERMSRV/${host}`]]);
    expect(r.considered).toBe(1);
  });

  it('the enumeration: CRED_ENUMERATE_ALL_CREDENTIALS on Windows; Wine refuses the flag (ERROR_INVALID_FLAGS) and the source falls back to flags 0', () => {
    const r = enumerateFlagsResult(CRED_ENUMERATE_ALL_CREDENTIALS);
    if (wineVersion()) {
      // Wine (8.0) implements no CredEnumerateW flag: it answers 1004, which the source once read as "no credentials"
      expect(r).toEqual({ ok: false, err: ERROR_INVALID_FLAGS });
    } else {
      expect(r.ok).toBe(true);
    }
    expect(enumerateFlagsResult(0).ok).toBe(true); // the fallback lists this test's credentials
  });

  it('remove deletes exactly the credential of that type; the second time it resolves false (ERROR_NOT_FOUND, 1168)', async () => {
    const target = `TERMSRV/${host}`;
    write(target, 'generic', 'CORP\\alice'); // the same name as the domain credential above, another type
    const src = windowsCredentialManager();
    expect(await src.remove!(`LegacyGeneric:target=${target}`, 'generic')).toBe(true);
    expect(credRead(target, 'generic')).toBeUndefined();
    expect(credRead(target, 'domain-password')).toMatchObject({ user: 'CORP\\alice' }); // untouched
    expect(await src.remove!(`LegacyGeneric:target=${target}`, 'generic')).toBe(false);
    // the type from the raw target alone (no type given)
    expect(await src.remove!(`Domain:target=${target}`)).toBe(true);
    expect(credRead(target, 'domain-password')).toBeUndefined();
    expect(await src.remove!(`Domain:target=${target}`)).toBe(false);
  });

  it('non-ASCII target and user: listed as written, deleted by that name', async () => {
    const target = `TERMSRV/srv-${id}-müller.corp.example`;
    write(target, 'domain-password', 'CORP\\jürgen.müller');
    write(`credgate-ñ-${id}-日本`, 'generic', 'ユーザー');
    const list = await windowsCredentialManager().list();
    expect(list.find((e) => e.target === target)).toMatchObject({ username: 'CORP\\jürgen.müller', rawTarget: `Domain:target=${target}`, normalizedHost: `srv-${id}-müller.corp.example` });
    expect(list.find((e) => e.target === `credgate-ñ-${id}-日本`)).toMatchObject({ type: 'generic', username: 'ユーザー', rawTarget: `LegacyGeneric:target=credgate-ñ-${id}-日本` });
    expect(await windowsCredentialManager().remove!(`Domain:target=${target}`, 'domain-password')).toBe(true);
    expect(credRead(target, 'domain-password')).toBeUndefined();
  });

  it('writeWindowsCredential: the password as UTF-16LE, type, user, persistence and comment; a second write replaces it', async () => {
    const target = `TERMSRV/write-${id}.corp.example`;
    written.push([target, 'domain-password']);
    const first = `Pässwörd-${randomBytes(6).toString('hex')}-€`;
    await writeWindowsCredential({ target, type: 'domain-password', username: 'CORP\\alice', secret: new Secret(first), persist: 'session', comment: 'written by credgate launch' });
    expect(credRead(target, 'domain-password')).toMatchObject({ target, type: TYPE['domain-password'], user: 'CORP\\alice', persist: 1, comment: 'written by credgate launch', blobSha256: blobHashOf(first), blobSize: first.length * 2 });
    const second = pw();
    await writeWindowsCredential({ target, type: 'domain-password', username: 'CORP\\bob', secret: new Secret(second) });
    expect(credRead(target, 'domain-password')).toMatchObject({ user: 'CORP\\bob', persist: 1, blobSha256: blobHashOf(second) });
    expect(credList(target)).toHaveLength(1);
  });

  it('a refused CredWriteW is an error with its Win32 code, naming the target and never the password', async () => {
    const secret = pw();
    // a domain password's UserName is DOMAIN\user or a UPN (CREDENTIALW docs); Wine enforces that for
    // enterprise persistence only, with ERROR_BAD_USERNAME (2202): a refusal Wine and the docs agree on
    const e = await writeWindowsCredential({ target: `TERMSRV/bad-${id}`, type: 'domain-password', username: 'alice', secret: new Secret(secret), persist: 'enterprise' }).then(() => undefined, (x: unknown) => x);
    written.push([`TERMSRV/bad-${id}`, 'domain-password']);
    expect(e).toBeInstanceOf(CredgateError);
    expect((e as CredgateError).code).toBe('INTERNAL');
    expect((e as CredgateError).details).toMatchObject({ function: 'CredWriteW', target: `TERMSRV/bad-${id}` });
    expect((e as CredgateError).details!.win32).toBeGreaterThan(0);
    expect((e as Error).message).toMatch(/^CredWriteW failed with Win32 error \d+/);
    expect(JSON.stringify(e) + inspect(e) + (e as Error).message).not.toContain(secret);
  });

  it('the last Win32 error survives the Win32 calls Node makes between two koffi calls (koffi keeps it per call)', async () => {
    setLastError(4242);
    // file system, crypto, timers, JSON: Win32 calls of Node and V8, none through koffi
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-lasterror-'));
    fs.writeFileSync(path.join(dir, 'x'), randomBytes(1 << 16));
    fs.readFileSync(path.join(dir, 'x'));
    fs.rmSync(dir, { recursive: true });
    JSON.parse(JSON.stringify({ a: [1, 2, 3] }));
    await sleep(20);
    expect(getLastError()).toBe(4242);
    // and the binding's own read after a real failure
    expect(await windowsCredentialManager().remove!(`Domain:target=TERMSRV/never-${id}`, 'domain-password')).toBe(false);
  });
});
