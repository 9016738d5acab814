// The built package works both ways: import (ESM) and require (CJS), with the same classes.
import { describe, it, expect } from 'vitest';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';

const root = path.resolve(import.meta.dirname, '..', '..');

describe('dist/', () => {
  it('imports as ESM and requires as CJS through the exports map', () => {
    const script = `
      const cjs = require('credgate');
      import('credgate').then((esm) => {
        const s = new cjs.Secret('pw-123456');
        const e = new esm.CredgateError('x', { code: 'TIMEOUT' });
        console.log(JSON.stringify({
          cjsKeys: ['Secret','CredgateError','diagnose','parseAccountName'].every((k) => typeof cjs[k] === 'function'),
          esmKeys: ['Secret','CredgateError','diagnose','parseAccountName'].every((k) => typeof esm[k] === 'function'),
          crossSecret: s instanceof esm.Secret,
          crossError: e instanceof cjs.CredgateError,
          // the class follows the code, across the builds; the names survive bundling
          crossConnection: e instanceof cjs.ConnectionError && !(e instanceof cjs.ProviderError),
          names: [e.name, new cjs.CredgateError('x', { code: 'USAGE' }).name, new esm.CredgateError('x', { code: 'USAGE' }).name, new cjs.CredgateError('x', { code: 'ABORTED' }).name, new esm.ProviderError('x', { code: 'TIMEOUT' }).name],
          redacted: String(s),
          validatorSubpath: typeof require('credgate/checks/ldap-bind').validateLdapBind,
          cacheSubpath: typeof require('credgate/cache').inspectCache,
          kerberosSubpath: typeof require('credgate/checks/kerberos').validateKerberos,
          reportSubpath: typeof require('credgate/report').buildReport,
          internalHidden: (() => { try { require('credgate/providers/http'); return 'exported'; } catch (e) { return e.code; } })(),
        }));
      });`;
    const out = execFileSync(process.execPath, ['-e', script], { cwd: root, env: { ...process.env, NODE_PATH: '' } }).toString();
    expect(JSON.parse(out)).toEqual({ cjsKeys: true, esmKeys: true, crossSecret: true, crossError: true, crossConnection: true, names: ['ConnectionError', 'CredgateError', 'CredgateError', 'AbortError', 'ProviderError'], redacted: '[REDACTED]', validatorSubpath: 'function', cacheSubpath: 'function', kerberosSubpath: 'function', reportSubpath: 'function', internalHidden: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
  });

  it('one Secret and one CredgateError across the root (one file), the subpaths (shared chunks) and CJS', () => {
    // the root entry is a file of its own (tsup.config.ts): its copy of core/secret.ts must reveal
    // a Secret another copy made, and each copy must recognise the others' classes
    const script = `
      const cjsRoot = require('credgate');
      Promise.all([import('credgate'), import('credgate/bulk'), import('credgate/checks/ldap-bind')]).then(async ([root, bulk, bind]) => {
        async function* text() { yield 'username,password\\nalice,pw-from-bulk-copy\\n'; }
        let fromBulk;
        for await (const r of bulk.readAccounts(text(), { format: 'csv' })) fromBulk = r.account.password;
        const fromRoot = new root.Secret('pw-from-root-copy');
        const fromCjs = new cjsRoot.Secret('pw-from-cjs-copy');
        console.log(JSON.stringify({
          files: require('node:fs').readFileSync(require.resolve('credgate').replace(/\\.cjs$/, '.js'), 'utf8').includes('from "./chunk-'),
          bulkIsRoot: fromBulk instanceof root.Secret && fromRoot instanceof cjsRoot.Secret && fromCjs instanceof root.Secret,
          crossReveal: [root.Secret.prototype.reveal.call(fromBulk), cjsRoot.Secret.prototype.reveal.call(fromRoot), root.Secret.prototype.reveal.call(fromCjs)],
          scrubbed: root.scrub('a pw-from-bulk-copy b pw-from-cjs-copy', [fromBulk, fromCjs]),
          equal: fromRoot.equals(new cjsRoot.Secret('pw-from-root-copy')),
          error: await bind.validateLdapBind({ urls: 'ldap://127.0.0.1:1', username: 'a', password: fromRoot }).catch((e) => e instanceof root.CredgateError && e instanceof cjsRoot.CredgateError && e.code),
          // the value is a private field: no key of its own, nothing in a structured clone
          keys: Reflect.ownKeys(fromRoot).length + Reflect.ownKeys(fromCjs).length + Reflect.ownKeys(fromBulk).length,
          clone: JSON.stringify([structuredClone(fromRoot), structuredClone(fromCjs)]),
        }));
      });`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: root, env: { ...process.env, NODE_PATH: '' } }).toString());
    expect(out).toEqual({
      files: false,
      bulkIsRoot: true,
      crossReveal: ['pw-from-bulk-copy', 'pw-from-root-copy', 'pw-from-cjs-copy'],
      scrubbed: 'a [REDACTED] b [REDACTED]',
      equal: true,
      error: 'CONFIG_INVALID',
      keys: 0,
      clone: '[{},{}]',
    });
  });

  it('the CLI binary starts and prints help', () => {
    const out = execFileSync(process.execPath, [path.join(root, 'bin', 'credgate.mjs'), '--help']).toString();
    expect(out).toContain('Usage: credgate <command>');
    expect(out).toContain('check');
  });
});

describe('the published package', () => {
  it('carries source maps without the source text, a LICENSE, and declares no side effects', () => {
    const dist = path.join(root, 'dist');
    const maps = fs.readdirSync(dist, { recursive: true }).map(String).filter((f) => f.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(10);
    for (const m of maps) expect(JSON.parse(fs.readFileSync(path.join(dist, m), 'utf8')).sourcesContent, m).toBeUndefined();
    const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
    expect(pkg.sideEffects).toBe(false);
    expect(pkg.files).toContain('LICENSE');
    expect(fs.readFileSync(path.join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
  });
});
