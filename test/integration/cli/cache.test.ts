// credgate cache against fixtures and, for the pwdLastSet rule, end to end against the lab's Samba DC.
import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../helpers/cli.js';
import { samba, labPart, type SambaState } from '../../lab/state.js';
import { closedPort } from '../../helpers/servers.js';
import { adminClient, createUser, setPassword } from '../../lab/samba.mjs';

const fx = (f: string) => path.join(import.meta.dirname, '..', '..', 'fixtures', 'cache', f);
let lab: SambaState;
beforeAll(() => {
  lab = samba();
});

describe('credgate cache', () => {
  it('list reads every format', async () => {
    const r = await runCli(['cache', 'list', '--from', fx('cmdkey-en.utf16.txt'), '--from', fx('rdp-client.reg'), '--from', fx('collector-ws0042.json'), '--json']);
    expect(r.code).toBe(0);
    expect(r.json.entries).toHaveLength(8);
    expect(r.json.hints).toHaveLength(3);
  });

  it('inspect exits 6 on stale entries (vault changedAt), 0 otherwise; clean only when every entry was judged', async () => {
    const stale = await runCli(['cache', 'inspect', '--from', fx('collector-ws0042.json'), '--account', 'PAMTEST\\alice', '--host', 'web01.pamtest.local', '--changed-at', '2026-11-10T00:00:00Z', '--json']);
    expect(stale.code).toBe(6);
    expect(stale.json.findings.map((f: { code: string }) => f.code)).toEqual(['cache.stale-password', 'cache.conflicting-entries']);
    // only conflicting names left: a warning, nothing to purge, exit 0 (exit 6 exactly when the purge plan is not empty)
    const clean = await runCli(['cache', 'inspect', '--from', fx('collector-ws0042.json'), '--account', 'PAMTEST\\alice', '--host', 'web01.pamtest.local', '--changed-at', '2026-10-10T00:00:00Z']);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/^NOTHING STALE {2}WS-0042: the host is cached under 2 names .*\[cache\.conflicting-entries\]/);
    const plan = await runCli(['cache', 'purge', '--from', fx('collector-ws0042.json'), '--account', 'PAMTEST\\alice', '--host', 'web01.pamtest.local', '--changed-at', '2026-10-10T00:00:00Z']);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('nothing to purge');
    // a cmdkey capture has no write times: with a change time known, that is said, not "clean"
    const cleanest = await runCli(['cache', 'inspect', '--from', fx('cmdkey-fr.utf8bom.txt'), '--account', 'alice@pamtest.local', '--host', 'web01', '--changed-at', '2026-11-10T00:00:00Z']);
    expect(cleanest.code).toBe(0);
    expect(cleanest.stdout).toMatch(/^UNKNOWN {2}Nothing is known to be stale, but 1 entry has no write time/);
    expect(cleanest.stdout).toContain('TERMSRV/web01.pamtest.local has no write time (cmdkey /list shows no write time)');
    expect(cleanest.stdout).toContain('credgate cache collector');
    expect(cleanest.stdout).not.toMatch(/CLEAN/);
    const judged = await runCli(['cache', 'inspect', '--from', fx('collector-ws0042.json'), '--account', 'PAMTEST\\alice', '--host', 'old-jump01.pamtest.local', '--changed-at', '2024-12-01T00:00:00Z', '--json']);
    expect(judged.code).toBe(0);
    expect(judged.json).toMatchObject({ ok: true, code: 'cache.clean', considered: 1, unknownAge: 0 });
  });

  it('--provider/--ref: changedAt and the account from a configured file provider; the password is never printed', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-cache-prov-'));
    const PW = 'Vault!Current-Pass-4711';
    const cred = (f: string, o: Record<string, string>) => fs.writeFileSync(path.join(dir, f), JSON.stringify({ password: PW, ...o }), { mode: 0o600 });
    cred('alice.json', { username: 'alice', domain: 'PAMTEST', changedAt: '2026-11-10T00:00:00Z' });
    cred('bob.json', { username: 'PAMTEST\\bob', changedAt: '2026-10-01T00:00:00Z' });
    cred('nochange.json', { username: 'alice', domain: 'PAMTEST' });
    fs.writeFileSync(path.join(dir, 'credgate.config.json'), JSON.stringify({ providers: { vault: { type: 'file', options: {} } } }));
    const base = ['cache', 'inspect', '--from', fx('collector-ws0042.json'), '--host', 'web01.pamtest.local', '--provider', 'vault', '--json'];
    const run = (args: string[]) => runCli(args, { cwd: dir, secrets: [PW] });
    try {
      const a = await run([...base, '--ref', 'alice.json']);
      expect(a.code).toBe(6);
      expect(a.json.findings[0]).toMatchObject({ code: 'cache.stale-password', evidence: { target: 'TERMSRV/web01.pamtest.local', vaultChangedAt: '2026-11-10T00:00:00.000Z', changeSource: 'the vault (last rotation)' } });
      // the provider's account (no --account): entries for alice are another user's for bob's host
      const b = await run([...base, '--ref', 'bob.json']);
      expect(b.code).toBe(6);
      expect(b.json.findings.map((f: { code: string; evidence: { expectedAccount?: string } }) => [f.code, f.evidence.expectedAccount])).toEqual([['cache.wrong-user', 'PAMTEST\\bob'], ['cache.wrong-user', 'PAMTEST\\bob'], ['cache.conflicting-entries', undefined], ['cache.username-hint-mismatch', 'PAMTEST\\bob']]);
      // --account wins over the provider's account; an older change time makes nothing stale
      const c = await run([...base, '--ref', 'bob.json', '--account', 'PAMTEST\\alice']);
      expect(c.json.findings.map((f: { code: string }) => f.code)).toEqual(['cache.conflicting-entries']);
      expect(c.code).toBe(0);
      const n = await run([...base, '--ref', 'nochange.json']);
      expect(n.json.warnings.join('\n')).toMatch(/the provider vault gave no changedAt/);
      // faults: a missing credential is a provider failure (5, JSON); usage errors are 2
      const missing = await run([...base, '--ref', 'absent.json']);
      expect(missing.code).toBe(5);
      expect(missing.json).toMatchObject({ ok: false, code: 'provider.error' });
      const human = base.filter((x) => x !== '--json');
      expect((await run(human)).code).toBe(2); // no --ref
      expect((await run([...human, '--ref', 'alice.json', '--changed-at', '2026-11-10T00:00:00Z'])).code).toBe(2);
      expect((await run(['cache', 'inspect', '--from', fx('collector-ws0042.json'), '--provider', 'nope', '--ref', 'x'])).code).toBe(2);
      const purge = await run(['cache', 'purge', '--from', fx('collector-ws0042.json'), '--host', 'web01.pamtest.local', '--provider', 'vault', '--ref', 'alice.json', '--json']);
      expect(purge.json.plan.items.map((i: { target: string }) => i.target)).toEqual(['TERMSRV/web01.pamtest.local']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--alias joins the host\'s address to it; without --host, --account does not judge other hosts', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-cache-alias-'));
    const f = path.join(dir, 'ws.json');
    fs.writeFileSync(f, JSON.stringify({
      schema: 'credgate-collector/1', machine: 'WS-A', credentials: [
        { target: 'TERMSRV/10.0.0.5', type: 'domain-password', userName: 'PAMTEST\\olduser', lastWritten: '2026-11-01T00:00:00Z' },
        { target: 'TERMSRV/web01.pamtest.local', type: 'domain-password', userName: 'PAMTEST\\alice', lastWritten: '2026-11-18T00:00:00Z' },
        { target: 'TERMSRV/db02.pamtest.local', type: 'domain-password', userName: 'PAMTEST\\bob', lastWritten: '2026-11-01T00:00:00Z' },
      ],
    }));
    try {
      const args = ['cache', 'inspect', '--from', f, '--account', 'PAMTEST\\alice', '--host', 'web01.pamtest.local', '--json'];
      const without = await runCli(args);
      expect(without).toMatchObject({ code: 0, json: { code: 'cache.clean', considered: 1 } });
      const withAlias = await runCli([...args, '--alias', '10.0.0.5']);
      expect(withAlias.code).toBe(6);
      expect(withAlias.json.considered).toBe(2);
      expect(withAlias.json.findings.map((x: { code: string; evidence: { target?: string } }) => [x.code, x.evidence.target])).toEqual([['cache.wrong-user', 'TERMSRV/10.0.0.5'], ['cache.conflicting-entries', undefined]]);
      expect((await runCli(['cache', 'inspect', '--from', f, '--alias', '10.0.0.5'])).code).toBe(2);
      // no --host: bob's db02 entry and olduser's are not purged for alice, and the CLI says why
      const noHost = await runCli(['cache', 'purge', '--from', f, '--account', 'PAMTEST\\alice', '--json']);
      expect(noHost.code).toBe(0);
      expect(noHost.json.plan.items).toEqual([]);
      expect(noHost.json.warnings.join('\n')).toContain('--user without --host: the wrong-user rule was not applied');
      expect((await runCli(['cache', 'inspect', '--from', f, '--account', 'PAMTEST\\alice'])).stderr).toContain('credgate: warning: --user without --host');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--from a directory (a fleet share) reads its *.json, *.reg and *.txt files, not the audit log or script beside them', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-cache-dir-'));
    try {
      fs.copyFileSync(fx('collector-ws0042.json'), path.join(dir, 'WS-0042.json'));
      fs.copyFileSync(fx('collector-ws0107.ps51.json'), path.join(dir, 'WS-0107.json'));
      fs.copyFileSync(fx('rdp-client.reg'), path.join(dir, 'hkcu.reg'));
      fs.writeFileSync(path.join(dir, 'purge-audit.jsonl'), '{"not":"a collector file"}\n');
      fs.writeFileSync(path.join(dir, 'purge.ps1'), "Write-Host 'x'\n");
      fs.mkdirSync(path.join(dir, 'sub.json'));
      const r = await runCli(['cache', 'list', '--from', dir, '--json']);
      expect(r.code).toBe(0);
      expect(r.json.entries.map((e: { machine: string }) => e.machine)).toEqual([...Array(4).fill('WS-0042'), ...Array(4).fill('WS-0107')]);
      expect(r.json.hints.map((h: { server: string }) => h.server)).toEqual(['web01.pamtest.local', 'web01.pamtest.local', '10.20.0.15', 'web01.pamtest.local', 'db02']);
      const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-cache-empty-'));
      const e = await runCli(['cache', 'inspect', '--from', empty]);
      expect(e.code).toBe(2);
      expect(e.stderr).toContain(`${empty} has no *.json, *.reg or *.txt file to read`);
      fs.rmSync(empty, { recursive: true });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('hostile fleet file: warnings name the file and entry; the emitted cmd and PowerShell carry no injected line', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-cache-hostile-'));
    const f = fx('collector-hostile.json');
    try {
      const r = await runCli(['cache', 'purge', '--from', f, '--account', 'PAMTEST\\alice', '--changed-at', '2026-11-10T00:00:00Z', '--yes', '--script-out', path.join(dir, 'purge.ps1')], { cwd: dir });
      expect(r.code).toBe(0);
      for (const at of ['credentials.1.target', 'credentials.3.userName', 'credentials.4.type', 'rdpServers.0.server', 'rdpServers.1.usernameHint', 'mru.0']) expect(r.stderr).toContain(`credgate: warning: ${f}: ${at}: `);
      expect(r.stdout + r.stderr).not.toMatch(/[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f\u2028\u2029\u202e]/);
      const audit = path.join(dir, 'credgate-purge-audit.jsonl');
      expect(r.stdout.split('\r\n')).toEqual([
        `REM credgate purge: run on each machine as a .cmd file (audit record: ${audit}); the PowerShell script also checks each entry is unchanged`,
        'setlocal DisableDelayedExpansion',
        "REM WS-'__PATH__calc (PAMTEST\\o'brien__USERNAME_): cache.stale-password",
        'cmdkey /delete:Domain:target=TERMSRV/web01.pamtest.local',
        "REM WS-'__PATH__calc (PAMTEST\\o'brien__USERNAME_): cache.stale-password",
        "REM skipped TERMSRV/db'__TEMP__calc__.pamtest.local: the target cannot be quoted safely for cmd.exe; use the PowerShell script",
        "REM WS-'__PATH__calc (PAMTEST\\o'brien__USERNAME_): cache.stale-password",
        'cmdkey /delete:Domain:target=TERMSRV/web04.pamtest.local',
        `REM PowerShell script for the whole fleet: ${path.join(dir, 'purge.ps1')}`,
        '',
      ]);
      // UTF-8 with a BOM (Windows PowerShell 5.1 reads it as UTF-8 too), and only ASCII after it: every
      // character beyond printable ASCII, the typographic quotes first, is a [char] (test/unit/cache/purge-scripts.test.ts
      // parses the script under both of 5.1's readings)
      const bytes = fs.readFileSync(path.join(dir, 'purge.ps1'));
      expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
      const ps = bytes.subarray(3).toString('latin1');
      expect(ps).toMatch(/^[\x20-\x7e\r\n]*$/);
      expect(ps).toContain("  ('WS-''' + [char]0x2019 + '%PATH%&calc') = @('TERMSRV/web01.pamtest.local', ('TERMSRV/db''' + [char]0x201B + '%TEMP%&calc\").pamtest.local'), 'TERMSRV/web04.pamtest.local')");
      expect(ps).toContain("WindowsUser = ('PAMTEST\\o''brien' + [char]0x2018 + '%USERNAME%')");
      expect(ps.split('\r\n').filter((l) => /^\s*(calc|cmdkey|Remove-Item|shutdown)/i.test(l))).toEqual([]);
      expect(ps).not.toMatch(/web02|web03|app01/); // the skipped entries are in no script
      // a machine name with a control character: the file is refused, naming it
      const bad = await runCli(['cache', 'inspect', '--from', fx('collector-hostile-machine.json')]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(`${fx('collector-hostile-machine.json')}: machine: "WS-1\\u000d\\u000ashutdown /s /t 0" contains control characters`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--probe compares the registry CertHash with the certificate the lab host presents now', async () => {
    const rdp = labPart<{ expired: { port: number; sha1: string } }>('rdp');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-cache-probe-'));
    const reg = (hash: string) => {
      const hex = (hash.match(/../g) ?? []).map((b) => b.toLowerCase()).join(',');
      const text = `Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\Software\\Microsoft\\Terminal Server Client\\Servers\\127.0.0.1]\r\n"UsernameHint"="PAMTEST\\\\alice"\r\n"CertHash"=hex:${hex}\r\n`;
      const f = path.join(dir, `${hash.slice(0, 8)}.reg`);
      fs.writeFileSync(f, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
      return f;
    };
    try {
      const other = 'CBA979DE7DEC5607517D77D79027B8A50A853267';
      const changed = await runCli(['cache', 'inspect', '--from', reg(other), '--account', 'PAMTEST\\alice', '--host', `127.0.0.1:${rdp.expired.port}`, '--probe', '--json']);
      const f = changed.json.findings.find((x: { code: string }) => x.code === 'cache.cert-changed');
      expect(f.evidence).toMatchObject({ server: '127.0.0.1', rememberedCertHash: other, presented: [rdp.expired.sha1] });
      const same = await runCli(['cache', 'inspect', '--from', reg(rdp.expired.sha1), '--account', 'PAMTEST\\alice', '--host', `127.0.0.1:${rdp.expired.port}`, '--probe', '--json']);
      expect(same.json.findings.map((x: { code: string }) => x.code)).not.toContain('cache.cert-changed');
      // a host that does not answer: the probe's finding says why, exit 4
      const down = await runCli(['cache', 'inspect', '--from', reg(other), '--host', `127.0.0.1:${await closedPort()}`, '--probe', '--json']);
      expect(down.code).toBe(4);
      expect(down.json.findings.map((x: { code: string }) => x.code)).toContain('net.refused');
      expect((await runCli(['cache', 'inspect', '--from', reg(other), '--probe'])).code).toBe(2);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stale entries beside a fault (unreachable probe, directory down, user not found): inspect and purge both exit 6 and still report the fault', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-cache-fault-'));
    const file = path.join(dir, 'ws.json');
    fs.writeFileSync(file, JSON.stringify({
      schema: 'credgate-collector/1', machine: 'WS-FAULT',
      credentials: [
        { target: 'Domain:target=TERMSRV/127.0.0.1', type: 'domain-password', userName: 'PAMTEST\\alice', lastWritten: '2026-11-01T00:00:00Z' },
        { target: 'Domain:target=TERMSRV/web01.pamtest.local', type: 'domain-password', userName: 'PAMTEST\\olduser', lastWritten: '2026-11-01T00:00:00Z' },
      ],
    }));
    const both = async (args: string[], fault: string, rule: string, opts: Parameters<typeof runCli>[1] = {}) => {
      const ins = await runCli(['cache', 'inspect', '--from', file, ...args, '--json'], opts);
      expect(ins.json.findings.map((f: { code: string }) => f.code)).toEqual(expect.arrayContaining([fault, rule]));
      expect(ins.json).toMatchObject({ ok: false, code: rule, exitCode: 6 });
      expect(ins.code).toBe(6);
      const human = await runCli(['cache', 'inspect', '--from', file, ...args], opts);
      expect(human.code).toBe(6);
      expect(human.stdout).toMatch(new RegExp(`^STALE .*\\[${rule.replace('.', '\\.')}\\]`));
      expect(human.stdout).toMatch(new RegExp(`^ {2}✖ .*\\[${fault.replace('.', '\\.')}\\]$`, 'm'));
      const dry = await runCli(['cache', 'purge', '--from', file, ...args, '--json'], { ...opts, cwd: dir });
      expect(dry.code).toBe(6);
      expect(dry.json.plan.items.map((i: { rule: string }) => i.rule)).toEqual([rule]);
      expect(dry.json.faults.map((f: { code: string }) => f.code)).toContain(fault);
      const dryHuman = await runCli(['cache', 'purge', '--from', file, ...args], { ...opts, cwd: dir });
      expect(dryHuman.code).toBe(6);
      expect(dryHuman.stderr).toContain(`[${fault}]`);
    };
    try {
      const port = await closedPort();
      // the probe cannot reach the host (the CertHash rule is not checked) but the entry predates the change
      await both(['--account', 'PAMTEST\\alice', '--host', `127.0.0.1:${port}`, '--probe', '--changed-at', '2026-11-10T00:00:00Z'], 'net.refused', 'cache.stale-password');
      // the directory is down (pwdLastSet unread) but --changed-at makes the entry stale
      await both(['--account', 'PAMTEST\\alice', '--host', '127.0.0.1', '--changed-at', '2026-11-10T00:00:00Z', '--ldap', `ldaps://127.0.0.1:${port}`,
        '--service-user', `${lab.reader.user}@pamtest.local`, '--service-password-env', 'SVC'], 'net.refused', 'cache.stale-password', { env: { SVC: lab.reader.password } });
      // the account is not in the directory; the host caches another user's credential
      await both(['--account', `nobody-${process.pid}@pamtest.local`, '--host', 'web01.pamtest.local', '--ldap', lab.ldapsUrl, '--ca-file', lab.caFile,
        '--service-user', `${lab.reader.user}@pamtest.local`, '--service-password-env', 'SVC'], 'ldap.user-not-found', 'cache.wrong-user', { env: { SVC: lab.reader.password } });
      // nothing stale: the fault's own code, from both
      const args = ['--from', file, '--account', 'PAMTEST\\alice', '--host', `127.0.0.1:${port}`, '--probe'];
      expect((await runCli(['cache', 'inspect', ...args])).code).toBe(4);
      expect((await runCli(['cache', 'purge', ...args], { cwd: dir })).code).toBe(4);
      // --yes too: a fault that kept a rule from judging is never "clean" (exit 4, faults in the JSON)
      const yes = await runCli(['cache', 'purge', ...args, '--yes', '--json'], { cwd: dir });
      expect(yes.code).toBe(4);
      expect(yes.json.faults.map((f: { code: string }) => f.code)).toContain('net.refused');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('purge: a dry run deletes nothing and shows the plan; --yes writes the audit and the commands', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-purge-'));
    const args = ['cache', 'purge', '--from', fx('cmdkey-en.utf16.txt'), '--account', 'PAMTEST\\alice', '--host', 'web01.pamtest.local'];
    const dry = await runCli(args, { cwd: dir });
    expect(dry.code).toBe(6);
    expect(dry.stdout).toContain('dry run — nothing deleted');
    expect(dry.stdout).toContain('TERMSRV/web01 (PAMTEST\\olduser) — cache.wrong-user');
    expect(fs.readdirSync(dir)).toEqual([]);
    const yes = await runCli([...args, '--yes', '--script-out', path.join(dir, 'purge.ps1')], { cwd: dir });
    expect(yes.code).toBe(0);
    expect(yes.stdout).toContain('cmdkey /delete:Domain:target=TERMSRV/web01\r\n');
    expect(yes.stdout).not.toContain('web01.pamtest.local\r\n');
    expect(fs.readFileSync(path.join(dir, 'credgate-purge-audit.jsonl'), 'utf8')).toContain('"rule":"cache.wrong-user"');
    expect(fs.readFileSync(path.join(dir, 'purge.ps1'), 'utf8')).toContain("Target = 'TERMSRV/web01'; Type = 2; UserName = 'PAMTEST\\olduser'; LastWrittenMs = -2");
  });

  it('purge --json over a fleet: the plan, its commands and the audit line agree, item for item, written as streamed lines', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-purge-fleet-'));
    try {
      const fleet = path.join(dir, 'fleet');
      fs.mkdirSync(fleet);
      for (let m = 0; m < 40; m++) {
        fs.writeFileSync(path.join(fleet, `ws${m}.json`), JSON.stringify({
          schema: 'credgate-collector/1', machine: `WS-${m}`, user: 'PAMTEST\\admin',
          credentials: Array.from({ length: 30 }, (_, k) => ({ target: `Domain:target=TERMSRV/srv${k}.pamtest.local`, type: 'domain-password', userName: 'PAMTEST\\svc-rdp', lastWritten: `2026-10-${String(1 + (k % 28)).padStart(2, '0')}T00:00:00Z` })),
        }));
      }
      const args = ['cache', 'purge', '--from', fleet, '--account', 'PAMTEST\\svc-rdp', '--changed-at', '2026-10-15T00:00:00Z', '--json'];
      const dry = await runCli(args, { cwd: dir });
      expect(dry.code).toBe(6);
      // entries written before Oct 15: days 1..14 of each machine's 30 (k % 28 < 14)
      const stale = 40 * Array.from({ length: 30 }, (_, k) => k % 28).filter((d) => d < 14).length;
      expect(dry.json.dryRun).toBe(true);
      expect(dry.json.plan.items).toHaveLength(stale);
      expect(dry.json.commands).toHaveLength(stale);
      expect(dry.json.commands[0]).toBe('REM WS-0 (PAMTEST\\admin): cache.stale-password\r\ncmdkey /delete:Domain:target=TERMSRV/srv0.pamtest.local');
      // each planned item and each command on a line of its own, nested at its depth
      expect(dry.stdout.split('\n').filter((l) => l.startsWith('      {"machine":"WS-'))).toHaveLength(stale);
      expect(dry.stdout.split('\n').filter((l) => l.startsWith('    "REM WS-'))).toHaveLength(stale);
      expect(fs.readdirSync(dir)).toEqual(['fleet']);

      const yes = await runCli([...args, '--yes', '--audit', path.join(dir, 'audit.jsonl')], { cwd: dir });
      expect(yes.code).toBe(0);
      expect(yes.json.mode).toBe('emit');
      expect(yes.json.items).toHaveLength(stale);
      expect(yes.json.commands).toEqual(dry.json.commands);
      const lines = fs.readFileSync(path.join(dir, 'audit.jsonl'), 'utf8').split('\n');
      expect(lines.at(-1)).toBe('');
      expect(lines).toHaveLength(2); // emit mode: the planned record only, one JSON line
      const rec = JSON.parse(lines[0]!);
      expect(Object.keys(rec)).toEqual(['at', 'machine', 'by', 'mode', 'items', 'phase']);
      expect(rec.phase).toBe('planned');
      expect(rec.items.map((i: { rawTarget: string; machine: string }) => `${i.machine} ${i.rawTarget}`)).toEqual(dry.json.plan.items.map((i: { rawTarget: string; machine: string }) => `${i.machine} ${i.rawTarget}`));
      expect(fs.statSync(path.join(dir, 'audit.jsonl')).mode & 0o777).toBe(0o600);

      // nothing stale: empty lists, written as such
      const none = await runCli(['cache', 'purge', '--from', fleet, '--account', 'PAMTEST\\svc-rdp', '--changed-at', '2026-09-01T00:00:00Z', '--json'], { cwd: dir });
      expect(none.code).toBe(0);
      expect(none.stdout).toContain('"items": []');
      expect(none.stdout).toContain('"commands": []');
      expect(none.json.plan.items).toEqual([]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('collector prints the PowerShell script, which never touches CredentialBlob contents', async () => {
    const r = await runCli(['cache', 'collector']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('CredEnumerateW');
    expect(r.stdout).toContain("schema = 'credgate-collector/1'");
    expect(r.stdout).not.toMatch(/PtrToStringUni\(c\.CredentialBlob|Copy\(c\.CredentialBlob/);
  });

  it('bad input: exit 2 naming the file; unknown subcommand: exit 2', async () => {
    const f = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cg-bad-')), 'broken.json');
    fs.writeFileSync(f, '{"schema": "credgate-collector/1", "machine": ');
    const r = await runCli(['cache', 'inspect', '--from', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('broken.json:1 is not valid JSON');
    expect((await runCli(['cache', 'nuke'])).code).toBe(2);
  });
});

describe('stale-password end to end against Samba AD', () => {
  it('an entry written before the password change is flagged from pwdLastSet read over LDAPS', async () => {
    const admin = await adminClient(lab);
    const user = `cache-e2e-${process.pid % 100000}`;
    try {
      await createUser(admin, user, 'First!Pass-2026');
      await new Promise((r) => setTimeout(r, 1100));
      const written = new Date();
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-e2e-'));
      const file = path.join(dir, 'ws.json');
      fs.writeFileSync(file, JSON.stringify({
        schema: 'credgate-collector/1', machine: 'WS-E2E',
        credentials: [{ target: 'Domain:target=TERMSRV/web01.pamtest.local', type: 'domain-password', userName: `PAMTEST\\${user}`, lastWritten: written.toISOString() }],
      }));
      const args = ['cache', 'inspect', '--from', file, '--account', `${user}@pamtest.local`, '--host', 'web01',
        '--ldap', lab.ldapsUrl, '--ca-file', lab.caFile, '--service-user', `${lab.reader.user}@pamtest.local`, '--service-password-env', 'SVC', '--json'];
      const before = await runCli(args, { env: { SVC: lab.reader.password } });
      expect(before.code).toBe(0);
      await new Promise((r) => setTimeout(r, 1100));
      await setPassword(admin, user, 'Second!Pass-2026');
      const after = await runCli(args, { env: { SVC: lab.reader.password }, secrets: ['First!Pass-2026', 'Second!Pass-2026'] });
      expect(after.code).toBe(6);
      expect(after.json.findings[0]).toMatchObject({ code: 'cache.stale-password', evidence: { changeSource: 'the directory (pwdLastSet)', machine: 'WS-E2E' } });
    } finally {
      await admin.del(`CN=${user},CN=Users,${lab.baseDn}`).catch(() => {});
      await admin.unbind();
    }
  });
});
