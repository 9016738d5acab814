import { describe, it, expect } from 'vitest';
import { runCli } from '../../helpers/cli.js';
import { labPart } from '../../lab/state.js';
import { closedPort } from '../../helpers/servers.js';

interface RdpState { caFile: string; nla: { port: number }; expired: { port: number; sha1: string }; valid: { port: number } }

const codesOf = (j: { findings: Array<{ code: string }> }) => j.findings.map((f) => f.code);

describe('credgate probe', () => {





  it('refused: exit 4; bad input: exit 2', async () => {
    const r = await runCli(['probe', `127.0.0.1:${await closedPort()}`]);
    expect(r.code).toBe(4);
    expect(r.stdout).toContain('net.refused');
    expect((await runCli(['probe'])).code).toBe(2);
    expect((await runCli(['probe', 'host:0'])).code).toBe(2);
    expect((await runCli(['probe', 'a', 'b'])).code).toBe(2);
  });
});
