// Run the built CLI on this Windows as an admin would (node bin\credgate.mjs ...): the whole
// environment (a Windows process needs SystemRoot, USERPROFILE, TEMP), stdout and stderr as
// UTF-8 bytes, every output scanned for the passwords the test knows.
import { spawn, type ChildProcessByStdio, type SpawnOptionsWithStdioTuple } from 'node:child_process';
import type { Readable } from 'node:stream';
import path from 'node:path';
import { expect } from 'vitest';
import { assertNoLeak } from '../../helpers/cli.js';

export const ROOT = path.resolve(import.meta.dirname, '..', '..', '..');
export const BIN = path.join(ROOT, 'bin', 'credgate.mjs');

export interface WinCliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
  json?: any;
}

/**
 * Start node.exe. Under Wine on a loaded machine CreateProcess has failed once in a while with an
 * error Node maps to no code (`spawn UNKNOWN`, thrown before any child exists; seen once in ~20
 * tier runs, never reproduced alone). That is the harness starting the CLI, not the CLI under test:
 * retry it once after 250 ms and say so on stderr; a second failure is thrown.
 */
function spawnNode(args: string[], options: SpawnOptionsWithStdioTuple<'ignore', 'pipe', 'pipe'>): ChildProcessByStdio<null, Readable, Readable> {
  try {
    return spawn(process.execPath, [BIN, ...args], options);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'UNKNOWN') throw e;
    process.stderr.write(`windows tier: spawn UNKNOWN starting credgate ${args[0] ?? ''}; retrying once\n`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    return spawn(process.execPath, [BIN, ...args], options);
  }
}

/** `jsonLines`: the command prints one JSON object per line (launch's events); r.json is then not parsed. */
export async function runCli(args: string[], o: { env?: Record<string, string>; cwd?: string; secrets?: string[]; timeoutMs?: number; jsonLines?: boolean } = {}): Promise<WinCliResult> {
  const child = spawnNode(args, { cwd: o.cwd ?? ROOT, env: { ...process.env, NO_COLOR: '1', ...o.env }, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => out.push(d));
  child.stderr.on('data', (d: Buffer) => err.push(d));
  const timer = setTimeout(() => child.kill(), o.timeoutMs ?? 45_000);
  const code: number | null = await new Promise((resolve) => child.on('close', (c) => resolve(c)));
  clearTimeout(timer);
  const stdoutBytes = Buffer.concat(out);
  const r: WinCliResult = { code, stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes };
  assertNoLeak(r.stdout, o.secrets ?? [], `stdout of credgate ${args.slice(0, 2).join(' ')}`);
  assertNoLeak(r.stderr, o.secrets ?? [], `stderr of credgate ${args.slice(0, 2).join(' ')}`);
  if (args.includes('--json') && r.stdout.trim() && !o.jsonLines) {
    try {
      r.json = JSON.parse(r.stdout);
    } catch {
      expect.fail(`credgate ${args.join(' ')} printed invalid JSON:\n${r.stdout}\n${r.stderr}`);
    }
  }
  return r;
}
