#!/usr/bin/env node
// The house rule "network traffic only to loopback", checked rather than trusted: run a command
// (default: the whole test suite, lab start and stop included) under strace, record every
// connect / sendto / sendmsg / sendmmsg of it and its children, and list the addresses they went
// to. Exit 0 when all are loopback (127.0.0.0/8, ::1, or a Unix socket), 1 otherwise, naming each
// other address with the syscall and port that used it (never the bytes sent).
// Usage: node scripts/loopback-audit.mjs [-- command args...]   (needs strace: apt-get install strace)
// Bounded: the command is stopped after 30 minutes. The lab must not be left running by the
// command (strace waits for every traced process, and lab daemons started under it are traced).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

const LIMIT_MS = 30 * 60_000;
const sep = process.argv.indexOf('--');
const command = sep >= 0 ? process.argv.slice(sep + 1) : ['npx', 'vitest', 'run'];
if (!command.length) {
  console.error('loopback-audit: nothing to run after --');
  process.exit(2);
}
if (spawnSync('strace', ['-V'], { stdio: 'ignore' }).status !== 0) {
  console.error('loopback-audit: strace is not installed (apt-get install strace)');
  process.exit(2);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-loopback-'));
const trace = path.join(dir, 'trace.txt');
try {
  const child = spawn('strace', ['-f', '-qq', '-e', 'trace=connect,sendto,sendmsg,sendmmsg', '-o', trace, ...command], { stdio: 'inherit' });
  const timer = setTimeout(() => {
    console.error(`loopback-audit: over ${LIMIT_MS / 60_000} minutes, stopping strace (pid ${child.pid})`);
    child.kill('SIGINT');
  }, LIMIT_MS);
  const code = await new Promise((resolve) => child.on('close', (c, sig) => resolve(c ?? (sig ? 128 : 1))));
  clearTimeout(timer);

  const counts = new Map();
  const offenders = [];
  for (const line of fs.readFileSync(trace, 'utf8').split('\n')) {
    const addrs = [...line.matchAll(/inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"/g)].map((m) => m[1] ?? m[2]);
    for (const a of addrs) {
      counts.set(a, (counts.get(a) ?? 0) + 1);
      // the syscall, address and port only: strace also prints the start of the bytes sent,
      // which this script never repeats (they could hold a credential)
      if (!isLoopback(a)) offenders.push(`pid ${line.split(' ')[0]} ${/^\d+\s+(\w+)/.exec(line)?.[1] ?? '?'} to ${a} port ${/htons\((\d+)\)/.exec(line)?.[1] ?? '?'}`);
    }
  }
  console.log(`\nloopback-audit: \`${command.join(' ')}\` exited ${code}; network syscalls by address:`);
  for (const [a, n] of [...counts].sort((x, y) => y[1] - x[1])) console.log(`  ${a.padEnd(20)} ${n}${isLoopback(a) ? '' : '   <- NOT LOOPBACK'}`);
  if (!counts.size) console.log('  (none)');
  if (offenders.length) {
    console.log(`\n${offenders.length} syscall(s) left loopback:`);
    for (const l of offenders.slice(0, 20)) console.log(`  ${l}`);
    process.exitCode = 1;
  } else {
    console.log('every address was loopback');
    process.exitCode = code === 0 ? 0 : code;
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

// 0.0.0.0 and :: as a destination mean this host on Linux (never the network)
function isLoopback(a) {
  return /^127\./.test(a) || a === '::1' || a === '0.0.0.0' || a === '::' || /^::ffff:127\./i.test(a);
}
