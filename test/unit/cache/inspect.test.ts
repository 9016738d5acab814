import { describe, it, expect } from 'vitest';
import { inspectCache, sameAccount } from '../../../src/cache/inspect.js';
import { planPurge, hasPurgeItems, cmdkeyCommands, powershellScript, executePurge, cmdkeyTarget, credTargetName } from '../../../src/cache/purge.js';
import { hostField, type CachedCredential } from '../../../src/cache/types.js';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { finding } from '../../../src/findings/finding.js';
import { prng } from '../../helpers/prng.js';

const e = (target: string, username: string, lastWritten?: string, machine?: string): CachedCredential => ({
  target: `TERMSRV/${target}`, rawTarget: `Domain:target=TERMSRV/${target}`, type: 'domain-password', username,
  ...(lastWritten ? { lastWritten: new Date(lastWritten) } : {}), source: 'test', ...(machine ? { machine } : {}),
});
const codes = (r: { findings: { code: string }[] }) => r.findings.map((f) => f.code);

describe('rules', () => {
  const changed = new Date('2026-11-10T00:00:00Z');

  it('stale-password: written before the change (pwdLastSet or the vault\'s changedAt, whichever is later)', () => {
    const entries = [e('web01.pamtest.local', 'PAMTEST\\alice', '2026-11-01T00:00:00Z'), e('web02', 'alice@pamtest.local', '2026-11-12T00:00:00Z')];
    const r = inspectCache({ entries, account: 'alice@pamtest.local', pwdLastSet: changed });
    expect(codes(r)).toEqual(['cache.stale-password']);
    // evidence is JSON values: times are ISO strings already, as the LDAP validators' are
    expect(r.findings[0]!.evidence).toMatchObject({ target: 'TERMSRV/web01.pamtest.local', lastWritten: '2026-11-01T00:00:00.000Z', passwordChangedAt: '2026-11-10T00:00:00.000Z', pwdLastSet: '2026-11-10T00:00:00.000Z', changeSource: 'the directory (pwdLastSet)' });
    expect(JSON.parse(JSON.stringify(r.findings[0]!.evidence))).toEqual(r.findings[0]!.evidence);
    expect(r.findings[0]!.remediation[0]!.action).toContain('credgate cache purge --yes');
    const r2 = inspectCache({ entries, account: 'alice', pwdLastSet: changed, changedAt: new Date('2026-11-15T00:00:00Z') });
    expect(codes(r2)).toEqual(['cache.stale-password', 'cache.stale-password']);
    expect(r2.findings[0]!.evidence).toMatchObject({ changeSource: 'the vault (last rotation)', passwordChangedAt: '2026-11-15T00:00:00.000Z', pwdLastSet: '2026-11-10T00:00:00.000Z', vaultChangedAt: '2026-11-15T00:00:00.000Z' });
  });

  it('wrong-user, and the host filter with FQDN / short name / alias', () => {
    const entries = [e('web01', 'PAMTEST\\olduser'), e('web01.pamtest.local', 'PAMTEST\\alice'), e('10.0.0.5', 'PAMTEST\\bob'), e('db02', 'PAMTEST\\svc')];
    const r = inspectCache({ entries, account: 'alice@pamtest.local', host: 'WEB01.pamtest.local.', hostAliases: ['10.0.0.5'] });
    expect(codes(r)).toEqual(['cache.wrong-user', 'cache.wrong-user', 'cache.conflicting-entries']);
    expect(r.considered).toBe(3);
    expect(r.stale.map((x) => x.target)).toEqual(['TERMSRV/web01', 'TERMSRV/10.0.0.5']);
  });

  it('conflicting entries: same host under several names with different times', () => {
    const entries = [e('web01', 'PAMTEST\\alice', '2026-11-01T00:00:00Z', 'WS1'), e('web01.pamtest.local', 'PAMTEST\\alice', '2026-11-18T00:00:00Z', 'WS1'), e('web01', 'PAMTEST\\alice', '2026-11-01T00:00:00Z', 'WS2')];
    const r = inspectCache({ entries, account: 'alice' });
    expect(codes(r)).toEqual(['cache.conflicting-entries']);
    expect(r.findings[0]!.message).toMatch(/^WS1: /);
  });

  it('username hint, cert change, orphan, clean', () => {
    const hints = [{ server: 'web01.pamtest.local', usernameHint: 'PAMTEST\\olduser', certHash: 'AA', source: 't' }];
    const r = inspectCache({ entries: [e('old-jump', 'PAMTEST\\alice')], hints, account: 'alice', presentedThumbprints: ['BB'], inventory: ['web01.pamtest.local'] });
    expect(codes(r).sort()).toEqual(['cache.cert-changed', 'cache.orphan', 'cache.username-hint-mismatch']);
    expect(codes(inspectCache({ entries: [e('web01', 'PAMTEST\\alice', '2026-11-20T00:00:00Z')], account: 'alice', pwdLastSet: changed }))).toEqual(['cache.clean']);
  });

  it('account comparison across forms', () => {
    expect(sameAccount('PAMTEST\\Alice', 'alice@pamtest.local')).toBe(true);
    expect(sameAccount('alice', 'OTHER\\alice')).toBe(true);
    expect(sameAccount('CORP\\alice', 'alice@pamtest.local')).toBe(false);
    expect(sameAccount('bob', 'alice')).toBe(false);
  });
});

