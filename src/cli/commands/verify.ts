import fs from 'node:fs';
import { hash } from 'node:crypto';
import path from 'node:path';
import { createSummary, readAccounts, verifyMany, type AccountLine, type VerifyResult } from '../../bulk/verify-many.js';
import { causeOf, exitCodeFor, EXIT_CODES } from '../../findings/diagnose.js';
import { CredgateError } from '../../core/errors.js';
import type { Command, CliIO } from '../types.js';
import { intOption, parse, serviceAccount, usageError } from '../args.js';
import { style } from '../render.js';

const USAGE = `Usage: credgate verify --input <accounts.csv|accounts.jsonl> --output <results.jsonl> --ldap <url>[,<url>...]
         [--ca-file <pem>] [--starttls] [--concurrency 8] [--rate <binds/s>]
         [--service-user <name> --service-password-env <VAR> [--allow-unknown-threshold]] [--json]

Verifies many accounts against one directory over a few persistent LDAPS (or StartTLS)
connections that re-bind per account. Input and output are streamed; rerunning with the same
--output skips the accounts already answered and the bad lines already recorded (an account
that was unreachable before its bind was sent is checked again; one whose bind was sent and its
answer lost is not, so it is never sent twice: it is counted as unresolved, exit 4). Ctrl-C finishes the binds in flight, writes them
and stops. A bad input line is reported with its number and skipped.

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
run's bind whose answer was lost, never resent); 130 interrupted.
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

const PRESENT = 0x80;
/** The account's last record is a definitive answer (not unreachable before a bind, not a bad line). */
const ANSWERED = 1;
/** A bind was sent for the account and its answer was lost (bound: true): never resent, whatever follows. */
const LOST = 2;
/** Bits 2..6: 1 + the index of the first lost record's code in AccountStates' code table (0: none / table full). */
const LOST_CODE_SHIFT = 2;
const LOST_CODE_MASK = 0x7c;
const LOST_CODES_MAX = LOST_CODE_MASK >> LOST_CODE_SHIFT;
/** What a resumed run does with an account: bind it, skip it (answered), or skip it unresolved (its answer was lost). */
export type ResumeState = 'new' | 'answered' | 'lost';

/**
 * What the output file already says about each account, for resume. Keyed by a 96-bit hash of the
 * account name (the first 12 bytes of its MD5), not the name: 12 bytes of key and 1 of state a
 * slot, open addressing, at most 70% full, so 1,000,000 accounts take 2^21 slots = 27 MB (peak RSS
 * of a resume over a 1,000,000-account output: 175 MB; 279 MB with a Set of the names;
 * bench/verify-memory.mjs). Two different names share a key with a probability of ~n²/2^97
 * (~1e-17 for a million accounts).
 */
export class AccountStates {
  private bits = 10;
  private keys = new Uint32Array(3 << this.bits);
  private states = new Uint8Array(1 << this.bits);
  /** The codes of lost records (net.connection-lost, net.timeout, ...): a handful, indexed by the state bits. */
  private readonly lostCodes: string[] = [];
  size = 0;

  private slot(a: number, b: number, c: number): number {
    const mask = (1 << this.bits) - 1;
    for (let i = a & mask; ; i = (i + 1) & mask) {
      if (this.states[i] === 0) return i;
      const k = i * 3;
      if (this.keys[k] === a && this.keys[k + 1] === b && this.keys[k + 2] === c) return i;
    }
  }

  private static key(name: string): [number, number, number] {
    const h = hash('md5', name, 'buffer');
    return [h.readUInt32LE(0), h.readUInt32LE(4), h.readUInt32LE(8)];
  }

  private grow(): void {
    const { keys, states } = this;
    this.bits++;
    this.keys = new Uint32Array(3 << this.bits);
    this.states = new Uint8Array(1 << this.bits);
    for (let i = 0; i < states.length; i++) {
      if (states[i] === 0) continue;
      const j = this.slot(keys[i * 3]!, keys[i * 3 + 1]!, keys[i * 3 + 2]!);
      this.keys.set(keys.subarray(i * 3, i * 3 + 3), j * 3);
      this.states[j] = states[i]!;
    }
  }

  private lostCodeBits(code: string | undefined): number {
    if (code === undefined) return 0;
    let i = this.lostCodes.indexOf(code);
    if (i < 0) {
      if (this.lostCodes.length >= LOST_CODES_MAX) return 0;
      i = this.lostCodes.push(code) - 1;
    }
    return (i + 1) << LOST_CODE_SHIFT;
  }

  /**
   * Fold in one record (the last one wins, except that a lost answer stays lost). `lostCode`: the
   * record's code when it is a lost answer (the first lost code of an account is kept).
   */
  record(name: string, answered: boolean, lost: boolean, lostCode?: string): void {
    if ((this.size + 1) * 10 > this.states.length * 7) this.grow();
    const [a, b, c] = AccountStates.key(name);
    const i = this.slot(a, b, c);
    const old = this.states[i]!;
    if (old === 0) {
      this.size++;
      this.keys[i * 3] = a;
      this.keys[i * 3 + 1] = b;
      this.keys[i * 3 + 2] = c;
    }
    const codeBits = old & LOST ? old & LOST_CODE_MASK : lost ? this.lostCodeBits(lostCode) : 0;
    this.states[i] = PRESENT | (lost || (old & LOST) ? LOST : 0) | (answered ? ANSWERED : 0) | codeBits;
  }

  /**
   * What a rerun does with the account: 'new' (bind it), 'answered' (its last record is a definitive
   * answer: skip it) or 'lost' (a bind was sent and its answer lost, and no later answer came: skip
   * it — never resent — but it is unresolved).
   */
  state(name: string): ResumeState {
    if (this.size === 0) return 'new';
    const [a, b, c] = AccountStates.key(name);
    const st = this.states[this.slot(a, b, c)]!;
    if (st & ANSWERED) return 'answered';
    return st & LOST ? 'lost' : 'new';
  }

  /** The code of the account's first lost record (net.connection-lost when it was not kept). */
  lostCode(name: string): string {
    const [a, b, c] = AccountStates.key(name);
    const bits = (this.states[this.slot(a, b, c)]! & LOST_CODE_MASK) >> LOST_CODE_SHIFT;
    return (bits ? this.lostCodes[bits - 1] : undefined) ?? 'net.connection-lost';
  }

  /** Whether a rerun must skip the account: answered, or a bind was sent whose answer was lost. */
  answered(name: string): boolean {
    if (this.size === 0) return false;
    const [a, b, c] = AccountStates.key(name);
    return (this.states[this.slot(a, b, c)]! & (ANSWERED | LOST)) !== 0;
  }
}

/**
 * Read an earlier output file: the accounts already answered, and the input lines already
 * recorded as bad (by line number), so a rerun neither re-binds nor repeats them. An account whose
 * last record is unreachable with no bind sent (bound: false) is checked again; one with a bind
 * sent whose answer was lost (bound: true: net.timeout, net.connection-lost) is not — it may have
 * cost a bad-password count, and a resend could cost another.
 */
export async function readPreviousOutput(file: string): Promise<{ states: AccountStates; badLines: Set<number>; endsWithNewline: boolean; records: number }> {
  const states = new AccountStates();
  const badLines = new Set<number>();
  let records = 0;
  let last = '';
  let rest = '';
  const handle = (text: string) => {
    if (!text.trim()) return;
    let r: { account?: unknown; category?: unknown; code?: unknown; bound?: unknown; line?: unknown };
    try {
      r = JSON.parse(text);
    } catch {
      return; // a line cut by a crash: ignored, that account is checked again
    }
    if (!r || typeof r !== 'object') return;
    const invalid = r.code === 'input.invalid';
    if (invalid && typeof r.line === 'number') badLines.add(r.line);
    if (typeof r.account !== 'string') return;
    records++;
    const lost = r.bound === true && r.category === 'unreachable';
    states.record(r.account, !invalid && r.category !== 'unreachable', lost, lost && typeof r.code === 'string' ? r.code : undefined);
  };
  const stream = fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 256 * 1024 });
  for await (const chunk of stream) {
    const s = chunk as string;
    let start = 0;
    for (let nl = s.indexOf('\n'); nl >= 0; nl = s.indexOf('\n', start)) {
      handle(rest + s.slice(start, nl));
      rest = '';
      start = nl + 1;
    }
    rest = rest + s.slice(start);
    if (s.length) last = s;
  }
  handle(rest);
  return { states, badLines, endsWithNewline: last === '' || last.endsWith('\n'), records };
}

function fmtDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '?';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}

class Progress {
  private readonly t0 = performance.now();
  private lastPrint = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly tty: boolean;
  done = 0;
  failed = 0;
  skipped = 0;
  /** Skipped because an earlier run sent the bind and lost its answer: not resent, unresolved. */
  lost = 0;
  bad = 0;
  /** Bad lines an earlier run already recorded in the output (not written again). */
  badKnown = 0;
  bytesRead = 0;

  constructor(private readonly io: CliIO, private readonly totalBytes: number | undefined, private readonly intervalMs: number) {
    this.tty = !!io.stderr.isTTY;
    this.timer = setInterval(() => this.print(false), this.tty ? 200 : intervalMs);
    this.timer.unref();
  }

  private line(): string {
    const secs = (performance.now() - this.t0) / 1000;
    const rate = secs > 0 ? this.done / secs : 0;
    const frac = this.totalBytes ? Math.min(1, this.bytesRead / this.totalBytes) : undefined;
    const eta = frac && frac > 0 ? secs / frac - secs : undefined;
    const parts = [`${this.done} done`, `${this.failed} failed`, `${Math.round(rate)}/s`];
    if (this.skipped) parts.push(`${this.skipped} skipped (already answered)`);
    if (this.lost) parts.push(`${this.lost} unresolved (answer lost earlier, not resent)`);
    if (this.bad) parts.push(`${this.bad} bad lines`);
    if (frac !== undefined) parts.push(`${Math.floor(frac * 100)}% of input`, `ETA ${eta === undefined ? '?' : fmtDuration(eta)}`);
    if (this.tty && frac !== undefined) {
      const w = 24;
      const filled = Math.round(frac * w);
      return `[${'#'.repeat(filled)}${'-'.repeat(w - filled)}] ${parts.join(', ')}`;
    }
    return parts.join(', ');
  }

  print(final: boolean): void {
    if (this.tty) {
      this.io.stderr.write(`\r\u001b[2K${this.line()}${final ? '\n' : ''}`);
      return;
    }
    const now = performance.now();
    if (!final && now - this.lastPrint < this.intervalMs - 50) return;
    this.lastPrint = now;
    this.io.stderr.write(`credgate verify: ${this.line()}\n`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

function pickFormat(file: string, given: string | undefined): 'csv' | 'jsonl' {
  if (given) {
    if (given !== 'csv' && given !== 'jsonl') throw usageError(`--format must be csv or jsonl, got "${given}".`);
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
    const out = fs.createWriteStream(outputPath, { flags: v.overwrite ? 'w' : 'a' });
    const outReady = new Promise<void>((resolve, reject) => {
      out.once('open', () => resolve());
      out.once('error', (e) => reject(new CredgateError(`Cannot write the output file ${outputPath} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`, { code: 'INPUT_INVALID', cause: e, details: { path: outputPath } })));
    });
    await outReady;
    let outError: unknown;
    out.on('error', (e) => (outError = e));
    const write = async (line: string) => {
      if (!out.write(line)) await new Promise<void>((r) => out.once('drain', () => r()));
    };
    if (needsNewline) await write('\n');

    const progress = new Progress(io, totalBytes, intervalMs);
    const summary = createSummary();
    const ac = new AbortController();
    let interrupted = false;
    const onSigint = () => {
      interrupted = true;
      ac.abort();
      if (!io.stderr.isTTY) io.stderr.write('credgate verify: interrupted; finishing the binds in flight (Ctrl-C again to quit at once)\n');
    };
    process.once('SIGINT', onSigint);
    const badShown = 20;
    /** The most basic code among the accounts skipped as lost. */
    let lostWorst: string | undefined;

    // the input, counted for the progress bar, bad lines reported, resumed accounts skipped
    const counted = (async function* () {
      for await (const chunk of inputStream) {
        progress.bytesRead += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
        yield chunk;
      }
    })();
    const accounts = async function* (): AsyncGenerator<AccountLine> {
      for await (const rec of readAccounts(counted, {
        format,
        ...(v['user-field'] ?? v['user-column'] ? { userField: String(v['user-field'] ?? v['user-column']) } : {}),
        ...(v['password-field'] ?? v['password-column'] ? { passwordField: String(v['password-field'] ?? v['password-column']) } : {}),
        ...(v['password-env-field'] ?? v['password-env-column'] ? { passwordEnvField: String(v['password-env-field'] ?? v['password-env-column']) } : {}),
        env: io.env,
      })) {
        if (ac.signal.aborted) return;
        if (rec.kind === 'bad') {
          if (knownBad.has(rec.line)) {
            // recorded by an earlier run: not written or counted again
            progress.badKnown++;
            continue;
          }
          progress.bad++;
          summary.addBadLine();
          if (progress.bad <= badShown) io.stderr.write(`${progress.bad === 1 && io.stderr.isTTY ? '\n' : ''}credgate verify: ${inputPath === '-' ? 'stdin' : path.basename(inputPath)} line ${rec.line}: ${rec.reason}; skipped\n`);
          else if (progress.bad === badShown + 1) io.stderr.write('credgate verify: more bad lines; see the output file for all of them\n');
          await write(JSON.stringify({ line: rec.line, ok: false, code: 'input.invalid', category: 'usage', error: rec.reason }) + '\n');
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
          const code = done.lostCode(rec.account.username);
          const lostCode = causeOf(code).category === 'unreachable' ? code : 'net.connection-lost';
          if (lostWorst === undefined || causeOf(lostCode).priority < causeOf(lostWorst).priority) lostWorst = lostCode;
          continue;
        }
        yield rec.account;
      }
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
        signal: ac.signal,
      })) {
        if (r.code === 'input.invalid' && r.line !== undefined && knownBad.has(r.line)) {
          // a line verifyMany could not use (its account name), recorded by an earlier run
          progress.badKnown++;
          continue;
        }
        await write(resultLine(r));
        summary.add(r);
        progress.done++;
        if (!r.ok) progress.failed++;
        if (outError) throw outError;
      }
    } finally {
      process.off('SIGINT', onSigint);
      progress.stop();
      inputStream.destroy?.();
      await new Promise<void>((r) => out.end(() => r()));
    }
    if (outError) {
      throw new CredgateError(`Writing the output file ${outputPath} failed (${(outError as NodeJS.ErrnoException).code ?? 'error'}).`, { code: 'INPUT_INVALID', details: { path: outputPath } });
    }
    progress.print(true);
    const s = summary.result();
    const elapsed = (performance.now() - t0) / 1000;
    // accounts whose earlier answer was lost are unresolved: they fail the run as unreachable (4)
    // unless a more basic failure decides
    let worstCode = s.worstCode;
    let resultCode = s.exitCode;
    if (lostWorst !== undefined && (worstCode === undefined || causeOf(lostWorst).priority < causeOf(worstCode).priority)) {
      worstCode = lostWorst;
      resultCode = exitCodeFor(lostWorst);
    }
    const exitCode = interrupted ? 130 : resultCode;
    if (v.json) {
      io.stdout.write(JSON.stringify({
        ok: exitCode === 0, exitCode, interrupted, total: s.total, valid: s.ok, failed: s.failed, badLines: progress.bad,
        skipped: progress.skipped, lost: progress.lost, badLinesAlreadyRecorded: progress.badKnown, previousRecords: resumed, byCode: s.byCode, worstCode: worstCode ?? null,
        elapsedSeconds: Math.round(elapsed * 1000) / 1000, bindsPerSecond: elapsed > 0 ? Math.round(s.total / elapsed) : 0, output: outputPath,
      }, null, 2) + '\n');
    } else {
      const st = style(io, 'stdout');
      const lines = [
        `${st.bold('credgate verify')}: ${s.total} checked in ${elapsed.toFixed(1)} s (${elapsed > 0 ? Math.round(s.total / elapsed) : 0}/s)` +
          `${progress.skipped ? `, ${progress.skipped} skipped (already answered)` : ''}${progress.lost ? `, ${progress.lost} unresolved (answer lost earlier)` : ''}` +
          `${progress.bad ? `, ${progress.bad} bad input lines` : ''}` +
          `${progress.badKnown ? `, ${progress.badKnown} bad input lines already recorded` : ''}${interrupted ? ', interrupted' : ''}`,
      ];
      const codes = Object.entries(s.byCode).sort((a, b) => b[1] - a[1]);
      const w = Math.max(8, ...codes.map(([c]) => c.length));
      for (const [code, n] of codes) {
        const row = causeOf(code);
        const colour = row.category === 'ok' ? st.green : st.red;
        lines.push(`  ${colour(code.padEnd(w))} ${String(n).padStart(8)}  ${row.cause}`);
      }
      if (progress.bad) lines.push(`  ${st.red('input.invalid'.padEnd(w))} ${String(progress.bad).padStart(8)}  ${causeOf('input.invalid').cause}`);
      if (progress.lost) {
        lines.push(`  ${st.red('unresolved'.padEnd(w))} ${String(progress.lost).padStart(8)}  An earlier run sent the bind and lost its answer; not resent (it may have counted a bad password). Check these accounts in the output file by hand.`);
      }
      lines.push(`Results: ${outputPath}`);
      if (interrupted) lines.push('Interrupted: rerun the same command to verify the remaining accounts.');
      io.stdout.write(lines.join('\n') + '\n');
    }
    return exitCode === 0 ? EXIT_CODES.ok : exitCode;
  },
};

/** One result as a JSON line, built directly (the output of a million accounts is hot code). */
function resultLine(r: VerifyResult): string {
  let s = '{';
  if (r.line !== undefined) s += `"line":${r.line},`;
  if (r.id !== undefined) s += `"id":${JSON.stringify(r.id)},`;
  s += `"account":${JSON.stringify(r.account)},"ok":${r.ok},"code":${JSON.stringify(r.code)},"category":${JSON.stringify(r.category)}`;
  s += `,"exitCode":${r.exitCode},"bound":${r.bound}`;
  if (r.url) s += `,"url":${JSON.stringify(r.url)}`;
  s += `,"ms":${Number.isFinite(r.ms) ? r.ms : 0},"findings":[`;
  for (let i = 0; i < r.findings.length; i++) {
    const f = r.findings[i]!;
    if (i) s += ',';
    s += `{"code":${JSON.stringify(f.code)},"severity":${JSON.stringify(f.severity)},"message":${JSON.stringify(f.message)},"evidence":${JSON.stringify(f.evidence)}`;
    if (f.remediation.length) s += `,"remediation":${JSON.stringify(f.remediation)}`;
    s += '}';
  }
  return s + ']}\n';
}
