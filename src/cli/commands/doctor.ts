/** `credgate doctor`: the whole preflight for one host and account, as one verdict with ranked fixes. */
import type { PreflightReport, PreflightOptions, PreflightTarget } from '../../pipeline/types.js';
import type { FetchedCredential } from '../../core/credential.js';
import type { Provider } from '../../providers/types.js';
import type { Command, CliIO } from '../types.js';
import { alsoAccepted, envSecret, hostArgument, intOption, kerberosArgs, KERBEROS_OPTIONS, parse, readStdinSecret, serviceAccount, usageError } from '../args.js';
import { style, findingJson, lines, t, type Shown } from '../render.js';
import { exitCodeHelp, type ExitMeanings } from '../exit-help.js';
import { htmlOf, htmlTarget } from './report.js';

const EXITS: ExitMeanings = {
  ok: 'pass (the credential is proved; not its right to an RDP session)',
  rejected: 'rejected',
  usage: 'usage or configuration, or nothing proved the credential (credential.not-checked: CANNOT TELL)',
  unusable: 'account unusable',
  unreachable: 'unreachable or TLS',
  provider: 'provider failure',
  'stale-cache': 'stale cached credential',
  internal: 'internal error, or a step that failed unexpectedly',
};
const IN_FLIGHT = 'the steps in flight';

const USAGE = `Usage: credgate doctor <host>[:port] [--user <name>]
         [--provider <name> --ref <ref> [--config <file>] | --password-stdin | --password-env <VAR>]
         [--ldap <url>[,<url>...] [--ca-file <pem>] [--starttls] [--default-domain <d>]
          [--service-user <name> --service-password-env <VAR> [--allow-unknown-threshold]]]
         [--kdc <host[:port]>[,...] | --kerberos [--dns-server <ip>]] [--realm <REALM>]
          [--kdc-transport tcp|udp] [--spn-host <name>] [--workstation <NAME>]
         [--rdp-ca-file <pem>] [--no-nla] [--cache-from <file>...] [--inventory <file>]
         [--timeout <ms>] [--json] [--html <file>]

Explains a failing RDP launch (0x904 / extended 0x7) in one verdict: fetches the credential,
reads the account's state, proves the password with the KDC (--kdc / --kerberos: one Kerberos
pre-authentication, then the host's TERMSRV/ and HOST/ SPNs) and the directory (one bind), probes
the RDP host (TLS certificate, NLA), proves the credential at the NLA step, inspects cached client
credentials — in parallel where it is safe, under one deadline — and names the single most likely
cause with the evidence and ranked fixes. The password tries run KDC, bind, NLA, each only after
the one before it accepted the password. Parts that cannot run are reported as "not checked",
never as passing; a pass proves the credential, not the account's right to an RDP session.
When the service account cannot read the lockout threshold or the bad-password count, credgate
does not bind (ldap.lockout-risk); --allow-unknown-threshold accepts that risk and binds.
--html <file> also writes the verdict as an HTML report (credgate report --help).

  <host>[:port]     the RDP host (or --host <host>[:port]); default port 3389
  --user <name>     the account (alice@corp.example, CORP\\alice); from the provider when not given
  --timeout <ms>    the one deadline every step races (default 20000)
${alsoAccepted(['user', 'timeout'])}

${exitCodeHelp(EXITS, { inFlight: IN_FLIGHT })}`;

const OPTIONS = {
  host: { type: 'string' },
  user: { type: 'string' },
  provider: { type: 'string' },
  ref: { type: 'string' },
  config: { type: 'string' },
  'password-stdin': { type: 'boolean' },
  'password-env': { type: 'string' },
  ldap: { type: 'string' },
  'ca-file': { type: 'string', multiple: true },
  starttls: { type: 'boolean' },
  'default-domain': { type: 'string' },
  'service-user': { type: 'string' },
  'service-password-env': { type: 'string' },
  'allow-unknown-threshold': { type: 'boolean' },
  'rdp-ca-file': { type: 'string', multiple: true },
  'no-nla': { type: 'boolean' },
  'cache-from': { type: 'string', multiple: true },
  inventory: { type: 'string' },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  password: { type: 'string' },
  ...KERBEROS_OPTIONS,
} as const;

