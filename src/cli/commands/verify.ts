/** `credgate verify`: many accounts from a CSV or JSON Lines file through the bulk pool, resumable, with progress. */
import fs from 'node:fs';
import path from 'node:path';
import { verifyEach } from '../../bulk/verify-many.js';
import { AccountReader } from '../../bulk/input.js';
import { asAccountInput, VerifyInput } from './verify-input.js';
import { CSV_DELIMITERS, type CsvDelimiter } from '../../bulk/csv-delimiter.js';
import { createSummary } from '../../bulk/summary.js';
import { AccountStates, readPreviousOutput } from '../../bulk/resume.js';
import { resultLine } from '../../bulk/results.js';
import { causeOf } from '../../findings/diagnose.js';
import { CredgateError, isCredgateError } from '../../core/errors.js';
import type { Command, CliIO } from '../types.js';
import { alsoAccepted, intOption, kerberosArgs, KERBEROS_OPTIONS, misplacedFile, parse, serviceAccount, usageError, valueError } from '../args.js';
import { lines, say, style, t, type Shown } from '../render.js';
import { Progress } from '../progress.js';
import { openDataSink } from '../output.js';
import { stoppedBy } from '../signals.js';
import { exitCode, exitCodeHelp, type ExitMeanings } from '../exit-help.js';

const EXITS: ExitMeanings = {
  ok: 'every account valid',
  rejected: 'rejected',
  usage: 'usage, or bad input lines',
  unusable: 'account unusable',
  unreachable: 'unreachable or TLS (also: an earlier run\'s bind whose answer was lost, never resent)',
  internal: 'internal error',
};
const IN_FLIGHT = 'the binds in flight';

const USAGE = `Usage: credgate verify --input <accounts.csv|accounts.jsonl> --output <results.jsonl>
         (--ldap <url>[,<url>...] | --kdc <host[:port]>[,...] | --kerberos) [--realm <REALM>]
         [--ca-file <pem>] [--starttls] [--concurrency 8] [--rate <tries/s>]
         [--service-user <name> --service-password-env <VAR> [--allow-unknown-threshold]] [--json] [--html <file>]

Verifies many accounts against one directory over a few persistent LDAPS (or StartTLS)
connections that re-bind per account — or, with --kdc / --kerberos, with one Kerberos
pre-authentication per account (a first AS-REQ without a password, then one proof, never
retried); --ldap is then only what the lockout guard (--service-user) reads. Input and output are streamed; rerunning with the same
--output skips the accounts already answered and the bad lines already recorded (an account
that was unreachable before its bind was sent is checked again; one whose bind was sent and its
answer lost is not, so it is never sent twice: it is counted as unresolved, exit ${exitCode('unreachable')}). Ctrl-C,
SIGTERM or SIGHUP finishes the binds in flight, writes them and stops (a second signal quits at
once). A bad input line is reported with its number and skipped.

Input: CSV with a header line (RFC 4180 quoting; comma, semicolon or tab, told from the header)
or JSON Lines (one object per line), by file extension or --format. Each line names the account (username, user, account, upn or dn) and its
password: in the password column/field, or the NAME of an environment variable in password_env.
Passwords are never taken on the command line. An optional id column is echoed.

  --input <file>              accounts (.csv / .tsv, .jsonl / .ndjson); - for standard input
  --output <file>             results, one JSON object per line (appended; resumable); - for standard
                              output (the summary then goes to stderr; nothing to resume from)
  --format csv|jsonl          input format when the extension does not say
  --delimiter comma|semicolon|tab
                              CSV delimiter (default: the one that splits the header into the account
                              columns: semicolon-separated Excel exports and tab-separated files work as is)
  --ldap <urls>               ldaps://dc1,ldaps://dc2 (replicas of one directory, failover in order)
  --kdc <host[:port]>[,...]   pre-authenticate each account with these KDCs instead of binding
  --kerberos                  the same, with the realm's KDCs from DNS (looked up once per realm)
  --realm <REALM>             the Kerberos realm (default: each UPN's suffix, or --default-domain)
  --kdc-transport tcp|udp     tcp (default), or UDP first with TCP when the reply is too big
  --dns-server <ip[:port]>    ask this DNS server for the SRV records of --kerberos
  --ca-file <pem>             CA bundle that issued the directory's certificate
  --starttls                  upgrade ldap:// with StartTLS
  --servername <name>         verify the certificate against this name instead of the URL host
  --concurrency <n>           persistent connections / tries in flight (default 8)
  --rate <n>                  at most n binds / pre-authentications per second (default: no limit)
  --service-user <name>       read-only AD account: lockout guard for every account (batched reads)
  --service-password-env <V>  its password, from environment variable V
  --allow-unknown-threshold   bind accounts whose lockout threshold or bad-password count the service
                              account cannot read (otherwise: ldap.lockout-risk, not bound)
  --default-domain <domain>   for bare user names (alice → alice@domain or DOMAIN\\alice)
  --user-field <name>         column/field with the account name
  --password-field <name>     column/field with the password (default password)
  --password-env-field <name> column/field naming a password environment variable (default password_env)
  --timeout <ms>              per connect and per bind (default 10000)
  --progress-interval <s>     seconds between progress lines when stderr is not a terminal (default 5)
  --overwrite                 start a fresh output file instead of resuming
  --json                      print the final summary as one JSON object on stdout (stderr with --output -)
  --html <file>               also write an HTML report of the output file (credgate report --help)
  --insecure-plain-bind       allow plain ldap:// binds without TLS (passwords travel in clear)
  --insecure-skip-tls-verify  do not verify the directory's certificate
${alsoAccepted(['timeout', 'user-field', 'password-field', 'password-env-field'])}

${exitCodeHelp(EXITS, { lead: 'the most basic failure\'s when accounts fail differently', inFlight: IN_FLIGHT })}`;

