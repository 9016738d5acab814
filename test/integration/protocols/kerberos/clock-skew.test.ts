// Clock skew against the real Samba KDC: the unchanged client runs in a child process whose clock
// libfaketime moves (faketime -f '+1h' node ...), not with a faked clock inside credgate. The KDC
// answers the proof with KRB_AP_ERR_SKEW and its own stime, from which the client measures the
// offset; within Samba's 5-minute tolerance the exchange succeeds. Skipped without faketime.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { prepareKrbAccounts, sambaLab, SKEW_ACCOUNT, type PreparedLab } from './lab.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const src = path.resolve(here, '..', '..', '..', '..', 'src');
const lab0 = sambaLab();
const faketime = (() => {
  try {
    return execFileSync('which', ['faketime'], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
})();

let lab: PreparedLab;
let dir: string;

const CHILD = `
import { asExchange, Secret } from './krb.mjs';
let input = '';
for await (const c of process.stdin) input += c;
const o = JSON.parse(input);
try {
  const r = await asExchange({ username: o.username, password: new Secret(o.password), kdcs: o.kdc, timeoutMs: 8000 });
  process.stdout.write(JSON.stringify({ result: r, now: new Date().toISOString() }));
} catch (e) {
  process.stdout.write(JSON.stringify({ error: { code: e.code, message: e.message } }));
}
`;

/** Run asExchange in a child node whose clock is shifted by `offset` (faketime syntax). */
function skewedExchange(offset: string, username: string, password: string): Promise<{ result?: Record<string, any>; error?: unknown; now?: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(faketime!, ['-f', offset, process.execPath, path.join(dir, 'child.mjs')], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`skewed child gave no JSON (stderr: ${err.slice(0, 500)})`));
      }
    });
    child.stdin.end(JSON.stringify({ username, password, kdc: lab.kdc }));
  });
}

describe.skipIf(!lab0 || !faketime)('clock skew under faketime (real Samba KDC)', () => {
  beforeAll(async () => {
    lab = prepareKrbAccounts(lab0!, [SKEW_ACCOUNT]);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-krb-skew-'));
    fs.writeFileSync(path.join(dir, 'entry.ts'), `export * from ${JSON.stringify(path.join(src, 'protocols/kerberos/index.ts'))};\nexport { Secret } from ${JSON.stringify(path.join(src, 'core/secret.ts'))};\n`);
    await build({ entryPoints: [path.join(dir, 'entry.ts')], bundle: true, platform: 'node', format: 'esm', outfile: path.join(dir, 'krb.mjs'), logLevel: 'silent' });
    fs.writeFileSync(path.join(dir, 'child.mjs'), CHILD);
  }, 60_000);

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['+1h', -3600_000],
    ['-1h', 3600_000],
  ])('a client clock %s off gets KRB_AP_ERR_SKEW with the KDC time, offset measured', async (offset, expected) => {
    const a = lab.accounts.skew!;
    const out = await skewedExchange(offset, a.upn, a.password);
    expect(out.error).toBeUndefined();
    const r = out.result!;
    expect(r).toMatchObject({ outcome: 'krb-error', phase: 'proof', errorCode: 37, errorName: 'KRB_AP_ERR_SKEW', reason: 'clock-skew', proofSent: true });
    expect(Math.abs(r.clock.skewMs - expected)).toBeLessThan(5000);
    expect(Math.abs(Date.parse(r.clock.serverTime) - Date.now())).toBeLessThan(10_000); // stime is the KDC's real time
    expect(Math.abs(Date.parse(out.now!) - Date.now() + expected)).toBeLessThan(10_000); // the child really ran skewed
  }, 20_000);

  it('a client 2 minutes off is inside the KDC tolerance: ok, with the skew reported', async () => {
    const a = lab.accounts.skew!;
    const out = await skewedExchange('+2m', a.upn, a.password);
    expect(out.result).toMatchObject({ outcome: 'ok' });
    expect(Math.abs(out.result!.clock.skewMs + 120_000)).toBeLessThan(5000);
  }, 20_000);
});
