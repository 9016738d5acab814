#!/usr/bin/env node
// `credgate verify --kdc` against a shell loop running MIT `kinit` once per account, over the same
// 1,000 accounts of the lab's Samba KDC, in one run: whole processes, as users run them.
//   credgate: node bin/credgate.mjs verify --input <csv> --output <jsonl> --overwrite --kdc 127.0.0.1 --json
//             (8 AS exchanges in flight; each account: one AS-REQ without a password, one proof)
//   kinit:    sh -c 'while read u p; do printf "%s\n" "$p" | kinit "$u" >/dev/null || exit 1; done < list'
//             with a private KRB5CCNAME and krb5.conf (KDC 127.0.0.1; udp_preference_limit = 1, so
//             kinit uses TCP like credgate: over UDP, Samba answers a ticket with RESPONSE_TOO_BIG
//             and does the logon twice)
// Rounds alternate which side goes first; the ratio is the median of the per-round ratios of the
// wall times. For each side it also prints the client CPU (the child processes' user+sys, from
// this process's cutime/cstime) and the KDC's CPU (the Samba process's utime+stime in
// /proc/<pid>/stat) per account: Samba runs every service in one process (`samba -M single`), so
// the KDC's own time per logon is a floor no client can go under.
// The accounts (krb-bench-0000 .. krb-bench-0999, in the group krb-bench, which a password settings
// object with no lockout threshold applies to) are created once and reused: the run creates only the
// missing ones. Starts the lab's samba part when it is not running, stops only what it started.
// Usage: node bench/verify-kdc.mjs [accounts=1000] [rounds=3]   Bounded: stops after 540 s.
// Target: credgate ≥ 20× the kinit loop (wall time). Exit code 0 when met, 1 otherwise.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runBounded } from './lib/bounded.mjs';
import { up, down, readState } from '../test/lab/lab.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.argv[2] ?? 1000);
const ROUNDS = Number(process.argv[3] ?? 3);
const LIMIT_MS = 540_000;
const TARGET = 20;
const PASSWORD = 'Bench!Krb-2026-k'; // lab data, not a secret
const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim() || 100);
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-bench-kdc-'));
let started = [];
async function cleanup() {
  fs.rmSync(dir, { recursive: true, force: true });
  if (started.length) await down(started, { log: () => {} });
  started = [];
}

// the bench's accounts, created once: only the missing ones, in one transaction
const PY = String.raw`
import sys, json
import ldb
sys.path.insert(0, sys.argv[4])
from samba_pso import no_lockout_pso
from samba.samdb import SamDB
from samba.auth import system_session
from samba.param import LoadParm
n, pw = int(sys.argv[2]), sys.argv[3]
lp = LoadParm(); lp.load(sys.argv[1])
db = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
base = str(db.domain_dn())
names = ['krb-bench-%04d' % i for i in range(n)]
have = set(str(m['sAMAccountName'][0]) for m in db.search(base=base, scope=ldb.SCOPE_SUBTREE, expression='(sAMAccountName=krb-bench-*)', attrs=['sAMAccountName']))
missing = [u for u in names if u not in have]
group = 'CN=krb-bench,CN=Users,' + base
db.transaction_start()
try:
    if not db.search(base=base, scope=ldb.SCOPE_SUBTREE, expression='(sAMAccountName=krb-bench)', attrs=[]):
        db.newgroup('krb-bench')
    for u in missing:
        db.newuser(u, pw, useusernameascn=True)
    if missing:
        db.add_remove_group_members('krb-bench', missing, add_members_operation=True)
    if not db.search(base=base, scope=ldb.SCOPE_SUBTREE, expression='(&(objectClass=msDS-PasswordSettings)(cn=krb-bench))', attrs=[]):
        no_lockout_pso(db, base, 'krb-bench', group, 9)
    db.transaction_commit()
except Exception:
    db.transaction_cancel()
    raise
print(json.dumps({'created': len(missing), 'present': len(have)}))
`;

/** Children's CPU (user+sys, ms) of this process so far: the spawned side and everything it waited for. */
function childrenCpuMs() {
  const f = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(f[13]) + Number(f[14])) * TICK_MS; // cutime, cstime (fields 16, 17)
}
/** A process's own CPU (user+sys, ms). */
function processCpuMs(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS; // utime, stime (fields 14, 15)
}

