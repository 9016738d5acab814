import { diagnose } from '../../findings/diagnose.js';
import { CredgateError } from '../../core/errors.js';
import type { Secret } from '../../core/secret.js';
import { finding, type Finding } from '../../findings/finding.js';
import type { Command, CliIO } from '../types.js';
import { envSecret, intOption, parse, readStdinSecret, serviceAccount, showableVariableName, usageError } from '../args.js';
import { verdictHuman, verdictJson } from '../render.js';
import type { CheckExtensions } from './check-extensions.js';

// loaded when the command runs, not when it is listed or asked for --help (CLI start time)
const extensions = async (): Promise<CheckExtensions> => (await import('./check-extensions.js')).checkExtensions;

const USAGE = `Usage: credgate check --ldap <url>[,<url>...] --user <name>
         (--password-stdin | --password-env <VAR> | --provider <name> --ref <ref>)
         [--service-user <name> --service-password-env <VAR>] [--ca-file <pem>] [--starttls]
         [--default-domain <domain>] [--rdp <host>[:port] [--rdp-ca-file <pem>]] [--timeout <ms>] [--json]

Proves a credential against the directory with one LDAP simple bind (LDAPS or StartTLS) and
explains the answer. With a read-only service account it first reads the account's state and
does not bind when one more failure could lock the account out.

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
  --rdp <host>[:port]         also prove the credential at the RDP host's NLA step (after the directory
                              accepted it, when --ldap is given: a rejected password is not tried again)
  --rdp-ca-file <pem>         CA bundle the RDP host's certificate must chain to (without it, any
                              certificate is accepted, as mstsc does after its warning)
  --timeout <ms>              deadline for each step (default 10000)
  --json                      print one JSON object
  --insecure-plain-bind       allow a plain ldap:// bind without TLS (the password travels in clear)
  --insecure-skip-tls-verify  do not verify the directory's certificate

Exit codes: 0 valid, 1 rejected, 2 usage, 3 account unusable, 4 unreachable/TLS, 5 provider, 70 internal.
`;

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
    const fetched = await (await extensions()).resolveProvider?.({
      provider: String(v.provider),
      ref: typeof v.ref === 'string' ? v.ref : undefined,
      config: typeof v.config === 'string' ? v.config : undefined,
      cwd: io.cwd,
    });
    if (!fetched) throw usageError('--provider is not available in this build.');
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

const NLA_FAULTS = new Set(['CONNECTION_FAILED', 'TIMEOUT', 'TLS_FAILED', 'PROTOCOL_ERROR']);

/** An NLA-check fault (refused, timeout, TLS, protocol) as the finding an admin acts on; undefined for anything else. */
export async function nlaFaultFinding(e: unknown, target: string): Promise<Finding | undefined> {
  if (!(e instanceof CredgateError) || !NLA_FAULTS.has(e.code)) return undefined;
  const [{ rdpFaultFinding }, { parseHostPort }] = await Promise.all([import('../../checks/rdp-endpoint.js'), import('../../core/target.js')]);
  const { host, port } = parseHostPort(target);
  const kind = String(e.details?.kind ?? '');
  const ev = { step: 'rdp-nla', host, port, error: e.message, ...(e.details ?? {}) };
  const fix = (action: string, owner: 'host' | 'network' | 'caller') => [{ action, owner }];
  switch (kind) {
    case 'untrusted': {
      const expired = /EXPIRED/i.test(String(e.details?.reason ?? ''));
      return finding('rdp-nla', expired ? 'tls.expired' : 'tls.untrusted', 'error', e.message, ev, expired
        ? fix('Renew the host\'s RDP certificate (Remote Desktop certificate template or auto-enrolment) and restart TermService.', 'host')
        : fix('Give the host an RDP certificate from the CA in --rdp-ca-file, or pass the CA that issued its certificate.', 'host'));
    }
    case 'pubkey-mismatch':
      return finding('rdp-nla', 'tls.handshake-failed', 'error', e.message, ev, fix('Connect without the TLS-intercepting proxy in between, or fix the host\'s CredSSP/TLS configuration.', 'network'));
    case 'closed':
      return finding('rdp-nla', 'net.connection-lost', 'error', e.message, ev, fix('Retry; if it persists, restart Remote Desktop Services (TermService) on the host and check its event log (RemoteDesktopServices-RdpCoreTS).', 'host'));
    case 'credssp':
      return finding('rdp-nla', 'rdp.neg-failure', 'error', e.message, ev, fix('Check the host\'s NLA (CredSSP) settings and updates; credgate speaks CredSSP 2–6 with NTLM.', 'host'));
    default: {
      const k = kind || (e.code === 'TIMEOUT' ? 'timeout' : e.code === 'TLS_FAILED' ? 'tls' : e.code === 'PROTOCOL_ERROR' ? 'not-rdp' : '');
      const err = k === kind ? e : new CredgateError(e.message, { code: e.code, details: { ...(e.details ?? {}), kind: k } });
      return rdpFaultFinding(err, host, port, { step: 'rdp-nla' });
    }
  }
}

