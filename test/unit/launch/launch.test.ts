import { describe, it, expect } from 'vitest';
import { buildRdpFile, encodeRdpFile, planLaunch } from '../../../src/launch/launch.js';
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
  it('Linux: xfreerdp reads the password from stdin, never argv', () => {
    const p = planLaunch({ host: 'h', username: 'alice', platform: 'linux', rdpFile: '/tmp/x.rdp', clientArgs: ['/cert:tofu'] });
    expect(p.command).toBe('xfreerdp');
    expect(p.args).toEqual(['/tmp/x.rdp', '/from-stdin:force', '/cert:tofu']);
    expect(p.passwordVia).toBe('stdin');
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

describe('the client\'s environment', () => {
  it('drops the password\'s variable, any variable holding the password, and credential-named variables', async () => {
    const { clientEnv } = await import('../../../src/launch/launch.js');
    const { Secret } = await import('../../../src/core/secret.js');
    const env = clientEnv({
      password: new Secret('Pw!launch-1'),
      omitEnv: ['RDP_PW'],
      env: {
        RDP_PW: 'Pw!launch-1', COPY: 'Pw!launch-1', VAULT_TOKEN: 'hvs.x', VAULT_ADDR: 'https://v', AWS_SECRET_ACCESS_KEY: 'k', AWS_PROFILE: 'p',
        AZURE_CLIENT_SECRET: 's', MY_API_KEY: 'a', DB_PASSWORD: 'd', SS_CLIENT_SECRET: 'c', GH_TOKEN: 't', CCP_KEY_PASSPHRASE: 'q',
        DISPLAY: ':0', HOME: '/home/u', PATH: '/usr/bin', XAUTHORITY: '/x', LANG: 'C.UTF-8', PASSTHROUGH_MODE: '1', TOKENIZER: 'y',
      },
    });
    expect(Object.keys(env).sort()).toEqual(['DISPLAY', 'HOME', 'LANG', 'PASSTHROUGH_MODE', 'PATH', 'TOKENIZER', 'XAUTHORITY']);
  });
});
