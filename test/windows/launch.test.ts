// launch's Windows path: the password goes to Credential Manager (CredWriteW, TERMSRV/<host>,
// session persistence) and mstsc.exe is started with the .rdp file alone. A stand-in for mstsc
// (a copy of node.exe named mstsc.exe, found first on the client's Path, with a preloaded script)
// records its argv, its raw command line, the .rdp file it was given, its environment and the
// credential it finds in the vault when it starts, then exits.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { planLaunch, materializeLaunchPlan, launch, buildRdpFile, encodeRdpFile } from '../../src/launch/launch.js';
import { Secret } from '../../src/core/secret.js';
import { CredgateError } from '../../src/core/errors.js';
import { credRead, credDelete, blobHashOf } from './helpers/win32.js';
import { runCli } from './helpers/cli.js';
import { selfSignedCert, fakeLdaps } from './helpers/fakes.js';
import { fakeNlaHost } from '../helpers/servers.js';
import { CC_NLA } from '../helpers/rdp-fakes.js';

const win = process.platform === 'win32';
const id = `${process.pid}${randomBytes(3).toString('hex')}`;
let stubDir: string;
let work: string;
const hosts: string[] = [];

// what the stand-in records (it runs as mstsc.exe, in its own process)
// preloaded through NODE_OPTIONS into every Node of the client's environment: it acts only as mstsc.exe
const STUB = String.raw`
if (require('node:path').basename(process.execPath).toLowerCase() === 'mstsc.exe') {
const fs = require('node:fs');
const crypto = require('node:crypto');
const koffi = require(process.env.CG_STUB_KOFFI);
const k32 = koffi.load('kernel32.dll');
const adv = koffi.load('advapi32.dll');
const GetCommandLineW = k32.func('str16 __stdcall GetCommandLineW()');
const FT = koffi.struct('S_FILETIME', { lo: 'uint32', hi: 'uint32' });
const CRED = koffi.struct('S_CREDENTIALW', { Flags: 'uint32', Type: 'uint32', TargetName: 'str16', Comment: 'str16', LastWritten: FT,
  CredentialBlobSize: 'uint32', CredentialBlob: 'void *', Persist: 'uint32', AttributeCount: 'uint32', Attributes: 'void *', TargetAlias: 'str16', UserName: 'str16' });
const CredReadW = adv.func('bool __stdcall CredReadW(str16 target, uint32 type, uint32 flags, _Out_ void **cred)');
const CredFree = adv.func('void __stdcall CredFree(void *p)');
const rdpFile = process.argv[1];
const rdp = fs.readFileSync(rdpFile);
const text = rdp.subarray(2).toString('utf16le');
const host = /^full address:s:(.*)$/m.exec(text)[1].replace(/\r$/, '').replace(/:\d+$/, '');
const out = [null];
let credential = null;
if (CredReadW('TERMSRV/' + host, 2, 0, out)) {
  const c = koffi.decode(out[0], CRED);
  const blob = Buffer.from(koffi.decode(c.CredentialBlob, 'uint8', c.CredentialBlobSize));
  credential = { user: c.UserName, persist: c.Persist, comment: c.Comment, blobSha256: crypto.createHash('sha256').update(blob).digest('hex') };
  blob.fill(0);
  CredFree(out[0]);
}
fs.writeFileSync(process.env.CG_STUB_RECORD, JSON.stringify({ argv: process.argv, commandLine: GetCommandLineW(), rdp: rdp.toString('base64'), env: process.env, credential }));
// ended with TerminateProcess, not process.exit: with its stdout and stderr on NUL (launch starts
// mstsc with stdio 'ignore'), a Node process that loaded koffi ends with 0xC0000409 at exit under
// Wine (koffi's exit-time flush of the standard handles; see README, Windows tier)
k32.func('bool __stdcall TerminateProcess(void *h, uint32 code)')(k32.func('void * __stdcall GetCurrentProcess()')(), 0);
}
`;

interface StubRecord {
  argv: string[];
  commandLine: string;
  rdp: string;
  env: { [k: string]: string };
  credential: { user: string; persist: number; comment: string; blobSha256: string } | null;
}

