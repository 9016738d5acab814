/**
 * Start an RDP session once the preflight passed: write a .rdp file and start the platform's
 * client with the password handed over out of band — through stdin for xfreerdp (`/from-stdin`),
 * never on argv where `ps` and shell history would see it. On Windows, mstsc reads the password
 * from Credential Manager (TERMSRV/<host>), which credgate writes through CredWriteW just
 * before starting it (exercised by the Windows tier under Wine, with a stand-in for mstsc).
 */
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { spawn, type ChildProcess } from 'node:child_process';
import { CredgateError, UnsupportedPlatformError } from '../core/errors.js';
import type { Secret } from '../core/secret.js';

export interface RdpFileOptions {
  host: string;
  port?: number;
  username: string;
  domain?: string;
  /** Extra `key:type:value` lines, e.g. `screen mode id:i:2`. */
  extra?: string[];
}

/** The .rdp file content (mstsc and xfreerdp both read it). */
export function buildRdpFile(o: RdpFileOptions): string {
  for (const [k, v] of [['host', o.host], ['username', o.username], ['domain', o.domain ?? '']] as const) {
    if (/[\r\n]/.test(v)) {
      throw new CredgateError(`The ${k} contains a line break, which would inject settings into the .rdp file; fix the ${k}.`, { code: 'CONFIG_INVALID', details: { field: k } });
    }
  }
  const address = o.port && o.port !== 3389 ? `${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port}` : o.host;
  const user = o.domain && !o.username.includes('\\') && !o.username.includes('@') ? `${o.domain}\\${o.username}` : o.username;
  const lines = [
    `full address:s:${address}`,
    `username:s:${user}`,
    'prompt for credentials:i:0',
    'enablecredsspsupport:i:1',
    'authentication level:i:2',
    'negotiate security layer:i:1',
    'screen mode id:i:2',
    'redirectclipboard:i:1',
    ...(o.extra ?? []),
  ];
  return lines.join('\r\n') + '\r\n';
}

/** UTF-16LE with a BOM, as mstsc writes .rdp files (xfreerdp reads it too). */
export function encodeRdpFile(text: string): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
}

export interface LaunchPlan {
  platform: NodeJS.Platform;
  rdpFile: string;
  command: string;
  args: string[];
  /** How the password reaches the client. */
  passwordVia: 'stdin' | 'credential-manager';
  /** What a human sees for --dry-run (no secret). */
  display: string;
  /**
   * True while `rdpFile` is only a placeholder inside a private temp dir that does not exist yet:
   * planning writes nothing (a dry run must not); `materializeLaunchPlan` (called by `launch`)
   * creates the directory and puts the real path in `rdpFile` and `args`.
   */
  pendingTempDir?: boolean;
  /** The private temp dir `materializeLaunchPlan` made; removed when the client exits. */
  tempDir?: string;
}

export interface LaunchOptions extends RdpFileOptions {
  password: Secret;
  /** Where to write the .rdp file; default a private temp dir. */
  rdpFile?: string;
  platform?: NodeJS.Platform;
  /** Extra client arguments (e.g. /cert:tofu, /size:1280x800). Never put a password here. */
  clientArgs?: string[];
  /** xfreerdp binary (default `xfreerdp`). */
  client?: string;
  /** The client's environment (default `process.env`), before `omitEnv` is applied. */
  env?: NodeJS.ProcessEnv;
  /**
   * Variables the client must not inherit: the ones the password (or a service account's) came
   * from, e.g. `--password-env`'s. Any variable whose value is the password is dropped as well.
   */
  omitEnv?: string[];
}

const TEMP_PLACEHOLDER = 'credgate-rdp-XXXXXX';

export function planLaunch(o: Omit<LaunchOptions, 'password'>): LaunchPlan {
  const platform = o.platform ?? process.platform;
  // no directory is made here (a dry run writes nothing): launch() creates it
  const rdpFile = o.rdpFile ?? path.join(os.tmpdir(), TEMP_PLACEHOLDER, `${o.host.replace(/[^\w.-]/g, '_')}.rdp`);
  const pending = o.rdpFile === undefined ? { pendingTempDir: true } : {};
  for (const a of o.clientArgs ?? []) {
    if (/^[/-]p(assword)?[:=]/i.test(a)) {
      throw new CredgateError('A password was passed among the client arguments; credgate hands the password over through stdin or Credential Manager only.', { code: 'USAGE' });
    }
  }
  if (platform === 'win32') {
    return { platform, rdpFile, command: 'mstsc.exe', args: [rdpFile, ...(o.clientArgs ?? [])], passwordVia: 'credential-manager', display: `mstsc.exe ${rdpFile}  (password stored for TERMSRV/${o.host} in Credential Manager first)`, ...pending };
  }
  if (platform === 'linux' || platform === 'freebsd' || platform === 'openbsd') {
    const client = o.client ?? 'xfreerdp';
    const args = [rdpFile, '/from-stdin:force', ...(o.clientArgs ?? [])];
    return { platform, rdpFile, command: client, args, passwordVia: 'stdin', display: `${client} ${args.join(' ')}  (password on stdin)`, ...pending };
  }
  throw new UnsupportedPlatformError(`Launching an RDP client is not supported on ${platform}; open the .rdp file with your client.`, { code: 'UNSUPPORTED_PLATFORM', details: { platform } });
}

