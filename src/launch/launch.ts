/**
 * Start an RDP session once the preflight passed: write a .rdp file and start the platform's
 * client with the password handed over out of band — through stdin for xfreerdp (`/from-stdin`),
 * never on argv where `ps` and shell history would see it. On Windows, mstsc reads the password
 * from Credential Manager (TERMSRV/<host>), which credgate writes through CredWriteW just
 * before starting it (exercised by the Windows tier under Wine, with a stand-in for mstsc). The
 * client is then watched (session.ts) until its session is established or it exits.
 */
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { spawn, type ChildProcess } from 'node:child_process';
import { CredgateError, UnsupportedPlatformError } from '../core/errors.js';
import type { Secret } from '../core/secret.js';
import { buildRdpFile, encodeRdpFile, type RdpFileOptions } from './rdp-file.js';
import { clientEnv } from './client-env.js';
import { freerdpCertArg } from './client-trust.js';
import { FREERDP_LOG_FILTER, FREERDP_LOG_LEVEL } from './freerdp-log.js';
import { ClientSession } from './session.js';

export { buildRdpFile, encodeRdpFile, type RdpFileOptions } from './rdp-file.js';
export { clientEnv } from './client-env.js';

export interface LaunchPlan {
  platform: NodeJS.Platform;
  rdpFile: string;
  command: string;
  args: string[];
  /** How the password reaches the client. */
  passwordVia: 'stdin' | 'credential-manager';
  /** What a human sees for --dry-run (no secret). */
  display: string;
  /** FreeRDP's log, read to tell an established session from a failure (absent for mstsc). */
  logFile?: string;
  /** Variables credgate sets for the client (FreeRDP's log settings), on top of the allow-listed environment. */
  clientEnvSet?: Record<string, string>;
  /** SHA-256 fingerprints handed to the client as the only trusted certificate(s) (none when the caller's /cert option decides, or for mstsc). */
  verified: string[];
  /**
   * True while `rdpFile`/`logFile` are placeholders inside a private temp dir that does not exist
   * yet: planning writes nothing (a dry run must not); `materializeLaunchPlan` (called by `launch`)
   * creates the directory and puts the real paths in the plan.
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
  /** Extra client arguments (e.g. /size:1280x800). Never put a password here. A /cert option replaces credgate's. */
  clientArgs?: string[];
  /** A FreeRDP 2 client binary (default `xfreerdp`). */
  client?: string;
  /** The caller's environment (default `process.env`): the client gets its allow-listed variables only (client-env.ts). */
  env?: NodeJS.ProcessEnv;
  /** Other secrets no variable of the client may carry (a service account's password, a vault token). */
  secrets?: ReadonlyArray<Secret | string>;
  /** Further variables of `env` the client gets beside the allow-list (a wrapper's settings), by name; a value carrying a secret is still dropped. */
  passEnv?: readonly string[];
  /**
   * SHA-256 fingerprints (hex) of the certificate(s) credgate verified (clientTrust): FreeRDP gets
   * `/cert:deny,fingerprint:sha256:...` and accepts nothing else. Without any, `/cert:deny`.
   */
  verifiedCertificates?: readonly string[];
  /** The client must establish the session or exit within this. Default 60,000 ms. */
  connectTimeoutMs?: number;
}

const TEMP_PLACEHOLDER = 'credgate-rdp-XXXXXX';
const LOG_NAME = 'client.log';
/** Client arguments credgate sets itself, to read the client's log. */
const OWN_LOG_ARG = /^[/+-]log-(level|filters)\b/i;

