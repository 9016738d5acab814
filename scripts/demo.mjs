#!/usr/bin/env node
// npm run demo: start the lab, then run `credgate doctor` — the main job — over the lab's scenario
// matrix exactly as a script would (the built CLI, password on stdin or from a provider, --json):
// a good account, each broken account state, a stale vault password, an unreachable host, an
// expired RDP certificate, a stale cached credential. Then `credgate check` over OpenLDAP's
// password-policy states. Prints scenario → verdict → cause → first fix, and stops what it started.
// With CREDGATE_DEMO_JSON_DIR=<dir> it also writes each scenario's raw --json output and exit code
// there (one file a scenario), so two builds' answers can be compared (scripts/compare-demo-json.mjs).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { up, down, readState } from '../test/lab/lab.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(root, 'bin', 'credgate.mjs');
const color = process.stdout.isTTY && !process.env.NO_COLOR;
const c = (n, s) => (color ? `\u001b[${n}m${s}\u001b[0m` : s);

function run(args, { stdin, env, cwd } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: cwd ?? root, env: { ...process.env, NO_COLOR: '1', ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.stdin.on('error', () => {});
    child.stdin.end(stdin ?? '');
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

function wrap(s, w) {
  const words = String(s).split(/\s+/);
  const lines = [''];
  for (const x of words) {
    if ((lines.at(-1) + ' ' + x).trim().length > w) lines.push(x);
    else lines[lines.length - 1] = (lines.at(-1) + ' ' + x).trim();
  }
  return lines;
}

function table(rows, headers, widths) {
  const out = [c(1, headers.map((h, i) => h.padEnd(widths[i])).join('  ')), widths.map((w) => '─'.repeat(w)).join('  ')];
  for (const r of rows) {
    const cells = r.map((x, i) => wrap(x, widths[i]));
    const n = Math.max(...cells.map((x) => x.length));
    for (let k = 0; k < n; k++) out.push(cells.map((x, i) => (x[k] ?? '').padEnd(widths[i])).join('  ').replace(/\s+$/, ''));
  }
  return out.join('\n');
}

async function closedPort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

const t0 = Date.now();
const { started, timings } = await up(['samba', 'slapd', 'rdp'], { log: (m) => process.stderr.write(c(2, m) + '\n') });
console.log(c(2, `lab ready in ${Date.now() - t0} ms ${started.length ? `(started ${started.join(', ')}: ${JSON.stringify(timings)})` : '(reused)'}`));
let unexpected = 0;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-demo-'));
try {
  const samba = readState('samba');
  const slapd = readState('slapd');
  const rdp = readState('rdp');
  const nlaHost = `127.0.0.1:${rdp.nla.port}`;
  const dirArgs = ['--ldap', samba.ldapsUrl, '--ca-file', samba.caFile, '--service-user', `${samba.reader.user}@pamtest.local`, '--service-password-env', 'CREDGATE_SVC_PW'];
  const env = { CREDGATE_SVC_PW: samba.reader.password };
  const sc = (k) => samba.scenarios.find((s) => s.key === k);
  // a "vault" the demo can run without a server: the file provider with the vault's record
  const vaultFile = path.join(tmp, 'vault.json');
  fs.writeFileSync(vaultFile, JSON.stringify({
    'rdp/bob': { username: sc('wrong-password').upn, password: sc('wrong-password').tryPassword, changedAt: '2026-10-01T00:00:00Z' },
    'rdp/alice': { username: sc('good').downLevel, password: sc('good').password, changedAt: new Date().toISOString() },
  }), { mode: 0o600 });
  fs.writeFileSync(path.join(tmp, 'credgate.config.json'), JSON.stringify({ providers: { vault: { type: 'file', options: { path: vaultFile } } } }));
  // a client cache written before alice's password last changed
  const cacheFile = path.join(tmp, 'ws-0042.json');
  fs.writeFileSync(cacheFile, JSON.stringify({ schema: 'credgate-collector/1', machine: 'WS-0042', credentials: [
    { target: 'Domain:target=TERMSRV/127.0.0.1', type: 'domain-password', userName: 'PAMTEST\\alice', lastWritten: '2025-06-01T08:00:00Z', persist: 'local-machine' },
  ] }));
  const refused = await closedPort();
  const jsonDir = process.env.CREDGATE_DEMO_JSON_DIR;
  if (jsonDir) fs.mkdirSync(jsonDir, { recursive: true });
  const keep = (kind, label, r) => {
    if (jsonDir) fs.writeFileSync(path.join(jsonDir, `${kind}-${label.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}.json`), JSON.stringify({ exitCode: r.code, stdout: r.out }) + '\n');
  };
  const matrix = [
    { label: 'healthy account', args: ['--host', nlaHost, '--account', sc('good').downLevel, '--password-stdin', ...dirArgs], stdin: sc('good').password, expect: 'rdp.nla-ok' },
    { label: 'vault holds last rotation\'s password', args: ['--host', nlaHost, '--provider', 'vault', '--ref', 'rdp/bob', ...dirArgs], expect: 'ldap.invalid-credentials' },
    ...['disabled', 'account-expired', 'must-change', 'locked', 'logon-hours', 'workstation', 'password-expired'].map((k) => ({
      label: sc(k).describe, args: ['--host', nlaHost, '--account', sc(k).upn, '--password-stdin', ...dirArgs], stdin: sc(k).password, expect: sc(k).expect,
    })),
    { label: `one failure from lockout (${samba.lockoutThreshold - 1} of ${samba.lockoutThreshold})`, args: ['--host', nlaHost, '--account', `${samba.nearLocked.user}@pamtest.local`, '--password-stdin', ...dirArgs], stdin: 'maybe-right-maybe-not', expect: 'ldap.lockout-risk' },
    { label: 'RDP host unreachable (port closed)', args: ['--host', `127.0.0.1:${refused}`, '--account', sc('good').upn, '--password-stdin', ...dirArgs], stdin: sc('good').password, expect: 'net.refused' },
    { label: 'RDP certificate expired', args: ['--host', `127.0.0.1:${rdp.expired.port}`, '--account', sc('good').upn, '--password-stdin', ...dirArgs], stdin: sc('good').password, expect: 'rdp.cert-expired' },
    { label: 'client caches a stale password', args: ['--host', `127.0.0.1:${rdp.nla.port}`, '--provider', 'vault', '--ref', 'rdp/alice', '--cache-from', cacheFile, ...dirArgs], expect: 'cache.stale-password' },
  ];
  console.log(`\n${c(1, 'credgate doctor')} — why would this RDP launch fail? (Samba AD DC ${samba.ldapsUrl}, FreeRDP hosts on 127.0.0.1)\n`);
  const rows = [];
  for (const m of matrix) {
    const t = Date.now();
    const r = await run(['doctor', ...m.args, '--json'], { stdin: m.stdin, env, cwd: tmp });
    keep('doctor', m.label, r);
    let j;
    try {
      j = JSON.parse(r.out);
    } catch {
      j = { code: `error: ${r.err.trim()}`, headline: '', remediation: [] };
    }
    const right = j.code === m.expect;
    if (!right) unexpected++;
    const verdict = (r.code === 0 ? c(32, 'PASS') : c(31, 'FAIL')) + ` (exit ${r.code})`;
    rows.push([m.label, verdict + (right ? '' : c(33, ' UNEXPECTED')), j.code, j.headline ?? '', `${Date.now() - t} ms`]);
  }
  console.log(table(rows, ['scenario', 'verdict', 'cause', 'headline (cause — fix)', 'time'], [30, 22, 26, 70, 7]));

  console.log(`\n${c(1, 'credgate check')} — OpenLDAP password-policy states (${slapd.ldapsUrl}), password on stdin\n`);
  const prow = [];
  for (const s of slapd.scenarios.filter((x) => x.key !== 'victim')) {
    const r = await run(['check', '--ldap', slapd.ldapsUrl, '--ca-file', slapd.caFile, '--user', s.dn, '--password-stdin', '--json'], { stdin: s.tryPassword });
    keep('check', s.uid, r);
    let j;
    try {
      j = JSON.parse(r.out);
    } catch {
      j = { code: `error: ${r.err.trim()}`, findings: [] };
    }
    const codes = (j.findings ?? []).map((f) => f.code);
    const right = codes.includes(s.expect);
    if (!right) unexpected++;
    prow.push([s.uid, (r.code === 0 ? c(32, 'OK') : c(31, 'FAIL')) + ` (exit ${r.code})` + (right ? '' : c(33, ' UNEXPECTED')), codes.join(', '), (j.remediation?.[0]?.action ?? '')]);
  }
  console.log(table(prow, ['account', 'verdict', 'findings', 'first fix'], [14, 14, 40, 70]));
  const total = matrix.length + prow.length;
  console.log(`\n${total} scenarios, ${total - unexpected} with the expected cause. Exit codes: 0 pass, 1 rejected, 3 account unusable, 4 unreachable/TLS, 5 vault, 6 stale cache.`);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
  if (started.length) await down(started, { log: (m) => process.stderr.write(c(2, m) + '\n') });
}
process.exitCode = unexpected ? 1 : 0;
