/** `credgate check`: one credential against the KDC, the directory and/or the RDP host's NLA step (pipeline/check), one verdict. */
import { diagnose } from '../../findings/diagnose.js';
import { exitCodeForError } from '../../findings/faults.js';
import { CredgateError } from '../../core/errors.js';
import type { Secret } from '../../core/secret.js';
import type { Command, CliIO } from '../types.js';
import { alsoAccepted, envSecret, intOption, kerberosArgs, KERBEROS_OPTIONS, parse, readStdinSecret, serviceAccount, showableVariableName, usageError } from '../args.js';
import { faultJson, verdictHuman, verdictJson } from '../render.js';
import { stoppedBy } from '../signals.js';
import { exitCodeHelp, type ExitMeanings } from '../exit-help.js';

const EXITS: ExitMeanings = {
  ok: 'valid',
  rejected: 'rejected',
  usage: 'usage or configuration',
  unusable: 'account unusable',
  unreachable: 'unreachable, TLS or clock skew',
  provider: 'provider failure',
  internal: 'internal error',
};
const IN_FLIGHT = 'the check in flight';

const USAGE = `Usage: credgate check (--ldap <url>[,<url>...] | --kdc <host[:port]>[,...] | --kerberos | --rdp <host>) --user <name>
         (--password-stdin | --password-env <VAR> | --provider <name> --ref <ref>)
         [--service-user <name> --service-password-env <VAR>] [--ca-file <pem>] [--starttls]
         [--default-domain <domain>] [--realm <REALM>] [--kdc-transport tcp|udp] [--spn-host <name>]
         [--rdp <host>[:port] [--rdp-ca-file <pem>]] [--timeout <ms>] [--json]

Proves a credential and explains the answer: with the KDC by one Kerberos pre-authentication,
with the directory by one LDAP simple bind (LDAPS or StartTLS), at the RDP host's NLA step; any
of them, or all. With a read-only service account it first reads the account's state and tries
no password when one more failure could lock the account out. The tries run in this order — KDC,
bind, NLA — each only after the one before it accepted the password; none is ever repeated.
A pass proves the credential, not the right to an RDP session (the host checks that later).

  --ldap <urls>               ldaps://dc1,ldaps://dc2 (failover in order); ldap:// needs --starttls
  --user <name>               alice@corp.example, CORP\\alice, a DN, or alice with --default-domain
  --password-stdin            read the password from standard input (never pass it as an argument)
  --password-env <VAR>        read the password from environment variable VAR
  --provider <name> --ref <r> take the credential from a configured provider (credgate.config.json)
  --config <file>             provider configuration file (default ./credgate.config.{json,mjs})
  --service-user <name>       read-only account for the account-state read and the lockout guard
  --service-password-env <V>  its password, from environment variable V
  --allow-unknown-threshold   bind even when the service account cannot read the lockout threshold
                              or the bad-password count (otherwise: ldap.lockout-risk, no bind)
  --ca-file <pem>             CA bundle that issued the directory's certificate
  --starttls                  upgrade ldap:// with StartTLS before binding
  --servername <name>         verify the certificate against this name instead of the URL host
  --kdc <host[:port]>[,...]   prove the password with these KDCs (Kerberos pre-authentication; the first
                              AS-REQ sends no password; the proof goes to one KDC, once, never retried)
  --kerberos                  the same, with the realm's KDCs from DNS (_kerberos._tcp SRV records)
  --realm <REALM>             the Kerberos realm (default: the UPN's suffix, or --default-domain)
  --kdc-transport tcp|udp     tcp (default), or UDP first with TCP when the reply is too big
  --dns-server <ip[:port]>    ask this DNS server for the SRV records of --kerberos
  --spn-host <name>           the name clients connect to the RDP host by (default: the --rdp host):
                              after the KDC accepted the password, TERMSRV/<name> and HOST/<name> are
                              looked up (krb.spn-ok / krb.no-spn); repeat or comma-separate for more
  --workstation <NAME>        NetBIOS name of the client computer, so the KDC enforces "Log On To"
  --rdp <host>[:port]         also prove the credential at the RDP host's NLA step (after the KDC and
                              the directory accepted it, when given: a rejected password is not tried again)
  --rdp-ca-file <pem>         CA bundle the RDP host's certificate must chain to (without it, any
                              certificate is accepted, as mstsc does after its warning)
  --timeout <ms>              deadline for each step (default 10000)
  --json                      print one JSON object
  --insecure-plain-bind       allow a plain ldap:// bind without TLS (the password travels in clear)
  --insecure-skip-tls-verify  do not verify the directory's certificate
${alsoAccepted(['user', 'timeout'])}

${exitCodeHelp(EXITS, { inFlight: IN_FLIGHT })}`;

