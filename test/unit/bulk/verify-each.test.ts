// verifyEach, the bulk run's callback face (the CLI's): every result reaches the callback once,
// with the same findings verifyMany yields; a promise the callback returns holds its worker back
// (the other workers go on); what the callback throws stops the run and is what verifyEach rejects
// with, the connections closed; bad options reject before any connection. Against a scripted LDAPS
// server on loopback (test/helpers/ldap-server.ts): a bind name starting with "bad" is answered 49.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeCA, issueCert } from '../../lab/pki.mjs';
import { ldapResult, scriptedLdapServer, type ScriptedLdapServer } from '../../helpers/ldap-server.js';
import { Readable, Writable } from 'node:stream';
import { verifyEach, verifyMany, type VerifyResult } from '../../../src/bulk/verify-many.js';
import { Secret } from '../../../src/core/secret.js';
import { main } from '../../../src/cli/main.js';

let dir: string;
let srv: ScriptedLdapServer;
let caFile: string;
let open = 0;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-verify-each-'));
  const ca = await makeCA(path.join(dir, 'ca'));
  const leaf = await issueCert(ca, 'ldap', { cn: '127.0.0.1', sans: ['IP:127.0.0.1'] });
  caFile = ca.cert;
  srv = await scriptedLdapServer((r, s) => {
    if (r.op !== 0x60) return;
    // the connections open now, counted from their first bind
    if (!(s as { counted?: boolean }).counted) {
      (s as { counted?: boolean }).counted = true;
      open++;
      s.once('close', () => open--);
    }
    s.write(ldapResult(r.messageId, 0x61, r.name!.startsWith('bad') ? 49 : 0));
  }, { cert: fs.readFileSync(leaf.cert), key: fs.readFileSync(leaf.key) });
});
afterAll(async () => {
  await srv.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const accounts = (n: number) => Array.from({ length: n }, (_, i) => ({ username: `${i % 7 === 3 ? 'bad' : 'u'}${i}@corp.example`, password: new Secret(`Each-Pw-${i}`), line: i + 2 }));
const opts = () => ({ urls: srv.url, caFile, concurrency: 4, timeoutMs: 10_000 });
const key = (r: VerifyResult) => `${r.line} ${r.account} ${r.code} ${r.bound} ${JSON.stringify(r.findings.map((f) => [f.code, f.evidence]))}`;
const waitFor = async (f: () => boolean) => {
  for (let i = 0; i < 200 && !f(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('verifyEach', () => {
  it('hands every account to the callback once, with the results verifyMany yields', async () => {
    const got: VerifyResult[] = [];
    await verifyEach(accounts(300), opts(), (r) => {
      got.push(r);
    });
    const want: VerifyResult[] = [];
    for await (const r of verifyMany(accounts(300), opts())) want.push(r);
    expect(got).toHaveLength(300);
    expect(got.map(key).sort()).toEqual(want.map(key).sort());
    expect(got.filter((r) => r.code === 'ldap.invalid-credentials')).toHaveLength(43);
    expect(new Set(got.map((r) => r.line)).size).toBe(300);
  });

  it('a promise from the callback holds that worker back while the others go on', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const seen: number[] = [];
    let heldAt = 0;
    const run = verifyEach(accounts(60), opts(), (r) => {
      seen.push(r.line!);
      if (seen.length === 1) {
        heldAt = r.line!;
        return held;
      }
      return undefined;
    });
    // the three other workers answer the rest while the first is held
    await waitFor(() => seen.length === 60);
    expect(seen.length).toBe(60);
    let done = false;
    void run.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false);
    release();
    await run;
    expect(seen).toContain(heldAt);
  });

  it('what the callback throws stops the run: verifyEach rejects with it, no further account is sent, the connections are closed', async () => {
    const before = srv.binds();
    const boom = new Error('results file gone');
    let calls = 0;
    await expect(verifyEach(accounts(5000), opts(), () => {
      if (++calls === 10) throw boom;
    })).rejects.toBe(boom);
    const sent = srv.binds() - before;
    // the binds in flight when it threw may finish; nothing near the 5,000
    expect(sent).toBeLessThan(100);
    await waitFor(() => open === 0);
    expect(open).toBe(0);
  });

  it('bad options reject before anything is sent', async () => {
    const before = srv.binds();
    await expect(verifyEach(accounts(3), { ...opts(), concurrency: 0 }, () => {})).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(verifyEach(accounts(3), { caFile } as never, () => {})).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect(srv.binds()).toBe(before);
  });
});

describe('an input that fails part way (an I/O error while it is read)', () => {
  async function* failing(n: number) {
    yield* accounts(n);
    throw Object.assign(new Error('read failed'), { code: 'EIO' });
  }

  it('ends verifyEach and verifyMany with its error, after the accounts read before it; the process goes on', async () => {
    let seen = 0;
    await expect(verifyEach(failing(400), opts(), () => {
      seen++;
    })).rejects.toMatchObject({ code: 'EIO' });
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThanOrEqual(400);
    const got: VerifyResult[] = [];
    await expect((async () => {
      for await (const r of verifyMany(failing(400), opts())) got.push(r);
    })()).rejects.toMatchObject({ code: 'EIO' });
    expect(got.length).toBeGreaterThan(0);
    await waitFor(() => open === 0);
    expect(open).toBe(0);
  });

  it('credgate verify: exit 2 naming the input (standard input failing, a directory given as the file), never an internal error', async () => {
    const run = async (args: string[], stdin: Readable) => {
      let out = '';
      let err = '';
      const sink = (add: (s: string) => void) => new Writable({ write(c, _e, cb) { add(String(c)); cb(); } });
      const code = await main(['verify', ...args, '--output', path.join(dir, 'results.jsonl'), '--overwrite', '--ldap', srv.url, '--ca-file', caFile, '--format', 'csv', '--json'], {
        stdout: sink((x) => (out += x)), stderr: sink((x) => (err += x)), stdin, env: {}, cwd: dir,
      });
      return { code, out, err };
    };
    // standard input that breaks after 200 accounts
    const lines = ['username,password', ...Array.from({ length: 200 }, (_, i) => `u${i}@corp.example,Stdin-Pw-${i}`)].join('\n') + '\n';
    // it fails on its second read, so only once credgate reads it (a timer could fire before anyone listens)
    let reads = 0;
    const broken = new Readable({
      read() {
        if (reads++ === 0) this.push(lines);
        else this.destroy(Object.assign(new Error('read failed'), { code: 'EIO' }));
      },
    });
    const a = await run(['--input', '-'], broken);
    expect(a.code).toBe(2);
    expect(JSON.parse(a.out)).toMatchObject({ ok: false, exitCode: 2, error: { code: 'INPUT_INVALID' } });
    expect(a.out).toContain('Reading the input standard input failed (EIO)');
    expect(a.out + a.err).not.toContain('Stdin-Pw-');
    const b = await run(['--input', dir], new Readable({ read() {} }));
    expect(b.code).toBe(2);
    expect(b.out).toContain(`The input ${dir} is a directory`);
  });
});

describe('credgate verify --output - behind a slow reader', () => {
  it('32 workers waiting for standard output to drain share one wait: every line arrives, and no MaxListenersExceededWarning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      fs.writeFileSync(path.join(dir, 'many.csv'), ['username,password', ...Array.from({ length: 1500 }, (_, i) => `${i % 7 === 3 ? 'bad' : 'u'}${i}@corp.example,Slow-Pw-${i}`)].join('\n') + '\n');
      let lines = 0;
      // a reader that takes each write a millisecond later, with a tiny buffer: stdout is behind all the time
      const slow = new Writable({
        highWaterMark: 64,
        write(c, _e, cb) {
          lines += String(c).split('\n').length - 1;
          setTimeout(cb, 1);
        },
      });
      let err = '';
      const code = await main(['verify', '--input', 'many.csv', '--output', '-', '--ldap', srv.url, '--ca-file', caFile, '--concurrency', '32', '--progress-interval', '60'], {
        stdout: slow, stderr: new Writable({ write(c, _e, cb) { err += String(c); cb(); } }), stdin: new Readable({ read() {} }), env: {}, cwd: dir,
      });
      await new Promise((r) => setTimeout(r, 50));
      expect(code).toBe(1);
      expect(lines).toBe(1500);
      expect(err).not.toContain('Slow-Pw-');
      expect(warnings.filter((w) => w.includes('MaxListenersExceeded'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
