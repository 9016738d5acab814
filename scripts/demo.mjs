#!/usr/bin/env node
// npm run demo: start the lab, run `credgate check` for every scenario account exactly as a
// script would (the built CLI, password on stdin, --json), print account → verdict → cause → fix,
// and stop what it started.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { up, down, readState } from '../test/lab/lab.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(root, 'bin', 'credgate.mjs');
const color = process.stdout.isTTY && !process.env.NO_COLOR;
const c = (n, s) => (color ? `\u001b[${n}m${s}\u001b[0m` : s);

function run(args, { stdin, env } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1', ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.stdin.end(stdin ?? '');
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

function table(rows, headers) {
  const widths = headers.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((r) => String(r[i]).length))));
  const line = (cells) => cells.map((x, i) => String(x).slice(0, widths[i]).padEnd(widths[i])).join('  ');
  return [c(1, line(headers)), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const t0 = Date.now();
const { started } = await up(['samba', 'slapd'], { log: (m) => process.stderr.write(c(2, m) + '\n') });
console.log(c(2, `lab ready in ${Date.now() - t0} ms`));
let failures = 0;
try {
  const samba = readState('samba');
  const slapd = readState('slapd');
  const svcEnv = { CREDGATE_SVC_PW: samba.reader.password };
  const rows = [];
  console.log(`\n${c(1, 'credgate check')} — every scenario account of the lab's Samba AD DC (${samba.ldapsUrl}), password on stdin\n`);
  const scenarios = [
    ...samba.scenarios.map((s) => ({ label: s.downLevel, describe: s.describe, expect: s.expect, args: ['--ldap', samba.ldapsUrl, '--ca-file', samba.caFile, '--user', s.upn], stdin: s.tryPassword })),
    {
      label: `PAMTEST\\${samba.nearLocked.user}`,
      describe: `${samba.lockoutThreshold - 1} bad passwords, threshold ${samba.lockoutThreshold}`,
      expect: 'ldap.lockout-risk',
      args: ['--ldap', samba.ldapsUrl, '--ca-file', samba.caFile, '--user', `${samba.nearLocked.user}@pamtest.local`, '--service-user', `${samba.reader.user}@pamtest.local`, '--service-password-env', 'CREDGATE_SVC_PW'],
      stdin: 'maybe-the-right-password',
    },
    { label: 'alice (no CA given)', describe: 'DC certificate not trusted', expect: 'tls.untrusted', args: ['--ldap', samba.ldapsUrl, '--user', 'alice@pamtest.local'], stdin: 'x-not-sent' },
    { label: 'alice (plain ldap://)', describe: 'opted into a plain bind', expect: 'ldap.strong-auth-required', args: ['--ldap', samba.ldapUrl, '--insecure-plain-bind', '--user', 'alice@pamtest.local'], stdin: samba.scenarios[0].password },
    { label: 'alice (port 1)', describe: 'nothing listening', expect: 'net.refused', args: ['--ldap', 'ldaps://127.0.0.1:1', '--user', 'alice@pamtest.local'], stdin: 'x-not-sent' },
    ...slapd.scenarios.filter((s) => s.key !== 'victim').map((s) => ({ label: `slapd ${s.uid}`, describe: `OpenLDAP ppolicy: ${s.key}`, expect: s.expect, args: ['--ldap', slapd.ldapsUrl, '--ca-file', slapd.caFile, '--user', s.dn], stdin: s.tryPassword })),
  ];
  for (const s of scenarios) {
    const r = await run(['check', ...s.args, '--password-stdin', '--json'], { stdin: s.stdin, env: svcEnv });
    let j;
    try {
      j = JSON.parse(r.out);
    } catch {
      j = { code: `error: ${r.err.trim()}`, cause: '', remediation: [] };
    }
    const right = j.code === s.expect || j.findings?.some((f) => f.code === s.expect);
    if (!right) failures++;
    const verdict = r.code === 0 ? c(32, `OK (${r.code})`) : c(31, `FAIL (${r.code})`);
    rows.push([s.label, s.describe, verdict + (right ? '' : c(33, ' UNEXPECTED')), j.code, (j.remediation?.[0]?.action ?? '').replace(/\s+/g, ' ')]);
  }
  console.log(table(rows, ['account', 'scenario', 'verdict (exit)', 'cause', 'first fix']));
  console.log(`\n${scenarios.length} scenarios, ${scenarios.length - failures} with the expected cause. Exit codes: 0 valid, 1 rejected, 3 unusable, 4 unreachable/TLS.`);
  console.log(c(2, `Run one yourself:  printf %s "$PW" | node bin/credgate.mjs check --ldap ${samba.ldapsUrl} --ca-file ${samba.caFile} --user alice@pamtest.local --password-stdin`));
} finally {
  if (started.length) await down(started, { log: (m) => process.stderr.write(c(2, m) + '\n') });
}
process.exitCode = failures ? 1 : 0;
