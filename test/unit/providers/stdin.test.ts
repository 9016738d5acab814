// fromStdin: the credential piped in once, capped, parsed in three formats; nothing read ever
// appears in an error (message, details, toJSON, inspect).
import { describe, it, expect } from 'vitest';
import { PassThrough, Readable } from 'node:stream';
import { spawn } from 'node:child_process';
import { fromStdin } from '../../../src/providers/stdin.js';
import type { CredgateError } from '../../../src/core/errors.js';
import { failsWith } from '../../helpers/provider-conformance.js';

const PW = 'S3cret:With:Colons!ü';

const fails = (p: Promise<unknown>, code: string, secrets: string[] = [PW]): Promise<CredgateError> => failsWith(p, code, secrets);

describe('fromStdin', () => {
  it('reads the password once, strips exactly one trailing newline, answers every resolve from that read', async () => {
    const stream = Readable.from([Buffer.from(PW + '\n')]);
    const p = fromStdin({ stream, username: 'alice', domain: 'PAMTEST' });
    const [a, b] = await Promise.all([p.resolve('-'), p.resolve('-')]);
    expect(a.secret.reveal()).toBe(PW);
    expect(a).toMatchObject({ username: 'alice', domain: 'PAMTEST', source: 'stdin' });
    expect(b.secret.equals(PW)).toBe(true);
    const c = await p.resolve('-');
    expect(c.secret.reveal()).toBe(PW);
    expect(JSON.stringify(c)).not.toContain(PW);
    expect(stream.readableEnded).toBe(true);
  });

  it('auto: a JSON object is a credential, anything else the password; format "password" keeps a leading {', async () => {
    const json = JSON.stringify({ username: 'alice', password: PW });
    const a = await fromStdin({ stream: Readable.from([json + '\n']) }).resolve('-');
    expect(a).toMatchObject({ username: 'alice', source: 'stdin (json)' });
    expect(a.secret.reveal()).toBe(PW);
    const b = await fromStdin({ stream: Readable.from(['{' + PW]), format: 'password' }).resolve('-');
    expect(b.secret.reveal()).toBe('{' + PW);
    await fails(fromStdin({ stream: Readable.from(['{' + PW]) }).resolve('-'), 'PROVIDER_BAD_RESPONSE', ['{' + PW, PW]);
  });

  it('keeps a second newline and handles CRLF', async () => {
    expect((await fromStdin({ stream: Readable.from(['pw\n\n']) }).resolve('-')).secret.reveal()).toBe('pw\n');
    expect((await fromStdin({ stream: Readable.from(['pw\r\n']) }).resolve('-')).secret.reveal()).toBe('pw');
  });

  it('reads a real OS pipe (a child process writing to it)', async () => {
    const child = spawn('printf', ['%s', PW], { stdio: ['ignore', 'pipe', 'ignore'] });
    const cred = await fromStdin({ stream: child.stdout, username: 'bob' }).resolve('-');
    expect(cred.secret.reveal()).toBe(PW);
    expect(cred.username).toBe('bob');
  });

  it('username:password splits at the first colon only', async () => {
    const cred = await fromStdin({ stream: Readable.from([`svc-rdp:${PW}\n`]), format: 'username:password' }).resolve('-');
    expect(cred.username).toBe('svc-rdp');
    expect(cred.secret.reveal()).toBe(PW);
    expect(cred.source).toBe('stdin (username:password)');
  });

  it('username:password without a user name or with an empty password is a bad response', async () => {
    await fails(fromStdin({ stream: Readable.from([':' + PW]), format: 'username:password' }).resolve('-'), 'PROVIDER_BAD_RESPONSE');
    await fails(fromStdin({ stream: Readable.from(['NoColonHereAtAll']), format: 'username:password' }).resolve('-'), 'PROVIDER_BAD_RESPONSE', ['NoColonHereAtAll']);
    await fails(fromStdin({ stream: Readable.from(['alice:\n']), format: 'username:password' }).resolve('-'), 'PROVIDER_BAD_RESPONSE');
  });

  it('json: username, password, domain, changedAt', async () => {
    const body = JSON.stringify({ username: 'alice', password: PW, domain: 'PAMTEST', changedAt: '2026-01-31T12:00:00Z' });
    const cred = await fromStdin({ stream: Readable.from([body]), format: 'json' }).resolve('-');
    expect(cred).toMatchObject({ username: 'alice', domain: 'PAMTEST', source: 'stdin (json)' });
    expect(cred.changedAt?.toISOString()).toBe('2026-01-31T12:00:00.000Z');
    expect(cred.secret.reveal()).toBe(PW);
  });

  it('json: broken JSON never quotes the input; a bad field is named, its value is not', async () => {
    const broken = `{"username":"alice","password":"${PW}",}`;
    const e1 = await fails(fromStdin({ stream: Readable.from([broken]), format: 'json' }).resolve('-'), 'PROVIDER_BAD_RESPONSE');
    expect(e1.message).toMatch(/not valid JSON/);
    expect(e1.cause).toBeUndefined();
    const e2 = await fails(fromStdin({ stream: Readable.from([JSON.stringify({ username: 'alice', password: PW, changedAt: 'yesterday', extra: PW })]), format: 'json' }).resolve('-'), 'PROVIDER_BAD_RESPONSE');
    expect(e2.message).toMatch(/changedAt/);
    expect(e2.message).toMatch(/"extra"/);
    expect(e2.details?.fields).toEqual(expect.arrayContaining(['changedAt']));
  });

  it('refuses input over maxBytes without reading on', async () => {
    const stream = new PassThrough();
    const p = fromStdin({ stream, maxBytes: 1024 });
    const r = fails(p.resolve('-'), 'PROVIDER_BAD_RESPONSE', ['x'.repeat(600)]);
    stream.write('x'.repeat(600));
    stream.write('x'.repeat(600));
    const e = await r;
    expect(e.details).toMatchObject({ maxBytes: 1024 });
  });

  it('empty input is not found; a terminal is refused at once', async () => {
    await fails(fromStdin({ stream: Readable.from(['\n']) }).resolve('-'), 'PROVIDER_NOT_FOUND');
    const tty = Object.assign(new PassThrough(), { isTTY: true });
    const t0 = Date.now();
    const e = await fails(fromStdin({ stream: tty }).resolve('-'), 'PROVIDER_NOT_FOUND');
    expect(e.message).toMatch(/terminal/);
    expect(Date.now() - t0).toBeLessThan(500);
  });

  it('abort stops the wait, not the read; a later resolve gets the credential', async () => {
    const stream = new PassThrough();
    const p = fromStdin({ stream });
    const ac = new AbortController();
    const r = p.resolve('-', { signal: ac.signal });
    ac.abort();
    await fails(r, 'ABORTED');
    await fails(p.resolve('-', { signal: AbortSignal.abort() }), 'ABORTED');
    stream.end(PW);
    expect((await p.resolve('-')).secret.reveal()).toBe(PW);
  });

  it('times out when nothing arrives', async () => {
    const t0 = Date.now();
    const e = await fails(fromStdin({ stream: new PassThrough(), timeoutMs: 100 }).resolve('-'), 'TIMEOUT');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(e.message).toMatch(/100 ms/);
  });

  it('a stream error is unavailable; dispose is idempotent and refuses later resolves (USAGE)', async () => {
    const stream = new PassThrough();
    const p = fromStdin({ stream });
    const r = fails(p.resolve('-'), 'PROVIDER_UNAVAILABLE');
    stream.destroy(Object.assign(new Error('EIO'), { code: 'EIO' }));
    await r;
    p.dispose?.();
    p.dispose?.();
    await p[Symbol.asyncDispose]?.();
    await fails(p.resolve('-'), 'USAGE');
  });

  it('invalid options fail at the factory, naming the field', () => {
    expect(() => fromStdin({ format: 'xml' as never })).toThrow(/format/);
    expect(() => fromStdin({ maxBytes: -1 })).toThrow(/maxBytes/);
    expect(() => fromStdin({ bogus: 1 } as never)).toThrow(/"bogus"/);
  });

  it('an unknown JSON field is named when it looks like a name, hidden when it may be a password pasted as a key', async () => {
    const e = await fails(fromStdin({ stream: Readable.from([Buffer.from(JSON.stringify({ username: 'u', password: 'p', pasword: 'x', [PW]: 1 }))]) }).resolve('-'), 'PROVIDER_BAD_RESPONSE');
    expect(e.message).toContain('unknown field(s) "pasword", 1 whose name is not shown');
  });
});

describe('a pipe that ended before the provider read it', () => {
  it('an empty pipe whose writer already exited is PROVIDER_NOT_FOUND at once, not a wait until the deadline', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn('printf', ['%s', ''], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise((r) => child.once('close', r));
    await new Promise((r) => setTimeout(r, 50));
    expect((child.stdout as { readableEnded?: boolean }).readableEnded, 'the pipe ended unread').toBe(true);
    const t0 = Date.now();
    await expect(fromStdin({ stream: child.stdout!, format: 'username:password' }).resolve('-')).rejects.toMatchObject({ code: 'PROVIDER_NOT_FOUND' });
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
