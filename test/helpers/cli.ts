// Run the built CLI as a user would (node bin/credgate.mjs), and scan everything it printed for
// every password the lab knows plus the ones the test passed in: any hit fails the test.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { allLabPasswords } from '../lab/state.js';

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
}

export function assertNoLeak(text: string, secrets: string[], where: string): void {
  for (const s of secrets) {
    if (s.length >= 4 && text.includes(s)) {
      throw new Error(`LEAK: a password appeared in ${where}`);
    }
  }
}

export async function runCli(args: string[], opts: RunOptions = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], {
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
  const secrets = [...allLabPasswords(), ...(opts.secrets ?? []), ...(opts.stdin ? [opts.stdin.replace(/\r?\n$/, '')] : [])];
  for (const v of Object.values(opts.env ?? {})) if (v.length >= 6 && !v.includes('/')) secrets.push(v);
  assertNoLeak(stdout, secrets, `stdout of credgate ${args[0]}`);
  assertNoLeak(stderr, secrets, `stderr of credgate ${args[0]}`);
  const r: CliResult = { code, stdout, stderr };
  if (args.includes('--json')) {
    try {
      r.json = JSON.parse(stdout);
    } catch {
      expect.fail(`credgate ${args.join(' ')} --json printed invalid JSON:\n${stdout}\n${stderr}`);
    }
  }
  return r;
}
