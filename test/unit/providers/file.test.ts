// fromFile: a JSON credential file on a real filesystem: entries, relative paths, permission
// warnings, and errors that name the file and the bad field but never a value.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import dc from 'node:diagnostics_channel';
import { fromFile, type FileProviderWarning } from '../../../src/providers/file.js';
import type { CredgateError } from '../../../src/core/errors.js';
import { failsWith } from '../../helpers/provider-conformance.js';

const PW = 'File!Secret-4711';
let dir: string;
const write = (name: string, body: unknown, mode = 0o600) => {
  const f = path.join(dir, name);
  fs.writeFileSync(f, typeof body === 'string' ? body : JSON.stringify(body));
  fs.chmodSync(f, mode);
  return f;
};

const fails = (p: Promise<unknown>, code: string, secrets: string[] = [PW]): Promise<CredgateError> => failsWith(p, code, secrets);

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-file-test-'));
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('fromFile', () => {
  it('reads a one-credential file named by the ref, with domain and changedAt', async () => {
    const f = write('one.json', { username: 'alice', password: PW, domain: 'PAMTEST', changedAt: '2026-11-02T03:04:05+01:00' });
    const c = await fromFile().resolve(f);
    expect(c).toMatchObject({ username: 'alice', domain: 'PAMTEST', source: `file ${f}` });
    expect(c.secret.reveal()).toBe(PW);
    expect(c.changedAt?.toISOString()).toBe('2026-11-02T02:04:05.000Z');
    expect(JSON.stringify(c)).not.toContain(PW);
  });

  it('entries: path#entry, { path, entry }, and the path option with an entry ref; relative paths use cwd', async () => {
    write('many.json', { web01: { username: 'carol', password: PW }, db01: { username: 'dave', password: 'Other!Pw-1' } });
    const rel = fromFile({ cwd: dir });
    expect((await rel.resolve('many.json#web01')).username).toBe('carol');
    expect((await rel.resolve({ path: 'many.json', entry: 'db01' })).secret.reveal()).toBe('Other!Pw-1');
    const fixed = fromFile({ path: 'many.json', cwd: dir });
    expect((await fixed.resolve('web01')).source).toBe(`file ${path.join(dir, 'many.json')}#web01`);
    await fails(fixed.resolve('nope'), 'PROVIDER_NOT_FOUND');
    await fails(fixed.resolve('-'), 'PROVIDER_BAD_RESPONSE', [PW, 'Other!Pw-1']);
  });

  it('re-reads the file on every resolve (rotation)', async () => {
    const f = write('rot.json', { username: 'erin', password: 'First!Pw-1' });
    const p = fromFile({ path: f });
    expect((await p.resolve('-')).secret.reveal()).toBe('First!Pw-1');
    write('rot.json', { username: 'erin', password: 'Second!Pw-2' });
    expect((await p.resolve('-')).secret.reveal()).toBe('Second!Pw-2');
  });

  it('a missing file is not found; a directory is a bad response', async () => {
    const e = await fails(fromFile().resolve(path.join(dir, 'absent.json')), 'PROVIDER_NOT_FOUND');
    expect(e.message).toContain('absent.json');
    expect(e.details).toMatchObject({ path: path.join(dir, 'absent.json') });
    await fails(fromFile().resolve(dir), 'PROVIDER_BAD_RESPONSE');
  });

  it('broken JSON: names the file, never quotes it', async () => {
    const f = write('broken.json', `{"username": "alice", "password": "${PW}",,}`);
    const e = await fails(fromFile().resolve(f), 'PROVIDER_BAD_RESPONSE');
    expect(e.message).toContain(f);
    expect(e.cause).toBeUndefined();
  });

  it('bad fields: every bad field is named with the fix, no value appears', async () => {
    const f = write('bad.json', { username: '', password: 12345678, changedAt: 'last tuesday', note: PW });
    const e = await fails(fromFile().resolve(f), 'PROVIDER_BAD_RESPONSE', [PW, '12345678', 'last tuesday']);
    expect(e.message).toContain(f);
    for (const field of ['username', 'password', 'changedAt', '"note"']) expect(e.message).toContain(field);
    expect(e.details?.fields).toEqual(expect.arrayContaining(['username', 'password', 'changedAt']));
    const g = write('bad-entry.json', { web01: { username: 'x', password: PW, domain: 7 } });
    const e2 = await fails(fromFile({ path: g }).resolve('web01'), 'PROVIDER_BAD_RESPONSE');
    expect(e2.message).toContain(`${g}#web01`);
    expect(e2.message).toContain('domain');
  });

  it('refuses a file over maxBytes', async () => {
    const f = write('big.json', JSON.stringify({ username: 'a', password: PW, pad: 'x'.repeat(3000) }));
    const e = await fails(fromFile({ maxBytes: 1024 }).resolve(f), 'PROVIDER_BAD_RESPONSE');
    expect(e.details).toMatchObject({ maxBytes: 1024 });
  });

  it('warns once when the file is world-readable, not when it is private', async () => {
    const warnings: FileProviderWarning[] = [];
    const open = write('open.json', { username: 'a', password: PW }, 0o644);
    const priv = write('private.json', { username: 'a', password: PW }, 0o600);
    const p = fromFile({ onWarning: (w) => warnings.push(w) });
    await p.resolve(priv);
    expect(warnings).toHaveLength(0);
    await p.resolve(open);
    await p.resolve(open);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ code: 'file.world-readable', path: open, mode: '644' });
    expect(warnings[0]!.message).toContain('chmod 600');
    expect(warnings[0]!.message).not.toContain(PW);
    // without onWarning: an event on the credgate:warning channel (the CLI prints it), not a process warning
    const seen: unknown[] = [];
    const processWarnings: Error[] = [];
    const on = (m: unknown) => seen.push(m);
    const onProcess = (w: Error) => processWarnings.push(w);
    dc.subscribe('credgate:warning', on);
    process.on('warning', onProcess);
    try {
      await fromFile().resolve(open);
      await new Promise((r) => setImmediate(r));
    } finally {
      dc.unsubscribe('credgate:warning', on);
      process.off('warning', onProcess);
    }
    expect(seen).toEqual([expect.objectContaining({ channel: 'credgate:warning', code: 'file.world-readable', provider: 'file', path: open, message: expect.stringContaining('chmod 600') })]);
    expect(JSON.stringify(seen)).not.toContain(PW);
    expect(processWarnings).toEqual([]);
    // checkPermissions: false silences it
    const quiet: FileProviderWarning[] = [];
    await fromFile({ checkPermissions: false, onWarning: (w) => quiet.push(w) }).resolve(open);
    expect(quiet).toHaveLength(0);
  });

  it('abort, dispose, and invalid options/refs', async () => {
    const f = write('ok.json', { username: 'a', password: PW });
    const p = fromFile();
    await fails(p.resolve(f, { signal: AbortSignal.abort() }), 'ABORTED');
    // @ts-expect-error an unknown field does not type-check; at run time it is CONFIG_INVALID
    await fails(fromFile().resolve({ bogus: 1 }), 'CONFIG_INVALID');
    await fails(fromFile().resolve(''), 'CONFIG_INVALID');
    p.dispose?.();
    p.dispose?.();
    await fails(p.resolve(f), 'USAGE');
    expect(() => fromFile({ maxBytes: 0 })).toThrow(/maxBytes/);
    expect(() => fromFile({ path: 7 } as never)).toThrow(/path/);
    expect(() => fromFile({ baseDir: '/x' } as never)).toThrow(/"baseDir"/);
  });
});
