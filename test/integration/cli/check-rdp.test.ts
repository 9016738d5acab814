// `credgate check --rdp`: the credential proven at the lab FreeRDP host's NLA step, alone or after
// the directory's bind; a password the directory rejected is never tried at the host.
import { describe, it, expect } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { samba, sambaScenario, labPart } from '../../lab/state.js';
import { closedPort, silentServer } from '../../helpers/servers.js';

interface RdpState { caFile: string; nla: { port: number } }
const codes = (j: { findings: Array<{ code: string }> }) => j.findings.map((f) => f.code);

describe('credgate check --rdp', () => {
  it('NLA only: the right password exits 0 (rdp.nla-ok), a wrong one exits 1 (rdp.logon-failure)', async () => {
    const rdp = labPart<RdpState>('rdp');
    const ok = await runCli(['check', '--rdp', `127.0.0.1:${rdp.nla.port}`, '--user', 'PAMTEST\\alice', '--password-stdin', '--json'], { stdin: 'Alice!Lab-2026' });
    expect([ok.code, ok.json.code]).toEqual([0, 'rdp.nla-ok']);
    expect(ok.json.timingsMs.rdpNla).toBeGreaterThan(0);
    const bad = await runCli(['check', '--rdp', `127.0.0.1:${rdp.nla.port}`, '--user', 'bob', '--password-stdin', '--json'], { stdin: 'Bob!Previous-2025' });
    expect([bad.code, bad.json.code]).toEqual([1, 'rdp.logon-failure']);
  });

  it('with --ldap: both accept the good account; the host is asked only after the directory said yes', async () => {
    const rdp = labPart<RdpState>('rdp');
    const lab = samba();
    const s = sambaScenario('good');
    const r = await runCli(['check', '--ldap', lab.ldapsUrl, '--ca-file', lab.caFile, '--user', s.downLevel, '--password-stdin', '--rdp', `127.0.0.1:${rdp.nla.port}`, '--json'], { stdin: s.password });
    expect(r.code).toBe(0);
    expect(codes(r.json)).toEqual(expect.arrayContaining(['ldap.ok', 'rdp.nla-ok']));
    expect(r.json.timingsMs.total).toBeGreaterThanOrEqual(r.json.timingsMs.bind + r.json.timingsMs.rdpNla - 1);
  });

  it('with --ldap: a password the directory rejected is not tried at the host (not-checked, exit 1)', async () => {
    const rdp = labPart<RdpState>('rdp');
    const lab = samba();
    const s = sambaScenario('wrong-password');
    const r = await runCli(['check', '--ldap', lab.ldapsUrl, '--ca-file', lab.caFile, '--user', s.upn, '--password-stdin', '--rdp', `127.0.0.1:${rdp.nla.port}`, '--json'], { stdin: s.tryPassword });
    expect([r.code, r.json.code]).toEqual([1, 'ldap.invalid-credentials']);
    const nc = r.json.findings.find((f: { code: string }) => f.code === 'not-checked');
    expect(nc.evidence).toMatchObject({ step: 'rdp-nla', because: 'ldap.invalid-credentials' });
    expect(r.json.timingsMs.rdpNla).toBeUndefined();
    const human = await runCli(['check', '--ldap', lab.ldapsUrl, '--ca-file', lab.caFile, '--user', s.upn, '--password-stdin', '--rdp', `127.0.0.1:${rdp.nla.port}`], { stdin: s.tryPassword });
    expect(human.stdout).toContain('rdp-nla: not checked');
  });

  it('--rdp-ca-file: a host certificate outside that CA stops the check before any proof is sent (exit 4)', async () => {
    const rdp = labPart<RdpState>('rdp');
    const r = await runCli(['check', '--rdp', `127.0.0.1:${rdp.nla.port}`, '--rdp-ca-file', rdp.caFile, '--user', 'PAMTEST\\alice', '--password-stdin'], { stdin: 'Alice!Lab-2026' });
    expect(r.code).toBe(4);
    expect(r.stdout).toMatch(/^FAIL {2}PAMTEST\\alice — The RDP certificate .* does not chain to the given CA .*sent no proof of the password/);
    expect(r.stdout).toContain('[tls.untrusted]');
    const j = await runCli(['check', '--rdp', `127.0.0.1:${rdp.nla.port}`, '--rdp-ca-file', rdp.caFile, '--user', 'PAMTEST\\alice', '--password-stdin', '--json'], { stdin: 'Alice!Lab-2026' });
    expect([j.code, j.json.code, j.json.exitCode]).toEqual([4, 'tls.untrusted', 4]);
    expect(j.json.findings[0].evidence).toMatchObject({ step: 'rdp-nla', kind: 'untrusted', reason: expect.any(String) });
    const usage = await runCli(['check', '--ldap', samba().ldapsUrl, '--rdp-ca-file', rdp.caFile, '--user', 'x', '--password-stdin'], { stdin: 'x-1234567' });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--rdp-ca-file needs --rdp');
    // the directory's --ca-file without a directory: refused, pointing at --rdp-ca-file (never ignored)
    const moved = await runCli(['check', '--rdp', `127.0.0.1:${rdp.nla.port}`, '--ca-file', rdp.caFile, '--user', 'PAMTEST\\alice', '--password-stdin'], { stdin: 'Alice!Lab-2026' });
    expect(moved.code).toBe(2);
    expect(moved.stderr).toContain('--ca-file applies to the directory (--ldap), which this check does not use; for the RDP host\'s certificate use --rdp-ca-file <pem>');
    const two = await runCli(['check', '--rdp', `127.0.0.1:${rdp.nla.port}`, '--starttls', '--servername', 'dc1', '--user', 'PAMTEST\\alice', '--password-stdin'], { stdin: 'Alice!Lab-2026' });
    expect([two.code, two.stderr.includes('--starttls, --servername apply to the directory')]).toEqual([2, true]);
  });

  describe('an NLA check that cannot reach or speak to the host is a finding: one JSON object, exit 4', () => {
    const user = ['--user', 'PAMTEST\\alice', '--password-stdin'];


    it('a lab port that is not RDP (the Samba DC\'s LDAP port): rdp.not-rdp', async () => {
      const port = Number(new URL(samba().ldapUrl).port || 389);
      const r = await runCli(['check', '--rdp', `127.0.0.1:${port}`, ...user, '--json'], { stdin: 'Alice!Lab-2026' });
      expect([r.code, r.json.code]).toEqual([4, 'rdp.not-rdp']);
    });

    it('after the directory accepted the password: the fault joins the directory\'s findings', async () => {
      const lab = samba();
      const s = sambaScenario('good');
      const port = await closedPort();
      const r = await runCli(['check', '--ldap', lab.ldapsUrl, '--ca-file', lab.caFile, '--user', s.downLevel, '--password-stdin', '--rdp', `127.0.0.1:${port}`, '--json'], { stdin: s.password });
      expect([r.code, r.json.code]).toEqual([4, 'net.refused']);
      expect(codes(r.json)).toEqual(expect.arrayContaining(['ldap.ok', 'net.refused']));
    });
  });

  it('--service-user without --ldap is refused (it would be ignored): the message names --ldap', async () => {
    const rdp = labPart<RdpState>('rdp');
    const lab = samba();
    const r = await runCli(['check', '--rdp', `127.0.0.1:${rdp.nla.port}`, '--user', 'PAMTEST\\alice', '--password-stdin', '--service-user', `${lab.reader.user}@pamtest.local`, '--service-password-env', 'SVC_PW'], { stdin: 'Alice!Lab-2026', env: { SVC_PW: lab.reader.password } });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/--service-user reads the account's state in the directory, so it needs --ldap <url>/);
  });
});