const OPTIONS = {
  input: { type: 'string' },
  output: { type: 'string' },
  format: { type: 'string' },
  delimiter: { type: 'string' },
  ldap: { type: 'string' },
  'ca-file': { type: 'string', multiple: true },
  starttls: { type: 'boolean' },
  servername: { type: 'string' },
  concurrency: { type: 'string' },
  rate: { type: 'string' },
  'service-user': { type: 'string' },
  'service-password-env': { type: 'string' },
  'allow-unknown-threshold': { type: 'boolean' },
  'default-domain': { type: 'string' },
  'user-field': { type: 'string' },
  'password-field': { type: 'string' },
  'password-env-field': { type: 'string' },
  timeout: { type: 'string' },
  'progress-interval': { type: 'string' },
  overwrite: { type: 'boolean' },
  json: { type: 'boolean' },
  html: { type: 'string' },
  'insecure-plain-bind': { type: 'boolean' },
  'insecure-skip-tls-verify': { type: 'boolean' },
  password: { type: 'string' },
  ...KERBEROS_OPTIONS,
} as const;

function pickFormat(file: string, given: string | undefined): 'csv' | 'jsonl' {
  if (given) {
    if (given !== 'csv' && given !== 'jsonl') throw valueError('format', 'csv or jsonl');
    return given;
  }
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv' || ext === '.tsv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  throw usageError(`Cannot tell the format of ${file} from its extension; pass --format csv or --format jsonl.`);
}