export function planLaunch(o: Omit<LaunchOptions, 'password'>): LaunchPlan {
  const platform = o.platform ?? process.platform;
  // no directory is made here (a dry run writes nothing): launch() creates it
  const tempDir = path.join(os.tmpdir(), TEMP_PLACEHOLDER);
  const rdpFile = o.rdpFile ?? path.join(tempDir, `${o.host.replace(/[^\w.-]/g, '_')}.rdp`);
  const clientArgs = o.clientArgs ?? [];
  for (const a of clientArgs) {
    if (/^[/-]p(assword)?[:=]/i.test(a)) {
      throw new CredgateError('A password was passed among the client arguments; credgate hands the password over through stdin or Credential Manager only.', { code: 'USAGE' });
    }
  }
  const verified = [...(o.verifiedCertificates ?? [])].map((h) => h.replace(/[^0-9a-f]/gi, '').toUpperCase());
  if (platform === 'win32') {
    return { platform, rdpFile, command: 'mstsc.exe', args: [rdpFile, ...clientArgs], passwordVia: 'credential-manager', display: `mstsc.exe ${rdpFile}  (password stored for TERMSRV/${o.host} in Credential Manager first)`, verified: [], ...(o.rdpFile === undefined ? { pendingTempDir: true } : {}) };
  }
  if (platform === 'linux' || platform === 'freebsd' || platform === 'openbsd') {
    const own = clientArgs.find((a) => OWN_LOG_ARG.test(a));
    if (own) throw new CredgateError(`${own.split(':')[0]} is set by credgate: it reads the client's log at ${FREERDP_LOG_LEVEL} to tell an established session from a failure; run the client by hand to debug it.`, { code: 'USAGE' });
    const client = o.client ?? 'xfreerdp';
    const cert = freerdpCertArg(verified, clientArgs);
    const args = [rdpFile, '/from-stdin:force', ...(cert ? [cert] : []), ...clientArgs];
    const logFile = path.join(tempDir, LOG_NAME);
    // WLog's file appender writes (and flushes) every line: stdout to a pipe would hold INFO lines in a 4 KB buffer
    const clientEnvSet = {
      WLOG_APPENDER: 'FILE', WLOG_FILEAPPENDER_OUTPUT_FILE_PATH: tempDir, WLOG_FILEAPPENDER_OUTPUT_FILE_NAME: LOG_NAME,
      WLOG_LEVEL: FREERDP_LOG_LEVEL, WLOG_FILTER: FREERDP_LOG_FILTER,
    };
    return { platform, rdpFile, command: client, args, passwordVia: 'stdin', display: `${client} ${args.join(' ')}  (password on stdin; log read from ${logFile})`, logFile, clientEnvSet, verified: cert ? verified : [], pendingTempDir: true };
  }
  throw new UnsupportedPlatformError(`Launching an RDP client is not supported on ${platform}; open the .rdp file with your client.`, { code: 'UNSUPPORTED_PLATFORM', details: { platform } });
}

/** Create the plan's private temp directory (mode 0700) and return the plan with the real paths. */
export function materializeLaunchPlan(plan: LaunchPlan): LaunchPlan {
  if (!plan.pendingTempDir) return plan;
  const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-rdp-'));
  const placeholder = path.join(os.tmpdir(), TEMP_PLACEHOLDER);
  const real = (s: string) => s.split(placeholder).join(tempDir);
  const { pendingTempDir: _done, ...rest } = plan;
  return {
    ...rest, rdpFile: real(plan.rdpFile), args: plan.args.map(real), display: real(plan.display), tempDir,
    ...(plan.logFile ? { logFile: real(plan.logFile) } : {}),
    ...(plan.clientEnvSet ? { clientEnvSet: Object.fromEntries(Object.entries(plan.clientEnvSet).map(([k, v]) => [k, real(v)])) } : {}),
  };
}

/**
 * Write the .rdp file (mode 0600), start the client and watch it: the returned session's
 * `outcome` says whether the session was established (or why not), `ended` how it ended. The
 * session owns the client: dispose it (or `stop()`) to end it.
 */
export async function launch(o: LaunchOptions, planned: LaunchPlan = planLaunch(o)): Promise<ClientSession> {
  const plan = materializeLaunchPlan(planned);
  fs.writeFileSync(plan.rdpFile, encodeRdpFile(buildRdpFile(o)), { mode: 0o600 });
  let child: ChildProcess;
  if (plan.passwordVia === 'credential-manager') {
    // the user the .rdp file names (buildRdpFile): DOMAIN\user for a bare name, a UPN as it is
    await storeTermsrvCredential(o.host, o.domain && !o.username.includes('\\') && !o.username.includes('@') ? `${o.domain}\\${o.username}` : o.username, o.password);
    child = spawn(plan.command, plan.args, { stdio: 'ignore', detached: true, env: clientEnv({ ...o, ...(o.passEnv ? { pass: o.passEnv } : {}) }) });
  } else {
    // an allow-listed environment (client-env.ts): /proc/<pid>/environ is readable by the user and root
    child = spawn(plan.command, plan.args, { stdio: ['pipe', 'pipe', 'pipe'], env: clientEnv({ ...o, ...(plan.clientEnvSet ? { set: plan.clientEnvSet } : {}), ...(o.passEnv ? { pass: o.passEnv } : {}) }) });
    // xfreerdp /from-stdin:force asks for what the .rdp file lacks: only the password
    child.stdin?.on('error', () => {});
    child.stdin?.end(o.password.reveal() + '\n');
  }
  const { host, port = 3389 } = o;
  const session = new ClientSession(child, {
    host, port, client: path.basename(plan.command), verified: plan.verified, secrets: [o.password, ...(o.secrets ?? [])],
    ...(plan.logFile ? { logFile: plan.logFile } : {}), ...(plan.tempDir ? { tempDir: plan.tempDir } : {}),
    ...(o.connectTimeoutMs !== undefined ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', (e) =>
      reject(new CredgateError(`Could not start ${plan.command} (${(e as NodeJS.ErrnoException).code ?? e.message}); ${plan.passwordVia === 'credential-manager' ? 'check that the Remote Desktop client (mstsc.exe) is installed' : 'install FreeRDP (apt-get install freerdp2-x11) or pass --client'}.`, { code: 'CONFIG_INVALID', cause: e })),
    );
  });
  return session;
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
