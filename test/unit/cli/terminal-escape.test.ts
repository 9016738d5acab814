// Attacker bytes never reach the terminal raw (issue 14, defect 5): a server's diagnostic message,
// a certificate's subject and issuer, a vault's user name and error text, a file name — each is
// shown in human output with C0/C1 controls, DEL, bidi controls and line separators escaped,
// and carried exactly in --json. One hostile string, every place the red team put it.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { Writable } from 'node:stream';
import forge from 'node-forge';
import { makeCA, issueCert } from '../../lab/pki.mjs';
import { ldapResult, scriptedLdapServer } from '../../helpers/ldap-server.js';
import { fakeNlaHost, closedPort } from '../../helpers/servers.js';
import { escapeTerminal } from '../../../src/core/terminal.js';
import { t, style, Shown } from '../../../src/cli/render.js';
import { main } from '../../../src/cli/main.js';

/** Clears the screen, retitles the window, fakes a line of output and reverses what follows. */
const HOSTILE = 'srv\u001b[2J\u001b]0;pwned\u0007\r\nFAKE: OK\u202eevil\u009b31m\u2028x\u007f';
/** Nothing that drives a terminal may be left: C0 (but the line ends credgate writes), DEL, C1, bidi, separators. */
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;
const ESCAPED = 'srv\\x1B[2J\\x1B]0;pwned\\x07\\r\\nFAKE: OK\\u202Eevil\\x9B31m\\u2028x\\x7F';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-escape-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function run(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const sink = (add: (s: string) => void) => new Writable({ write(c, _e, cb) { add(String(c)); cb(); } });
  const code = await main(argv, { stdout: sink((s) => (out += s)), stderr: sink((s) => (err += s)), env, cwd: dir });
  return { code, out, err };
}

/** Human output: no raw control left, the hostile text shown escaped, and no line credgate did not write. */
function expectEscaped(text: string): void {
  expect(text.replace(/\r?\n/g, '')).not.toMatch(RAW);
  expect(text).toContain(ESCAPED);
  expect(text).not.toMatch(/^FAKE: OK/m);
}

