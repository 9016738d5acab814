/** `credgate verify`: many accounts from a CSV or JSON Lines file through the bulk pool, resumable, with progress. */
import fs from 'node:fs';
import path from 'node:path';
import { verifyMany, type AccountLine } from '../../bulk/verify-many.js';
import { readAccounts } from '../../bulk/input.js';
import { createSummary } from '../../bulk/summary.js';
import { AccountStates, readPreviousOutput } from '../../bulk/resume.js';
import { resultLine } from '../../bulk/results.js';
import { causeOf } from '../../findings/diagnose.js';
import { CredgateError } from '../../core/errors.js';
import type { Command, CliIO } from '../types.js';
import { intOption, parse, serviceAccount, usageError, valueError } from '../args.js';
import { lines, say, style, t, type Shown } from '../render.js';
import { LineFile } from '../output.js';
import { Progress } from '../progress.js';
import { stoppedBy } from '../signals.js';

const USAGE = `Usage: credgate verify --input <accounts.csv|accounts.jsonl> --output <results.jsonl> --ldap <url>[,<url>...]
         [--ca-file <pem>] [--starttls] [--concurrency 8] [--rate <binds/s>]
         [--service-user <name> --service-password-env <VAR> [--allow-unknown-threshold]] [--json]

Verifies many accounts against one directory over a few persistent LDAPS (or StartTLS)
connections that re-bind per account. Input and output are streamed; rerunning with the same
--output skips the accounts already answered and the bad lines already recorded (an account
that was unreachable before its bind was sent is checked again; one whose bind was sent and its
answer lost is not, so it is never sent twice: it is counted as unresolved, exit 4). Ctrl-C,
SIGTERM or SIGHUP finishes the binds in flight, writes them and stops (a second signal quits at
once). A bad input line is reported with its number and skipped.

Input: CSV with a header line (RFC 4180 quoting) or JSON Lines (one object per line), by file
extension or --format. Each line names the account (username, user, account, upn or dn) and its
password: in the password column/field, or the NAME of an environment variable in password_env.
Passwords are never taken on the command line. An optional id column is echoed.

  --input <file>              accounts (.csv, .jsonl / .ndjson); - for standard input
  --output <file>             results, one JSON object per line (appended; resumable)
  --format csv|jsonl          input format when the extension does not say
  --ldap <urls>               ldaps://dc1,ldaps://dc2 (replicas of one directory, failover in order)
  --ca-file <pem>             CA bundle that issued the directory's certificate
  --starttls                  upgrade ldap:// with StartTLS
  --servername <name>         verify the certificate against this name instead of the URL host
  --concurrency <n>           persistent connections / binds in flight (default 8)
  --rate <n>                  at most n binds per second (default: no limit)
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
  --json                      print the final summary as one JSON object on stdout
  --insecure-plain-bind       allow plain ldap:// binds without TLS (passwords travel in clear)
  --insecure-skip-tls-verify  do not verify the directory's certificate

Exit codes: 0 every account valid; otherwise the exit code of the most basic failure:
1 rejected, 2 usage / bad input lines, 3 account unusable, 4 unreachable/TLS (also: an earlier
run's bind whose answer was lost, never resent); stopped by a signal: 130 SIGINT, 143 SIGTERM,
129 SIGHUP.
`;

const OPTIONS = {
  input: { type: 'string' },
  output: { type: 'string' },
  format: { type: 'string' },
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
  'user-column': { type: 'string' },
  'password-field': { type: 'string' },
  'password-column': { type: 'string' },
  'password-env-field': { type: 'string' },
  'password-env-column': { type: 'string' },
  timeout: { type: 'string' },
  'progress-interval': { type: 'string' },
  overwrite: { type: 'boolean' },
  json: { type: 'boolean' },
  'insecure-plain-bind': { type: 'boolean' },
  'insecure-skip-tls-verify': { type: 'boolean' },
  password: { type: 'string' },
} as const;

