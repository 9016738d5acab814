/**
 * A running RDP client, watched until its session is established or it exits, then until the
 * session ends. FreeRDP writes its log (WLog's file appender) into credgate's private temp
 * directory; this reads it as it grows and decides from it (freerdp-log.ts, client-outcome.ts).
 * The session owns the child process and that directory: stop() passes a signal on, dispose
 * stops the client and waits for it; the directory goes when the client is gone.
 */
import fs from 'node:fs';
import os from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import type { ChildProcess } from 'node:child_process';
import { scrub, type Secret } from '../core/secret.js';
import { finding } from '../findings/finding.js';
import { diagnose } from '../findings/diagnose.js';
import type { Verdict } from '../findings/finding.js';
import { emptyClientLog, readLogText, type ClientLog } from './freerdp-log.js';
import { clientEndFindings, type ClientEnd } from './client-outcome.js';

export interface LaunchOutcome {
  /**
   * `established`: the client reached an active session; `failed`: it exited first, or did not
   * get there in time and was stopped; `unobserved`: a client that reports nothing credgate can
   * read (mstsc), started.
   */
  status: 'established' | 'failed' | 'unobserved';
  ok: boolean;
  /** The findings judged as one verdict (its exitCode is credgate's for a failure). */
  verdict: Verdict;
  /** From the client's start to the decision. */
  ms: number;
  /** How the client ended, when it has. */
  clientEnd?: ClientEnd;
  /** credgate's exit code for this outcome (128 + the signal when one was passed on). */
  exitCode: number;
}

export interface SessionEnd extends LaunchOutcome {
  /** The session had been established before the client ended. */
  established: boolean;
  stoppedBy?: NodeJS.Signals;
}

export interface SessionOptions {
  host: string;
  port: number;
  /** The client's name in messages. */
  client: string;
  /** FreeRDP's log file; absent for a client that writes none (mstsc): the outcome is then `unobserved`. */
  logFile?: string;
  /** Removed once the client is gone. */
  tempDir?: string;
  /** Fingerprints handed to the client as the only trusted certificate(s). */
  verified: readonly string[];
  /** Values scrubbed from anything the client printed before it becomes evidence. */
  secrets: ReadonlyArray<Secret | string>;
  /** The client must establish the session or exit within this. Default 60,000 ms. */
  connectTimeoutMs?: number;
  /** After the active state, the client must stay up this long without a failure. Default 300 ms. */
  settleMs?: number;
  /** How often the log is read while connecting. Default 100 ms. */
  pollMs?: number;
}

const OUTPUT_TAIL = 2048;
const SIGNAL_NUMBERS = os.constants.signals as Record<string, number>;

/** A started RDP client. `outcome` settles once (established, failed or unobserved); `ended` when the client has exited. */
export class ClientSession implements AsyncDisposable {
  readonly outcome: Promise<LaunchOutcome>;
  readonly ended: Promise<SessionEnd>;
  private readonly log: ClientLog = emptyClientLog();
  private readonly t0 = performance.now();
  private offset = 0;
  private partial = '';
  private readonly decoder = new StringDecoder('utf8');
  private output = '';
  private stoppedBy: NodeJS.Signals | undefined;
  private timedOutMs: number | undefined;
  private established = false;
  private killTimer: NodeJS.Timeout | undefined;

  constructor(readonly child: ChildProcess, private readonly o: SessionOptions) {
    for (const s of [child.stdout, child.stderr]) {
      s?.setEncoding('utf8');
      s?.on('data', (d: string) => {
        this.output = (this.output + d).slice(-OUTPUT_TAIL);
      });
    }
    const closed = new Promise<ClientEnd>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
    this.outcome = o.logFile ? this.watch(closed) : Promise.resolve(this.unobserved());
    this.ended = this.finish(closed);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Whether the client is still running. */
  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Pass a signal on to the client (SIGKILL 10 s later if it is still there); the end is then the caller's. */
  stop(signal: NodeJS.Signals = 'SIGTERM'): void {
    if (!this.running) return;
    this.stoppedBy ??= signal;
    this.signal(signal);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.running) this.stop('SIGTERM');
    await this.ended;
  }