describe('invalid dates from an SDK caller', () => {
  it('an entry with an invalid lastWritten is reported without one (never a RangeError), and an invalid pwdLastSet is not used', () => {
    const bad: CachedCredential = { ...e('web01', 'PAMTEST\\olduser', undefined, 'WS1'), lastWritten: new Date('garbage') };
    const r = inspectCache({ entries: [bad], account: 'alice', host: 'web01', inventory: ['db02'], pwdLastSet: new Date('also garbage') });
    expect(codes(r)).toEqual(['cache.orphan', 'cache.wrong-user']);
    for (const f of r.findings) expect(f.evidence).not.toHaveProperty('lastWritten');
    expect(r.findings[1]!.evidence).not.toHaveProperty('pwdLastSet');
    const plan = planPurge(r.findings, [bad]);
    expect(plan.items).toHaveLength(1);
    expect(plan.items[0]).not.toHaveProperty('lastWritten');
  });
});

describe('wrong-user needs the host the account is for', () => {
  const entries = [e('web01.pamtest.local', 'PAMTEST\\olduser', '2026-11-20T00:00:00Z', 'WS1'), e('db02.pamtest.local', 'PAMTEST\\bob', '2026-11-01T00:00:00Z', 'WS1'), e('web01.pamtest.local', 'PAMTEST\\alice', '2026-11-01T00:00:00Z', 'WS2')];

  it('without --host: no wrong-user for any host, and another user\'s entry is not stale by this account\'s change', () => {
    const r = inspectCache({ entries, account: 'alice@pamtest.local', pwdLastSet: new Date('2026-11-10T00:00:00Z') });
    expect(r.findings.map((f) => [f.code, f.evidence.machine, f.evidence.username])).toEqual([['cache.stale-password', 'WS2', 'PAMTEST\\alice']]);
    expect(planPurge(r.findings, entries).items.map((i) => [i.machine, i.username])).toEqual([['WS2', 'PAMTEST\\alice']]);
  });

  it('with --host: wrong-user for that host only; db02\'s entry for bob is never planned', () => {
    const r = inspectCache({ entries, account: 'alice@pamtest.local', host: 'web01', pwdLastSet: new Date('2026-11-10T00:00:00Z') });
    expect(codes(r)).toEqual(['cache.wrong-user', 'cache.stale-password']);
    const plan = planPurge(r.findings, entries);
    expect(plan.items.map((i) => [i.machine, i.target, i.username])).toEqual([['WS1', 'TERMSRV/web01.pamtest.local', 'PAMTEST\\olduser'], ['WS2', 'TERMSRV/web01.pamtest.local', 'PAMTEST\\alice']]);
    expect(plan.items.some((i) => i.target.includes('db02'))).toBe(false);
  });
});

