#!/usr/bin/env node
// CLI start-up, whole processes as a user runs them, median of N runs, alternating with `node -e 0`
// in each round so all see the same machine load:
//   `credgate --help` and `credgate check --help` (node start + module load);
//   `credgate check --ldap <ldaps url> --ca-file --user --password-env --json` with the good password
//   of the lab slapd's `good` account (start, one LDAPS bind with the ppolicy control, the verdict);
// then each other command's `--help` (each loads only its own module).
// Targets: --help ≤ 70 ms, check --ldap ≤ 100 ms, every other --help < 200 ms. The figures include
// this machine's `node -e 0` (printed: NODE_EXTRA_CA_CERTS, when set, is parsed by every node start).
// Usage: node bench/cli-start.mjs [--bin <path to bin/credgate.mjs>] [runs=15]
//   (--bin, or CREDGATE_BENCH_BIN: another build's CLI; starts the lab's slapd when it is not running
//    (CREDGATE_LAB_DIR names a running lab), stops only what it started)
import os from 'node:os';
import { execFileSync, spawnSync } from 'node:child_process';
import { up, down, readState } from '../test/lab/lab.mjs';
import { benchArgs, median } from './lib/args.mjs';

const { bin, rest } = benchArgs(process.argv.slice(2));
const runs = Math.max(3, Math.min(101, Number(rest[0] ?? 15)));
const HELP_MS = 70;
const CHECK_MS = 100;

const ms = (t0) => Number(process.hrtime.bigint() - t0) / 1e6;
function time(args, env) {
  const t0 = process.hrtime.bigint();
  execFileSync(process.execPath, args, { stdio: 'ignore', timeout: 10_000, ...(env ? { env: { ...process.env, ...env } } : {}) });
  return ms(t0);
}

const { started } = await up(['slapd'], { log: () => {} });
try {
  const slapd = readState('slapd');
  const good = slapd.scenarios.find((s) => s.key === 'good');
  const check = [bin, 'check', '--ldap', slapd.ldapsUrl, '--ca-file', slapd.caFile, '--user', good.dn, '--password-env', 'CG_BENCH_PW', '--json'];
  const checkEnv = { CG_BENCH_PW: good.password };
  // the answer, once: a check that fails is not a start-up figure
  const first = spawnSync(process.execPath, check, { encoding: 'utf8', env: { ...process.env, ...checkEnv }, timeout: 10_000 });
  const verdict = (() => {
    try {
      return JSON.parse(first.stdout).code;
    } catch {
      return `exit ${first.status}`;
    }
  })();
  if (first.status !== 0 || verdict !== 'ldap.ok') throw new Error(`credgate check --ldap against the lab slapd answered ${verdict}: ${first.stderr.slice(0, 300)}`);

  const bare = [];
  const help = [];
  const checkHelp = [];
  const checkLdap = [];
  const loads = [];
  for (let i = 0; i < runs; i++) {
    bare.push(time(['-e', '0']));
    help.push(time([bin, '--help']));
    checkHelp.push(time([bin, 'check', '--help']));
    checkLdap.push(time(check, checkEnv));
    loads.push(os.loadavg()[0]);
  }
  // every other command's --help: each loads only its own module
  const others = {};
  for (const c of ['doctor', 'launch', 'probe', 'cache', 'providers', 'verify']) {
    const t = [];
    for (let i = 0; i < runs; i++) t.push(time([bin, c, '--help']));
    others[c] = +median(t).toFixed(1);
  }
  const result = {
    bench: 'cli-start',
    bin,
    runs,
    nodeBareMs: +median(bare).toFixed(1),
    helpMs: +median(help).toFixed(1),
    checkHelpMs: +median(checkHelp).toFixed(1),
    checkLdapMs: +median(checkLdap).toFixed(1),
    credgateOwnMs: +(median(help) - median(bare)).toFixed(1),
    checkLdapOwnMs: +(median(checkLdap) - median(bare)).toFixed(1),
    otherHelpMs: others,
    targets: { helpMs: HELP_MS, checkLdapMs: CHECK_MS, otherHelpMs: 200 },
    load: [+Math.min(...loads).toFixed(2), +Math.max(...loads).toFixed(2)],
    nodeExtraCaCerts: process.env.NODE_EXTRA_CA_CERTS ? 'set' : 'unset',
  };
  result.pass = result.helpMs <= HELP_MS && result.checkLdapMs <= CHECK_MS && result.checkHelpMs < 200 && Object.values(others).every((x) => x < 200);
  console.log(JSON.stringify(result));
  process.exitCode = result.pass ? 0 : 1; // a missed target fails the bench (npm run bench reports it)
} finally {
  if (started.length) await down(started, { log: () => {} });
}