/** Create the plan's private temp directory (mode 0700) and return the plan with the real .rdp path. */
export function materializeLaunchPlan(plan: LaunchPlan): LaunchPlan {
  if (!plan.pendingTempDir) return plan;
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-rdp-'));
  const rdpFile = path.join(tempDir, path.basename(plan.rdpFile));
  const args = plan.args.map((a) => (a === plan.rdpFile ? rdpFile : a));
  const { pendingTempDir: _done, ...rest } = plan;
  return { ...rest, rdpFile, args, tempDir, display: plan.display.split(plan.rdpFile).join(rdpFile) };
}

/**
 * Variable names that carry credentials by convention (vault tokens, cloud keys, passwords): the
 * RDP client needs none of them, and its /proc/<pid>/environ is readable by the user and root.
 */
export const SECRET_ENV_NAME = /(PASS(WORD|WD|PHRASE)?|SECRET|TOKEN|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIALS?)(_|$)|^(VAULT_|BAO_|AWS_|AZURE_CLIENT_|ARM_CLIENT_|CYBERARK_|DELINEA_|TSS_)/i;

/**
 * The client's environment: `env` without `omitEnv`, without any variable holding the password,
 * and without variables whose names say they hold a credential (SECRET_ENV_NAME).
 */
export function clientEnv(o: Pick<LaunchOptions, 'env' | 'omitEnv' | 'password'>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...(o.env ?? process.env) };
  // Windows variable names ignore case (--password-env rdp_pw reads RDP_PW): the copy above is a
  // plain object, so the names to omit are matched without case there
  const fold = (n: string) => (process.platform === 'win32' ? n.toUpperCase() : n);
  const omit = new Set((o.omitEnv ?? []).map(fold));
  for (const k of Object.keys(env)) if (omit.has(fold(k))) delete env[k];
  const pw = o.password.reveal();
  for (const [k, v] of Object.entries(env)) {
    if ((v !== undefined && pw.length > 0 && v === pw) || SECRET_ENV_NAME.test(k)) delete env[k];
  }
  return env;
}

/**
 * Write the .rdp file (mode 0600) and start the client. Returns the child; the caller owns it.
 * Pass a plan from `planLaunch` through `materializeLaunchPlan` first to know the .rdp file's path.
 */
export async function launch(o: LaunchOptions, planned: LaunchPlan = planLaunch(o)): Promise<ChildProcess> {
  const plan = materializeLaunchPlan(planned);
  fs.writeFileSync(plan.rdpFile, encodeRdpFile(buildRdpFile(o)), { mode: 0o600 });
  let child: ChildProcess;
  if (plan.passwordVia === 'credential-manager') {
    // the user the .rdp file names (buildRdpFile): DOMAIN\user for a bare name, a UPN as it is
    await storeTermsrvCredential(o.host, o.domain && !o.username.includes('\\') && !o.username.includes('@') ? `${o.domain}\\${o.username}` : o.username, o.password);
    child = spawn(plan.command, plan.args, { stdio: 'ignore', detached: true, env: clientEnv(o) });
  } else {
    // the client never inherits the variable the password came from (/proc/<pid>/environ is readable by the user and root)
    child = spawn(plan.command, plan.args, { stdio: ['pipe', 'inherit', 'inherit'], env: clientEnv(o) });
    // xfreerdp /from-stdin:force asks for what the .rdp file lacks: only the password
    child.stdin?.on('error', () => {});
    child.stdin?.end(o.password.reveal() + '\n');
  }
  // the private temp folder (made by materializeLaunchPlan) goes when the client is done with the file
  // 'close' also comes when the client could not start at all ('error' without 'exit')
  const tempDir = plan.tempDir;
  if (tempDir) child.once('close', () => fs.rmSync(tempDir, { recursive: true, force: true }));
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', (e) =>
      reject(new CredgateError(`Could not start ${plan.command} (${(e as NodeJS.ErrnoException).code ?? e.message}); ${plan.passwordVia === 'credential-manager' ? 'check that the Remote Desktop client (mstsc.exe) is installed' : 'install FreeRDP (apt-get install freerdp2-x11) or pass --client'}.`, { code: 'CONFIG_INVALID', cause: e })),
    );
  });
  return child;
}

/**
 * Windows only: a domain-password credential for TERMSRV/<host> (what mstsc reads), persisted for
 * the logon session (CRED_PERSIST_SESSION): it stays after the client exits, until the user logs
 * off. Written through the one Credential Manager binding (src/platform/windows-credman.ts).
 */
async function storeTermsrvCredential(host: string, user: string, password: Secret): Promise<void> {
  if (process.platform !== 'win32') {
    throw new UnsupportedPlatformError('Writing to Windows Credential Manager is only possible on Windows.', { code: 'UNSUPPORTED_PLATFORM' });
  }
  const { writeWindowsCredential } = await import('../platform/windows-credman.js');
  await writeWindowsCredential({ target: `TERMSRV/${host}`, type: 'domain-password', username: user, secret: password, persist: 'session', comment: 'written by credgate launch' });
}
