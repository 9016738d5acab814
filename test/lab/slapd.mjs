// OpenLDAP slapd with the ppolicy overlay, ldap:// and ldaps:// on free loopback ports, from
// our own config dir (the system slapd is never touched). Users and ppolicy states are loaded
// offline with slapadd, so start-up is well under a second. CREDGATE_LAB_SLAPD_BENCH sets the
// number of bench users (bench0..benchN-1, password benchpw).
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'ldapts';
import { execFileP, startDaemon, waitFor, freePort, which, stopPid } from './proc.mjs';
import { recordPid } from './lab.mjs';
import { makeCA, issueCert } from './pki.mjs';

export const name = 'slapd';
export const SUFFIX = 'dc=pamtest,dc=local';
export const ADMIN = { dn: `cn=admin,${SUFFIX}`, password: 'adminpw' };
export const PASSWORD = 'goodpw';
export const BENCH_PASSWORD = 'benchpw';

const gt = (d) => d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';

/** ppolicy scenarios: uid, extra LDIF lines, what credgate must report. */
export function scenarios(now = new Date()) {
  return [
    { key: 'good', uid: 'good', lines: [`pwdChangedTime: ${gt(now)}`], expect: 'ldap.ok' },
    { key: 'wrong-password', uid: 'wrongpw', lines: [`pwdChangedTime: ${gt(now)}`, `pwdPolicySubentry: cn=nolockout,ou=policies,${SUFFIX}`], tryPassword: 'not-the-password', expect: 'ldap.invalid-credentials' },
    { key: 'locked', uid: 'locked', lines: [`pwdChangedTime: ${gt(now)}`, 'pwdAccountLockedTime: 000001010000Z'], expect: 'ldap.account-locked' },
    { key: 'password-expired', uid: 'expired', lines: ['pwdChangedTime: 20000101000000Z'], expect: 'ldap.password-expired' },
    { key: 'grace', uid: 'expiredgrace', lines: ['pwdChangedTime: 20000101000000Z', `pwdPolicySubentry: cn=grace,ou=policies,${SUFFIX}`], expect: 'ldap.grace-logins' },
    { key: 'expiring', uid: 'warn', lines: [`pwdChangedTime: ${gt(new Date(now.getTime() - 87 * 86400e3))}`], expect: 'ldap.password-expiring' },
    { key: 'must-change', uid: 'mustchange', lines: [`pwdChangedTime: ${gt(now)}`, 'pwdReset: TRUE'], expect: 'ldap.password-must-change' },
    { key: 'victim', uid: 'victim', lines: [`pwdChangedTime: ${gt(now)}`], expect: 'ldap.ok' },
  ];
}

