import { describe, it, expect } from 'vitest';
import { inspectCache, sameAccount } from '../../src/cache/staleness.js';
import { planPurge, cmdkeyCommands, powershellScript, executePurge } from '../../src/cache/purge.js';
import type { CachedCredential } from '../../src/cache/types.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

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
    expect(JSON.parse(JSON.stringify(r.findings[0]!.evidence))).toMatchObject({ target: 'TERMSRV/web01.pamtest.local', lastWritten: '2026-11-01T00:00:00.000Z', passwordChangedAt: '2026-11-10T00:00:00.000Z', changeSource: 'the directory (pwdLastSet)' });
    expect(r.findings[0]!.remediation[0]!.action).toContain('credgate cache purge --yes');
    const r2 = inspectCache({ entries, account: 'alice', pwdLastSet: changed, changedAt: new Date('2026-11-15T00:00:00Z') });
    expect(codes(r2)).toEqual(['cache.stale-password', 'cache.stale-password']);
    expect(r2.findings[0]!.evidence.changeSource).toBe('the vault (last rotation)');
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

describe('purge', () => {
  const entries = [e('web01', 'PAMTEST\\alice', '2026-11-01T00:00:00Z', 'WS1'), e('web01 x&y', 'PAMTEST\\olduser', undefined, 'WS2'), e('db02', 'PAMTEST\\alice', '2026-11-20T00:00:00Z', 'WS1')];
  const r = inspectCache({ entries, account: 'alice', pwdLastSet: new Date('2026-11-10T00:00:00Z') });
  const plan = planPurge(r.findings, entries);

  it('plans exactly the flagged entries, once', () => {
    expect(plan.items.map((i) => [i.machine, i.target, i.rule])).toEqual([
      ['WS1', 'TERMSRV/web01', 'cache.stale-password'],
      ['WS2', 'TERMSRV/web01 x&y', 'cache.wrong-user'],
    ]);
  });

  it('emits exact, quoted cmdkey commands and an idempotent PowerShell script', () => {
    expect(cmdkeyCommands(plan)).toEqual([
      'REM WS1: cache.stale-password\r\ncmdkey /delete:TERMSRV/web01',
      'REM WS2: cache.wrong-user\r\ncmdkey /delete:"TERMSRV/web01 x&y"',
    ]);
    const ps = powershellScript(plan);
    expect(ps).toContain("'WS1' = @('TERMSRV/web01')");
    expect(ps).toContain('already gone');
    expect(ps).not.toContain('db02');
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
    expect(rec.items.map((i) => i.result)).toEqual(['deleted', 'deleted']);
    expect(removed).toEqual(['Domain:target=TERMSRV/web01', 'Domain:target=TERMSRV/web01 x&y']);
    expect(store.has('Domain:target=TERMSRV/db02')).toBe(true);
    const again = await executePurge(plan, { yes: true, auditFile: audit, source });
    expect(again.items.map((i) => i.result)).toEqual(['already-gone', 'already-gone']);
    const lines = fs.readFileSync(audit, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.phase)).toEqual(['planned', 'done', 'planned', 'done']);
    expect(lines[0]).toMatchObject({ machine: os.hostname(), by: expect.any(String), mode: 'delete' });
  });
});
