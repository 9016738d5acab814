/**
 * The RDP client's environment: an allow-list of what xfreerdp and mstsc need (display, home,
 * locale, XDG directories, the Windows system variables), never the caller's whole environment,
 * and no allowed variable whose value carries the password or another configured secret.
 * /proc/<pid>/environ of the client is readable by the user and root for the whole session.
 */
import type { Secret } from '../core/secret.js';

/** Variables the client gets by exact name (compared case-insensitively on Windows). */
export const CLIENT_ENV_NAMES: readonly string[] = [
  // POSIX: where things are, who is running, the terminal's locale and time zone
  'PATH', 'HOME', 'USER', 'LOGNAME', 'TMPDIR', 'TZ', 'LANG', 'LANGUAGE',
  // X11 / Wayland: xfreerdp needs DISPLAY (it exits when it cannot open one) and the X cookie
  'DISPLAY', 'XAUTHORITY', 'WAYLAND_DISPLAY',
  // audio redirection and the session bus (PulseAudio finds its server through them)
  'PULSE_SERVER', 'DBUS_SESSION_BUS_ADDRESS',
  // the system's trust store for the client's own certificate check (OpenSSL)
  'SSL_CERT_FILE', 'SSL_CERT_DIR',
  // Kerberos realm configuration (not the ticket cache: the client logs on with the password it is given)
  'KRB5_CONFIG',
  // Windows: mstsc and the DLLs it loads
  'SYSTEMROOT', 'SYSTEMDRIVE', 'WINDIR', 'COMSPEC', 'PATHEXT', 'TEMP', 'TMP', 'USERPROFILE', 'APPDATA', 'LOCALAPPDATA',
  'PROGRAMDATA', 'PROGRAMFILES', 'PROGRAMFILES(X86)', 'PROGRAMW6432', 'COMMONPROGRAMFILES', 'COMMONPROGRAMFILES(X86)',
  'HOMEDRIVE', 'HOMEPATH', 'USERNAME', 'USERDOMAIN', 'USERDNSDOMAIN', 'COMPUTERNAME', 'LOGONSERVER', 'SESSIONNAME',
  'PUBLIC', 'OS', 'PROCESSOR_ARCHITECTURE', 'NUMBER_OF_PROCESSORS',
];

/** Variables the client gets by prefix: the locale categories and the XDG base directories. */
export const CLIENT_ENV_PREFIXES: readonly string[] = ['LC_', 'XDG_'];

export interface ClientEnvOptions {
  /** The caller's environment (default `process.env`); only allow-listed variables are taken from it. */
  env?: NodeJS.ProcessEnv;
  /** The password the client gets on its stdin. */
  password: Secret;
  /** Other secrets that must not reach the client in any variable: a service account's password, a vault token. */
  secrets?: ReadonlyArray<Secret | string>;
  /** Set by credgate for the client (its log settings), after the allow-list. */
  set?: Record<string, string>;
  /** Further variable names the caller wants the client to get (a wrapper's settings); their values are checked for secrets like any other. */
  pass?: readonly string[];
  platform?: NodeJS.Platform;
}

/** Whether a variable name is on the allow-list (Windows names are case-insensitive). */
export function allowedClientVariable(name: string, platform: NodeJS.Platform = process.platform): boolean {
  const n = platform === 'win32' ? name.toUpperCase() : name;
  return CLIENT_ENV_NAMES.includes(n) || CLIENT_ENV_PREFIXES.some((p) => n.startsWith(p) && n.length > p.length);
}

/** The shortest secret compared as a substring; a shorter one is compared whole (a 1-character secret would drop PATH). */
const MIN_SUBSTRING = 4;

/**
 * The client's environment: the allow-listed variables of `env`, minus any whose value contains
 * the password or one of `secrets`, plus `set`. Returns the environment and the names left out
 * because of their value (names only; never a value).
 */
export function clientEnvironment(o: ClientEnvOptions): { env: NodeJS.ProcessEnv; droppedForValue: string[] } {
  const secrets = [o.password, ...(o.secrets ?? [])].map((s) => (typeof s === 'string' ? s : s.reveal())).filter((s) => s.length > 0);
  const carries = (v: string) => secrets.some((s) => v === s || (s.length >= MIN_SUBSTRING && v.includes(s)));
  const fold = (n: string) => ((o.platform ?? process.platform) === 'win32' ? n.toUpperCase() : n);
  const pass = new Set((o.pass ?? []).map(fold));
  const passed = (k: string) => pass.has(fold(k));
  const env: NodeJS.ProcessEnv = {};
  const droppedForValue: string[] = [];
  for (const [k, v] of Object.entries(o.env ?? process.env)) {
    if (v === undefined || !(allowedClientVariable(k, o.platform) || passed(k))) continue;
    if (carries(v)) droppedForValue.push(k);
    else env[k] = v;
  }
  return { env: { ...env, ...o.set }, droppedForValue };
}

/** The client's environment (see clientEnvironment). */
export function clientEnv(o: ClientEnvOptions): NodeJS.ProcessEnv {
  return clientEnvironment(o).env;
}

/**
 * The environment variables a credgate configuration names as holding secrets: every provider
 * option whose key ends in `Env` (`tokenEnv`, `passwordEnv`, `approle.secretIdEnv`, ...).
 */
export function configuredSecretEnvNames(config: { providers?: Record<string, unknown> } | undefined): string[] {
  const out = new Set<string>();
  const walk = (v: unknown, depth: number): void => {
    if (depth > 6 || v === null || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (/Env$/.test(k) && typeof x === 'string' && x.length > 0) out.add(x);
      else walk(x, depth + 1);
    }
  };
  for (const entry of Object.values(config?.providers ?? {})) walk(entry, 0);
  return [...out];
}
