// credgate launch: doctor first; on a fail nothing starts; on a pass xfreerdp connects to the
// lab's NLA host with the password through stdin (never argv) and reaches an active session.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { runCli, BIN } from '../../helpers/cli.js';
import { labPart, samba, sambaScenario } from '../../lab/state.js';

interface RdpState { nla: { port: number }; display: string; clientEnv: Record<string, string> }

describe('credgate launch', () => {

  it('a stray argument (perhaps a password) is refused without repeating it', async () => {
    const r = await runCli(['launch', '127.0.0.1', 'Hunter2-on-argv', '--account', 'a', '--password-env', 'RDP_PW', '--dry-run'], { env: { RDP_PW: 'x-123456' }, secrets: ['Hunter2-on-argv'] });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unexpected argument (not shown: it may be a password)');
  });

  it('refuses --password-stdin for a real launch (the client\'s stdin carries the password)', async () => {
    const r = await runCli(['launch', '127.0.0.1', '--account', 'a', '--password-stdin'], { stdin: 'x-123456' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--password-env');
  });




});
