// credgate's NLA check next to the reference client, `xfreerdp /auth-only` (Debian freerdp2-x11),
// against the same lab FreeRDP NLA server and users. The verdicts must agree; credgate must name
// the cause where xfreerdp gives one exit code (147, ERRCONNECT_CONNECT_TRANSPORT_FAILED) for
// every failure, a refused connection included. xfreerdp gets the password on stdin
// (/from-stdin:force), never on its command line, and its own XDG_CONFIG_HOME in a temp dir.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { validateRdpNla } from '../../../src/checks/rdp-nla.js';
import { Secret } from '../../../src/core/secret.js';
import { CredgateError } from '../../../src/core/errors.js';
import { labPart } from '../../lab/state.js';

interface RdpLab {
  host: string;
  display: string;
  users: Array<{ user: string; domain: string; password: string }>;
  nla: { port: number };
}

let lab: RdpLab;
let cfg: string;
let refusedPort: number;

beforeAll(async () => {
  lab = labPart<RdpLab>('rdp');
  cfg = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-xfreerdp-'));
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  refusedPort = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
});
afterAll(() => {
  if (cfg) fs.rmSync(cfg, { recursive: true, force: true });
});

/** Run xfreerdp /auth-only; returns its exit code and wall time. Bounded by a kill timer. */
function xfreerdp(port: number, user: string, domain: string, password: string): Promise<{ exit: number | null; ms: number; output: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const args = [`/v:${lab.host}:${port}`, `/u:${user}`, ...(domain ? [`/d:${domain}`] : []), '/from-stdin:force', '/auth-only', '/cert:ignore'];
    const child = spawn('xfreerdp', args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', DISPLAY: lab.display, XDG_CONFIG_HOME: cfg, HOME: cfg }, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('error', (e) => {
      clearTimeout(kill);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(kill);
      resolve({ exit: code, ms: performance.now() - t0, output });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(`${password}\n`);
  });
}

async function credgate(port: number, user: string, domain: string, password: string): Promise<{ code: string; ms: number }> {
  const t0 = performance.now();
  try {
    const f = await validateRdpNla({ host: lab.host, port, username: user, domain, password: new Secret(password), timeoutMs: 8000 });
    return { code: f[0]!.code, ms: performance.now() - t0 };
  } catch (e) {
    if (e instanceof CredgateError) return { code: `${e.code}:${String(e.details?.kind ?? '')}`, ms: performance.now() - t0 };
    throw e;
  }
}

describe('credgate vs xfreerdp /auth-only (same NLA server, same users)', () => {
  it('verdicts agree for good / wrong password / unknown user / wrong domain; credgate names the cause', async () => {
    const alice = lab.users.find((u) => u.domain)!;
    const bob = lab.users.find((u) => !u.domain)!;
    const cases = [
      { name: 'good password', port: lab.nla.port, user: alice.user, domain: alice.domain, password: alice.password, accepted: true, credgateCode: 'rdp.nla-ok' },
      { name: 'good password (any-domain entry)', port: lab.nla.port, user: bob.user, domain: 'ELSEWHERE', password: bob.password, accepted: true, credgateCode: 'rdp.nla-ok' },
      { name: 'wrong password', port: lab.nla.port, user: alice.user, domain: alice.domain, password: 'Not-The-Password-1', accepted: false, credgateCode: 'rdp.logon-failure' },
      { name: 'unknown user', port: lab.nla.port, user: 'mallory', domain: alice.domain, password: alice.password, accepted: false, credgateCode: 'rdp.logon-failure' },
      { name: 'wrong domain', port: lab.nla.port, user: alice.user, domain: 'WRONGDOM', password: alice.password, accepted: false, credgateCode: 'rdp.logon-failure' },
      { name: 'connection refused', port: refusedPort, user: alice.user, domain: alice.domain, password: alice.password, accepted: false, credgateCode: 'CONNECTION_FAILED:refused' },
    ];
    const rows: string[] = ['| case | xfreerdp exit | xfreerdp ms | credgate answer | credgate ms |', '|---|---|---|---|---|'];
    for (const c of cases) {
      const x = await xfreerdp(c.port, c.user, c.domain, c.password);
      const g = await credgate(c.port, c.user, c.domain, c.password);
      rows.push(`| ${c.name} | ${x.exit} | ${Math.round(x.ms)} | ${g.code} | ${Math.round(g.ms)} |`);
      expect(x.exit === 0, `xfreerdp on "${c.name}" (exit ${x.exit})`).toBe(c.accepted);
      expect(g.code === 'rdp.nla-ok', `credgate on "${c.name}"`).toBe(c.accepted);
      expect(g.code).toBe(c.credgateCode);
      // xfreerdp cannot tell the failures apart: the same exit code for all of them, refused included
      if (!c.accepted) expect(x.exit).toBe(147);
      expect(x.output.includes(c.password)).toBe(false);
    }
    process.stdout.write(`\n${rows.join('\n')}\n`);
  }, 120_000);
});
