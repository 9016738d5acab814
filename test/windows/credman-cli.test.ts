// The live Credential Manager end to end through the CLI, as an admin runs it on Windows:
// credentials written with CredWriteW (domain password and generic, several TERMSRV/ spellings of
// one host, non-ASCII target and user), then cache list, inspect (stale: exit 6), purge (a dry run
// deletes nothing; --yes deletes exactly the plan, audits it, leaves the rest: checked by
// enumerating again) and a second purge of the same plan ("already gone").
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { windowsCredentialManager } from '../../src/cache/sources/credman.js';
import { inspectCache } from '../../src/cache/inspect.js';
import { planPurge, executePurge, type PurgePlan } from '../../src/cache/purge.js';
import { credWrite, credRead, credDelete, credList, type TestCredential } from './helpers/win32.js';
import { runCli } from './helpers/cli.js';

const win = process.platform === 'win32';
const id = `${process.pid}${randomBytes(3).toString('hex')}`;
const H = `web01-${id}.corp.example`;
const N = `srv-${id}-müller.corp.example`;
const K = `keep-${id}.corp.example`;
const pw = () => `Pw-${randomBytes(12).toString('base64url')}`;

// the host H under five spellings and two types; N: a non-ASCII host and user; K and G: must survive every purge of H
const CREDS: Record<string, TestCredential> = {
  A: { target: `TERMSRV/${H}`, type: 'domain-password', user: 'CORP\\alice', password: pw() },
  B: { target: `TERMSRV/WEB01-${id}.corp.example.`, type: 'domain-password', user: 'CORP\\alice', password: pw(), persist: 'session' },
  C: { target: `TERMSRV/web01-${id}`, type: 'domain-password', user: 'CORP\\björn', password: pw() },
  D: { target: `TERMSRV/${H}`, type: 'generic', user: 'CORP\\alice', password: pw() },
  E: { target: `TERMSRV/${H}:3390`, type: 'domain-password', user: 'CORP\\alice', password: pw() },
  N: { target: `TERMSRV/${N}`, type: 'domain-password', user: 'CORP\\jürgen.müller', password: pw() },
  K: { target: `TERMSRV/${K}`, type: 'domain-password', user: 'CORP\\alice', password: pw() },
  G: { target: `credgate-e2e-${id}`, type: 'generic', user: 'x', password: pw() },
};
const secrets = Object.values(CREDS).map((c) => c.password);
const raw = (c: TestCredential) => `${c.type === 'generic' ? 'LegacyGeneric' : 'Domain'}:target=${c.target}`;
const PURGED_H = ['A', 'B', 'C', 'D', 'E'];
const exists = (k: string) => credRead(CREDS[k]!.target, CREDS[k]!.type) !== undefined;
let changedAt: string;
let work: string;

beforeAll(() => {
  if (!win) return;
  for (const c of Object.values(CREDS)) credWrite(c);
  // the vault changed the password after every write: each entry above is stale
  changedAt = new Date(Date.now() + 2000).toISOString();
  // a Windows path with a drive letter, backslashes and spaces for the audit log
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'cg e2e '));
});
afterAll(() => {
  if (!win) return;
  for (const c of Object.values(CREDS)) credDelete(c.target, c.type);
  fs.rmSync(work, { recursive: true, force: true });
});

const account = ['--account', 'CORP\\alice', '--host', H];

