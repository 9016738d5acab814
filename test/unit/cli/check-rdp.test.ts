// `credgate check --rdp`: the credential proven at the lab FreeRDP host's NLA step, alone or after
// the directory's bind; a password the directory rejected is never tried at the host.
import { describe, it, expect } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { samba, sambaScenario, labPart } from '../../lab/state.js';
import { closedPort, silentServer } from '../../helpers/servers.js';

interface RdpState { caFile: string; nla: { port: number } }
const codes = (j: { findings: Array<{ code: string }> }) => j.findings.map((f) => f.code);

describe('credgate check --rdp', () => {




  describe('an NLA check that cannot reach or speak to the host is a finding: one JSON object, exit 4', () => {
    const user = ['--user', 'PAMTEST\\alice', '--password-stdin'];
    it('a closed loopback port: net.refused', async () => {
      const port = await closedPort();
      const r = await runCli(['check', '--rdp', `127.0.0.1:${port}`, ...user, '--json'], { stdin: 'Alice!Lab-2026' });
      expect([r.code, r.json.ok, r.json.code, r.json.exitCode]).toEqual([4, false, 'net.refused', 4]);
      expect(r.json.findings[0]).toMatchObject({ severity: 'error', evidence: { step: 'rdp-nla', host: '127.0.0.1', port } });
      expect(r.json.remediation.length).toBeGreaterThan(0);
      expect(r.json.timingsMs.rdpNla).toBeGreaterThan(0);
      expect(r.stderr).toBe('');
      const human = await runCli(['check', '--rdp', `127.0.0.1:${port}`, ...user], { stdin: 'Alice!Lab-2026' });
      expect(human.code).toBe(4);
      expect(human.stdout).toMatch(/^FAIL .*Nothing accepts connections on 127\.0\.0\.1 port \d+/);
    });

    it('a listener that never answers: net.timeout within --timeout', async () => {
      const srv = await silentServer();
      try {
        const t0 = Date.now();
        const r = await runCli(['check', '--rdp', `127.0.0.1:${srv.port}`, ...user, '--timeout', '400', '--json'], { stdin: 'Alice!Lab-2026', timeoutMs: 10_000 });
        expect([r.code, r.json.code]).toEqual([4, 'net.timeout']);
        expect(Date.now() - t0).toBeLessThan(8000);
      } finally {
        await srv.close();
      }
    });


  });

});
