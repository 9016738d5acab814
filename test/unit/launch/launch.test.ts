import { describe, it, expect } from 'vitest';
import { buildRdpFile, encodeRdpFile, planLaunch, materializeLaunchPlan } from '../../../src/launch/launch.js';
import fs from 'node:fs';
import { CredgateError } from '../../../src/core/errors.js';

describe('.rdp file', () => {
  it('names the host, port and user, and never a password', () => {
    const t = buildRdpFile({ host: 'web01.pamtest.local', port: 3390, username: 'alice', domain: 'PAMTEST' });
    expect(t.split('\r\n')).toEqual(expect.arrayContaining(['full address:s:web01.pamtest.local:3390', 'username:s:PAMTEST\\alice', 'prompt for credentials:i:0', 'enablecredsspsupport:i:1']));
    expect(t).not.toMatch(/password/i);
    expect(buildRdpFile({ host: '::1', port: 3390, username: 'a@b.c' })).toContain('full address:s:[::1]:3390');
    expect(buildRdpFile({ host: 'h', username: 'a@b.c' })).toContain('full address:s:h\r\n');
  });

  it('refuses line breaks that would inject settings', () => {
    expect(() => buildRdpFile({ host: 'h\r\nalternate shell:s:calc', username: 'a' })).toThrow(CredgateError);
    expect(() => buildRdpFile({ host: 'h', username: 'a\nb' })).toThrow(/username contains a line break/);
  });

  it('is written as UTF-16LE with a BOM, as mstsc writes it', () => {
    const b = encodeRdpFile('full address:s:h\r\n');
    expect([...b.subarray(0, 4)]).toEqual([0xff, 0xfe, 0x66, 0x00]);
    expect(b.subarray(2).toString('utf16le')).toBe('full address:s:h\r\n');
  });
});

describe('launch plan', () => {
  const FP = 'C6E65B' + '00'.repeat(29);
  it('Linux: xfreerdp reads the password from stdin, never argv, and refuses without asking any certificate credgate did not verify', () => {
    const p = planLaunch({ host: 'h', username: 'alice', platform: 'linux', rdpFile: '/tmp/x.rdp', clientArgs: ['/size:800x600'] });
    expect(p.command).toBe('xfreerdp');
    expect(p.args).toEqual(['/tmp/x.rdp', '/from-stdin:force', '/cert:deny', '/size:800x600']);
    expect(p.passwordVia).toBe('stdin');
    expect(p.verified).toEqual([]);
  });

  it('Linux: the verified certificate is the only one the client accepts, colon-separated lower-case as FreeRDP 2.11 compares it', () => {
    const p = planLaunch({ host: 'h', username: 'alice', platform: 'linux', rdpFile: '/tmp/x.rdp', verifiedCertificates: [FP] });
    expect(p.args[2]).toBe(`/cert:deny,fingerprint:sha256:c6:e6:5b:${'00:'.repeat(28)}00`);
    expect(p.verified).toEqual([FP]);
  });

  it("the caller's own /cert option decides instead (and nothing is then claimed as pinned)", () => {
    for (const own of ['/cert:ignore', '/cert:tofu', '-cert-ignore', '/cert-deny']) {
      const p = planLaunch({ host: 'h', username: 'alice', platform: 'linux', rdpFile: '/tmp/x.rdp', verifiedCertificates: [FP], clientArgs: [own] });
      expect(p.args).toEqual(['/tmp/x.rdp', '/from-stdin:force', own]);
      expect(p.verified).toEqual([]);
    }
  });

  it("the client's log goes to the private temp dir through WLog's file appender; /log-level and /log-filters are credgate's", () => {
    const p = planLaunch({ host: 'h', username: 'alice', platform: 'linux' });
    expect(p.pendingTempDir).toBe(true);
    expect(p.clientEnvSet).toMatchObject({ WLOG_APPENDER: 'FILE', WLOG_LEVEL: 'INFO', WLOG_FILTER: 'com.freerdp.core.connection:DEBUG' });
    expect(p.logFile).toBe(`${p.clientEnvSet!.WLOG_FILEAPPENDER_OUTPUT_FILE_PATH}/${p.clientEnvSet!.WLOG_FILEAPPENDER_OUTPUT_FILE_NAME}`);
    expect(() => planLaunch({ host: 'h', username: 'a', platform: 'linux', clientArgs: ['/log-level:TRACE'] })).toThrow(/\/log-level is set by credgate/);
    const real = materializeLaunchPlan(p);
    try {
      expect(fs.statSync(real.tempDir!).mode & 0o777).toBe(0o700);
      expect(real.logFile!.startsWith(real.tempDir! + '/')).toBe(true);
      expect(real.rdpFile.startsWith(real.tempDir! + '/')).toBe(true);
      expect(real.clientEnvSet!.WLOG_FILEAPPENDER_OUTPUT_FILE_PATH).toBe(real.tempDir);
      expect(real.args[0]).toBe(real.rdpFile);
    } finally {
      fs.rmSync(real.tempDir!, { recursive: true, force: true });
    }
  });

  it('Windows: mstsc with the password in Credential Manager', () => {
    const p = planLaunch({ host: 'h', username: 'alice', platform: 'win32', rdpFile: 'C:\\t\\x.rdp' });
    expect(p).toMatchObject({ command: 'mstsc.exe', args: ['C:\\t\\x.rdp'], passwordVia: 'credential-manager' });
  });

  it('refuses a password smuggled into client arguments, and unknown platforms', () => {
    expect(() => planLaunch({ host: 'h', username: 'a', platform: 'linux', clientArgs: ['/p:Secret1'] })).toThrow(/password was passed/);
    expect(() => planLaunch({ host: 'h', username: 'a', platform: 'aix' })).toThrow(/not supported on aix/);
  });
});

describe('launch', () => {
  it('a client that cannot be started is a clear error, and the private temp dir does not stay behind', async () => {
    const { launch } = await import('../../../src/launch/launch.js');
    const { Secret } = await import('../../../src/core/secret.js');
    const os = await import('node:os');
    const path = await import('node:path');
    // a TMPDIR of this test's own: os.tmpdir() reads it at each call
    const saved = process.env.TMPDIR;
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-launch-enoent-'));
    process.env.TMPDIR = tmp;
    try {
      await expect(launch({ host: '127.0.0.1', username: 'a', password: new Secret('pw-never-used'), platform: 'linux', client: '/nonexistent/xfreerdp', env: { PATH: '/usr/bin' } })).rejects.toThrow(/Could not start \/nonexistent\/xfreerdp \(ENOENT\); install FreeRDP/);
      for (const t0 = Date.now(); fs.readdirSync(tmp).length && Date.now() - t0 < 2000;) await new Promise((r) => setTimeout(r, 20));
      expect(fs.readdirSync(tmp)).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