function run(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { PATH: process.env.PATH, HOME: process.env.HOME ?? '/root', NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

async function measured(kdcPid, fn) {
  const c0 = childrenCpuMs();
  const k0 = processCpuMs(kdcPid);
  const t0 = performance.now();
  await fn();
  return { s: (performance.now() - t0) / 1000, clientMs: childrenCpuMs() - c0, kdcMs: processCpuMs(kdcPid) - k0 };
}

await runBounded(LIMIT_MS, cleanup, async () => {
  ({ started } = await up(['samba'], { log: () => {} }));
  const samba = readState('samba');
  const kdcPid = samba.pids[0];
  const t0 = performance.now();
  const made = JSON.parse(execFileSync('/usr/bin/python3', ['-c', PY, samba.smbConf, String(N), PASSWORD, path.join(root, 'test', 'lab')], { encoding: 'utf8', timeout: 400_000 }).trim().split('\n').pop());
  const users = Array.from({ length: N }, (_, i) => `krb-bench-${String(i).padStart(4, '0')}`);
  console.log(`verify --kdc vs a kinit loop: ${N} accounts of the lab's Samba KDC (${made.created} created now in ${Math.round(performance.now() - t0)} ms, ${made.present} already there); ${ROUNDS} rounds`);
  console.log(`machine: ${os.cpus().length} cores, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; kinit: ${execFileSync('sh', ['-c', 'kinit -V 2>&1 | head -1 || true'], { encoding: 'utf8' }).trim() || 'MIT krb5'}`);

  const csv = path.join(dir, 'accounts.csv');
  fs.writeFileSync(csv, ['username,password', ...users.map((u) => `${u}@pamtest.local,${PASSWORD}`)].join('\n') + '\n');
  const list = path.join(dir, 'accounts.txt');
  fs.writeFileSync(list, users.map((u) => `${u}@PAMTEST.LOCAL ${PASSWORD}`).join('\n') + '\n');
  const krb5conf = path.join(dir, 'krb5.conf');
  fs.writeFileSync(krb5conf, `[libdefaults]\n  default_realm = PAMTEST.LOCAL\n  dns_lookup_kdc = false\n  dns_lookup_realm = false\n  rdns = false\n  udp_preference_limit = 1\n[realms]\n  PAMTEST.LOCAL = {\n    kdc = 127.0.0.1\n  }\n`);
  const kinitEnv = { KRB5_CONFIG: krb5conf, KRB5CCNAME: `FILE:${path.join(dir, 'ccache')}` };
  const loop = 'while read -r u p; do printf "%s\\n" "$p" | kinit "$u" >/dev/null || { echo "kinit failed for $u" >&2; exit 1; }; done < "$1"';

  const credgate = async () => {
    const r = await run(process.execPath, [path.join(root, 'bin', 'credgate.mjs'), 'verify', '--input', csv, '--output', path.join(dir, 'out.jsonl'), '--overwrite', '--kdc', '127.0.0.1', '--json'], {});
    const j = JSON.parse(r.out);
    if (r.code !== 0 || j.valid !== N) throw new Error(`credgate verify --kdc: exit ${r.code}, ${j.valid} valid of ${N} (${JSON.stringify(j.byCode)})`);
  };
  const kinit = async () => {
    const r = await run('sh', ['-c', loop, 'kinit-loop', list], kinitEnv);
    if (r.code !== 0) throw new Error(`kinit loop: exit ${r.code}: ${r.err.slice(0, 300)}`);
  };

  // warm-up: a short pass of each (page cache, Samba's caches, the JIT)
  await measured(kdcPid, () => run(process.execPath, [path.join(root, 'bin', 'credgate.mjs'), '--help'], {}));
  const cg = [];
  const ki = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r % 2 === 0) {
      cg.push(await measured(kdcPid, credgate));
      ki.push(await measured(kdcPid, kinit));
    } else {
      ki.push(await measured(kdcPid, kinit));
      cg.push(await measured(kdcPid, credgate));
    }
    const c = cg[r];
    const k = ki[r];
    console.log(`  round ${r + 1}: credgate ${c.s.toFixed(2)} s (${Math.round(N / c.s)}/s; client CPU ${(c.clientMs / N).toFixed(2)} ms, KDC CPU ${(c.kdcMs / N).toFixed(2)} ms per account), kinit loop ${k.s.toFixed(2)} s (${Math.round(N / k.s)}/s; client CPU ${(k.clientMs / N).toFixed(2)} ms, KDC CPU ${(k.kdcMs / N).toFixed(2)} ms per account): ${(k.s / c.s).toFixed(1)}×; load ${os.loadavg()[0].toFixed(2)}`);
  }
  const ratio = median(cg.map((c, i) => ki[i].s / c.s));
  const cgS = median(cg.map((c) => c.s));
  const kiS = median(ki.map((k) => k.s));
  const kdcFloor = median(cg.map((c) => c.kdcMs / N));
  const clientRatio = median(cg.map((c, i) => ki[i].clientMs / c.clientMs));
  console.log('');
  console.log(`| ${N} accounts, Samba 4.17 KDC on loopback (median of ${ROUNDS}) | wall s | accounts/s | client CPU ms/account | KDC CPU ms/account |`);
  console.log('|---|---|---|---|---|');
  console.log(`| credgate verify --kdc (whole process, 8 in flight) | ${cgS.toFixed(2)} | ${Math.round(N / cgS)} | ${median(cg.map((c) => c.clientMs / N)).toFixed(2)} | ${kdcFloor.toFixed(2)} |`);
  console.log(`| kinit per account (shell loop, TCP) | ${kiS.toFixed(2)} | ${Math.round(N / kiS)} | ${median(ki.map((k) => k.clientMs / N)).toFixed(2)} | ${median(ki.map((k) => k.kdcMs / N)).toFixed(2)} |`);
  console.log('');
  console.log(`credgate / kinit loop = ${ratio.toFixed(1)}× (wall time; median of the per-round ratios; target ≥ ${TARGET}×)`);
  console.log(`client CPU: the kinit loop spends ${clientRatio.toFixed(1)}× credgate's per account; the KDC spends ${kdcFloor.toFixed(2)} ms of CPU per credgate account, in one process: at most ${Math.round(1000 / kdcFloor)} accounts/s for any client, so the best possible ratio here is about ${(kiS / (N * kdcFloor / 1000)).toFixed(1)}×`);
  process.exitCode = ratio >= TARGET ? 0 : 1;
});