export const checkCommand: Command = {
  name: 'check',
  summary: 'prove a credential against the directory (and optionally the RDP host) and explain the answer',
  usage: USAGE,
  async run(argv, io) {
    const { values: v } = parse('check', argv, OPTIONS);
    if (v.password !== undefined) {
      throw usageError('Passwords are never taken on the command line (they end up in shell history and ps); use --password-stdin or --password-env <VAR>.');
    }
    if (!v.ldap && !v.rdp) throw usageError('--ldap <url> is required (or --rdp <host> for an NLA-only check).');
    if (!v.ldap && (v['service-user'] || v['service-password-env'])) {
      // the service account reads the account's state (and guards against a lockout) in the directory;
      // an NLA-only check has no directory to read, so it would be silently ignored
      throw usageError('--service-user reads the account\'s state in the directory, so it needs --ldap <url>: add --ldap ldaps://<dc> (the lockout guard then runs before the bind, and NLA only after the directory accepted the password), or drop --service-user for an NLA-only check.');
    }
    if (!v.ldap) {
      // directory options without a directory would be silently ignored; --ca-file in particular
      // once also checked the RDP host: say where that moved instead of sending the NTLM proof unverified
      const dirOnly = (['ca-file', 'starttls', 'servername', 'default-domain', 'insecure-plain-bind', 'insecure-skip-tls-verify', 'allow-unknown-threshold'] as const).filter((k) => v[k] !== undefined && v[k] !== false);
      if (dirOnly.length) {
        throw usageError(`${dirOnly.map((k) => `--${k}`).join(', ')} ${dirOnly.length > 1 ? 'apply' : 'applies'} to the directory (--ldap), which this check does not use${dirOnly.includes('ca-file') ? '; for the RDP host\'s certificate use --rdp-ca-file <pem>' : ''}.`);
      }
    }
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
        io.stdout.write(JSON.stringify({ ok: false, code: 'provider.error', error: e.toJSON(), findings: [], timingsMs }, null, 2) + '\n');
        return 5;
      }
      throw e;
    }
    const service = serviceAccount(v, io);
    const findings: Finding[] = [];
    const tasks: Array<Promise<void>> = [];
    if (v.ldap) {
      const { checkCredential } = await import('../../pipeline/credential-check.js');
      tasks.push(
        checkCredential({
          urls: String(v.ldap),
          username: cred.username,
          password: cred.password,
          ...(v['default-domain'] ? { defaultDomain: String(v['default-domain']) } : cred.domain ? { defaultDomain: cred.domain } : {}),
          ...(v['ca-file'] ? { caFile: v['ca-file'] as string[] } : {}),
          ...(v.servername ? { servername: String(v.servername) } : {}),
          starttls: !!v.starttls,
          allowPlainBind: !!v['insecure-plain-bind'],
          insecureSkipTlsVerify: !!v['insecure-skip-tls-verify'],
          timeoutMs,
          ...(service ? { service } : {}),
          ...(v['allow-unknown-threshold'] ? { allowUnknownThreshold: true } : {}),
        }).then((r) => {
          findings.push(...r.findings);
          Object.assign(timingsMs, r.timingsMs);
        }),
      );
    }
    let runNla: (() => Promise<void>) | undefined;
    if (v.rdp) {
      const rdpNla = (await extensions()).rdpNla;
      if (!rdpNla) throw usageError('--rdp is not available in this build.');
      runNla = async () => {
        const tr = performance.now();
        try {
          const r = await rdpNla({ target: String(v.rdp), username: cred.username, password: cred.password, ...(cred.domain ? { domain: cred.domain } : {}), timeoutMs, ...(v['rdp-ca-file'] ? { caFile: v['rdp-ca-file'] as string[] } : {}) });
          findings.push(...r);
        } catch (e) {
          // a host that cannot be reached or spoken to is a finding (exit 4, one JSON object), not a crash
          const f = await nlaFaultFinding(e, String(v.rdp));
          if (!f) throw e;
          findings.push(f);
        } finally {
          timingsMs.rdpNla = performance.now() - tr;
        }
      };
    } else if (v['rdp-ca-file']) {
      throw usageError('--rdp-ca-file needs --rdp <host>[:port].');
    }
    if (runNla && !v.ldap) tasks.push(runNla());
    await Promise.all(tasks);
    if (runNla && v.ldap) {
      // NLA only after the directory accepted the credential: on a domain-joined host a rejected
      // password at NLA is one more bad-password count toward the lockout
      const blocking = findings.find((f) => f.severity === 'error');
      if (blocking) {
        findings.push(finding('check', 'not-checked', 'info', `rdp-nla: not checked — the directory already answered ${blocking.code}; trying the same password at ${String(v.rdp)} would only add a bad-password count.`, { step: 'rdp-nla', host: String(v.rdp), because: blocking.code }));
      } else {
        await runNla();
      }
    }
    timingsMs.total = performance.now() - t0;
    const verdict = diagnose(findings, timingsMs);
    if (v.json) {
      io.stdout.write(verdictJson(verdict, { account: cred.username, credentialSource: cred.source }));
    } else {
      io.stdout.write(verdictHuman(verdict, io, cred.username));
    }
    return verdict.exitCode;
  },
};
