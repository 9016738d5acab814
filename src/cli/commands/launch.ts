/** `credgate launch`: the doctor, then the RDP client with the credential the doctor fetched. */
import type { ChildProcess } from 'node:child_process';
import { planLaunch, launch, buildRdpFile, materializeLaunchPlan } from '../../launch/launch.js';
import { parseHostPort } from '../../core/target.js';
import type { Command, CliIO } from '../types.js';
import { usageError } from '../args.js';
import { doctorInputs, renderDoctor, doctorJson, disposeTarget, keepFetchedCredential } from './doctor.js';

const USAGE = `Usage: credgate launch <host>[:port] --account <name> (--provider <p> --ref <r> | --password-stdin | --password-env <VAR>)
         [doctor options: --ldap ... --service-user ... --kdc ... --cache-from ...] [--rdp-file <path>] [--client <xfreerdp>]
         [--client-arg <arg>]... [--dry-run] [--json]

Runs credgate doctor first. On a pass it writes a .rdp file and starts the RDP client: mstsc on
Windows (the password is stored for TERMSRV/<host> in Credential Manager first), xfreerdp
elsewhere (the password goes through stdin with /from-stdin — never on the command line).
On a fail it prints the verdict and launches nothing. --dry-run prints what it would run.

Exit codes: those of doctor when it fails; 0 when the client was started (or would be, with --dry-run).
`;

export const launchCommand: Command = {
  name: 'launch',
  summary: 'run doctor, then start the RDP client with the vault\'s credential (never on argv)',
  usage: USAGE,
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
      if (child && child.exitCode === null && child.signalCode === null) {
        const signalled = await untilClosed(child);
        if (signalled) return 128 + (signalled === 'SIGINT' ? 2 : signalled === 'SIGHUP' ? 1 : 15);
      }
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
  const report = await preflight(target, options);
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
    io.stdout.write(json ? JSON.stringify(out, null, 2) + '\n' : `${report.headline}\nwould write ${plan.rdpFile}:\n${out.rdpFileContent.replace(/\r\n/g, '\n').replace(/^/gm, '  ')}would run: ${plan.display}\n`);
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
  io.stdout.write(json ? JSON.stringify({ ok: true, launched: real.command, pid: child.pid, rdpFile: real.rdpFile }) + '\n' : `launched ${real.display} (pid ${child.pid})\n`);
  return { code: 0, child };
}

/**
 * Wait for the client to end. A SIGINT / SIGTERM / SIGHUP meanwhile (Ctrl-C, a closed terminal)
 * is passed on to the client (SIGKILL after 10 s), so that `finally` still releases the provider
 * (a Vault library account is checked back in) instead of Node exiting on the spot. Resolves the
 * signal that ended the wait, if any.
 */
function untilClosed(child: ChildProcess): Promise<NodeJS.Signals | undefined> {
  return new Promise((resolve) => {
    let got: NodeJS.Signals | undefined;
    let kill: NodeJS.Timeout | undefined;
    const onSignal = (sig: NodeJS.Signals) => {
      got ??= sig;
      try {
        child.kill(sig);
      } catch {
        /* already gone */
      }
      kill ??= setTimeout(() => child.kill('SIGKILL'), 10_000);
    };
    const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
    for (const s of sigs) process.on(s, onSignal);
    child.once('close', () => {
      for (const s of sigs) process.off(s, onSignal);
      if (kill) clearTimeout(kill);
      resolve(got);
    });
  });
}
