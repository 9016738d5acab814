#!/usr/bin/env node
// Installs what `npm test` and `npm run demo` need on a fresh Debian 12 machine, and nothing
// when it is all there: npm packages (npm ci/install) and the lab's Debian packages (as root,
// apt-get). Only node built-ins here: it runs before node_modules exists.
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
];

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

try {
  ensureNpm();
  ensureDebs();
} catch (e) {
  process.stderr.write(`ensure: ${e instanceof Error ? e.message : e}\n`);
  process.exit(1);
}