describe('unknown age: a change time is known, the entry\'s write time is not', () => {
  const cmdkeyEntry = (host: string, user: string): CachedCredential => ({ target: `TERMSRV/${host}`, rawTarget: `Domain:target=TERMSRV/${host}`, type: 'domain-password', username: user, source: 'cmdkey:ws.txt' });
  const changedAt = new Date('2026-11-10T00:00:00Z');

  it('is reported (info, with the collector as the fix), never called clean, and not planned for purge', () => {
    const entries = [cmdkeyEntry('web01', 'PAMTEST\\alice'), e('web02', 'PAMTEST\\alice', '2026-11-20T00:00:00Z')];
    const r = inspectCache({ entries, account: 'alice', changedAt });
    expect(r.findings.map((f) => [f.code, f.severity, f.evidence.target])).toEqual([['cache.unknown-age', 'info', 'TERMSRV/web01']]);
    expect(r.unknownAge).toBe(1);
    expect(r.findings[0]!.message).toContain('cmdkey /list shows no write time');
    expect(r.findings[0]!.remediation.map((x) => x.action).join(' ')).toMatch(/credgate cache collector.*LastWritten[\s\S]*cmdkey \/delete/);
    expect(planPurge(r.findings, entries).items).toEqual([]);
  });

  it('clean only when every entry was judged; without a change time nothing is judged by age and clean says so', () => {
    expect(codes(inspectCache({ entries: [e('web02', 'PAMTEST\\alice', '2026-11-20T00:00:00Z')], account: 'alice', changedAt }))).toEqual(['cache.clean']);
    const noTime = inspectCache({ entries: [cmdkeyEntry('web01', 'PAMTEST\\alice')], account: 'alice' });
    expect(codes(noTime)).toEqual(['cache.clean']);
    expect(noTime.findings[0]!.evidence.note).toMatch(/no password change time known/);
    // another user's entry (no --host) is not the account's: judged, not unknown
    expect(codes(inspectCache({ entries: [cmdkeyEntry('web01', 'PAMTEST\\bob')], account: 'alice', changedAt }))).toEqual(['cache.clean']);
  });
});

describe('conflicting entries use the host equivalence of sameHost', () => {
  const t1 = '2026-11-01T00:00:00Z';
  const t2 = '2026-11-18T00:00:00Z';
  const conflicts = (r: ReturnType<typeof inspectCache>) => r.findings.filter((f) => f.code === 'cache.conflicting-entries').map((f) => (f.evidence.targets as Array<{ target: string }>).map((x) => x.target).sort());

  it('web01.a.example and web01.b.example are different hosts; a bare web01 conflicts with each', () => {
    expect(conflicts(inspectCache({ entries: [e('web01.a.example', 'A\\alice', t1, 'WS1'), e('web01.b.example', 'B\\bob', t2, 'WS1')] }))).toEqual([]);
    expect(conflicts(inspectCache({ entries: [e('web01.a.example', 'A\\alice', t1, 'WS1'), e('web01.b.example', 'B\\bob', t2, 'WS1'), e('web01', 'A\\carol', t2, 'WS1')] }))).toEqual([
      ['TERMSRV/web01', 'TERMSRV/web01.a.example'],
      ['TERMSRV/web01', 'TERMSRV/web01.b.example'],
    ]);
  });

  it('case, trailing dot and IPv6 spellings of one host conflict; an IP and a name only through --alias', () => {
    expect(conflicts(inspectCache({ entries: [e('WEB01.a.example.', 'A\\alice', t1), e('web01.a.example', 'A\\alice', t2)] }))).toEqual([['TERMSRV/WEB01.a.example.', 'TERMSRV/web01.a.example']]);
    expect(conflicts(inspectCache({ entries: [e('[2001:db8:0:0::15]', 'A\\alice', t1), e('2001:db8::15', 'A\\bob', t1)] }))).toHaveLength(1);
    const ipAndName = [e('10.0.0.5', 'A\\alice', t1), e('web01.a.example', 'A\\alice', t2)];
    expect(conflicts(inspectCache({ entries: ipAndName }))).toEqual([]);
    expect(conflicts(inspectCache({ entries: ipAndName, host: 'web01.a.example', hostAliases: ['10.0.0.5'] }))).toEqual([['TERMSRV/10.0.0.5', 'TERMSRV/web01.a.example']]);
  });

  it('the readers\' normalizedHost groups exactly as the host key of an entry without it (SDK callers)', () => {
    const spellings = ['web01', 'web01.a.example', 'WEB01.a.example.', 'web01.b.example', '10.0.0.5', '010.0.0.5', '[2001:db8:0:0::15]', '2001:db8::15', '[::ffff:10.0.0.5]:3389', 'x.y', 'x', '1.example', '1'];
    const rnd = prng(7);
    const entries = Array.from({ length: 300 }, (_, k) => e(rnd.pick(spellings), k % 2 ? 'A\\alice' : 'B\\bob', k % 3 ? t1 : t2, `WS${k % 4}`));
    const withHost = entries.map((x) => ({ ...x, ...hostField(x.target) }));
    expect(withHost.filter((x) => x.normalizedHost).length).toBe(300);
    const a = inspectCache({ entries }).findings;
    expect(a.filter((f) => f.code === 'cache.conflicting-entries').length).toBeGreaterThan(4);
    expect(inspectCache({ entries: withHost }).findings).toEqual(a);
  });

  it('a conflict is a warning: not planned for purge (exit 6 and the plan agree)', () => {
    const entries = [e('web01', 'A\\alice', t1), e('web01.a.example', 'A\\alice', t2)];
    const r = inspectCache({ entries, account: 'alice', host: 'web01.a.example', changedAt: new Date('2026-10-01T00:00:00Z') });
    expect(codes(r)).toEqual(['cache.conflicting-entries']);
    expect(r.findings[0]!.severity).toBe('warning');
    expect(planPurge(r.findings, entries).items).toEqual([]);
  });
});