describe('the rule', () => {
  it('escapes C0, DEL, C1, bidi controls and separators; leaves other text (and backslashes) alone', () => {
    expect(escapeTerminal(HOSTILE)).toBe(ESCAPED);
    expect(escapeTerminal('Zoë → 例え \\ C:\\path')).toBe('Zoë → 例え \\ C:\\path');
    for (const c of ['\u061c', '\u200e', '\u200f', '\u202a', '\u2066', '\u2069', '\u0085', '\u0000']) expect(escapeTerminal(c)).not.toMatch(RAW);
  });

  it('the renderer escapes by construction: every value of t`` and every style argument, a Shown passes once', () => {
    const s = style({ stdout: Object.assign(new Writable(), { isTTY: true }), stderr: new Writable(), stdin: process.stdin, env: {}, cwd: '.' });
    const line = t`a ${HOSTILE} ${s.bold(HOSTILE)} ${t`${HOSTILE}`}`;
    expect(line).toBeInstanceOf(Shown);
    // the only escape sequences left are credgate's own bold on / off
    expect(line.text.replace(/\u001b\[(1|22)m/g, '')).not.toMatch(RAW);
    expect(line.text.split(ESCAPED)).toHaveLength(4);
  });
});

describe('nothing bypasses the renderer', () => {
  it('no write in src/cli interpolates into a template of its own: human text goes through say(t`...`) or a renderer', () => {
    const cli = path.resolve(import.meta.dirname, '../../../src/cli');
    const files = (fs.readdirSync(cli, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts') && f !== 'render.ts');
    expect(files.length).toBeGreaterThan(10);
    const raw: string[] = [];
    for (const f of files) {
      fs.readFileSync(path.join(cli, f), 'utf8').split('\n').forEach((l, i) => {
        if (/\.write\([^;]*`[^`]*\$\{/.test(l)) raw.push(`src/cli/${f}:${i + 1}: ${l.trim()}`);
      });
    }
    expect(raw).toEqual([]);
  });
});

describe('every place outside text is shown', () => {
  it('check: the server\'s diagnosticMessage (human escaped, --json exact)', async () => {
    const ca = await makeCA(path.join(dir, 'ca'));
    const leaf = await issueCert(ca, 'ldap', { cn: '127.0.0.1', sans: ['IP:127.0.0.1'] });
    const srv = await scriptedLdapServer((r, s) => {
      if (r.op === 0x60) s.write(ldapResult(r.messageId, 0x61, 49, HOSTILE));
    }, { cert: fs.readFileSync(leaf.cert), key: fs.readFileSync(leaf.key) });
    try {
      const args = ['check', '--ldap', srv.url, '--ca-file', ca.cert, '--user', 'CN=x,DC=corp', '--password-env', 'PW'];
      const h = await run(args, { PW: 'pw-escape-1' });
      expect(h.out).toContain('server said: ');
      expectEscaped(h.out);
      const j = await run([...args, '--json'], { PW: 'pw-escape-1' });
      expect(JSON.parse(j.out).findings[0].evidence.diagnosticMessage).toBe(HOSTILE);
    } finally {
      await srv.close();
    }
  });

  it('probe: the certificate\'s subject and issuer', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
    cert.serialNumber = '01';
    cert.validity.notBefore = new Date(Date.now() - 3600e3);
    cert.validity.notAfter = new Date(Date.now() + 86400e3);
    const name = [{ name: 'commonName', value: HOSTILE, valueTagClass: forge.asn1.Type.UTF8 as never }];
    cert.setSubject(name);
    cert.setIssuer(name);
    const key = forge.pki.privateKeyFromPem(privateKey.export({ type: 'pkcs1', format: 'pem' }).toString());
    cert.sign(key, forge.md.sha256.create());
    const host = await fakeNlaHost({
      cert: forge.pki.certificateToPem(cert), key: privateKey.export({ type: 'pkcs1', format: 'pem' }),
      confirm: Buffer.from('030000130ed00000123400021f080002000000', 'hex'),
    });
    try {
      const h = await run(['probe', `127.0.0.1:${host.port}`, '--timeout', '10000']);
      expect(h.out).toMatch(/certificate: CN=.* issued by CN=/);
      expectEscaped(h.out);
      const j = await run(['probe', `127.0.0.1:${host.port}`, '--timeout', '10000', '--json']);
      expect(JSON.stringify(JSON.parse(j.out))).toContain(JSON.stringify(HOSTILE).slice(1, -1));
    } finally {
      await host.close();
    }
  });

  it('providers and check --provider: the vault\'s user name', async () => {
    fs.writeFileSync(path.join(dir, 'creds.json'), JSON.stringify({ web01: { username: HOSTILE, password: 'pw-escape-2' } }), { mode: 0o600 });
    fs.writeFileSync(path.join(dir, 'credgate.config.json'), JSON.stringify({ providers: { f: { type: 'file', options: { path: 'creds.json' }, testRef: 'web01' } } }));
    const p = await run(['providers']);
    expect(p.code).toBe(0);
    expectEscaped(p.out);
    const c = await run(['check', '--ldap', `ldaps://127.0.0.1:${await closedPort()}`, '--provider', 'f', '--ref', 'web01', '--timeout', '2000']);
    expect(c.code).toBe(4);
    expectEscaped(c.out);
  });

  it('the vault\'s error text (a fault printed on stderr)', async () => {
    fs.writeFileSync(path.join(dir, 'evil-vault.mjs'), `export default () => ({ name: 'evil', async resolve() { const e = new Error(${JSON.stringify(HOSTILE)}); throw e; } });\n`);
    fs.writeFileSync(path.join(dir, 'credgate.config.json'), JSON.stringify({ providers: { v: { module: './evil-vault.mjs' } } }));
    const c = await run(['check', '--ldap', 'ldaps://127.0.0.1:1', '--provider', 'v', '--ref', 'x']);
    expect(c.code).not.toBe(0);
    expect(c.err).toContain('\\x1B[2J\\x1B]0;pwned\\x07');
    expect(c.err.replace(/\n$/, '')).not.toMatch(RAW);
    expect(c.err).not.toMatch(/^FAKE: OK/m);
  });

  it('cache inspect --from <dir>: the file names', async () => {
    const fleet = path.join(dir, 'fleet');
    fs.mkdirSync(fleet);
    fs.writeFileSync(path.join(fleet, `ws${HOSTILE.replace(/\r\n/, '_')}.json`), '{}');
    const r = await run(['cache', 'inspect', '--from', fleet, '--changed-at', '2026-01-01T00:00:00Z']);
    expect(r.code).toBe(2);
    expect(r.err.replace(/\n$/, '')).not.toMatch(RAW);
    expect(r.err).toContain('\\x1B]0;pwned\\x07');
  });
});
