#!/usr/bin/env node
// A PAM vendor's pre-launch hook: before brokering an RDP session, ask credgate whether the
// vault's credential for the target account will work, log every finding to the vendor's own
// audit trail, and either allow the launch or stop with the cause and the fix.
//
// The vendor's vault is plugged in as a provider: any object { name, resolve(ref, { signal }) }.
// Here it reads the vendor's own JSON store (a stand-in for its database); in production it
// would call the vendor's API. Run against the lab:
//   node examples/pam-prelaunch-hook.mjs   (env: LDAP_URL, LDAP_CA, READER_USER, READER_PW_ENV, STORE, TARGET_HOST, TARGET_REF)
import fs from 'node:fs';
import { createPreflight, defineProvider, Secret, CredgateError } from 'credgate';

const env = (k, d) => process.env[k] ?? d ?? (() => { throw new Error(`set ${k}`); })();

const vendorVault = defineProvider({
  name: 'acme-pam',
  async resolve(ref, { signal } = {}) {
    signal?.throwIfAborted();
    const store = JSON.parse(fs.readFileSync(env('STORE'), 'utf8'));
    const rec = store[ref];
    if (!rec) throw new CredgateError(`acme-pam has no account "${ref}".`, { code: 'PROVIDER_NOT_FOUND' });
    return { username: rec.user, secret: new Secret(rec.password), changedAt: new Date(rec.rotatedAt), source: `acme-pam ${ref}` };
  },
});

const audit = [];
const pf = createPreflight({
  providers: { vault: vendorVault },
  directory: {
    urls: env('LDAP_URL'),
    caFile: env('LDAP_CA'),
    service: { username: env('READER_USER'), password: new Secret(env(env('READER_PW_ENV', 'READER_PW'))) },
  },
  deadlineMs: 15_000,
  onFinding: (f, step) => audit.push({ at: new Date().toISOString(), step, code: f.code, severity: f.severity }),
});

try {
  const report = await pf.check({ host: env('TARGET_HOST', '127.0.0.1'), provider: 'vault', ref: env('TARGET_REF') });
  console.log(JSON.stringify({ allow: report.ok, code: report.verdict.code, headline: report.headline, audit }));
  process.exitCode = report.ok ? 0 : report.verdict.exitCode;
} finally {
  await pf.dispose();
}