beforeAll(() => {
  if (!win) return;
  stubDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-mstsc-'));
  fs.copyFileSync(process.execPath, path.join(stubDir, 'mstsc.exe'));
  fs.writeFileSync(path.join(stubDir, 'record.cjs'), STUB);
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cg launch '));
});
afterAll(() => {
  if (!win) return;
  for (const h of hosts) credDelete(`TERMSRV/${h}`, 'domain-password');
  fs.rmSync(stubDir, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

/** The client's environment: this one, the stand-in first on Path, recording into `record`. */
function clientEnv(record: string, extra: { [k: string]: string } = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  let pathKey = 'Path';
  for (const [k, v] of Object.entries(process.env)) {
    if (k.toUpperCase() === 'PATH') pathKey = k;
    env[k] = v;
  }
  env[pathKey] = `${stubDir}${path.delimiter}${process.env[pathKey] ?? ''}`;
  // NODE_OPTIONS takes a double-quoted value; backslashes inside it are escapes, so forward slashes
  env.NODE_OPTIONS = `--require ${JSON.stringify(path.join(stubDir, 'record.cjs').replace(/\\/g, '/'))}`;
  env.CG_STUB_RECORD = record;
  env.CG_STUB_KOFFI = createRequire(import.meta.url).resolve('koffi');
  return { ...env, ...extra };
}

/**
 * What the stand-in (a node.exe named mstsc.exe) needs to record, passed on by name since none is
 * on the client's allow-list; NODE_SKIP_PLATFORM_CHECK lets Node for Windows start under Wine, and
 * is harmless on Windows.
 */
const STUB_ENV = ['NODE_OPTIONS', 'CG_STUB_RECORD', 'CG_STUB_KOFFI', 'NODE_SKIP_PLATFORM_CHECK'];

async function run(o: { host: string; password: string; username?: string; domain?: string; rdpFile?: string; clientArgs?: string[]; env?: { [k: string]: string } }) {
  hosts.push(o.host);
  const record = path.join(work, `record-${o.host}.json`);
  const opts = {
    host: o.host, username: o.username ?? 'alice', domain: o.domain ?? 'CORP', password: new Secret(o.password), clientArgs: o.clientArgs ?? [],
    env: clientEnv(record, o.env), passEnv: STUB_ENV, ...(o.rdpFile ? { rdpFile: o.rdpFile } : {}),
  };
  const plan = materializeLaunchPlan(planLaunch(opts));
  const { child } = await launch(opts, plan);
  const [code] = (await Promise.race([once(child, 'close'), new Promise((_, rej) => setTimeout(() => rej(new Error('the stand-in for mstsc did not exit within 30 s')), 30_000))])) as [number];
  return { plan, code, rec: JSON.parse(fs.readFileSync(record, 'utf8')) as StubRecord };
}

describe.runIf(win)('credgate launch on Windows: Credential Manager, then mstsc (a stand-in)', () => {
  it('the plan: mstsc.exe with the .rdp file, the password through Credential Manager', () => {
    const p = planLaunch({ host: 'web01', username: 'alice' });
    expect(p).toMatchObject({ platform: 'win32', command: 'mstsc.exe', passwordVia: 'credential-manager', pendingTempDir: true });
    expect(p.args).toEqual([p.rdpFile]);
  });

  it('the credential\'s lifetime: written for the logon session (CRED_PERSIST_SESSION), it stays after the client exits; the private temp folder with the .rdp file goes', async () => {
    const host = `life-${id}.corp.example`;
    const password = `Life-${randomBytes(9).toString('base64url')}`;
    const { plan, rec } = await run({ host, password });
    expect(plan.tempDir).toBeTruthy();
    expect(path.dirname(plan.rdpFile)).toBe(plan.tempDir);
    expect(rec.argv[1]).toBe(plan.rdpFile);
    expect(fs.existsSync(plan.tempDir!), 'the private temp folder outlived the client').toBe(false);
    expect(credRead(`TERMSRV/${host}`, 'domain-password')).toMatchObject({ user: 'CORP\\alice', persist: 1, blobSha256: blobHashOf(password) });
  });

  it('mstsc gets the .rdp file on its command line and finds the password for TERMSRV/<host> in the vault; the password is nowhere on its command line or in its environment', async () => {
    const host = `web-${id}.corp.example`;
    const password = `Lnch-${randomBytes(9).toString('base64url')}-é`;
    const { plan, code, rec } = await run({
      host, password, clientArgs: ['/f'],
      env: { RDP_PASSWORD: password, SVC_PW: 'svc-Secret-123', VAULT_TOKEN: 'hvs.x', HARMLESS: 'not-on-the-list', systemroot: process.env.SYSTEMROOT ?? 'C:\\windows' },
    });
    expect(code).toBe(0);
    expect(plan.command).toBe('mstsc.exe');
    expect(path.basename(rec.argv[0]!).toLowerCase()).toBe('mstsc.exe');
    expect(rec.argv.slice(1)).toEqual([plan.rdpFile, '/f']);
    expect(rec.commandLine).toContain(plan.rdpFile);
    expect(rec.commandLine).not.toContain(password);
    expect(rec.argv.join(' ')).not.toContain(password);
    // the .rdp file: UTF-16LE with a BOM, as mstsc writes it; no password
    expect(Buffer.from(rec.rdp, 'base64')).toEqual(encodeRdpFile(buildRdpFile({ host, username: 'alice', domain: 'CORP' })));
    expect(Buffer.from(rec.rdp, 'base64').subarray(2).toString('utf16le')).toContain('username:s:CORP\\alice\r\n');
    // what mstsc reads: TERMSRV/<host>, a domain password for CORP\alice, the password as UTF-16LE
    expect(rec.credential).toEqual({ user: 'CORP\\alice', persist: 1, comment: 'written by credgate launch', blobSha256: blobHashOf(password) });
    // the environment: no variable holding the password, none the password came from, no credential-named one
    const env = Object.entries(rec.env);
    expect(env.filter(([, v]) => v === password)).toEqual([]);
    expect(env.map(([k]) => k.toUpperCase())).not.toContain('RDP_PASSWORD');
    expect(env.map(([k]) => k.toUpperCase())).not.toContain('SVC_PW');
    expect(env.map(([k]) => k.toUpperCase())).not.toContain('VAULT_TOKEN');
    // an allow-list, not a deny-list: a variable not on it stays out; one on it gets in under any spelling (Windows names ignore case)
    expect(env.map(([k]) => k.toUpperCase())).not.toContain('HARMLESS');
    expect(env.map(([k]) => k.toUpperCase())).toContain('SYSTEMROOT');
  });

  it('--rdp-file "<drive>:\\...\\with spaces\\x.rdp": one argument for mstsc, and the file is left where it was asked for', async () => {
    const host = `spaces-${id}.corp.example`;
    const rdpFile = path.join(work, 'my sessions', `web ${id}.rdp`);
    fs.mkdirSync(path.dirname(rdpFile));
    expect(rdpFile).toMatch(/^[A-Za-z]:\\.* .*\.rdp$/);
    const { plan, rec } = await run({ host, password: `Sp-${randomBytes(9).toString('base64url')}`, rdpFile });
    expect(plan.tempDir).toBeUndefined();
    expect(rec.argv.slice(1)).toEqual([rdpFile]);
    expect(rec.commandLine).toContain(`"${rdpFile}"`);
    expect(fs.existsSync(rdpFile)).toBe(true);
  });

  it('a UPN with a domain given: the credential is for the UPN, the user the .rdp file names (not DOMAIN\\user@domain)', async () => {
    const host = `upn-${id}.corp.example`;
    const password = `Upn-${randomBytes(9).toString('base64url')}`;
    const { rec } = await run({ host, password, username: 'alice@corp.example', domain: 'CORP' });
    expect(Buffer.from(rec.rdp, 'base64').subarray(2).toString('utf16le')).toContain('username:s:alice@corp.example\r\n');
    expect(rec.credential).toMatchObject({ user: 'alice@corp.example', blobSha256: blobHashOf(password) });
  });

  it('no mstsc.exe on the Path: CONFIG_INVALID naming mstsc, never the password', async () => {
    const host = `none-${id}.corp.example`;
    hosts.push(host);
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-nopath-'));
    const password = `None-${randomBytes(9).toString('base64url')}`;
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const k of Object.keys(env)) if (k.toUpperCase() === 'PATH') delete env[k];
    env.Path = empty;
    const opts = { host, username: 'alice', domain: 'CORP', password: new Secret(password), env };
    const e = await launch(opts, materializeLaunchPlan(planLaunch(opts))).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(CredgateError);
    expect((e as CredgateError).code).toBe('CONFIG_INVALID');
    expect((e as Error).message).toMatch(/^Could not start mstsc\.exe \(ENOENT\); check that the Remote Desktop client \(mstsc\.exe\) is installed/);
    expect((e as Error).message).not.toContain(password);
    fs.rmSync(empty, { recursive: true, force: true });
  });
});

describe.runIf(win)('credgate launch (the CLI) on Windows: doctor passes, then the credential and mstsc', () => {
  it('--dry-run writes nothing; a real launch stores TERMSRV/<host> for the account, starts mstsc with --rdp-file alone, and exits 0 when it ends', async () => {
    // the RDP host: an address of the loopback network no one else uses, so TERMSRV/<it> is this test's own
    const b = randomBytes(3);
    const ip = `127.${1 + (b[0]! % 250)}.${b[1]!}.${1 + (b[2]! % 250)}`;
    const pki = selfSignedCert(['127.0.0.1', ip]);
    const ca = path.join(work, 'tier ca.pem');
    fs.writeFileSync(ca, pki.cert);
    const ldap = await fakeLdaps(pki);
    const rdp = await fakeNlaHost({ host: ip, ...pki, confirm: CC_NLA });
    hosts.push(ip);
    try {
      const password = `Cli-${randomBytes(9).toString('base64url')}`;
      const record = path.join(work, 'record-cli.json');
      const rdpFile = path.join(work, 'cli session', 'web01 via cli.rdp');
      fs.mkdirSync(path.dirname(rdpFile));
      // the variable named as typed, another case than the environment's: Windows reads it either way
      const args = ['launch', `${ip}:${rdp.port}`, '--account', 'CORP\\alice', '--password-env', 'cg_rdp_pw', '--ldap', `ldaps://127.0.0.1:${ldap.port}`, '--ca-file', ca, '--rdp-ca-file', ca, '--no-nla', '--rdp-file', rdpFile, ...STUB_ENV.flatMap((n) => ['--client-env', n])];
      const env = clientEnv(record, { CG_RDP_PW: password }) as { [k: string]: string };
      const dry = await runCli([...args, '--dry-run', '--json'], { env, secrets: [password] });
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.json).toMatchObject({ ok: true, verdict: 'ldap.ok', command: 'mstsc.exe', args: [rdpFile], passwordVia: 'credential-manager', rdpFile });
      expect(credRead(`TERMSRV/${ip}`, 'domain-password'), 'a dry run stored the password').toBeUndefined();
      expect(fs.existsSync(rdpFile), 'a dry run wrote the .rdp file').toBe(false);
      expect(fs.existsSync(record), 'a dry run started the client').toBe(false);

      // --json on a real launch: one JSON line per event (started, then ended); mstsc reports no
      // outcome credgate can read, so the session is launch.unobserved (exit 0), never "established"
      const r = await runCli([...args, '--json'], { env, secrets: [password], jsonLines: true });
      expect(r.code, r.stderr).toBe(0);
      const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(events.map((e) => e.event)).toEqual(['started', 'ended']);
      expect(events[0]).toMatchObject({ ok: true, launched: 'mstsc.exe', rdpFile, code: 'launch.unobserved', observed: false });
      const rec = JSON.parse(fs.readFileSync(record, 'utf8')) as StubRecord;
      expect(rec.argv.slice(1)).toEqual([rdpFile]);
      expect(rec.commandLine).not.toContain(password);
      expect(Buffer.from(rec.rdp, 'base64').subarray(2).toString('utf16le')).toContain(`full address:s:${ip}:${rdp.port}\r\nusername:s:CORP\\alice\r\n`);
      expect(rec.credential).toMatchObject({ user: 'CORP\\alice', persist: 1, blobSha256: blobHashOf(password) });
      expect(Object.keys(rec.env).map((k) => k.toUpperCase())).not.toContain('CG_RDP_PW');
      expect(Object.values(rec.env)).not.toContain(password);
      expect(ldap.binds).toBe(2); // one bind per preflight: the dry run's and the launch's
      expect(rdp.credsspRequests).toBe(0); // --no-nla
    } finally {
      await ldap.close();
      await rdp.close();
    }
  });
});
