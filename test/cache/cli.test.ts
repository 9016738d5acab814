// credgate cache against fixtures and, for the pwdLastSet rule, end to end against the lab's Samba DC.
import { describe, it, expect, beforeAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { samba, labPart, type SambaState } from '../lab/state.js';
import { closedPort } from '../helpers/servers.js';
import { adminClient, createUser, setPassword } from '../lab/samba.mjs';

const fx = (f: string) => path.join(import.meta.dirname, '..', 'fixtures', 'cache', f);
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

  it('inspect exits 6 on stale entries (vault changedAt) and 0 when clean', async () => {
    const stale = await runCli(['cache', 'inspect', '--from', fx('collector-ws0042.json'), '--account', 'PAMTEST\\alice', '--host', 'web01.pamtest.local', '--changed-at', '2026-11-10T00:00:00Z', '--json']);
    expect(stale.code).toBe(6);
    expect(stale.json.findings.map((f: { code: string }) => f.code)).toEqual(['cache.stale-password', 'cache.conflicting-entries']);
    const clean = await runCli(['cache', 'inspect', '--from', fx('collector-ws0042.json'), '--account', 'PAMTEST\\alice', '--host', 'web01.pamtest.local', '--changed-at', '2026-10-10T00:00:00Z']);
    expect(clean.stdout).toContain('conflicting');
    const cleanest = await runCli(['cache', 'inspect', '--from', fx('cmdkey-fr.utf8bom.txt'), '--account', 'alice@pamtest.local']);
    expect(cleanest.code).toBe(0);
    expect(cleanest.stdout).toMatch(/^CLEAN/);
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
    expect(yes.stdout).toContain('cmdkey /delete:TERMSRV/web01\r\n');
    expect(yes.stdout).not.toContain('web01.pamtest.local\r\n');
    expect(fs.readFileSync(path.join(dir, 'credgate-purge-audit.jsonl'), 'utf8')).toContain('"rule":"cache.wrong-user"');
    expect(fs.readFileSync(path.join(dir, 'purge.ps1'), 'utf8')).toContain("'TERMSRV/web01'");
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
