#!/usr/bin/env node
// A hostile directory and the LDAP message cap: peak RSS and wall time of `credgate check` (dist)
// against a loopback LDAPS server that answers the bind with a 2 GB length prefix and then streams
// filler as fast as the client reads it (bounded at 1 GiB), at --timeout 2000 and 30000, next to
// the same check against a server that answers the bind at once (52e), alternating, whole
// processes as users run them. Target: the hostile case ends with ldap.protocol-error in under a
// second, and its peak RSS is within 30 MB of the normal answer's at both timeouts (nothing is
// buffered past MAX_MESSAGE_BYTES). Usage: node bench/ldap-oversize.mjs [runs=3]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { makeCA, issueCert } from '../test/lab/pki.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'bin', 'credgate.mjs');
const runs = Number(process.argv[2] ?? 3);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-bench-oversize-'));
const ca = await makeCA(path.join(dir, 'ca'));
const leaf = await issueCert(ca, 'ldap', { cn: '127.0.0.1', sans: ['IP:127.0.0.1'] });

const tlv = (tag, ...parts) => {
  const body = Buffer.concat(parts);
  const n = body.length;
  return Buffer.concat([Buffer.from([tag, ...(n < 0x80 ? [n] : [0x81, n])]), body]);
};
/** The BindResponse Windows Server sends for a wrong password, under the request's messageID. */
const reject52e = (id) => tlv(0x30, tlv(0x02, Buffer.from([id])), tlv(0x61, tlv(0x0a, Buffer.from([49])), tlv(0x04), tlv(0x04, Buffer.from('80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 52e, v4563'))));

function server(hostile) {
  const sockets = new Set();
  const srv = tls.createServer({ cert: fs.readFileSync(leaf.cert), key: fs.readFileSync(leaf.key) }, (s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.once('data', (d) => {
      if (!hostile) return s.write(reject52e(d[4] ?? 1));
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      let sent = 0;
      const pump = () => {
        while (!s.destroyed && sent < 1024 ** 3) {
          sent += chunk.length;
          if (!s.write(chunk)) return void s.once('drain', pump);
        }
      };
      s.write(Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff]));
      pump();
    });
  });
  return new Promise((r) => srv.listen(0, '127.0.0.1', () => r({ port: srv.address().port, close: () => { for (const s of sockets) s.destroy(); srv.close(); } })));
}

/** One `credgate check` process: its finding code, peak RSS (MB, from /proc's VmHWM) and seconds. */
function check(port, timeout) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const c = spawn(process.execPath, [bin, 'check', '--ldap', `ldaps://127.0.0.1:${port}`, '--ca-file', ca.cert, '--user', 'CN=bench,DC=corp', '--password-env', 'PW', '--timeout', String(timeout), '--json'],
      { env: { PATH: process.env.PATH ?? '', PW: 'bench-pw-1234' }, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    let hwm = 0;
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${c.pid}/status`, 'utf8'));
        if (m) hwm = Math.max(hwm, Number(m[1]));
      } catch { /* exited */ }
    }, 20);
    const guard = setTimeout(() => c.kill('SIGKILL'), timeout + 20_000);
    c.stdout.on('data', (d) => (out += d));
    c.on('close', () => {
      clearInterval(poll);
      clearTimeout(guard);
      let code = '?';
      try { code = JSON.parse(out).code; } catch { /* no JSON */ }
      resolve({ code, rssMb: Math.round(hwm / 1024), seconds: Number(process.hrtime.bigint() - t0) / 1e9 });
    });
  });
}

const hostile = await server(true);
const normal = await server(false);
let ok = true;
try {
  for (const timeout of [2000, 30000]) {
    const h = [];
    const n = [];
    for (let i = 0; i < runs; i++) {
      // alternate which goes first
      if (i % 2) { n.push(await check(normal.port, timeout)); h.push(await check(hostile.port, timeout)); }
      else { h.push(await check(hostile.port, timeout)); n.push(await check(normal.port, timeout)); }
    }
    const max = (a, k) => Math.max(...a.map((x) => x[k]));
    const row = { bench: 'ldap-oversize', timeoutMs: timeout, hostile: { codes: [...new Set(h.map((x) => x.code))], peakRssMb: max(h, 'rssMb'), maxSeconds: Math.round(max(h, 'seconds') * 100) / 100 }, normal: { codes: [...new Set(n.map((x) => x.code))], peakRssMb: max(n, 'rssMb'), maxSeconds: Math.round(max(n, 'seconds') * 100) / 100 } };
    const pass = row.hostile.codes.join() === 'ldap.protocol-error' && row.hostile.maxSeconds < 1 + row.normal.maxSeconds && row.hostile.peakRssMb <= row.normal.peakRssMb + 30;
    ok &&= pass;
    console.log(JSON.stringify({ ...row, pass }));
  }
} finally {
  hostile.close();
  normal.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);
