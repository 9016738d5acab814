/** `credgate launch`: the doctor, then the RDP client with the credential the doctor fetched, watched until its session is up. */
import { planLaunch, launch, buildRdpFile, materializeLaunchPlan } from '../../launch/launch.js';
import { clientTrust, type ClientTrust } from '../../launch/client-trust.js';
import { configuredSecretEnvNames } from '../../launch/client-env.js';
import type { ClientSession, LaunchOutcome } from '../../launch/session.js';
import type { Verdict } from '../../findings/finding.js';
import { parseHostPort } from '../../core/target.js';
import type { Secret } from '../../core/secret.js';
import type { Command, CliIO } from '../types.js';
import { alsoAccepted, fileNotStdout, intOption, usageError } from '../args.js';
import { stoppedBy } from '../signals.js';
import { onAbort } from '../../core/abort.js';
import { style, findingJson, lines, say, t, type Shown } from '../render.js';
import { exitCodeHelp, type ExitMeanings } from '../exit-help.js';
import { doctorInputs, renderDoctor, doctorJson, disposeTarget, keepFetchedCredential } from './doctor.js';

const EXITS: ExitMeanings = {
  ok: 'the session was established and ended normally (a dry run: the preflight passed)',
  rejected: 'rejected (by the preflight or by the host)',
  usage: 'usage, or the client\'s setup (its display, arguments or configuration)',
  unusable: 'account unusable, or the session denied',
  unreachable: 'unreachable, TLS trust, the connection or the host',
  provider: 'provider failure (the preflight)',
  'stale-cache': 'stale cached credential (the preflight)',
  internal: 'internal error, or a client failure credgate cannot decode',
};
const IN_FLIGHT = 'the preflight in flight (no client is started after a stop)';

const USAGE = `Usage: credgate launch <host>[:port] --user <name> (--provider <p> --ref <r> | --password-env <VAR>)
         [doctor options: --ldap ... --service-user ... --kdc ... --rdp-ca-file <pem> --cache-from ... --timeout <ms>]
         [--rdp-file <path>]
         [--client <xfreerdp>] [--client-arg <arg>]... [--client-env <NAME>]... [--connect-timeout <ms>] [--dry-run] [--json]

Runs credgate doctor first. On a pass it writes a .rdp file and starts the RDP client: mstsc on
Windows (the password is stored for TERMSRV/<host> in Credential Manager first), xfreerdp
elsewhere (the password goes through stdin with /from-stdin — never on the command line).
On a fail it prints the verdict and launches nothing. --dry-run prints what it would run.

The client trusts exactly the certificate the doctor verified (--rdp-ca-file: a CA bundle, or the
host's own certificate to pin it): xfreerdp gets /cert:deny,fingerprint:sha256:<it>; without a
verified certificate, /cert:deny (the client's own trust store decides, with no prompt).

The client's environment is an allow-list (PATH, HOME, the display, locale, XDG_*, the Windows
system variables, ...), never the caller's whole environment; --client-env <NAME> passes one more
variable by name (a wrapper's setting). A variable whose value carries a secret is never passed.

Success is the client's: launch waits until FreeRDP logs the active session state
(CONNECTION_STATE_ACTIVE) and stays up, or until the client exits — then it fails with the cause
decoded from FreeRDP's ERRCONNECT_* / ERRINFO_* and exit code. It stays until the session ends.

While the client runs, a signal is passed on to it and credgate waits for it to end (a second
signal quits at once).

The host is <host>[:port] or --host <host>[:port], as in doctor.
${alsoAccepted(['user', 'timeout'])}

${exitCodeHelp(EXITS, { lead: 'the preflight\'s when it fails, else the client\'s outcome, decoded', inFlight: IN_FLIGHT })}`;

export const launchCommand: Command = {
  name: 'launch',
  summary: 'run doctor, then start the RDP client with the vault\'s credential (never on argv)',
  usage: USAGE,
  exits: EXITS,
  inFlight: IN_FLIGHT,
  async run(argv, io) {
    if (argv.includes('--password-stdin') && !argv.includes('--dry-run')) {
      // measured here: once this process has drained a piped stdin, FreeRDP 2.11 started from it
      // reads the password from its own stdin pipe but never connects; --password-env and
      // --provider do not touch our stdin and work
      throw usageError('launch takes the password from --password-env <VAR> or --provider, not --password-stdin (the client\'s stdin carries it).');
    }
    const inputs = await doctorInputs('launch', argv, io, {
      'rdp-file': { type: 'string' },
      client: { type: 'string' },
      'client-arg': { type: 'string', multiple: true },
      'client-env': { type: 'string', multiple: true },
      'connect-timeout': { type: 'string' },
      'dry-run': { type: 'boolean' },
    });
    try {
      // the provider is released when the session is over, not when it starts: releasing a
      // Vault LDAP library check-out rotates that account's password, under the running client
      return await preflightThenLaunch(inputs, io);
    } finally {
      await disposeTarget(inputs.target);
    }
  },
};