export interface DoctorArgs {
  target: PreflightTarget;
  options: PreflightOptions;
  json: boolean;
}

/** Shared by doctor and launch: turn the command line into a preflight target + options. */
export async function doctorInputs(command: string, argv: string[], io: CliIO, extraOptions: Record<string, unknown> = {}): Promise<DoctorArgs & { values: Record<string, unknown>; positionals: string[] }> {
  const { values: v, positionals } = parse(command, argv, { ...OPTIONS, ...extraOptions } as typeof OPTIONS, true);
  if (v.password !== undefined) throw usageError('Passwords are never taken on the command line; use --password-stdin, --password-env <VAR> or --provider.');
  // the host is the one positional or --host; anything more may be a password typed on argv
  const host = hostArgument(command, v, positionals);
  if (!v.ldap && (v['service-user'] || v['service-password-env'])) {
    throw usageError(`--service-user reads the account's state in the directory, so it needs --ldap <url>: add --ldap ldaps://<dc> (the lockout guard and the password-age rules need it), or drop --service-user; see "credgate ${command} --help".`);
  }
  const target: PreflightTarget = { host, ...(v.user ? { account: String(v.user) } : {}) };
  const sources = [v['password-stdin'], v['password-env'], v.provider].filter(Boolean).length;
  if (sources > 1) throw usageError('Give one credential source: --provider, --password-stdin or --password-env.');
  const options: PreflightOptions = {};
  if (v['password-stdin']) target.password = await readStdinSecret(io);
  if (v['password-env']) target.password = envSecret(io, String(v['password-env']), 'password-env');
  if (target.password && !target.account) throw usageError('--user <name> is required with --password-stdin / --password-env.');
  if (v.ldap) {
    const service = serviceAccount(v, io);
    options.directory = {
      urls: String(v.ldap),
      ...(v['ca-file'] ? { caFile: v['ca-file'] as string[] } : {}),
      starttls: !!v.starttls,
      ...(v['default-domain'] ? { defaultDomain: String(v['default-domain']) } : {}),
      ...(service ? { service } : {}),
      ...(v['allow-unknown-threshold'] ? { allowUnknownThreshold: true } : {}),
    };
  }
  const krb = kerberosArgs(v, command);
  if (krb) options.kerberos = krb;
  options.rdp = { ...(v['rdp-ca-file'] ? { caFile: v['rdp-ca-file'] as string[] } : {}), nla: !v['no-nla'] };
  if (v['cache-from'] || v.inventory) {
    options.cache = { ...(v['cache-from'] ? { files: v['cache-from'] as string[] } : {}), ...(v.inventory ? { inventory: String(v.inventory) } : {}) };
  }
  options.deadlineMs = intOption('timeout', v.timeout as string | undefined, 20_000, 100, 600_000);
  // last: nothing below can fail, so the caller (which disposes it) always gets the provider it loaded
  if (v.provider) {
    if (v.ref === undefined) throw usageError('--provider needs --ref <ref>.');
    const { loadProvider } = await import('../provider-source.js');
    const provider: Provider = await loadProvider({ provider: String(v.provider), config: v.config as string | undefined, cwd: io.cwd });
    target.provider = provider;
    target.ref = String(v.ref);
  }
  return { target, options, json: !!v.json, values: v, positionals };
}

/** Dispose the provider doctorInputs loaded (vault logins, leases, check-outs); never throws. */
export async function disposeTarget(target: PreflightTarget): Promise<void> {
  if (target.provider && typeof target.provider === 'object') {
    try {
      await target.provider.dispose?.();
    } catch {
      // nothing to report: the verdict is already out
    }
  }
}

/**
 * Keep the credential the preflight's provider step fetched (launch hands exactly that one to the
 * client: no second fetch, no second vault check-out). It stays in this process, never in the report.
 */
export function keepFetchedCredential(target: PreflightTarget): () => FetchedCredential | undefined {
  let kept: FetchedCredential | undefined;
  const p = target.provider;
  if (p && typeof p === 'object') {
    target.provider = {
      name: p.name,
      async resolve(ref, o) {
        const c = await p.resolve(ref, o);
        kept = c;
        return c;
      },
      ...(p.dispose ? { dispose: () => p.dispose!() } : {}),
    };
  }
  return () => kept;
}

