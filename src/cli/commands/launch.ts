/** `credgate launch`: the doctor, then the RDP client with the credential the doctor fetched. */
import type { ChildProcess } from 'node:child_process';
import { planLaunch, launch, buildRdpFile, materializeLaunchPlan } from '../../launch/launch.js';
import { parseHostPort } from '../../core/target.js';
import type { Command, CliIO } from '../types.js';
import { usageError } from '../args.js';
import { stoppedBy } from '../signals.js';
import { onAbort } from '../../core/abort.js';
import { doctorInputs, renderDoctor, doctorJson, disposeTarget, keepFetchedCredential } from './doctor.js';
import { say, Shown, t } from '../render.js';

const USAGE = `Usage: credgate launch <host>[:port] --account <name> (--provider <p> --ref <r> | --password-stdin | --password-env <VAR>)
         [doctor options: --ldap ... --service-user ... --cache-from ...] [--rdp-file <path>] [--client <xfreerdp>]
         [--client-arg <arg>]... [--dry-run] [--json]

Runs credgate doctor first. On a pass it writes a .rdp file and starts the RDP client: mstsc on
Windows (the password is stored for TERMSRV/<host> in Credential Manager first), xfreerdp
elsewhere (the password goes through stdin with /from-stdin — never on the command line).
On a fail it prints the verdict and launches nothing. --dry-run prints what it would run.

Exit codes: those of doctor when it fails; 0 when the client was started (or would be, with --dry-run);
stopped by a signal: 130 SIGINT, 143 SIGTERM, 129 SIGHUP (while the client runs, the signal is passed
on to it and credgate waits for it to end; a second signal quits at once).
`;

export const launchCommand: Command = {
  name: 'launch',
  summary: 'run doctor, then start the RDP client with the vault\'s credential (never on argv)',
  usage: USAGE,
  inFlight: 'the preflight in flight (no client is started after a stop)',
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
      'dry-run': { type: 'boolean' },
    });
    let child: ChildProcess | undefined;
    try {
      const r = await preflightThenLaunch(inputs, io);
      child = r.child;
      // the provider is released when the session is over, not when it starts: releasing a
      // Vault LDAP library check-out rotates that account's password, under the running client
      // a stop while the client runs is passed on to it; main then ends with the signal's exit code
      if (child && child.exitCode === null && child.signalCode === null) await untilClosed(child, io.stop);
      return r.code;
    } finally {
      await disposeTarget(inputs.target);
    }
  },
};

async function preflightThenLaunch({ target, options, json, values: v }: Awaited<ReturnType<typeof doctorInputs>>, io: CliIO): Promise<{ code: number; child?: ChildProcess }> {
  // the credential the preflight fetched and proved is the one the client gets: no second fetch,
  // no second vault check-out, no fetch outside the preflight's deadline
  const fetched = keepFetchedCredential(target);
  const { preflight } = await import('../../pipeline/preflight.js');
  const report = await preflight(target, { ...options, ...(io.stop ? { stop: io.stop } : {}) });
  const stopped = stoppedBy(io.stop);
  if (stopped) {
    // stopped during the preflight: its report, and no client (starting one would send the credential)
    io.stdout.write(json ? doctorJson(report) : renderDoctor(report, io));
    say(io.stderr, t`credgate: not launching: stopped by ${stopped}.\n`);
    return { code: report.verdict.exitCode };
  }
  if (!report.ok) {
    io.stdout.write(json ? doctorJson(report) : renderDoctor(report, io));
    io.stderr.write('credgate: not launching: the preflight failed (see the verdict above).\n');
    return { code: report.verdict.exitCode };
  }
  const { host, port } = parseHostPort(target.host);
  const username = report.target.account;
  if (!username) throw usageError('The account name is unknown; pass --account.');
  const clientArgs = (v['client-arg'] as string[] | undefined) ?? [];
  const plan = planLaunch({
    host, port, username, clientArgs,
    ...(v['rdp-file'] ? { rdpFile: String(v['rdp-file']) } : {}),
    ...(v.client ? { client: String(v.client) } : {}),
  });
  if (v['dry-run']) {
    // planLaunch wrote nothing; neither does a dry run
    const out = { ok: true, verdict: report.verdict.code, headline: report.headline, rdpFile: plan.rdpFile, command: plan.command, args: plan.args, passwordVia: plan.passwordVia, rdpFileContent: buildRdpFile({ host, port, username }) };
    if (json) io.stdout.write(JSON.stringify(out, null, 2) + '\n');
    else {
      // the file's lines one by one: a user name from the vault is outside text, escaped like any other
      const file = out.rdpFileContent.split(/\r\n/).filter(Boolean).map((l) => t`  ${l}\n`);
      say(io.stdout, t`${report.headline}\nwould write ${plan.rdpFile}:\n${new Shown(file.map((l) => l.text).join(''))}  would run: ${plan.display}\n`);
    }
    return { code: 0 };
  }
  const secret = target.password ?? fetched()?.secret;
  if (!secret) throw usageError('No credential to hand to the client.');
  const real = materializeLaunchPlan(plan);
  // the client does not inherit the variables the passwords came from
  const omitEnv = [v['password-env'], v['service-password-env']].filter((x): x is string => typeof x === 'string');
  const child = await launch({
    host, port, username, password: secret, clientArgs, env: io.env, omitEnv,
    ...(v['rdp-file'] ? { rdpFile: String(v['rdp-file']) } : {}), ...(v.client ? { client: String(v.client) } : {}),
  }, real);
  if (json) io.stdout.write(JSON.stringify({ ok: true, launched: real.command, pid: child.pid, rdpFile: real.rdpFile }) + '\n');
  else say(io.stdout, t`launched ${real.display} (pid ${child.pid})\n`);
  return { code: 0, child };
}

/**
 * Wait for the client to end. A stop meanwhile (SIGINT, SIGTERM, SIGHUP: cli/signals.ts) is passed
 * on to the client as that same signal (SIGKILL after 10 s), so that `finally` still releases the
 * provider (a Vault library account is checked back in) instead of credgate exiting on the spot.
 */
function untilClosed(child: ChildProcess, stop: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    let kill: NodeJS.Timeout | undefined;
    const forward = () => {
      try {
        child.kill((stoppedBy(stop) ?? 'SIGTERM') as NodeJS.Signals);
      } catch {
        /* already gone */
      }
      kill ??= setTimeout(() => child.kill('SIGKILL'), 10_000);
    };
    const off = onAbort(stop, forward);
    child.once('close', () => {
      off();
      if (kill) clearTimeout(kill);
      resolve();
    });
  });
}