async function preflightThenLaunch({ target, options, json, values: v }: Awaited<ReturnType<typeof doctorInputs>>, io: CliIO): Promise<number> {
  // the credential the preflight fetched and proved is the one the client gets: no second fetch,
  // no second vault check-out, no fetch outside the preflight's deadline
  const fetched = keepFetchedCredential(target);
  fileNotStdout('rdp-file', v['rdp-file'], 'the RDP client reads it');
  const connectTimeoutMs = intOption('connect-timeout', v['connect-timeout'] as string | undefined, 60_000, 1000, 600_000);
  const { preflight } = await import('../../pipeline/preflight.js');
  const report = await preflight(target, { ...options, ...(io.stop ? { stop: io.stop } : {}) });
  const stopped = stoppedBy(io.stop);
  if (stopped) {
    // stopped during the preflight: its report, and no client (starting one would send the credential)
    io.stdout.write(json ? doctorJson(report) : renderDoctor(report, io));
    say(io.stderr, t`credgate: not launching: stopped by ${stopped}.\n`);
    return report.verdict.exitCode;
  }
  if (!report.ok) {
    io.stdout.write(json ? doctorJson(report) : renderDoctor(report, io));
    io.stderr.write('credgate: not launching: the preflight failed (see the verdict above).\n');
    return report.verdict.exitCode;
  }
  const { host, port } = parseHostPort(target.host);
  const username = report.target.account;
  if (!username) throw usageError('The account name is unknown; pass --user <name>.');
  const clientArgs = (v['client-arg'] as string[] | undefined) ?? [];
  const trust = clientTrust(report, { caGiven: !!options.rdp?.caFile, clientArgs });
  const common = {
    host, port, username, clientArgs, verifiedCertificates: trust.verified, connectTimeoutMs,
    ...(v['rdp-file'] ? { rdpFile: String(v['rdp-file']) } : {}), ...(v.client ? { client: String(v.client) } : {}),
  };
  const plan = planLaunch(common);
  const trustJson = { mode: trust.mode, verifiedSha256: trust.verified, ...(trust.freerdpArg ? { clientArg: trust.freerdpArg } : {}), summary: trust.summary, ...(trust.mstsc.length ? { mstsc: trust.mstsc } : {}) };
  if (v['dry-run']) {
    // planLaunch wrote nothing; neither does a dry run
    const out = { ok: true, verdict: report.verdict.code, headline: report.headline, rdpFile: plan.rdpFile, command: plan.command, args: plan.args, passwordVia: plan.passwordVia, trust: trustJson, rdpFileContent: buildRdpFile({ host, port, username }) };
    if (json) io.stdout.write(JSON.stringify(out, null, 2) + '\n');
    else {
      // the file's lines one by one: a user name from the vault is outside text, escaped like any other
      const file = out.rdpFileContent.split(/\r\n/).filter(Boolean).map((l) => t`  ${l}`);
      say(io.stdout, lines([t`${report.headline}`, t`would write ${plan.rdpFile}:`, ...file, t`would run: ${plan.display}`, t`certificate: ${trust.summary}`]));
    }
    return 0;
  }
  const secret = target.password ?? fetched()?.secret;
  if (!secret) throw usageError('No credential to hand to the client.');
  const real = materializeLaunchPlan(plan);
  const passEnv = (v['client-env'] as string[] | undefined) ?? [];
  const session = await launch({ ...common, password: secret, env: io.env, ...(passEnv.length ? { passEnv } : {}), secrets: await otherSecrets(v, io, options.directory?.service?.password) }, real);
  // a stop while the client runs (SIGINT, SIGTERM, SIGHUP: cli/signals.ts) is passed on to it; main
  // then ends with the signal's exit code
  const stopForwarding = onAbort(io.stop, () => session.stop((stoppedBy(io.stop) ?? 'SIGTERM') as NodeJS.Signals));
  try {
    const head = { launched: real.command, pid: session.pid, rdpFile: real.rdpFile };
    const outcome = await session.outcome;
    const who = `${username} → ${host}${port !== 3389 ? `:${port}` : ''}`;
    if (json) io.stdout.write(outcomeJson(outcome, { ...head, trust: trustJson }));
    else say(io.stdout, renderOutcome(outcome, trust, real.command, session, who, io));
    if (outcome.status === 'failed') {
      await session.ended;
      return outcome.exitCode;
    }
    const end = await session.ended;
    if (json) io.stdout.write(outcomeJson(end, { event: 'ended' }));
    else say(io.stdout, renderEnd(end.verdict, end.exitCode, who, io));
    return end.exitCode;
  } finally {
    stopForwarding();
  }
}