  private signal(sig: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      this.child.kill(sig);
    } catch {
      /* already gone */
    }
    this.killTimer ??= setTimeout(() => {
      if (this.running) this.child.kill('SIGKILL');
    }, 10_000);
  }

  private readLog(): void {
    if (!this.o.logFile) return;
    let fd: number;
    try {
      fd = fs.openSync(this.o.logFile, 'r');
    } catch {
      return; // not written yet
    }
    try {
      const buf = Buffer.alloc(64 * 1024);
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, this.offset);
        if (n <= 0) break;
        this.offset += n;
        const text = this.partial + this.decoder.write(buf.subarray(0, n));
        const cut = text.lastIndexOf('\n');
        this.partial = cut < 0 ? text : text.slice(cut + 1);
        if (cut >= 0) readLogText(this.log, text.slice(0, cut));
      }
    } finally {
      fs.closeSync(fd);
    }
  }

  /** Active, with no failure logged since it became so. */
  private activeAndWell(): boolean {
    return this.log.active && this.log.failures === this.log.failuresAtActive;
  }

  private watch(closed: Promise<ClientEnd>): Promise<LaunchOutcome> {
    const timeoutMs = this.o.connectTimeoutMs ?? 60_000;
    const settleMs = this.o.settleMs ?? 300;
    return new Promise((resolve) => {
      let wellSince: number | undefined;
      let done = false;
      const settle = (v: LaunchOutcome) => {
        if (done) return;
        done = true;
        clearInterval(poll);
        resolve(v);
      };
      const tick = () => {
        this.readLog();
        const now = performance.now();
        // established: the active state, then settleMs alive with no failure after it (a post-connect failure comes at once)
        wellSince = this.activeAndWell() ? wellSince ?? now : undefined;
        if (wellSince !== undefined && now - wellSince >= settleMs && this.running && !this.stoppedBy) {
          this.established = true;
          settle(this.establishedOutcome());
        } else if (now - this.t0 >= timeoutMs && this.running && this.timedOutMs === undefined && !this.stoppedBy) {
          this.timedOutMs = timeoutMs;
          this.signal('SIGTERM');
        }
      };
      const poll = setInterval(tick, this.o.pollMs ?? 100);
      void closed.then((end) => {
        if (done) return;
        this.readLog();
        settle(this.endOutcome(end));
      });
    });
  }

  private async finish(closed: Promise<ClientEnd>): Promise<SessionEnd> {
    const end = await closed;
    // the outcome decides first (it reads the last of the log), then the end is judged
    await this.outcome;
    if (this.killTimer) clearTimeout(this.killTimer);
    this.readLog();
    if (this.o.tempDir) fs.rmSync(this.o.tempDir, { recursive: true, force: true });
    const out = this.o.logFile ? this.endOutcome(end) : { ...this.unobserved(), clientEnd: end };
    return { ...out, established: this.established, ...(this.stoppedBy ? { stoppedBy: this.stoppedBy } : {}) };
  }

  /** What the client printed, without /from-stdin's prompt. */
  private printed(): string {
    return this.output.replace(/^Password: ?/, '').trim();
  }

  private ms(): number {
    return Math.round(performance.now() - this.t0);
  }

  private establishedOutcome(): LaunchOutcome {
    const f = finding('launch', 'launch.established', 'ok', `${this.o.client} established the session with ${this.o.host}:${this.o.port} in ${this.ms()} ms (FreeRDP reached CONNECTION_STATE_ACTIVE and stayed up).`, {
      client: this.o.client, pid: this.child.pid, ms: this.ms(), signal: 'com.freerdp.core.connection: CONNECTION_STATE_FINALIZATION --> CONNECTION_STATE_ACTIVE',
    });
    const verdict = diagnose([f]);
    return { status: 'established', ok: true, verdict, ms: this.ms(), exitCode: verdict.exitCode };
  }

  private endOutcome(end: ClientEnd): LaunchOutcome {
    const findings = clientEndFindings(this.log, end, {
      host: this.o.host, port: this.o.port, client: this.o.client, verified: this.o.verified, established: this.established,
      ...(this.stoppedBy ? { stoppedBy: this.stoppedBy } : {}), ...(this.timedOutMs !== undefined ? { timedOutMs: this.timedOutMs } : {}),
      lines: this.log.lines.map((l) => scrub(l, this.o.secrets)), ...(this.printed() ? { output: scrub(this.printed(), this.o.secrets) } : {}),
    });
    const judged = diagnose(findings);
    // an end that is no failure is told by its own finding (diagnose names only failures and ok rows)
    const verdict = judged.ok ? { ...judged, code: findings[0]!.code, cause: findings[0]!.message } : judged;
    // a session that never became established is never a success, whatever ended it
    const exitCode = this.stoppedBy ? 128 + (SIGNAL_NUMBERS[this.stoppedBy] ?? 15) : verdict.exitCode;
    return { status: this.established ? 'established' : 'failed', ok: this.established && verdict.ok, verdict, ms: this.ms(), clientEnd: end, exitCode };
  }

  private unobserved(): LaunchOutcome {
    const f = finding('launch', 'launch.unobserved', 'info', `${this.o.client} was started (pid ${this.child.pid}); it reports no outcome credgate can read, so whether the session was established is not known.`, { client: this.o.client, pid: this.child.pid });
    const verdict = { ...diagnose([f]), code: f.code, cause: f.message };
    return { status: 'unobserved', ok: true, verdict, ms: this.ms(), exitCode: this.stoppedBy ? 128 + (SIGNAL_NUMBERS[this.stoppedBy] ?? 15) : 0 };
  }
}