describe('purge', () => {
  const entries = [
    { ...e('web01', 'PAMTEST\\alice', '2026-11-01T00:00:00Z', 'WS1'), windowsUser: 'PAMTEST\\helpdesk1' },
    e('web01 x&y', 'PAMTEST\\alice', '2026-11-02T00:00:00Z', 'WS2'),
    e('db02', 'PAMTEST\\alice', '2026-11-20T00:00:00Z', 'WS1'),
    { ...e('app', 'PAMTEST\\alice', '2026-11-03T00:00:00Z', 'WS1'), target: 'TERMSRV/app', rawTarget: 'LegacyGeneric:target=TERMSRV/app', type: 'generic' },
  ];
  const r = inspectCache({ entries, account: 'alice', pwdLastSet: new Date('2026-11-10T00:00:00Z') });
  const plan = planPurge(r.findings, entries);

  it('plans exactly the flagged entries, once, with their type, user and write time', () => {
    expect(plan.items.map((i) => [i.machine, i.windowsUser, i.target, i.type, i.username, i.lastWritten, i.rule])).toEqual([
      ['WS1', 'PAMTEST\\helpdesk1', 'TERMSRV/web01', 'domain-password', 'PAMTEST\\alice', '2026-11-01T00:00:00.000Z', 'cache.stale-password'],
      ['WS1', undefined, 'TERMSRV/app', 'generic', 'PAMTEST\\alice', '2026-11-03T00:00:00.000Z', 'cache.stale-password'],
      ['WS2', undefined, 'TERMSRV/web01 x&y', 'domain-password', 'PAMTEST\\alice', '2026-11-02T00:00:00.000Z', 'cache.stale-password'],
    ]);
  });

  it('cmdkey commands keep the type (Domain: / LegacyGeneric:) and quote what cmd.exe would split', () => {
    expect(cmdkeyCommands(plan)).toEqual([
      'REM WS1 (PAMTEST\\helpdesk1): cache.stale-password\r\ncmdkey /delete:Domain:target=TERMSRV/web01',
      'REM WS1: cache.stale-password\r\ncmdkey /delete:LegacyGeneric:target=TERMSRV/app',
      'REM WS2: cache.stale-password\r\ncmdkey /delete:"Domain:target=TERMSRV/web01 x&y"',
    ]);
    expect(cmdkeyTarget({ type: 'unknown', rawTarget: 'TERMSRV/x' })).toBeUndefined();
    expect(cmdkeyTarget({ type: 'hasło-domeny', rawTarget: 'Domain:target=TERMSRV/x' })).toBe('Domain:target=TERMSRV/x');
    expect(credTargetName('LegacyGeneric:target=git:https://x')).toBe('git:https://x');
  });

  it('the PowerShell script is keyed by machine, Windows user and type, and deletes only an unchanged entry', () => {
    const ps = powershellScript(plan);
    expect(ps).toContain("'WS1' = @('TERMSRV/web01', 'TERMSRV/app')");
    expect(ps).toContain(`@{ Machine = 'WS1'; WindowsUser = 'PAMTEST\\helpdesk1'; Target = 'TERMSRV/web01'; Type = 2; UserName = 'PAMTEST\\alice'; LastWrittenMs = ${Date.parse('2026-11-01T00:00:00Z')} }`);
    expect(ps).toContain(`@{ Machine = 'WS1'; WindowsUser = ''; Target = 'TERMSRV/app'; Type = 1; UserName = 'PAMTEST\\alice'; LastWrittenMs = ${Date.parse('2026-11-03T00:00:00Z')} }`);
    // re-read through CredEnumerateW, compare type, user and LastWritten, delete through CredDeleteW with the type
    for (const s of ['CredEnumerateW', 'CredDeleteW(target, type, 0)', '$p.WindowsUser -ne $me', '$x.Type -eq $p.Type', '[string]$c.UserName -ne $p.UserName', '$c.LastWrittenMs -ne $p.LastWrittenMs', 'left alone (rewritten since the plan)', 'already gone']) expect(ps).toContain(s);
    expect(ps).not.toContain('db02');
    expect(ps).not.toMatch(/cmdkey \/delete/);
    expect(ps).not.toContain('CredentialBlob)'); // declared, never read
  });

  it('refuses without yes; with yes writes the audit record first and removes only planned entries', async () => {
    const audit = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cg-audit-')), 'audit.jsonl');
    await expect(executePurge(plan, { yes: false, auditFile: audit })).rejects.toThrow(/explicit yes/);
    expect(fs.existsSync(audit)).toBe(false);
    const store = new Set(entries.map((x) => x.rawTarget));
    const removed: string[] = [];
    const source = {
      name: 'fake-store',
      list: async () => [],
      remove: async (t: string) => {
        expect(fs.readFileSync(audit, 'utf8')).toContain('"phase":"planned"');
        removed.push(t);
        return store.delete(t);
      },
    };
    const rec = await executePurge(plan, { yes: true, auditFile: audit, source });
    expect(rec.items.map((i) => i.result)).toEqual(['deleted', 'deleted', 'deleted']);
    expect(removed).toEqual(['Domain:target=TERMSRV/web01', 'LegacyGeneric:target=TERMSRV/app', 'Domain:target=TERMSRV/web01 x&y']);
    expect(store.has('Domain:target=TERMSRV/db02')).toBe(true);
    const again = await executePurge(plan, { yes: true, auditFile: audit, source });
    expect(again.items.map((i) => i.result)).toEqual(['already-gone', 'already-gone', 'already-gone']);
    const lines = fs.readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.phase)).toEqual(['planned', 'done', 'planned', 'done']);
    expect(lines[0]).toMatchObject({ machine: os.hostname(), by: expect.any(String), mode: 'delete' });
  });

  it('sources by name: an item whose source can delete it is deleted, the rest is left to the emitted script', async () => {
    const audit = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cg-audit-')), 'audit.jsonl');
    const mixed = { ...plan, items: [{ ...plan.items[0]!, source: 'keychain', rawTarget: 'keychain:s:a' }, plan.items[1]!] };
    const removed: string[] = [];
    const rec = await executePurge(mixed, { yes: true, auditFile: audit, sources: [{ name: 'keychain', list: async () => [], remove: async (t: string) => (removed.push(t), true) }] });
    expect(rec.mode).toBe('mixed');
    expect(rec.items.map((i) => i.result)).toEqual(['deleted', 'emitted']);
    expect(removed).toEqual(['keychain:s:a']);
    expect(cmdkeyCommands(mixed)).toHaveLength(1); // the keychain item is not a Credential Manager entry
  });
});