export async function start({ dir, log }) {
  if (!which('slapd')) throw new Error('lab: slapd is not installed; run "node scripts/ensure.mjs" (apt-get install slapd ldap-utils)');
  const nBench = Number(process.env.CREDGATE_LAB_SLAPD_BENCH ?? 200);
  const ldapPort = Number(process.env.CREDGATE_LAB_SLAPD_PORT ?? (await freePort()));
  const ldapsPort = Number(process.env.CREDGATE_LAB_SLAPDS_PORT ?? (await freePort()));
  for (const d of ['data', 'run']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  const ca = await makeCA(path.join(dir, 'pki'), { cn: 'credgate lab CA (slapd)' });
  const leaf = await issueCert(ca, 'server', { cn: 'localhost', sans: ['DNS:localhost', 'IP:127.0.0.1'] });
  const conf = path.join(dir, 'slapd.conf');
  fs.writeFileSync(conf, `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/namedobject.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
pidfile ${dir}/run/slapd.pid
argsfile ${dir}/run/slapd.args
loglevel 0
TLSCACertificateFile ${ca.cert}
TLSCertificateFile ${leaf.cert}
TLSCertificateKeyFile ${leaf.key}

database mdb
suffix "${SUFFIX}"
rootdn "${ADMIN.dn}"
rootpw ${ADMIN.password}
directory ${dir}/data
maxsize 1073741824
dbnosync
index objectClass eq
index uid eq

access to attrs=userPassword
  by self write
  by anonymous auth
  by * none
access to *
  by self read
  by users read
  by anonymous auth

overlay ppolicy
ppolicy_default "cn=default,ou=policies,${SUFFIX}"
ppolicy_hash_cleartext
ppolicy_use_lockout
`);
  const [hGood, hBench] = await Promise.all([
    execFileP('slappasswd', ['-h', '{SSHA}', '-s', PASSWORD]).then((r) => r.stdout.trim()),
    execFileP('slappasswd', ['-h', '{SSHA}', '-s', BENCH_PASSWORD]).then((r) => r.stdout.trim()),
  ]);
  const now = new Date();
  const user = (uid, hash, lines) =>
    `dn: uid=${uid},ou=people,${SUFFIX}\nobjectClass: inetOrgPerson\nuid: ${uid}\ncn: ${uid}\nsn: ${uid}\nuserPassword: ${hash}\n${lines.map((l) => l + '\n').join('')}\n`;
  const policy = (cn, lines) => `dn: cn=${cn},ou=policies,${SUFFIX}\nobjectClass: namedPolicy\nobjectClass: pwdPolicy\ncn: ${cn}\npwdAttribute: userPassword\n${lines.map((l) => l + '\n').join('')}\n`;
  const ldifFile = path.join(dir, 'data.ldif');
  const out = fs.createWriteStream(ldifFile);
  out.write(`dn: ${SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: pamtest\no: pamtest\n\n`);
  out.write(`dn: ou=people,${SUFFIX}\nobjectClass: organizationalUnit\nou: people\n\n`);
  out.write(`dn: ou=policies,${SUFFIX}\nobjectClass: organizationalUnit\nou: policies\n\n`);
  const strict = ['pwdMaxAge: 7776000', 'pwdExpireWarning: 1209600', 'pwdLockout: TRUE', 'pwdMaxFailure: 3', 'pwdLockoutDuration: 900', 'pwdMustChange: TRUE', 'pwdAllowUserChange: TRUE'];
  out.write(policy('default', [...strict, 'pwdGraceAuthNLimit: 0']));
  out.write(policy('grace', [...strict, 'pwdGraceAuthNLimit: 1000'])); // many, so a reused lab does not run out
  out.write(policy('nolockout', ['pwdLockout: FALSE']));
  const scen = scenarios(now);
  for (const s of scen) out.write(user(s.uid, hGood, s.lines));
  for (let i = 0; i < nBench; i++) out.write(user(`bench${i}`, hBench, [`pwdChangedTime: ${gt(now)}`, `pwdPolicySubentry: cn=nolockout,ou=policies,${SUFFIX}`]));
  await new Promise((r, j) => out.end((e) => (e ? j(e) : r())));
  await execFileP('slapadd', ['-q', '-f', conf, '-b', SUFFIX, '-l', ldifFile], { maxBuffer: 64 * 1024 * 1024 });
  const logFile = path.join(dir, 'slapd.log');
  const urls = `ldap://127.0.0.1:${ldapPort}/ ldaps://127.0.0.1:${ldapsPort}/`;
  const pid = startDaemon('slapd', ['-d', '0', '-f', conf, '-h', urls], { logFile });
  recordPid(dir, pid);
  const state = {
    pids: [pid],
    suffix: SUFFIX,
    ldapUrl: `ldap://127.0.0.1:${ldapPort}`,
    ldapsUrl: `ldaps://127.0.0.1:${ldapsPort}`,
    caFile: ca.cert,
    admin: ADMIN,
    password: PASSWORD,
    benchPassword: BENCH_PASSWORD,
    benchUsers: nBench,
    userDn: (uid) => `uid=${uid},ou=people,${SUFFIX}`,
    scenarios: scen.map((s) => ({ key: s.key, uid: s.uid, dn: `uid=${s.uid},ou=people,${SUFFIX}`, password: PASSWORD, tryPassword: s.tryPassword ?? PASSWORD, expect: s.expect })),
    logFile,
  };
  delete state.userDn;
  await waitFor('slapd to accept binds over ldaps://', async () => {
    const c = new Client({ url: state.ldapsUrl, tlsOptions: { ca: fs.readFileSync(ca.cert) } });
    try {
      await c.bind(ADMIN.dn, ADMIN.password);
      return true;
    } finally {
      await c.unbind().catch(() => {});
    }
  }, { timeoutMs: 15000, intervalMs: 20, logFile, pid });
  log(`ready on ${state.ldapUrl} and ${state.ldapsUrl} with ${nBench} bench users`);
  return state;
}

export async function healthy(state) {
  const c = new Client({ url: state.ldapsUrl, tlsOptions: { ca: fs.readFileSync(state.caFile) } });
  try {
    await c.bind(ADMIN.dn, ADMIN.password);
    return true;
  } finally {
    await c.unbind().catch(() => {});
  }
}

export async function stop(state) {
  for (const pid of state.pids ?? []) await stopPid(pid);
}
