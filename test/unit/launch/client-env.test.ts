// The client's environment is an allow-list (issue 14, defect 4): a vault token under any name, a
// URL with the password inside, a service account's password: none of them reaches the client.
import { describe, it, expect } from 'vitest';
import { clientEnv, clientEnvironment, allowedClientVariable, configuredSecretEnvNames } from '../../../src/launch/client-env.js';
import { Secret } from '../../../src/core/secret.js';

const PW = 'Pw!launch-14-d4';
const SVC = 'Svc-Reader-pw-77';
const TOKEN = 'hvs.CAESIissue14-token';

describe("the client's environment", () => {
  it('keeps what xfreerdp and mstsc need and nothing else: no vault token, no variable carrying the password or a configured secret', () => {
    const caller = {
      // what the issue found in the client's /proc/<pid>/environ
      PAM_VT: TOKEN, DB_URL: `ldap://alice:${PW}@dc`, RDP_PW: PW,
      // credential-named and innocently named variables alike are not on the list
      VAULT_TOKEN: TOKEN, AWS_SECRET_ACCESS_KEY: 'aws-k', SVC_PW: SVC, NODE_OPTIONS: '--require /x.js', LD_PRELOAD: '/evil.so', EDITOR: 'vi',
      // allow-listed names whose values carry a secret are dropped too
      XDG_SESSION_NOTE: `token ${TOKEN} here`, LC_PAPER: `a4-${PW}`, TZ: SVC,
      // what the client needs
      PATH: '/usr/bin:/bin', HOME: '/home/u', DISPLAY: ':0', XAUTHORITY: '/home/u/.Xauthority', LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8',
      XDG_CONFIG_HOME: '/home/u/.config', XDG_RUNTIME_DIR: '/run/user/1000', USER: 'u', WAYLAND_DISPLAY: 'wayland-0',
    };
    const { env, droppedForValue } = clientEnvironment({ env: caller, password: new Secret(PW), secrets: [new Secret(SVC), TOKEN], platform: 'linux' });
    expect(Object.keys(env).sort()).toEqual(['DISPLAY', 'HOME', 'LANG', 'LC_ALL', 'PATH', 'USER', 'WAYLAND_DISPLAY', 'XAUTHORITY', 'XDG_CONFIG_HOME', 'XDG_RUNTIME_DIR']);
    expect(droppedForValue.sort()).toEqual(['LC_PAPER', 'TZ', 'XDG_SESSION_NOTE']);
    for (const v of Object.values(env)) for (const s of [PW, SVC, TOKEN]) expect(v).not.toContain(s);
  });

  it('adds what credgate sets (the log settings) after the allow-list', () => {
    const env = clientEnv({ env: { PATH: '/bin', WLOG_APPENDER: 'CONSOLE' }, password: new Secret(PW), set: { WLOG_APPENDER: 'FILE' }, platform: 'linux' });
    expect(env).toEqual({ PATH: '/bin', WLOG_APPENDER: 'FILE' });
  });

  it('Windows names are matched case-insensitively (SystemRoot, windir, ProgramFiles(x86))', () => {
    for (const n of ['SystemRoot', 'windir', 'ProgramFiles(x86)', 'APPDATA', 'Path']) expect(allowedClientVariable(n, 'win32')).toBe(true);
    expect(allowedClientVariable('SystemRoot', 'linux')).toBe(false);
    expect(allowedClientVariable('XDG_', 'linux')).toBe(false);
  });

  it('a 1–3 character secret is compared whole, so it cannot empty PATH; a longer one anywhere in a value', () => {
    const env = clientEnv({ env: { PATH: '/usr/bin', HOME: 'usr', LANG: `x${PW}x` }, password: new Secret('usr'), secrets: [PW], platform: 'linux' });
    expect(env).toEqual({ PATH: '/usr/bin' });
  });

  it('names the variables a configuration says hold secrets (tokenEnv, passwordEnv, nested secretIdEnv)', () => {
    const names = configuredSecretEnvNames({
      providers: {
        v: { type: 'vault', options: { address: 'https://v', tokenEnv: 'PAM_VT', approle: { roleId: 'r', secretIdEnv: 'ROLE_SECRET' } } },
        d: { type: 'delinea', options: { passwordEnv: 'TSS_PW', username: 'u' } },
        m: { module: './x.mjs', options: { log: '/tmp/l' } },
      },
    });
    expect(names.sort()).toEqual(['PAM_VT', 'ROLE_SECRET', 'TSS_PW']);
    expect(configuredSecretEnvNames(undefined)).toEqual([]);
  });
});