const STATUS_MARK: Record<string, [string, 'green' | 'red' | 'yellow' | 'dim']> = {
  passed: ['✔ passed', 'green'],
  failed: ['✖ failed', 'red'],
  error: ['✖ error', 'red'],
  'not-checked': ['· not checked', 'dim'],
};

export function renderDoctor(r: PreflightReport, io: CliIO): string {
  const s = style(io);
  const out: Shown[] = [];
  const who = t`${r.target.account ?? '(account unknown)'} → ${r.target.host}${r.target.port !== 3389 ? `:${r.target.port}` : ''}`;
  // a pass proved the credential, not the RDP logon right (the headline says which): PASS, never "will work";
  // nothing proved or disproved it: CANNOT TELL, never "will fail" or a pass
  const label = r.ok ? s.green(s.bold('PASS')) : r.verdict.code === 'credential.not-checked' ? s.yellow(s.bold('CANNOT TELL')) : s.red(s.bold('WILL FAIL'));
  out.push(t`${label}  ${s.bold(who)}  ${s.dim(`[${r.verdict.code}, exit ${r.verdict.exitCode}]`)}`);
  out.push(t``);
  out.push(t`  ${r.headline}`);
  out.push(t``);
  out.push(s.bold('  Steps'));
  for (const st of r.steps) {
    const [label, color] = STATUS_MARK[st.status] ?? [st.status, 'dim'];
    const main = st.findings.find((f) => f.severity === 'error') ?? st.findings[0];
    const detail = st.status === 'not-checked' ? t`${st.note ?? ''}` : main ? t`${main.message} ${s.dim(`[${main.code}]`)}` : t``;
    out.push(t`    ${st.name.padEnd(14)} ${s[color](label.padEnd(14))} ${detail}${st.status !== 'not-checked' ? s.dim(`  ${Math.round(st.ms)} ms`) : ''}`);
  }
  const decider = r.verdict.findings.find((f) => f.code === r.verdict.code);
  if (decider && !r.ok) {
    out.push(t``);
    out.push(s.bold('  Evidence'));
    for (const [k, val] of Object.entries(decider.evidence)) {
      out.push(t`    ${k}: ${typeof val === 'string' ? val : JSON.stringify(val)}`);
    }
  }
  if (r.verdict.remediation.length) {
    out.push(t``);
    out.push(s.bold(r.ok ? '  Notes' : '  Fix, in this order'));
    r.verdict.remediation.slice(0, 6).forEach((x, i) => out.push(t`    ${i + 1}. ${x.action}${x.owner ? s.dim(` (${x.owner})`) : ''}`));
  }
  out.push(t``);
  out.push(s.dim(`  total ${Math.round(r.timingsMs.total ?? 0)} ms`));
  return lines(out).text;
}

export function doctorJson(r: PreflightReport): string {
  return JSON.stringify({
    ok: r.ok,
    code: r.verdict.code,
    cause: r.verdict.cause,
    headline: r.headline,
    exitCode: r.verdict.exitCode,
    target: r.target,
    steps: r.steps.map((s) => ({ name: s.name, status: s.status, ms: Math.round(s.ms * 10) / 10, ...(s.note ? { note: s.note } : {}), findings: s.findings.map((f) => f.code) })),
    findings: r.verdict.findings.map(findingJson),
    remediation: r.verdict.remediation,
    timingsMs: r.timingsMs,
  }, null, 2) + '\n';
}

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'explain a failing RDP launch (0x904/0x7): one verdict over vault, directory, host and client cache',
  usage: USAGE,
  exits: EXITS,
  inFlight: IN_FLIGHT,
  async run(argv, io) {
    const { target, options, json, values } = await doctorInputs('doctor', argv, io, { html: { type: 'string' } });
    // loaded when the command runs, not for --help (CLI start time)
    try {
      const html = htmlTarget(values.html, io);
      const { preflight } = await import('../../pipeline/preflight.js');
      const report = await preflight(target, { ...options, ...(io.stop ? { stop: io.stop } : {}) });
      if (html) await htmlOf(html, JSON.parse(doctorJson(report)) as Record<string, unknown>, 'doctor', io);
      io.stdout.write(json ? doctorJson(report) : renderDoctor(report, io));
      return report.verdict.exitCode;
    } finally {
      await disposeTarget(target);
    }
  },
};