function pickFormat(file: string, given: string | undefined): 'csv' | 'jsonl' {
  if (given) {
    if (given !== 'csv' && given !== 'jsonl') throw valueError('format', 'csv or jsonl');
    return given;
  }
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  throw usageError(`Cannot tell the format of ${file} from its extension; pass --format csv or --format jsonl.`);
}

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'verify many accounts (CSV / JSON Lines) against the directory, fast, lockout-safe and resumable',
  usage: USAGE,
  inFlight: 'the binds in flight',
  async run(argv, io) {
    const { values: v } = parse('verify', argv, OPTIONS);
    if (v.password !== undefined) {
      throw usageError('Passwords are never taken on the command line; put them in the input file\'s password column or name an environment variable in password_env.');
    }
    if (typeof v.input !== 'string') throw usageError('--input <accounts.csv|accounts.jsonl> is required.');
    if (typeof v.output !== 'string') throw usageError('--output <results.jsonl> is required.');
    if (typeof v.ldap !== 'string') throw usageError('--ldap <url> is required (ldaps://dc.example.com; several, comma-separated, fail over in order).');
    const inputPath = v.input === '-' ? '-' : path.resolve(io.cwd, v.input);
    const outputPath = path.resolve(io.cwd, v.output);
    if (inputPath === outputPath) throw usageError('--input and --output must be different files.');
    const format = pickFormat(inputPath === '-' ? 'stdin' : inputPath, v.format as string | undefined);
    const concurrency = intOption('concurrency', v.concurrency as string | undefined, 8, 1, 1024);
    const rate = intOption('rate', v.rate as string | undefined, 0, 0, 10_000_000);
    const timeoutMs = intOption('timeout', v.timeout as string | undefined, 10_000, 100, 600_000);
    const intervalMs = intOption('progress-interval', v['progress-interval'] as string | undefined, 5, 1, 3600) * 1000;
    const service = serviceAccount(v, io);

    let totalBytes: number | undefined;
    let inputStream: AsyncIterable<string | Buffer> & { destroy?: () => void };
    if (inputPath === '-') {
      inputStream = io.stdin;
    } else {
      try {
        totalBytes = fs.statSync(inputPath).size;
      } catch (e) {
        throw new CredgateError(`Cannot read the input file ${inputPath} (${(e as NodeJS.ErrnoException).code ?? 'error'}); check the path.`, { code: 'INPUT_INVALID', details: { path: inputPath } });
      }
      inputStream = fs.createReadStream(inputPath, { highWaterMark: 256 * 1024 });
    }

    // resume: the accounts already answered, the bad lines already recorded
    let done = new AccountStates();
    let knownBad = new Set<number>();
    let needsNewline = false;
    let resumed = 0;
    if (!v.overwrite && fs.existsSync(outputPath)) {
      const r = await readPreviousOutput(outputPath);
      done = r.states;
      knownBad = r.badLines;
      needsNewline = !r.endsWithNewline;
      resumed = r.records;
    }
    let out: LineFile;
    try {
      out = LineFile.open(outputPath, !v.overwrite);
    } catch (e) {
      throw new CredgateError(`Cannot write the output file ${outputPath} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`, { code: 'INPUT_INVALID', cause: e, details: { path: outputPath } });
    }
    const write = (line: string): void => out.write(line);
    if (needsNewline) write('\n');

    const progress = new Progress(io, totalBytes, intervalMs);
    const summary = createSummary();
    // a stop (SIGINT, SIGTERM, SIGHUP: cli/signals.ts) takes no further account; the binds in flight finish and are written
    const stop = io.stop ?? new AbortController().signal;
    const badShown = 20;

    // the input, counted for the progress bar, bad lines reported, resumed accounts skipped
    const counted = progress.count(inputStream as AsyncIterable<string | Buffer>);
    const accounts = async function* (): AsyncGenerator<AccountLine> {
      for await (const rec of readAccounts(counted, {
        format,
        ...(v['user-field'] ?? v['user-column'] ? { userField: String(v['user-field'] ?? v['user-column']) } : {}),
        ...(v['password-field'] ?? v['password-column'] ? { passwordField: String(v['password-field'] ?? v['password-column']) } : {}),
        ...(v['password-env-field'] ?? v['password-env-column'] ? { passwordEnvField: String(v['password-env-field'] ?? v['password-env-column']) } : {}),
        env: io.env,
      })) {
        if (stop.aborted) return;
        progress.record(rec.kind === 'bad' ? rec.line : rec.account.line);
        if (rec.kind === 'bad') {
          if (knownBad.has(rec.line)) {
            // recorded by an earlier run: not written or counted again
            progress.badKnown++;
            continue;
          }
          progress.bad++;
          summary.addBadLine();
          if (progress.bad <= badShown) say(io.stderr, t`${progress.bad === 1 && io.stderr.isTTY ? t`\n` : ''}credgate verify: ${inputPath === '-' ? 'stdin' : path.basename(inputPath)} line ${rec.line}: ${rec.reason}; skipped\n`);
          else if (progress.bad === badShown + 1) io.stderr.write('credgate verify: more bad lines; see the output file for all of them\n');
          write(JSON.stringify({ line: rec.line, ok: false, code: 'input.invalid', category: 'usage', error: rec.reason }) + '\n');
          continue;
        }
        const st = done.state(rec.account.username);
        if (st === 'answered') {
          progress.skipped++;
          continue;
        }
        if (st === 'lost') {
          // never resent (it may have cost a bad-password count), but not answered either: it counts
          // as unreachable in the exit code, under its own line in the summary
          progress.lost++;
          summary.addLost(done.lostCode(rec.account.username));
          continue;
        }
        yield rec.account;
      }
      progress.inputDone();
    };

    const t0 = performance.now();
    try {
      for await (const r of verifyMany(accounts(), {
        urls: v.ldap,
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
      })) {
        if (r.code === 'input.invalid' && r.line !== undefined && knownBad.has(r.line)) {
          // a line verifyMany could not use (its account name), recorded by an earlier run
          progress.badKnown++;
          continue;
        }
        write(resultLine(r));
        summary.add(r);
        progress.done++;
        if (!r.ok) progress.failed++;
      }
    } catch (e) {
      if (e !== out.error) throw e;
    } finally {
      progress.stop();
      inputStream.destroy?.();
      out.close();
    }
    if (out.error) {
      throw new CredgateError(`Writing the output file ${outputPath} failed (${out.error.code ?? 'error'}).`, { code: 'INPUT_INVALID', details: { path: outputPath } });
    }
    progress.print(true);
    const signal = stoppedBy(io.stop);
    const interrupted = signal !== undefined;
    const s = summary.result({ ...(signal ? { signal } : {}) });
    const elapsed = (performance.now() - t0) / 1000;
    const { exitCode, worstCode } = s;
    if (v.json) {
      io.stdout.write(JSON.stringify({
        ok: exitCode === 0, exitCode, interrupted, ...(signal ? { signal } : {}), total: s.total, valid: s.ok, failed: s.failed, badLines: progress.bad,
        skipped: progress.skipped, lost: progress.lost, badLinesAlreadyRecorded: progress.badKnown, previousRecords: resumed, byCode: s.byCode, worstCode: worstCode ?? null,
        elapsedSeconds: Math.round(elapsed * 1000) / 1000, bindsPerSecond: elapsed > 0 ? Math.round(s.total / elapsed) : 0, output: outputPath,
      }, null, 2) + '\n');
    } else {
      const st = style(io, 'stdout');
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
      out.push(t`Results: ${outputPath}`);
      if (interrupted) out.push(t`Interrupted: rerun the same command to verify the remaining accounts.`);
      say(io.stdout, lines(out));
    }
    return exitCode;
  },
};
