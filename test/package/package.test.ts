// The package as npm publishes it: `npm pack` of the built tree, checked by publint and
// arethetypeswrong (node16 and bundler resolution), its size against the README, and installed into
// fresh ESM and CommonJS TypeScript projects that type-check with the strictest settings and run.
// The tarball is unpacked into a temporary node_modules; its dependencies are linked from this
// checkout's (no registry needed).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..', '..');
const bin = (pkg: string, file: string) => path.join(root, 'node_modules', pkg, file);
let tmp: string;
let tarball: string;
let packed: { size: number; unpackedSize: number; files: { path: string; size: number }[] };

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-pack-'));
  // What `npm pack` publishes is prepack's build from an empty dist. That build goes to a staging
  // copy of the package here (dist/ in this checkout may hold older chunks, and other tests read it).
  const stage = path.join(tmp, 'stage');
  execFileSync(process.execPath, [bin('tsup', 'dist/cli-default.js'), '--out-dir', path.join(stage, 'dist')], { cwd: root, stdio: 'ignore', timeout: 120_000 });
  for (const f of ['package.json', 'README.md', 'LICENSE', 'docs', 'bin']) fs.cpSync(path.join(root, f), path.join(stage, f), { recursive: true });
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', tmp], { cwd: stage, encoding: 'utf8', timeout: 60_000 });
  packed = (JSON.parse(out) as (typeof packed & { filename: string })[])[0]!;
  tarball = path.join(tmp, fs.readdirSync(tmp).find((f) => f.endsWith('.tgz'))!);
}, 180_000);

afterAll(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('holds the built code, its types and maps, the docs, README and LICENSE — no source, test or lab file', () => {
    const top = new Set(packed.files.map((f) => f.path.split('/')[0]));
    expect([...top].sort()).toEqual(['LICENSE', 'README.md', 'bin', 'dist', 'docs', 'package.json']);
    expect(packed.files.filter((f) => /\.ts$/.test(f.path) && !/\.d\.c?ts$/.test(f.path))).toEqual([]);
    expect(packed.files.some((f) => f.path === 'dist/index.d.ts') && packed.files.some((f) => f.path === 'dist/index.d.cts')).toBe(true);
  });

  it('is the size the README states (within 15%)', () => {
    const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
    const m = /npm tarball is ([\d.]+) kB \(([\d.]+) MB unpacked/.exec(readme);
    expect(m, 'README states "npm tarball is N kB (M MB unpacked"').not.toBeNull();
    const kb = packed.size / 1000;
    const mb = packed.unpackedSize / 1e6;
    expect(Math.abs(Number(m![1]) - kb) / kb, `packed ${kb.toFixed(0)} kB`).toBeLessThan(0.15);
    expect(Math.abs(Number(m![2]) - mb) / mb, `unpacked ${mb.toFixed(2)} MB`).toBeLessThan(0.15);
  });

  it('publint finds nothing to fix', () => {
    const out = execFileSync(process.execPath, [bin('publint', 'src/cli.js'), tarball, '--strict'], { cwd: tmp, encoding: 'utf8', timeout: 60_000 });
    expect(out).toMatch(/All good!/);
  });

  it('arethetypeswrong: every entry resolves to its types under node16 (ESM and CJS) and bundler', () => {
    // exits non-zero on any problem; node10 (no "exports" support) is out of scope for Node >= 20
    const out = execFileSync(process.execPath, [bin('@arethetypeswrong/cli', 'dist/index.js'), tarball, '--profile', 'node16', '--format', 'json'], { encoding: 'utf8', timeout: 90_000 });
    const r = JSON.parse(out) as { analysis: { problems: { resolutionKind?: string }[] } };
    expect(r.analysis.problems.filter((p) => p.resolutionKind !== 'node10')).toEqual([]);
  }, 120_000);
});

describe('installed from the tarball into a fresh project', () => {
  // one project, both module systems: under nodenext a .mts file is ESM and a .cts file CommonJS
  const code = `
    const s = new Secret('pw-from-the-vault');
    const verdict = diagnose([]);
    const acct = parseAccountName('CORP\\\\alice');
    const env = fromEnv();
    const label: string = String(s) + ' ' + verdict.exitCode + ' ' + acct.user + ' ' + env.name;
    console.log(label);
  `;
  const imports = `import { Secret, diagnose, parseAccountName } from 'credgate';\nimport { fromEnv } from 'credgate/providers/env';\n`;
  const requires = `const { Secret, diagnose, parseAccountName } = require('credgate');\nconst { fromEnv } = require('credgate/providers/env');\n`;

  it('type-checks strictly as ESM (.mts) and CommonJS (.cts) with nodenext and skipLibCheck off, and runs both ways', () => {
    const dir = path.join(tmp, 'consumer');
    const mod = path.join(dir, 'node_modules');
    fs.mkdirSync(path.join(mod, 'credgate'), { recursive: true });
    execFileSync('tar', ['-xzf', tarball, '-C', path.join(mod, 'credgate'), '--strip-components=1']);
    for (const dep of ['ldapts', 'zod', 'node-forge', '@types']) fs.symlinkSync(path.join(root, 'node_modules', dep), path.join(mod, dep), 'dir');
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, skipLibCheck: false, noEmit: true, types: ['node'], lib: ['es2022', 'esnext.disposable'] },
      files: ['use.mts', 'use.cts'],
    }));
    fs.writeFileSync(path.join(dir, 'use.mts'), imports + code);
    fs.writeFileSync(path.join(dir, 'use.cts'), imports + code);
    try {
      execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8', timeout: 90_000 });
    } catch (e) {
      throw new Error(`tsc over the consumer project failed: ${(e as { stdout?: string }).stdout || String(e)}`);
    }
    const plain = code.replace(': string', '');
    fs.writeFileSync(path.join(dir, 'run.mjs'), imports + plain);
    fs.writeFileSync(path.join(dir, 'run.cjs'), requires + plain);
    for (const f of ['run.mjs', 'run.cjs']) expect(execFileSync(process.execPath, [path.join(dir, f)], { encoding: 'utf8' }).trim(), f).toBe('[REDACTED] 0 alice env');
  }, 120_000);
});