describe('the audit record stays whole JSON Lines when it cannot be written', () => {
  const item = (i: number) => ({ target: `TERMSRV/h${i}`, rawTarget: `Domain:target=TERMSRV/h${i}`, type: 'domain-password', source: 'collector:x', rule: 'cache.stale-password', reason: 'r'.repeat(200), evidence: { n: i } });

  it('a record that cannot be serialised: nothing written, nothing deleted, the earlier lines intact', async () => {
    const audit = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cg-audit-')), 'audit.jsonl');
    fs.writeFileSync(audit, '{"earlier":true}\n');
    let removed = 0;
    const source = { name: 's', list: async () => [], remove: async () => (removed++, true) };
    const bad = { createdAt: 'x', items: [item(1), { ...item(2), evidence: { big: 1n } }] };
    await expect(executePurge(bad, { yes: true, auditFile: audit, source })).rejects.toThrow(/Cannot write the audit record .*nothing was deleted/);
    expect(removed).toBe(0);
    expect(fs.readFileSync(audit, 'utf8')).toBe('{"earlier":true}\n');
  });

  it('a write that fails part way (the file size limit: EFBIG) is cut back off, in a child under ulimit -f', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-audit-'));
    const audit = path.join(dir, 'audit.jsonl');
    fs.writeFileSync(audit, '{"earlier":true}\n');
    const purge = path.join(import.meta.dirname, '..', '..', '..', 'dist', 'cache', 'index.js');
    const script = `process.on('SIGXFSZ', () => {});
      const m = await import(${JSON.stringify(purge)});
      const items = Array.from({ length: 2000 }, (_, i) => (${item.toString()})(i));
      try { await m.executePurge({ createdAt: 'x', items }, { yes: true, auditFile: ${JSON.stringify(audit)} }); console.log('written'); }
      catch (e) { console.log(e.code + ' ' + (e.cause && e.cause.code)); }`;
    const scriptFile = path.join(dir, 'child.mjs');
    fs.writeFileSync(scriptFile, script);
    // 16 KiB limit: the record (~500 KB) fails after its first chunks
    const out = execFileSync('bash', ['-c', 'ulimit -f 16 && exec "$0" "$1"', process.execPath, scriptFile], { timeout: 30_000 }).toString().trim();
    expect(out).toBe('CONFIG_INVALID EFBIG');
    expect(fs.readFileSync(audit, 'utf8')).toBe('{"earlier":true}\n');
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('hasPurgeItems (inspect\'s exit code without building the plan)', () => {
  it('agrees with planPurge on random fleets', () => {
    const r = prng(5);
    const users = ['PAMTEST\\alice', 'PAMTEST\\olduser', 'alice@pamtest.local'];
    let both = { yes: 0, no: 0 };
    for (let i = 0; i < 300; i++) {
      const entries = Array.from({ length: r.int(12) }, () => e(r.pick(['web01', 'web01.pamtest.local', 'db02', '10.0.0.5']), r.pick(users), r.next() < 0.8 ? `2026-11-${String(1 + r.int(28)).padStart(2, '0')}T00:00:00Z` : undefined, r.pick(['WS1', 'WS2'])));
      const result = inspectCache({ entries, account: 'alice', ...(r.next() < 0.5 ? { host: 'web01' } : {}), ...(r.next() < 0.7 ? { changedAt: new Date('2026-11-15T00:00:00Z') } : {}) });
      const found = result.findings;
      const want = planPurge(found, entries).items.length > 0;
      expect(hasPurgeItems(found, entries)).toBe(want);
      expect(result.stale.length > 0).toBe(want); // what the CLI's inspect uses
      both = want ? { ...both, yes: both.yes + 1 } : { ...both, no: both.no + 1 };
    }
    expect(both.yes).toBeGreaterThan(30);
    expect(both.no).toBeGreaterThan(30);
  });

  it('findings whose evidence names no entry: false; a match after misses, or after many: true', () => {
    const entries = [e('web01', 'PAMTEST\\alice', '2026-11-01T00:00:00Z', 'WS1')];
    const ghost = (n: number) => finding('cache', 'cache.stale-password', 'error', 'x', { source: 'test', machine: 'WS9', rawTarget: `Domain:target=TERMSRV/ghost${n}` });
    const real = finding('cache', 'cache.wrong-user', 'error', 'x', { source: 'test', machine: 'WS1', rawTarget: 'Domain:target=TERMSRV/web01' });
    const other = finding('cache', 'cache.orphan', 'info', 'x', { source: 'test', machine: 'WS1', rawTarget: 'Domain:target=TERMSRV/web01' });
    expect(hasPurgeItems([ghost(1), ghost(2), other], entries)).toBe(false);
    expect(hasPurgeItems([ghost(1), real], entries)).toBe(true);
    const many = Array.from({ length: 20 }, (_, k) => ghost(k));
    expect(hasPurgeItems(many, entries)).toBe(false);
    expect(hasPurgeItems([...many, real], entries)).toBe(true); // past the direct look-ups, the plan decides
    expect(planPurge([...many, real], entries).items).toHaveLength(1);
  });
});
