#!/usr/bin/env node
// Installs what `npm test` and `npm run demo` need on a fresh Debian 12 machine, and nothing
// when it is all there: npm packages (npm ci/install) and the lab's Debian packages (as root,
// apt-get). First it checks that this Node satisfies package.json `engines.node`, so CI proves the
// range it runs on. Only node built-ins here: it runs before node_modules exists.
// `node scripts/ensure.mjs --engines-only` does just the Node check.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Debian packages the lab needs. A new lab server adds its packages here. */
export const DEBIAN_PACKAGES = [
  'samba', 'samba-ad-dc', 'winbind', 'krb5-user', 'python3-ldb',
  'slapd', 'ldap-utils',
  'openssl',
  'xvfb', 'freerdp2-shadow-x11', 'freerdp2-x11',
  'gnome-keyring', 'dbus-x11', 'libsecret-1-dev', 'libsecret-tools', 'dbus',
  // busctl and gdbus: the Secret Service items' modification times (src/providers/secret-service.ts)
  'systemd', 'libglib2.0-bin',
  // stdbuf: the FreeRDP servers' logs line-buffered (test/lab/rdp.mjs)
  'coreutils',
  // a real forward proxy on loopback for the providers' proxy tests (test/integration/providers/proxy.test.ts)
  'tinyproxy',
  // headless Chromium (driven by playwright-core) and a font for the report tests (test/integration/report/)
  'chromium', 'fonts-dejavu-core',
];

/** [major, minor, patch] of "v20.19.1" / "20.19" / "20" (missing parts are 0); undefined if not a version. */
function parseVersion(v) {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-+].*)?$/.exec(String(v).trim());
  return m ? [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)] : undefined;
}

function cmp(a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return 0;
}

/**
 * Whether a Node version satisfies an npm-style range: `||` alternatives of space-separated
 * comparators (>=, >, <=, <, =, ^, ~, or a bare / x-ed version like 20 or 20.x). Anything else
 * throws, so an engines value this cannot read fails loudly instead of passing.
 */
export function satisfies(version, range) {
  const v = parseVersion(version);
  if (!v) throw new Error(`cannot read the Node version "${version}"`);
  return range.split('||').some((alt) => {
    const parts = alt.trim().replace(/(>=|<=|>|<|=|\^|~)\s+/g, '$1').split(/\s+/).filter(Boolean);
    if (parts.length === 0) return true; // "" / "*"-like: any
    return parts.every((c) => {
      if (c === '*' || c === 'x') return true;
      const m = /^(>=|<=|>|<|=|\^|~)?v?(\d+)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?$/.exec(c);
      if (!m) throw new Error(`cannot read the engines.node range "${range}" (at "${c}")`);
      const [, op = '', maj, min, pat] = m;
      const wild = (p) => p === undefined || p === 'x' || p === '*';
      const b = [Number(maj), wild(min) ? 0 : Number(min), wild(pat) ? 0 : Number(pat)];
      const d = cmp(v, b);
      if (op === '>=') return d >= 0;
      if (op === '>') return d > 0;
      if (op === '<=') return d <= 0;
      if (op === '<') return d < 0;
      if (op === '^') return d >= 0 && (b[0] > 0 ? v[0] === b[0] : b[1] > 0 ? v[0] === 0 && v[1] === b[1] : v[0] === 0 && v[1] === 0 && v[2] === b[2]);
      if (op === '~' || wild(min) || wild(pat)) {
        // ~1.2.3 / 1.2.x: same major.minor; 1 / 1.x / ~1: same major
        return d >= 0 && v[0] === b[0] && (wild(min) || v[1] === b[1]);
      }
      return d === 0;
    });
  });
}

/** Fail when this Node does not satisfy package.json engines.node. */
function ensureNodeVersion() {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const range = pkg.engines?.node;
  if (!range) return;
  if (!satisfies(process.version, range)) {
    throw new Error(`Node ${process.version} does not satisfy package.json engines.node "${range}"; install a Node in that range (nvm, your distribution's nodejs package, or nodejs.org) and run again.`);
  }
}

function log(m) {
  process.stderr.write(`ensure: ${m}\n`);
}

function missingDebs() {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\n', ...DEBIAN_PACKAGES], { encoding: 'utf8' });
  const installed = new Set(
    (r.stdout ?? '').split('\n').filter((l) => l.endsWith(' installed')).map((l) => l.split(' ')[0]),
  );
  return DEBIAN_PACKAGES.filter((p) => !installed.has(p));
}

function ensureDebs() {
  if (process.env.CREDGATE_SKIP_APT === '1') return;
  const missing = missingDebs();
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing Debian packages: ${missing.join(' ')}. Install them as root: apt-get install -y ${missing.join(' ')}`);
  }
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env });
  const still = missingDebs();
  if (still.length) throw new Error(`apt-get did not install: ${still.join(' ')}`);
}

function ensureNpm() {
  const stamp = path.join(root, 'node_modules', '.package-lock.json');
  const lock = path.join(root, 'package-lock.json');
  const fresh = fs.existsSync(stamp) && fs.existsSync(lock) && fs.statSync(stamp).mtimeMs >= fs.statSync(lock).mtimeMs;
  if (fresh) return;
  log('installing npm packages');
  execFileSync('npm', [fs.existsSync(lock) ? 'ci' : 'install', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}

// run only as a script (the range check is importable for a quick look: import { satisfies })
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    ensureNodeVersion();
    if (!process.argv.includes('--engines-only')) {
      ensureNpm();
      ensureDebs();
    }
  } catch (e) {
    process.stderr.write(`ensure: ${e instanceof Error ? e.message : e}\n`);
    process.exit(1);
  }
}
