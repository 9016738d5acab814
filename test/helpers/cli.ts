// Run the built CLI as a user would (node bin/credgate.mjs), and scan everything it printed for
// every password the lab knows plus the ones the test passed in: any hit fails the test.
import { spawn } from 'node:child_process';
import { Readable, Writable } from 'node:stream';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { allLabPasswords, labPart, slapd } from '../lab/state.js';
import { recordCodesInText } from './code-ledger.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(root, 'bin', 'credgate.mjs');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  json?: any;
}

export interface RunOptions {
  stdin?: string;
  env?: Record<string, string>;
  secrets?: string[];
  timeoutMs?: number;
  cwd?: string;
  /** Run node under this command, e.g. ['faketime', '-f', '+1h'] (the CLI with a shifted clock). */
  wrapper?: string[];
}

/** Every form a password can take in the output: as is, JSON-escaped, and JSON with \uXXXX escapes. */
export function leakForms(secret: string): string[] {
  const json = JSON.stringify(secret).slice(1, -1);
  const ascii = json.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return [...new Set([secret, json, ascii])];
}

/**
 * Fails on any form of any secret in `text`. A secret of 4+ characters must not appear anywhere; a
 * shorter one (a test's deliberately tiny password) must not appear quoted ('pw', "pw", `pw`) nor
 * as a whole line, which is how echoed arguments and JSON strings carry it.
 */
export function assertNoLeak(text: string, secrets: string[], where: string): void {
  const lines = new Set(text.split(/\r?\n/).map((l) => l.trim()));
  for (const s of secrets) {
    if (!s) continue;
    for (const form of leakForms(s)) {
      const hit = s.length >= 4 ? text.includes(form) : [`'${form}'`, `"${form}"`, `\`${form}\``].some((q) => text.includes(q)) || lines.has(form);
      if (hit) throw new Error(`LEAK: a password (${s.length} characters${form !== s ? ', JSON-escaped' : ''}) appeared in ${where}`);
    }
  }
}

/** The lab's passwords plus the RDP host's own accounts and OpenLDAP's scenario passwords. */
export function knownSecrets(): string[] {
  const out = new Set(allLabPasswords());
  try {
    for (const u of labPart<{ users: Array<{ password: string }> }>('rdp').users) out.add(u.password);
  } catch {}
  try {
    for (const x of slapd().scenarios) {
      out.add(x.password);
      out.add(x.tryPassword);
    }
  } catch {}
  return [...out].filter(Boolean);
}

/**
 * The CLI's main() in this process, its output collected and checked as runCli checks it (every
 * known secret, valid JSON under --json): for matrices of options and usage errors, where a process
 * per case would cost most of the unit tier's time. Not for what only a process shows (bin/, exit).
 */
export async function runMain(args: string[], opts: Omit<RunOptions, 'wrapper' | 'timeoutMs' | 'stdin'> = {}): Promise<CliResult & { code: number }> {
  const { main } = await import('../../src/cli/main.js');
  const out: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  const sink = (k: 'stdout' | 'stderr') => new Writable({ write(c, _e, cb) { out[k] += String(c); cb(); } });
  const stdin = Readable.from([]);
  const code = await main(args, { stdout: sink('stdout'), stderr: sink('stderr'), stdin, env: { NO_COLOR: '1', ...opts.env }, cwd: opts.cwd ?? root });
  return { code, ...checked(args, out.stdout, out.stderr, opts) };
}

/** The output scanned for every secret and its finding codes recorded; parsed when --json was asked for. */
function checked(args: string[], stdout: string, stderr: string, opts: Pick<RunOptions, 'env' | 'secrets' | 'stdin'>): { stdout: string; stderr: string; json?: any } {
  const secrets = [...knownSecrets(), ...(opts.secrets ?? []), ...(opts.stdin ? [opts.stdin.replace(/\r?\n$/, '')] : [])];
  for (const v of Object.values(opts.env ?? {})) if (v.length >= 6 && !v.includes('/')) secrets.push(v);
  assertNoLeak(stdout, secrets, `stdout of credgate ${args[0]}`);
  assertNoLeak(stderr, secrets, `stderr of credgate ${args[0]}`);
  recordCodesInText(stdout);
  const r: { stdout: string; stderr: string; json?: any } = { stdout, stderr };
  if (args.includes('--json')) {
    try {
      r.json = JSON.parse(stdout);
    } catch {
      expect.fail(`credgate ${args.join(' ')} --json printed invalid JSON:\n${stdout}\n${stderr}`);
    }
  }
  return r;
}

export async function runCli(args: string[], opts: RunOptions = {}): Promise<CliResult> {
  const [cmd, ...pre] = opts.wrapper?.length ? [...opts.wrapper, process.execPath] : [process.execPath];
  const child = spawn(cmd!, [...pre, BIN, ...args], {
    cwd: opts.cwd ?? root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', NO_COLOR: '1', ...opts.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  child.stdin.end(opts.stdin ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  const code: number | null = await new Promise((resolve) => child.on('close', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, ...checked(args, stdout, stderr, opts) };
}