/** --delimiter: by name (comma, semicolon, tab) or as the character itself. */
function pickDelimiter(given: string | undefined, format: 'csv' | 'jsonl'): CsvDelimiter | undefined {
  if (given === undefined) return undefined;
  if (format !== 'csv') throw usageError('--delimiter applies to CSV input; this input is JSON Lines.');
  const d = CSV_DELIMITERS.find((x) => x.name === given.toLowerCase() || x.char === given);
  if (!d) throw valueError('delimiter', 'comma, semicolon or tab');
  return d.char;
}

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'verify many accounts (CSV / JSON Lines) against the directory or the KDC, fast, lockout-safe and resumable',
  usage: USAGE,
  exits: EXITS,
  inFlight: IN_FLIGHT,
  async run(argv, io) {
    const { values: v, positionals } = parse('verify', argv, OPTIONS, true);
    if (v.password !== undefined) {
      throw usageError('Passwords are never taken on the command line; put them in the input file\'s password column or name an environment variable in password_env.');
    }
    if (positionals.length) throw misplacedFile('verify', positionals, { option: 'input', what: 'input', given: v.input !== undefined, cwd: io.cwd });
    if (typeof v.input !== 'string') throw usageError('--input <accounts.csv|accounts.jsonl> is required.');
    if (typeof v.output !== 'string') throw usageError('--output <results.jsonl> is required.');
    const krb = kerberosArgs(v, 'verify');
    if (v['spn-host'] !== undefined) throw usageError('--spn-host looks up an RDP host\'s SPNs, which verify does not do; use check or doctor.');
    if (!krb && typeof v.ldap !== 'string') throw usageError('--ldap <url> is required (ldaps://dc.example.com; several, comma-separated, fail over in order), or --kdc <host> / --kerberos to pre-authenticate each account with the KDC.');
    if (krb && v.ldap !== undefined && !v['service-user']) throw usageError('With --kdc / --kerberos, --ldap is only what the lockout guard reads with --service-user; add --service-user <name> --service-password-env <VAR>, or drop --ldap.');
    const inputPath = v.input === '-' ? '-' : path.resolve(io.cwd, v.input);
    const outputPath = v.output === '-' ? '-' : path.resolve(io.cwd, v.output);
    if (inputPath === outputPath && outputPath !== '-') throw usageError('--input and --output must be different files.');
    const format = pickFormat(inputPath === '-' ? 'stdin' : inputPath, v.format as string | undefined);
    const delimiter = pickDelimiter(v.delimiter as string | undefined, format);
    const concurrency = intOption('concurrency', v.concurrency as string | undefined, 8, 1, 1024);
    const rate = intOption('rate', v.rate as string | undefined, 0, 0, 10_000_000);
    const timeoutMs = intOption('timeout', v.timeout as string | undefined, 10_000, 100, 600_000);
    const intervalMs = intOption('progress-interval', v['progress-interval'] as string | undefined, 5, 1, 3600) * 1000;
    const service = serviceAccount(v, io);
    if (v.html !== undefined && outputPath === '-') throw usageError('--html reports from the --output file, and --output - keeps none: give --output <file>.');
    // --html: the report command's parts, loaded only for it
    const report = v.html !== undefined ? await import('./report.js') : undefined;
    const html = report?.htmlTarget(v.html, io, [outputPath, inputPath]);

    let totalBytes: number | undefined;
    let inputStream: AsyncIterable<string | Buffer> & { destroy?: () => void };
    if (inputPath === '-') {
      inputStream = io.stdin;
    } else {
      let st: fs.Stats;
      try {
        st = fs.statSync(inputPath);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new CredgateError(code === 'ENOENT' ? `The input file ${inputPath} does not exist; check the path.` : `Cannot read the input file ${inputPath} (${code ?? 'error'}); check the path.`, { code: 'INPUT_INVALID', details: { path: inputPath } });
      }
      if (st.isDirectory()) throw new CredgateError(`The input ${inputPath} is a directory; give the accounts file.`, { code: 'INPUT_INVALID', details: { path: inputPath } });
      totalBytes = st.size;
      inputStream = fs.createReadStream(inputPath, { highWaterMark: 256 * 1024 });
    }

    // resume: the accounts already answered, the bad lines already recorded
    let done = new AccountStates();
    let knownBad = new Set<number>();
    let needsNewline = false;
    let resumed = 0;
    if (outputPath !== '-' && !v.overwrite && fs.existsSync(outputPath)) {
      const r = await readPreviousOutput(outputPath);
      done = r.states;
      knownBad = r.badLines;
      needsNewline = !r.endsWithNewline;
      resumed = r.records;
    }
    // --output -: the results on stdout, the summary on stderr
    const out = await openDataSink(outputPath, io, { append: !v.overwrite });
    // a promise only when stdout is behind (a file's lines are batched synchronously: cli/output.ts)
    const write = (line: string): Promise<void> | undefined => out.write(line);
    const summaryTo = out.toStdout ? 'stderr' : 'stdout';
    if (needsNewline) await write('\n');

    const progress = new Progress(io, totalBytes, intervalMs);
    const summary = createSummary();
    // a stop (SIGINT, SIGTERM, SIGHUP: cli/signals.ts) takes no further account; the binds in flight finish and are written
    const stop = io.stop ?? new AbortController().signal;

    // the input, counted for the progress bar, bad lines reported, resumed accounts skipped
    const reader = new AccountReader(progress.count(inputStream as AsyncIterable<string | Buffer>), {
      format,
      ...(v['user-field'] ? { userField: String(v['user-field']) } : {}),
      ...(v['password-field'] ? { passwordField: String(v['password-field']) } : {}),
      ...(v['password-env-field'] ? { passwordEnvField: String(v['password-env-field']) } : {}),
      ...(delimiter ? { delimiter } : {}),
      env: io.env,
    });
    const accounts = new VerifyInput(reader, {
      io, name: inputPath === '-' ? 'stdin' : path.basename(inputPath), label: inputPath === '-' ? 'standard input' : inputPath, progress, summary, done, knownBad, stop, write,
    });

    const t0 = performance.now();
    try {
      // each result is taken from the worker that answered it (verifyEach: no iterator step per result)
      await verifyEach(asAccountInput(accounts), {
        ...(typeof v.ldap === 'string' ? { urls: v.ldap } : {}),
        ...(krb ? { kerberos: krb } : {}),
        ...(v['ca-file'] ? { caFile: v['ca-file'] as string[] } : {}),
        ...(v.servername ? { servername: String(v.servername) } : {}),
        starttls: !!v.starttls,
        allowPlainBind: !!v['insecure-plain-bind'],
        insecureSkipTlsVerify: !!v['insecure-skip-tls-verify'],
        concurrency,
        rate,
        timeoutMs,
        ...(service ? { service } : {}),
        ...(v['allow-unknown-threshold'] ? { allowUnknownThreshold: true } : {}),
        ...(v['default-domain'] ? { defaultDomain: String(v['default-domain']) } : {}),
        signal: stop,
      }, (r) => {
        if (r.code === 'input.invalid' && r.line !== undefined && knownBad.has(r.line)) {
          // a line verifyMany could not use (its account name), recorded by an earlier run
          progress.badKnown++;
          return undefined;
        }
        const w = write(resultLine(r));
        summary.add(r);
        progress.done++;
        if (!r.ok) progress.failed++;
        if (out.error) throw out.error;
        // stdout behind: the worker waits for it
        return w;
      });
    } catch (e) {
      // the stop's end of the run (accounts left unchecked): reported below as interrupted
      if (!(stop.aborted && isCredgateError(e, 'ABORTED'))) throw e;
    } finally {
      progress.stop();
      inputStream.destroy?.();
      await out.close();
    }
    if (out.error) throw out.error;
    progress.print(true);
    if (html && report) {
      const { readVerifyOutput } = await import('../../report/verify-input.js');
      await report.htmlReport(html, async () => [await readVerifyOutput(outputPath, String(v.output))], io);
    }
    const signal = stoppedBy(io.stop);
    const interrupted = signal !== undefined;
    const s = summary.result({ ...(signal ? { signal } : {}) });
    const elapsed = (performance.now() - t0) / 1000;
    const { exitCode, worstCode } = s;
    if (v.json) {
      io[summaryTo].write(JSON.stringify({
        ok: exitCode === 0, exitCode, interrupted, ...(signal ? { signal } : {}), total: s.total, valid: s.ok, failed: s.failed, badLines: progress.bad,
        skipped: progress.skipped, lost: progress.lost, badLinesAlreadyRecorded: progress.badKnown, previousRecords: resumed, byCode: s.byCode, worstCode: worstCode ?? null,
        elapsedSeconds: Math.round(elapsed * 1000) / 1000, bindsPerSecond: elapsed > 0 ? Math.round(s.total / elapsed) : 0, output: outputPath,
      }, null, 2) + '\n');
    } else {
      const st = style(io, summaryTo);
      const out: Shown[] = [
        t`${st.bold('credgate verify')}: ${s.total} checked in ${elapsed.toFixed(1)} s (${elapsed > 0 ? Math.round(s.total / elapsed) : 0}/s)${
          (progress.skipped ? `, ${progress.skipped} skipped (already answered)` : '') + (progress.lost ? `, ${progress.lost} unresolved (answer lost earlier)` : '') +
          (progress.bad ? `, ${progress.bad} bad input lines` : '') +
          (progress.badKnown ? `, ${progress.badKnown} bad input lines already recorded` : '') + (interrupted ? `, interrupted by ${signal}` : '')}`,
      ];
      const codes = Object.entries(s.byCode).sort((a, b) => b[1] - a[1]);
      const w = Math.max(8, ...codes.map(([c]) => c.length));
      for (const [code, n] of codes) {
        const row = causeOf(code);
        const colour = row.category === 'ok' ? st.green : st.red;
        out.push(t`  ${colour(code.padEnd(w))} ${String(n).padStart(8)}  ${row.cause}`);
      }
      if (progress.bad) out.push(t`  ${st.red('input.invalid'.padEnd(w))} ${String(progress.bad).padStart(8)}  ${causeOf('input.invalid').cause}`);
      if (progress.lost) {
        out.push(t`  ${st.red('unresolved'.padEnd(w))} ${String(progress.lost).padStart(8)}  An earlier run sent the bind and lost its answer; not resent (it may have counted a bad password). Check these accounts in the output file by hand.`);
      }
      out.push(t`Results: ${outputPath === '-' ? 'standard output' : outputPath}`);
      if (interrupted) out.push(outputPath === '-' ? t`Interrupted: the results went to standard output, so a rerun starts over; give --output <file> to resume.` : t`Interrupted: rerun the same command to verify the remaining accounts.`);
      say(io[summaryTo], lines(out));
    }
    return exitCode;
  },
};