const OPTIONS = {
  ldap: { type: 'string' },
  user: { type: 'string' },
  'password-stdin': { type: 'boolean' },
  'password-env': { type: 'string' },
  provider: { type: 'string' },
  ref: { type: 'string' },
  config: { type: 'string' },
  'service-user': { type: 'string' },
  'service-password-env': { type: 'string' },
  'allow-unknown-threshold': { type: 'boolean' },
  'ca-file': { type: 'string', multiple: true },
  starttls: { type: 'boolean' },
  servername: { type: 'string' },
  'default-domain': { type: 'string' },
  rdp: { type: 'string' },
  'rdp-ca-file': { type: 'string', multiple: true },
  timeout: { type: 'string' },
  json: { type: 'boolean' },
  'insecure-plain-bind': { type: 'boolean' },
  'insecure-skip-tls-verify': { type: 'boolean' },
  password: { type: 'string' },
  ...KERBEROS_OPTIONS,
} as const;

export interface CheckCredentialInput {
  username: string;
  password: Secret;
  domain?: string;
  changedAt?: Date;
  source: string;
}

async function credentialFrom(v: Record<string, unknown>, io: CliIO): Promise<CheckCredentialInput> {
  const sources = [v['password-stdin'] ? 'stdin' : '', v['password-env'] ? 'env' : '', v.provider ? 'provider' : ''].filter(Boolean);
  if (sources.length !== 1) {
    throw usageError('Give exactly one password source: --password-stdin, --password-env <VAR>, or --provider <name> --ref <ref>.');
  }
  const user = typeof v.user === 'string' ? v.user : undefined;
  if (sources[0] === 'provider') {
    // loaded when the command runs with --provider, not when it is listed or asked for --help (CLI start time)
    const { resolveProvider } = await import('../provider-source.js');
    const fetched = await resolveProvider({
      provider: String(v.provider),
      ref: typeof v.ref === 'string' ? v.ref : undefined,
      config: typeof v.config === 'string' ? v.config : undefined,
      cwd: io.cwd,
    });
    const username = user ?? fetched.username;
    if (!username) throw usageError('The provider returned no user name; pass --user.');
    return { username, password: fetched.secret, ...(fetched.domain ? { domain: fetched.domain } : {}), ...(fetched.changedAt ? { changedAt: fetched.changedAt } : {}), source: fetched.source };
  }
  if (!user) throw usageError('--user <name> is required (alice@corp.example, CORP\\alice or a DN).');
  if (sources[0] === 'stdin') return { username: user, password: await readStdinSecret(io), source: 'stdin' };
  const variable = String(v['password-env']);
  // the variable's name only when it looks like one: a password given where the NAME belongs is never repeated
  return { username: user, password: envSecret(io, variable, 'password-env'), source: showableVariableName(variable) ? `env ${variable}` : 'env' };
}

