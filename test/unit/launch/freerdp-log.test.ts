// FreeRDP 2.11's log read as the client runs: the established signal, and the client's own account
// of a failure, on logs xfreerdp wrote against the lab's FreeRDP servers (fixtures/*.log say which).
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { emptyClientLog, parseLogLine, readLogLine, readLogText } from '../../../src/launch/freerdp-log.js';
import { clientCause, clientEndFindings, ERRCONNECT_CAUSES, errinfoCause, exitCodeCause, xfExitName } from '../../../src/launch/client-outcome.js';
import { CATALOG } from '../../../src/findings/catalog.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (name: string) => readLogText(emptyClientLog(), fs.readFileSync(path.join(here, 'fixtures', `${name}.log`), 'utf8'));
const PIN = '827DCED9989751E73665464 9C1CA38BDD0FAEA1F32A590F360875B468A08BDC9'.replace(/ /g, '');
const ctx = { host: '127.0.0.1', port: 34437, client: 'xfreerdp', verified: [] as string[], established: false };

describe("FreeRDP's log", () => {
  it('parses WLog lines and ignores what is not one', () => {
    expect(parseLogLine('[14:57:03:091] [27632:27640] [ERROR][com.freerdp.crypto] - certificate not trusted, aborting.')).toEqual({ level: 'ERROR', tag: 'com.freerdp.crypto', text: 'certificate not trusted, aborting.' });
    expect(parseLogLine('Password: ')).toBeUndefined();
    expect(parseLogLine('# a comment')).toBeUndefined();
  });

  it('an established session: CONNECTION_STATE_ACTIVE with no failure after it', () => {
    const log = fixture('pinned');
    expect(log.active).toBe(true);
    expect(log.failures).toBe(0);
    expect(log.failuresAtActive).toBe(0);
    expect(log.caughtSignal).toBe('Terminated');
    // the backtrace after the signal is not kept as evidence
    expect(log.lines.some((l) => /libwinpr/.test(l))).toBe(false);
  });

  it('a failure right after the active state (post-connect) counts against it', () => {
    const log = emptyClientLog();
    readLogLine(log, '[1:2:3:4] [1:2] [DEBUG][com.freerdp.core.connection] - rdp_client_transition_to_state CONNECTION_STATE_FINALIZATION --> CONNECTION_STATE_ACTIVE');
    expect(log.failures).toBe(log.failuresAtActive);
    readLogLine(log, '[1:2:3:4] [1:2] [ERROR][com.freerdp.core] - freerdp_post_connect failed');
    expect(log.failures).toBeGreaterThan(log.failuresAtActive!);
    expect(clientCause(log, { code: 138, signal: null }, ctx)).toEqual({ code: 'launch.client-failed', variant: 'config' });
  });

  it('the verified certificate pinned, another one presented: launch.cert-changed, exit 4, with what the client saw', () => {
    const log = fixture('changed');
    expect(log).toMatchObject({ certRefused: true, nameMismatch: true, verifyFailure: 'unable to get local issuer certificate (20)', errconnect: { name: 'ERRCONNECT_TLS_CONNECT_FAILED', code: 8, hex: '0x00020008' } });
    expect(log.certNames).toEqual(['rdp.pamtest.local', 'localhost']);
    const [f] = clientEndFindings(log, { code: 143, signal: null }, { ...ctx, verified: [PIN] });
    expect(f).toMatchObject({ code: 'launch.cert-changed', severity: 'error' });
    expect(f!.message).toContain('not the one credgate verified (SHA-256 82:7D:CE:');
    expect(f!.evidence).toMatchObject({ clientExitCode: 143, clientExit: 'XF_EXIT_TLS_CONNECT_FAILED', errconnect: 'ERRCONNECT_TLS_CONNECT_FAILED [0x00020008]', clientVerify: 'unable to get local issuer certificate (20)' });
    expect(f!.remediation.length).toBeGreaterThan(0);
  });

  it('no certificate verified, the client refuses the name: launch.cert-refused (name-mismatch), naming the certificate\'s name', () => {
    const [f] = clientEndFindings(fixture('deny'), { code: 143, signal: null }, ctx);
    expect(f).toMatchObject({ code: 'launch.cert-refused' });
    expect(f!.message).toContain('issued for vm');
    expect(f!.remediation[0]!.action).toContain('--rdp-ca-file');
    expect(f!.remediation[1]!.action).toContain('(vm)');
    expect(clientEndFindings(fixture('expired'), { code: 143, signal: null }, ctx)[0]!.code).toBe('launch.cert-refused');
  });

  it('a security layer the host refuses: launch.nego-failed with the host\'s answer', () => {
    const log = fixture('sectls');
    expect(log.negoFailure).toBe('HYBRID_REQUIRED_BY_SERVER');
    const [f] = clientEndFindings(log, { code: 133, signal: null }, ctx);
    expect(f).toMatchObject({ code: 'launch.nego-failed', evidence: { errconnect: 'ERRCONNECT_SECURITY_NEGO_CONNECT_FAILED [0x0002000C]', negotiation: 'HYBRID_REQUIRED_BY_SERVER' } });
    expect(f!.remediation[0]!.action).toContain('HYBRID_REQUIRED_BY_SERVER');
  });

  it('the "extended 0x7": ERRINFO_SERVER_DENIED_CONNECTION decides over the transport error that follows it, before or after the session was up', () => {
    const log = readLogText(emptyClientLog(), [
      '[1:2:3:4] [1:2] [INFO][com.freerdp.core] - ERRINFO_SERVER_DENIED_CONNECTION (0x00000007):The server denied the connection.',
      '[1:2:3:4] [1:2] [ERROR][com.freerdp.core] - rdp_set_error_info:freerdp_set_last_error_ex ERRINFO_SERVER_DENIED_CONNECTION [0x00010007]',
      '[1:2:3:4] [1:2] [ERROR][com.freerdp.core] - transport_read_layer:freerdp_set_last_error_ex ERRCONNECT_CONNECT_TRANSPORT_FAILED [0x0002000D]',
    ].join('\n'));
    for (const established of [false, true]) {
      const [f] = clientEndFindings(log, { code: 7, signal: null }, { ...ctx, established });
      expect(f).toMatchObject({ code: 'launch.server-denied', evidence: { errinfo: 'ERRINFO_SERVER_DENIED_CONNECTION [0x00000007] The server denied the connection.', clientExit: 'XF_EXIT_CONN_DENIED' } });
      expect(f!.message).toContain(established ? 'after the session was established' : 'before the session was established');
    }
  });

  it('a session the user ended is not a failure; before the session was up, no exit is a success', () => {
    const logoff = readLogText(emptyClientLog(), '[1:2:3:4] [1:2] [INFO][com.freerdp.core] - ERRINFO_LOGOFF_BY_USER (0x0000000C):The disconnection was initiated by the user logging off their session on the server.');
    expect(clientEndFindings(logoff, { code: 12, signal: null }, { ...ctx, established: true })[0]).toMatchObject({ code: 'launch.session-ended', severity: 'info' });
    expect(clientEndFindings(emptyClientLog(), { code: 0, signal: null }, { ...ctx, established: true })[0]!.code).toBe('launch.session-ended');
    expect(clientEndFindings(emptyClientLog(), { code: 0, signal: null }, ctx)[0]).toMatchObject({ code: 'launch.client-exited', severity: 'error' });
    expect(clientEndFindings(emptyClientLog(), { code: null, signal: 'SIGKILL' }, ctx)[0]!.message).toContain('signal SIGKILL');
    const stopped = clientEndFindings(fixture('pinned'), { code: 143, signal: null }, { ...ctx, established: true, stoppedBy: 'SIGTERM' });
    expect(stopped[0]).toMatchObject({ code: 'launch.session-ended', evidence: { stoppedBy: 'SIGTERM' } });
  });

  it('a display the client cannot open, and an exit code alone', () => {
    const display = readLogText(emptyClientLog(), '[1:2:3:4] [1:2] [ERROR][com.freerdp.client.x11] - failed to open display: ');
    expect(clientCause(display, { code: 1, signal: null }, ctx)).toEqual({ code: 'launch.client-failed', variant: 'display' });
    expect(clientCause(emptyClientLog(), { code: 154, signal: null }, ctx)).toEqual({ code: 'launch.logon-failure', variant: 'default' });
    expect(clientCause(emptyClientLog(), { code: 135, signal: null }, ctx)).toEqual({ code: 'launch.account-unusable', variant: 'locked' });
    expect(clientCause(emptyClientLog(), { code: 128, signal: null }, ctx)).toEqual({ code: 'launch.client-failed', variant: 'arguments' });
    expect(clientCause(emptyClientLog(), { code: 18, signal: null }, ctx)).toEqual({ code: 'launch.licensing', variant: 'default' });
    expect(clientCause(emptyClientLog(), { code: 200, signal: null }, ctx)).toEqual({ code: 'launch.client-exited', variant: 'default' });
    expect(xfExitName(7)).toBe('XF_EXIT_CONN_DENIED');
    expect(xfExitName(159)).toBe('XF_EXIT_CONNECT_NO_OR_MISSING_CREDENTIALS');
  });

  it('every decoded cause names a catalog row that has fixes for its context', () => {
    const causes = [
      ...Object.values(ERRCONNECT_CAUSES),
      ...[...Array(0x1200).keys()].map((c) => errinfoCause(c)),
      ...[...Array(256).keys()].flatMap((c) => [exitCodeCause(c, false), exitCodeCause(c, true)]),
      { code: 'launch.cert-changed', variant: 'default' }, { code: 'launch.establish-timeout', variant: 'default' }, { code: 'launch.connect-failed', variant: 'lost' },
      ...['name-mismatch', 'untrusted', 'host-key-changed'].map((variant) => ({ code: 'launch.cert-refused', variant })),
    ].filter((c): c is { code: string; variant: string } => !!c);
    for (const c of causes) {
      const row = (CATALOG as Record<string, { fix?: Record<string, unknown[]> }>)[c.code];
      expect(row, c.code).toBeDefined();
      expect(row!.fix?.[c.variant]?.length, `${c.code} / ${c.variant}`).toBeGreaterThan(0);
    }
  });
});
