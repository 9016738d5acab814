// `credgate check --rdp`: the credential proven at the lab FreeRDP host's NLA step, alone or after
// the directory's bind; a password the directory rejected is never tried at the host.
import { describe, it, expect } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { samba, sambaScenario, labPart } from '../lab/state.js';

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
    expect(r.stderr).toMatch(/does not chain to the given CA .*sent no proof of the password/);
    const usage = await runCli(['check', '--ldap', samba().ldapsUrl, '--rdp-ca-file', rdp.caFile, '--user', 'x', '--password-stdin'], { stdin: 'x-1234567' });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--rdp-ca-file needs --rdp');
  });
});