export const checkCommand: Command = {
  name: 'check',
  summary: 'prove a credential (KDC pre-authentication, LDAP bind, NLA at the RDP host) and explain the answer',
  usage: USAGE,
  exits: EXITS,
  inFlight: IN_FLIGHT,
  async run(argv, io) {
    const { values: v } = parse('check', argv, OPTIONS);
    if (v.password !== undefined) {
      throw usageError('Passwords are never taken on the command line (they end up in shell history and ps); use --password-stdin or --password-env <VAR>.');
    }
    const krb = kerberosArgs(v, 'check');
    if (!v.ldap && !v.rdp && !krb) throw usageError('--ldap <url>, --kdc <host> (or --kerberos) or --rdp <host> is required: what should prove the credential?');
    if (!v.ldap && (v['service-user'] || v['service-password-env'])) {
      // the service account reads the account's state (and guards against a lockout) in the directory;
      // an NLA-only check has no directory to read, so it would be silently ignored
      throw usageError('--service-user reads the account\'s state in the directory, so it needs --ldap <url>: add --ldap ldaps://<dc> (the lockout guard then runs before the bind, and NLA only after the directory accepted the password), or drop --service-user for an NLA-only check.');
    }
    if (!v.ldap) {
      // directory options without a directory would be silently ignored; say where the RDP host's CA goes
      const dirOnly = (['ca-file', 'starttls', 'servername', ...(krb ? [] : ['default-domain'] as const), 'insecure-plain-bind', 'insecure-skip-tls-verify', 'allow-unknown-threshold'] as const).filter((k) => v[k] !== undefined && v[k] !== false);
      if (dirOnly.length) {
        throw usageError(`${dirOnly.map((k) => `--${k}`).join(', ')} ${dirOnly.length > 1 ? 'apply' : 'applies'} to the directory (--ldap), which this check does not use${dirOnly.includes('ca-file') ? '; for the RDP host\'s certificate use --rdp-ca-file <pem>' : ''}.`);
      }
    }
    if (!v.rdp && v['rdp-ca-file']) throw usageError('--rdp-ca-file needs --rdp <host>[:port].');
    const timeoutMs = intOption('timeout', v.timeout as string | undefined, 10_000, 100, 600_000);
    const t0 = performance.now();
    const timingsMs: Record<string, number> = {};
    let cred: CheckCredentialInput;
    try {
      const tp = performance.now();
      cred = await credentialFrom(v, io);
      timingsMs.credential = performance.now() - tp;
    } catch (e) {
      if (e instanceof CredgateError && e.code.startsWith('PROVIDER_') && v.json) {
        io.stdout.write(faultJson(e, { code: 'provider.error', findings: [], timingsMs }));
        return exitCodeForError(e);
      }
      throw e;
    }
    const service = serviceAccount(v, io);
    const { runCheck } = await import('../../pipeline/check.js');
    const { findings } = await runCheck({
      credential: { username: cred.username, password: cred.password, ...(cred.domain ? { domain: cred.domain } : {}) },
      ...(v.ldap ? {
        directory: {
          urls: String(v.ldap),
          ...(v['default-domain'] ? { defaultDomain: String(v['default-domain']) } : cred.domain ? { defaultDomain: cred.domain } : {}),
          ...(v['ca-file'] ? { caFile: v['ca-file'] as string[] } : {}),
          ...(v.servername ? { servername: String(v.servername) } : {}),
          starttls: !!v.starttls,
          allowPlainBind: !!v['insecure-plain-bind'],
          insecureSkipTlsVerify: !!v['insecure-skip-tls-verify'],
          ...(service ? { service } : {}),
          ...(v['allow-unknown-threshold'] ? { allowUnknownThreshold: true } : {}),
        },
      } : {}),
      ...(krb ? { kerberos: { ...krb, ...(v['default-domain'] ? { defaultDomain: String(v['default-domain']) } : {}) } } : {}),
      ...(v.rdp ? { rdp: { target: String(v.rdp), ...(v['rdp-ca-file'] ? { caFile: v['rdp-ca-file'] as string[] } : {}) } } : {}),
      timeoutMs,
      timingsMs,
      ...(io.stop ? { stop: io.stop } : {}),
    });
    timingsMs.total = performance.now() - t0;
    const verdict = diagnose(findings, timingsMs);
    if (v.json) {
      const signal = stoppedBy(io.stop);
      io.stdout.write(verdictJson(verdict, { account: cred.username, credentialSource: cred.source, ...(signal ? { stoppedBy: signal } : {}) }));
    } else {
      io.stdout.write(verdictHuman(verdict, io, cred.username));
    }
    return verdict.exitCode;
  },
};
