// The session watcher on stand-in clients that write FreeRDP's log lines (the lab test runs the real
// xfreerdp): established only after the active state held, a failure right after it, a client
// that never gets there, the end after a passed-on signal, and output scrubbed of the password.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { ClientSession } from '../../../src/launch/session.js';
import { Secret } from '../../../src/core/secret.js';

const PW = 'Stand-in-pw-2026!';
const line = (level: string, tag: string, text: string) => `[15:00:00:000] [1:2] [${level}][${tag}] - ${text}`;
const ACTIVE = line('DEBUG', 'com.freerdp.core.connection', 'rdp_client_transition_to_state CONNECTION_STATE_FINALIZATION --> CONNECTION_STATE_ACTIVE');

/** A stand-in client: appends `steps` ([delay ms, line]) to the log file, then exits with `exit` (or waits for a signal). */
function standIn(steps: Array<[number, string]>, exit: number | 'wait', stderr = '') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-session-test-'));
  const logFile = path.join(dir, 'client.log');
  const script = `
    const fs = require('node:fs');
    process.stderr.write(${JSON.stringify(stderr)});
    (async () => {
      for (const [ms, l] of ${JSON.stringify(steps)}) { await new Promise((r) => setTimeout(r, ms)); fs.appendFileSync(${JSON.stringify(logFile)}, l + '\\n'); }
      ${exit === 'wait' ? 'setInterval(() => {}, 1000);' : `process.exit(${exit});`}
    })();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdin.end(PW + '\n');
  const session = new ClientSession(child, { host: '127.0.0.1', port: 3389, client: 'xfreerdp', logFile, tempDir: dir, verified: [], secrets: [new Secret(PW)], connectTimeoutMs: 1500, pollMs: 20 });
  return { session, dir };
}

describe('the client session', () => {
  it('is established once the active state held; a passed-on signal ends it as the caller\'s (128 + 15), and the temp dir goes', async () => {
    const { session, dir } = standIn([[30, line('INFO', 'com.freerdp.core', 'connecting')], [30, ACTIVE]], 'wait');
    const out = await session.outcome;
    expect(out).toMatchObject({ status: 'established', ok: true, exitCode: 0, verdict: { code: 'launch.established' } });
    expect(out.ms).toBeGreaterThanOrEqual(300);
    expect(session.running).toBe(true);
    session.stop('SIGTERM');
    const end = await session.ended;
    expect(end).toMatchObject({ established: true, ok: true, stoppedBy: 'SIGTERM', exitCode: 143, verdict: { code: 'launch.session-ended' } });
    expect(fs.existsSync(dir)).toBe(false);
  });

  it('a failure logged right after the active state is not a session: failed, with its decoded cause and the client\'s exit code', async () => {
    const { session } = standIn([[20, ACTIVE], [5, line('ERROR', 'com.freerdp.core', 'freerdp_post_connect failed')]], 138);
    const out = await session.outcome;
    expect(out).toMatchObject({ status: 'failed', ok: false, exitCode: 2, clientEnd: { code: 138, signal: null }, verdict: { code: 'launch.client-failed' } });
    // a signal after the client is gone is not passed on, and does not turn the failure into the caller's
    session.stop('SIGINT');
    expect(await session.ended).toMatchObject({ exitCode: 2, verdict: { code: 'launch.client-failed' } });
    expect((await session.ended).stoppedBy).toBeUndefined();
  });

  it('a client that neither establishes nor exits in time is stopped: launch.establish-timeout, exit 4', async () => {
    const { session } = standIn([[10, line('INFO', 'com.freerdp.core', 'connecting')]], 'wait');
    const out = await session.outcome;
    expect(out).toMatchObject({ status: 'failed', ok: false, exitCode: 4, verdict: { code: 'launch.establish-timeout' } });
    expect(out.verdict.findings[0]!.evidence).toMatchObject({ timeoutMs: 1500 });
    expect(session.running).toBe(false);
  });

  it('what the client printed becomes evidence only scrubbed of the password', async () => {
    const { session } = standIn([[10, line('ERROR', 'com.freerdp.core', `transport_connect_tls:freerdp_set_last_error_ex ERRCONNECT_TLS_CONNECT_FAILED [0x00020008]`)]], 143, `Password: ${PW}\n`);
    const out = await session.outcome;
    expect(out.verdict.code).toBe('launch.tls-failed');
    const text = JSON.stringify(out);
    expect(text).not.toContain(PW);
    expect(out.verdict.findings[0]!.evidence.output).toBe('[REDACTED]');
  });

  it('disposing a running session stops the client and waits for it', async () => {
    const { session } = standIn([[10, ACTIVE]], 'wait');
    await session.outcome;
    await session[Symbol.asyncDispose]();
    expect(session.running).toBe(false);
  });
});