/**
 * Secrets other than the password that no variable of the client may carry: the service
 * account's password, and what the variables named in the provider configuration hold (tokenEnv,
 * passwordEnv, secretIdEnv, ...).
 */
async function otherSecrets(v: Record<string, unknown>, io: CliIO, service: Secret | undefined): Promise<Array<Secret | string>> {
  const out: Array<Secret | string> = service ? [service] : [];
  if (v.provider) {
    const { loadConfig } = await import('../../providers/config.js');
    const config = await loadConfig({ cwd: io.cwd, ...(v.config ? { path: String(v.config) } : {}) });
    for (const name of configuredSecretEnvNames(config)) {
      const value = io.env[name];
      if (value) out.push(value);
    }
  }
  return out;
}

function outcomeJson(o: LaunchOutcome, extra: Record<string, unknown>): string {
  const event = o.status === 'established' ? 'established' : o.status === 'unobserved' ? 'started' : 'failed';
  return JSON.stringify({
    ok: o.ok, event, ...extra, ms: o.ms,
    ...(o.status === 'unobserved' ? { observed: false } : {}),
    code: o.verdict.code, cause: o.verdict.cause, exitCode: o.exitCode,
    ...(o.clientEnd ? { clientExitCode: o.clientEnd.code, ...(o.clientEnd.signal ? { clientSignal: o.clientEnd.signal } : {}) } : {}),
    findings: o.verdict.findings.map(findingJson), remediation: o.verdict.remediation,
  }) + '\n';
}

function renderOutcome(o: LaunchOutcome, trust: ClientTrust, command: string, session: ClientSession, who: string, io: CliIO): Shown {
  const s = style(io);
  const cert = t`  certificate: ${trust.summary}`;
  if (o.status === 'established') return lines([t`${s.green(s.bold('SESSION UP'))}  ${s.bold(who)}  ${s.dim(`[pid ${session.pid}]`)}`, t``, t`  ${o.verdict.cause}`, cert]);
  if (o.status === 'unobserved') return lines([t`launched ${command} (pid ${session.pid}); it reports no outcome credgate can read.`, cert]);
  return lines([...failureLines(o.verdict, o.exitCode, t`${s.red(s.bold('LAUNCH FAILED'))}  ${s.bold(who)}`, io), cert]);
}

function renderEnd(v: Verdict, exitCode: number, who: string, io: CliIO): Shown {
  const s = style(io);
  return v.ok ? lines([t`session ended: ${v.cause} ${s.dim(`[${v.code}, exit ${exitCode}]`)}`]) : lines(failureLines(v, exitCode, t`${s.red(s.bold('SESSION LOST'))}  ${s.bold(who)}`, io));
}

/** A failed launch or lost session: its label, cause, evidence (the client's log lines among it: outside text) and fixes. */
function failureLines(v: Verdict, exitCode: number, label: Shown, io: CliIO): Shown[] {
  const s = style(io);
  const out = [t`${label}  ${s.dim(`[${v.code}, exit ${exitCode}]`)}`, t``, t`  ${v.cause}`];
  const decider = v.findings.find((f) => f.code === v.code);
  if (decider) {
    out.push(t``, t`  ${s.bold('Evidence')}`);
    for (const [k, val] of Object.entries(decider.evidence)) {
      if (Array.isArray(val) && k === 'log') for (const l of val) out.push(t`    ${s.dim(String(l))}`);
      else out.push(t`    ${k}: ${typeof val === 'string' ? val : JSON.stringify(val)}`);
    }
  }
  if (v.remediation.length) {
    out.push(t``, t`  ${s.bold('Fix, in this order')}`);
    v.remediation.slice(0, 6).forEach((x, i) => out.push(t`    ${i + 1}. ${x.action}${x.owner ? s.dim(` (${x.owner})`) : ''}`));
  }
  return out;
}