describe.runIf(win)('credgate cache on the live Credential Manager (win32)', () => {
  it('cache list --json lists every credential written, with type, user, persistence and write time, never a password', async () => {
    const r = await runCli(['cache', 'list', '--json'], { secrets });
    expect(r.code, r.stderr).toBe(0);
    const mine = (r.json.entries as Array<Record<string, unknown>>).filter((e) => String(e.target).includes(id));
    expect(mine.map((e) => `${String(e.type)} ${String(e.rawTarget)} ${String(e.username)} ${String(e.persist)}`).sort()).toEqual(
      Object.values(CREDS).map((c) => `${c.type} ${raw(c)} ${c.user} ${c.persist ?? 'local-machine'}`).sort(),
    );
    for (const e of mine) {
      expect(e.source).toBe('credman');
      expect(e.machine).toBe(os.hostname());
      expect(Math.abs(Date.parse(String(e.lastWritten)) - Date.now())).toBeLessThan(5 * 60_000);
    }
    expect(mine.find((e) => e.rawTarget === raw(CREDS.B!))).toMatchObject({ target: `TERMSRV/WEB01-${id}.corp.example.`, normalizedHost: H });
    expect(mine.find((e) => e.rawTarget === raw(CREDS.N!))).toMatchObject({ normalizedHost: N, username: 'CORP\\jürgen.müller' });
  });

  it('cache list (human): one line per credential, non-ASCII targets and users as UTF-8', async () => {
    const r = await runCli(['cache', 'list'], { secrets });
    expect(r.code, r.stderr).toBe(0);
    // the live source names this machine on each line
    const line = r.stdout.split('\n').find((l) => l.includes(`TERMSRV/${N}`));
    expect(line).toMatch(new RegExp(`^${os.hostname()}  TERMSRV/${N} +domain-password +CORP\\\\jürgen\\.müller +\\d{4}-\\d\\d-\\d\\dT`));
    expect(r.stdoutBytes.includes(Buffer.from('jürgen.müller', 'utf8'))).toBe(true);
    expect(r.stdout).toMatch(/\d+ cached credential\(s\), 0 RDP server hint\(s\)/);
  });

  it('cache inspect: the stale entries of the host under every spelling and type, and the wrong user: STALE, exit 6', async () => {
    const r = await runCli(['cache', 'inspect', ...account, '--changed-at', changedAt, '--json'], { secrets });
    expect(r.code, r.stderr).toBe(6);
    expect(r.json).toMatchObject({ ok: false, exitCode: 6, considered: 5 });
    const purgeable = (r.json.findings as Array<{ code: string; evidence: { rawTarget?: string } }>)
      .filter((f) => f.code === 'cache.stale-password' || f.code === 'cache.wrong-user')
      .map((f) => `${f.code} ${f.evidence.rawTarget}`).sort();
    expect(purgeable).toEqual([
      ...['A', 'B', 'D', 'E'].map((k) => `cache.stale-password ${raw(CREDS[k]!)}`),
      `cache.wrong-user ${raw(CREDS.C!)}`,
    ].sort());
    const human = await runCli(['cache', 'inspect', ...account, '--changed-at', changedAt], { secrets });
    expect(human.code).toBe(6);
    expect(human.stdout).toMatch(/^STALE /);
    expect(human.stdout).toContain('5 RDP entries checked of');
  });

  it('cache inspect: a host whose entry was written after the change is CLEAN, exit 0', async () => {
    const r = await runCli(['cache', 'inspect', '--account', 'CORP\\alice', '--host', K, '--changed-at', new Date(Date.now() - 3_600_000).toISOString()], { secrets });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^CLEAN /);
    expect(r.stdout).toContain('1 RDP entry checked of');
  });

  let sdkPlan: PurgePlan;
  it('cache purge without --yes: the plan, exit 6, and nothing deleted', async () => {
    const r = await runCli(['cache', 'purge', ...account, '--changed-at', changedAt, '--json'], { secrets });
    expect(r.code, r.stderr).toBe(6);
    expect(r.json.dryRun).toBe(true);
    expect((r.json.plan.items as Array<{ rawTarget: string; type: string }>).map((i) => `${i.type} ${i.rawTarget}`).sort()).toEqual(PURGED_H.map((k) => `${CREDS[k]!.type} ${raw(CREDS[k]!)}`).sort());
    expect((r.json.commands as string[]).some((c) => c.endsWith(`\r\ncmdkey /delete:${raw(CREDS.A!)}`))).toBe(true);
    for (const k of Object.keys(CREDS)) expect(exists(k), `${k} was deleted by a dry run`).toBe(true);
    // the plan the CLI executes next, made here through the SDK for the second purge below
    const list = await windowsCredentialManager().list();
    sdkPlan = planPurge(inspectCache({ entries: list, account: 'CORP\\alice', host: H, changedAt: new Date(changedAt) }).findings, list);
    expect(sdkPlan.items.map((i) => i.rawTarget).sort()).toEqual((r.json.plan.items as Array<{ rawTarget: string }>).map((i) => i.rawTarget).sort());
  });

  it('cache purge --yes --audit "<drive>:\\...\\with spaces\\...": deletes exactly the plan, audits it before and after, leaves the rest', async () => {
    const audit = path.join(work, 'audit dir', 'purge audit.jsonl');
    fs.mkdirSync(path.dirname(audit));
    expect(audit).toMatch(/^[A-Za-z]:\\.* .*\\purge audit\.jsonl$/);
    const r = await runCli(['cache', 'purge', ...account, '--changed-at', changedAt, '--yes', '--audit', audit, '--json'], { secrets });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ dryRun: false, mode: 'delete', audit });
    expect((r.json.items as Array<{ rawTarget: string; result: string }>).map((i) => `${i.result} ${i.rawTarget}`).sort()).toEqual(PURGED_H.map((k) => `deleted ${raw(CREDS[k]!)}`).sort());
    // enumerated again: the planned entries are gone, every other one is still there
    for (const k of PURGED_H) expect(exists(k), `${k} survived the purge`).toBe(false);
    for (const k of ['N', 'K', 'G']) expect(exists(k), `${k} was deleted without being planned`).toBe(true);
    expect(credList(`TERMSRV/${H}`)).toEqual([]);
    const lines = fs.readFileSync(audit, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.phase)).toEqual(['planned', 'done']);
    expect(lines[0]).toMatchObject({ machine: os.hostname(), by: os.userInfo().username, mode: 'delete' });
    expect(lines[0].items.map((i: { rawTarget: string; result?: string }) => i.result)).toEqual(PURGED_H.map(() => undefined));
    expect(lines[1].items.map((i: { rawTarget: string; result: string }) => `${i.result} ${i.rawTarget}`).sort()).toEqual(PURGED_H.map((k) => `deleted ${raw(CREDS[k]!)}`).sort());
    expect(fs.readFileSync(audit, 'utf8')).not.toMatch(new RegExp(secrets.join('|')));
  });

  it('a second purge: the CLI finds nothing left to purge (exit 0); the same plan again reports every entry "already gone"', async () => {
    const r = await runCli(['cache', 'purge', ...account, '--changed-at', changedAt, '--yes', '--audit', path.join(work, 'second.jsonl'), '--json'], { secrets });
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.items).toEqual([]);
    const audit = path.join(work, 'again.jsonl');
    const rec = await executePurge(sdkPlan, { yes: true, auditFile: audit, source: windowsCredentialManager() });
    expect(rec.items.map((i) => i.result)).toEqual(sdkPlan.items.map(() => 'already-gone'));
    const done = fs.readFileSync(audit, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l)).at(-1);
    expect(done.items.map((i: { result: string }) => i.result)).toEqual(sdkPlan.items.map(() => 'already-gone'));
    for (const k of ['N', 'K', 'G']) expect(exists(k)).toBe(true);
  });

  it('a non-ASCII host and user through argv: inspected and purged (human output in UTF-8)', async () => {
    const args = ['--account', 'CORP\\jürgen.müller', '--host', N, '--changed-at', changedAt];
    const dry = await runCli(['cache', 'purge', ...args], { secrets });
    expect(dry.code, dry.stderr).toBe(6);
    expect(dry.stdout).toContain(`TERMSRV/${N} (CORP\\jürgen.müller) — cache.stale-password`);
    expect(exists('N')).toBe(true);
    const r = await runCli(['cache', 'purge', ...args, '--yes', '--audit', path.join(work, 'ü audit.jsonl')], { secrets });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`deleted: TERMSRV/${N} (CORP\\jürgen.müller)`);
    expect(exists('N')).toBe(false);
    expect(exists('K')).toBe(true);
    expect(fs.existsSync(path.join(work, 'ü audit.jsonl'))).toBe(true);
  });
});
