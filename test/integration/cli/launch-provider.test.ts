// credgate launch with a provider: the client gets the very credential the preflight fetched (one
// fetch), the provider is released only when the session ends (also after a passed-on signal), and
// no configured secret reaches the client's environment. The client is a stand-in that speaks
// FreeRDP's log (it writes the active state where WLog's file appender would) and records hashes.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { labPart, samba, sambaScenario } from '../../lab/state.js';
import { startLaunch, alive, type RdpState } from './launch-run.js';

describe('credgate launch with a provider', () => {
  it('hands the client the credential the preflight fetched (one fetch, provider disposed after the session), and no configured secret in its environment', async () => {
    const rdp = labPart<RdpState>('rdp');
    const lab = samba();
    const s = sambaScenario('good');
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-launch-test-'));
    const sha = (x: string) => createHash('sha256').update(x).digest('hex');
    const token = 'hvs.recording-provider-token-2026';
    try {
      const calls = path.join(tmp, 'calls.log');
      const seen = path.join(tmp, 'client.json');
      // a provider that answers the right password once and a wrong one after: a second fetch would show
      fs.writeFileSync(path.join(tmp, 'recording.mjs'), `
        import fs from 'node:fs';
        export default function recording(o) {
          let n = 0;
          const secret = (pw) => ({ [Symbol.for('credgate.Secret')]: true, reveal: () => pw, toString: () => '[REDACTED]', toJSON: () => '[REDACTED]' });
          return {
            name: 'recording',
            async resolve(ref) {
              fs.appendFileSync(o.log, 'resolve\\n');
              const pw = n++ === 0 ? o.first : o.later;
              return { username: o.user, secret: secret(pw), source: 'recording ' + ref };
            },
            dispose() { fs.appendFileSync(o.log, 'dispose\\n'); },
          };
        }`);
      fs.writeFileSync(path.join(tmp, 'credgate.config.json'), JSON.stringify({ providers: {
        recording: { module: './recording.mjs', options: { log: calls, user: s.downLevel, first: s.password, later: 'Second-fetch-differs-2026', tokenEnv: 'REC_TOKEN' } },
      } }));
      // a stand-in FreeRDP client: it logs the active state where WLog's file appender would, and
      // records hashes of what it got on stdin and in its environment, never the values
      const client = path.join(tmp, 'fake-xfreerdp.mjs');
      fs.writeFileSync(client, `#!${process.execPath}
        import fs from 'node:fs';
        import path from 'node:path';
        import { createHash, X509Certificate } from 'node:crypto';
        const h = (x) => createHash('sha256').update(x).digest('hex');
        let input = '';
        process.stdin.setEncoding('utf8');
        for await (const c of process.stdin) input += c;
        const log = path.join(process.env.WLOG_FILEAPPENDER_OUTPUT_FILE_PATH, process.env.WLOG_FILEAPPENDER_OUTPUT_FILE_NAME);
        fs.appendFileSync(log, '[15:00:00:000] [1:2] [DEBUG][com.freerdp.core.connection] - rdp_client_transition_to_state CONNECTION_STATE_FINALIZATION --> CONNECTION_STATE_ACTIVE\\n');
        // the session is running: the provider must not have been released yet
        await new Promise((r) => setTimeout(r, 800));
        const callsDuringSession = fs.readFileSync(${JSON.stringify(calls)}, 'utf8');
        fs.writeFileSync(${JSON.stringify(seen)}, JSON.stringify({ callsDuringSession,
          args: process.argv.slice(2), rdpFileExisted: fs.existsSync(process.argv[2]),
          stdin: h(input.replace(/\\n$/, '')), envNames: Object.keys(process.env), envValues: Object.values(process.env).map(h),
        }));
      `, { mode: 0o700 });
      const run = startLaunch([
        `127.0.0.1:${rdp.nla.port}`, '--provider', 'recording', '--ref', 'rdp/alice', '--client', client, '--client-arg', '/cert:ignore',
        '--ldap', lab.ldapsUrl, '--ca-file', lab.caFile, '--service-user', `${lab.reader.user}@pamtest.local`, '--service-password-env', 'SVC_PW',
      ], { SVC_PW: lab.reader.password, TMPDIR: tmp, REC_TOKEN: token, XDG_DATA_HOME: `/data/${token}` }, tmp);
      const r = await run.done([token]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.lines.map((l) => l.event)).toEqual(['established', 'ended']);
      expect(r.lines[0]).toMatchObject({ ok: true, launched: client, pid: expect.any(Number), trust: { mode: 'caller' } });
      expect(r.lines[1]).toMatchObject({ ok: true, code: 'launch.session-ended', clientExitCode: 0, exitCode: 0 });
      expect(fs.readFileSync(calls, 'utf8').trim().split('\n')).toEqual(['resolve', 'dispose']);
      const got = JSON.parse(fs.readFileSync(seen, 'utf8'));
      expect(got.stdin).toBe(sha(s.password));
      // released when the session ended, not when it started (a Vault library check-in rotates the password)
      expect(got.callsDuringSession.trim().split('\n')).toEqual(['resolve']);
      // and the private folder with the .rdp file went with the client
      expect(fs.existsSync(path.dirname(r.lines[0]!.rdpFile))).toBe(false);
      expect(got.args).toEqual([r.lines[0]!.rdpFile, '/from-stdin:force', '/cert:ignore']);
      expect(got.rdpFileExisted).toBe(true);
      expect(got.envNames).toContain('PATH');
      for (const n of ['SVC_PW', 'REC_TOKEN', 'XDG_DATA_HOME']) expect(got.envNames).not.toContain(n);
      for (const v of [lab.reader.password, s.password, token]) expect(got.envValues).not.toContain(sha(v));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }, 45_000);

  it('Ctrl-C / SIGTERM during the session: passed on to the client, the provider still released, exit 128+signal', async () => {
    const rdp = labPart<RdpState>('rdp');
    const lab = samba();
    const s = sambaScenario('good');
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-launch-sig-'));
    let clientPid: number | undefined;
    try {
      const calls = path.join(tmp, 'calls.log');
      fs.writeFileSync(path.join(tmp, 'vault.mjs'), `
        import fs from 'node:fs';
        export default function vault(o) {
          const secret = (pw) => ({ [Symbol.for('credgate.Secret')]: true, reveal: () => pw, toString: () => '[REDACTED]', toJSON: () => '[REDACTED]' });
          return {
            name: 'vault',
            async resolve() { fs.appendFileSync(o.log, 'resolve\\n'); return { username: o.user, secret: secret(o.pw), source: 'test vault' }; },
            dispose() { fs.appendFileSync(o.log, 'dispose\\n'); },
          };
        }`);
      fs.writeFileSync(path.join(tmp, 'credgate.config.json'), JSON.stringify({ providers: { vault: { module: './vault.mjs', options: { log: calls, user: s.downLevel, pw: s.password } } } }));
      // a stand-in FreeRDP client that holds the session until it is signalled
      const client = path.join(tmp, 'fake-xfreerdp.mjs');
      fs.writeFileSync(client, `#!${process.execPath}
        import fs from 'node:fs';
        import path from 'node:path';
        for await (const _ of process.stdin) { /* the password; not kept */ }
        fs.appendFileSync(path.join(process.env.WLOG_FILEAPPENDER_OUTPUT_FILE_PATH, process.env.WLOG_FILEAPPENDER_OUTPUT_FILE_NAME),
          '[15:00:00:000] [1:2] [DEBUG][com.freerdp.core.connection] - rdp_client_transition_to_state CONNECTION_STATE_FINALIZATION --> CONNECTION_STATE_ACTIVE\\n');
        setInterval(() => {}, 1000);
      `, { mode: 0o700 });
      const run = startLaunch([`127.0.0.1:${rdp.nla.port}`, '--provider', 'vault', '--ref', 'rdp/alice', '--client', client, '--ldap', lab.ldapsUrl, '--ca-file', lab.caFile], { TMPDIR: tmp }, tmp);
      const up = await run.event('established', 20_000);
      clientPid = up.pid as number;
      // the session runs: the provider is still held
      expect(fs.readFileSync(calls, 'utf8').trim().split('\n')).toEqual(['resolve']);
      run.child.kill('SIGTERM');
      const r = await run.done([s.password]);
      expect(r.code).toBe(143);
      expect(r.lines.at(-1)).toMatchObject({ event: 'ended', exitCode: 143, findings: [{ evidence: { stoppedBy: 'SIGTERM' } }] });
      expect(fs.readFileSync(calls, 'utf8').trim().split('\n')).toEqual(['resolve', 'dispose']);
      // the client got the signal and is gone, and so is the .rdp folder
      expect(alive(clientPid)).toBe(false);
      expect(fs.existsSync(path.dirname(up.rdpFile as string))).toBe(false);
    } finally {
      // end the stand-in client this test started, should the launcher have left it running
      if (clientPid && alive(clientPid)) process.kill(clientPid, 'SIGKILL');
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }, 45_000);
});
