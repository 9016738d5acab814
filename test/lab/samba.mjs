// Samba Active Directory DC, provisioned fresh into the lab dir, on 127.0.0.1/::1 (389, 636, 88).
// Scenario accounts are created over LDAPS as Administrator; their passwords are lab data, not
// secrets, and are recorded in state.json so tests and the demo can use them.
import fs from 'node:fs';
import path from 'node:path';
import { Client, Change, Attribute } from 'ldapts';
import { execFileP, startDaemon, waitFor, stopPid, which, ephemeralPortRange } from './proc.mjs';
import { recordPid } from './lab.mjs';
import { makeCA, issueCert } from './pki.mjs';

export const name = 'samba';

export const REALM = 'PAMTEST.LOCAL';
export const DOMAIN = 'PAMTEST';
export const BASE_DN = 'DC=pamtest,DC=local';
export const ADMIN = { user: 'Administrator@pamtest.local', password: 'Adm1n!Passw0rd' };

const FT_EPOCH = 116444736000000000n;
export const toFiletime = (d) => String(BigInt(d.getTime()) * 10000n + FT_EPOCH);

/**
 * The scenario matrix. Every account's real password is `password`; `tryPassword` is what the
 * scenario presents (the "vault's copy"). expect = the finding code credgate must report.
 */
export const SCENARIOS = [
  { key: 'good', user: 'alice', password: 'Alice!Lab-2026', expect: 'ldap.ok', subcode: null, describe: 'healthy account, right password' },
  { key: 'wrong-password', user: 'bob', password: 'Bob!Current-2026', tryPassword: 'Bob!Previous-2025', expect: 'ldap.invalid-credentials', subcode: '52e', describe: 'the vault holds last rotation\'s password', pso: 'nolockout' },
  { key: 'unknown-user', user: 'nobody', password: null, tryPassword: 'Whatever!1', expect: 'ldap.invalid-credentials', subcode: '52e', describe: 'no such account in the directory', create: false },
  { key: 'disabled', user: 'carol', password: 'Carol!Lab-2026', expect: 'ldap.account-disabled', subcode: '533', describe: 'account disabled', attrs: { userAccountControl: '514' } },
  { key: 'account-expired', user: 'dave', password: 'Dave!Lab-2026', expect: 'ldap.account-expired', subcode: '701', describe: 'account expired yesterday', attrs: { accountExpires: () => toFiletime(new Date(Date.now() - 86400e3)) } },
  { key: 'must-change', user: 'erin', password: 'Erin!Lab-2026', expect: 'ldap.password-must-change', subcode: '773', describe: 'must change password at next logon', post: 'pwdLastSet0' },
  { key: 'locked', user: 'frank', password: 'Frank!Lab-2026', expect: 'ldap.account-locked', subcode: '775', describe: 'locked out after 3 bad passwords', post: 'lock' },
  { key: 'logon-hours', user: 'grace', password: 'Grace!Lab-2026', expect: 'ldap.logon-hours', subcode: '530', describe: 'no logon hours allowed', attrs: { logonHours: () => Buffer.alloc(21, 0) } },
  { key: 'workstation', user: 'heidi', password: 'Heidi!Lab-2026', expect: 'ldap.workstation-restricted', subcode: '531', describe: 'may log on only from NOTTHISONE', attrs: { userWorkstations: 'NOTTHISONE' } },
  { key: 'password-expired', user: 'ivan', password: 'Ivan!Lab-2026', expect: 'ldap.password-expired', subcode: '532', describe: 'password older than its maximum age', pso: 'shortage', post: 'backdate' },
];
/** Accounts that support the scenarios (service reader, lockout-risk victim). */
export const SUPPORT = {
  reader: { user: 'svc-reader', password: 'Reader!Lab-2026' },
  nearLocked: { user: 'judy', password: 'Judy!Lab-2026' },
};
export const LOCKOUT_THRESHOLD = 3;
/** 10 days in 100 ns units */
const LOCKOUT_SPAN = 10n * 86400n * 10000000n;

function ldapsClient(state, url = state.ldapsUrl) {
  return new Client({ url, timeout: 10000, connectTimeout: 5000, tlsOptions: { ca: fs.readFileSync(state.caFile) } });
}

export async function adminClient(state) {
  const c = ldapsClient(state);
  await c.bind(ADMIN.user, ADMIN.password);
  return c;
}

const pw = (p) => Buffer.from(`"${p}"`, 'utf16le');
const userDn = (u) => `CN=${u},CN=Users,${BASE_DN}`;

/** Create (or re-create) a user. attrs values may be functions, called at creation. */
export async function createUser(c, user, password, attrs = {}) {
  const dn = userDn(user);
  try {
    await c.del(dn);
  } catch {}
  const extra = {};
  for (const [k, v] of Object.entries(attrs)) extra[k] = typeof v === 'function' ? v() : v;
  await c.add(dn, {
    objectClass: ['top', 'person', 'organizationalPerson', 'user'],
    sAMAccountName: user,
    userPrincipalName: `${user}@pamtest.local`,
    unicodePwd: pw(password),
    userAccountControl: '512',
    ...extra,
  });
  return dn;
}

export async function setPassword(c, user, password) {
  await c.modify(userDn(user), [new Change({ operation: 'replace', modification: new Attribute({ type: 'unicodePwd', values: [pw(password)] }) })]);
}

async function replace(c, dn, type, value) {
  await c.modify(dn, [new Change({ operation: 'replace', modification: new Attribute({ type, values: [value] }) })]);
}

/** Bad binds as `user` (to lock it, or to bring it near the threshold). */
export async function badBinds(state, user, n) {
  for (let i = 0; i < n; i++) {
    const c = ldapsClient(state);
    try {
      await c.bind(`${user}@pamtest.local`, `definitely-wrong-${i}`);
    } catch {}
    await c.unbind().catch(() => {});
  }
}

/**
 * Backdate pwdLastSet. AD refuses any value but 0/-1 over LDAP, so this edits the domain
 * partition's record directly with Samba's python ldb binding (no modules loaded). The running
 * DC reads the record fresh on the next bind.
 */
export async function backdatePwdLastSet(state, user, date) {
  const py = `
import ldb, sys
l = ldb.Ldb()
l.connect("tdb://" + sys.argv[1], flags=0, options=["modules:"])
m = ldb.Message(); m.dn = ldb.Dn(l, sys.argv[2])
m["pwdLastSet"] = ldb.MessageElement(sys.argv[3], ldb.FLAG_MOD_REPLACE, "pwdLastSet")
l.modify(m)
`;
  const part = path.join(state.provisionDir, 'private', 'sam.ldb.d', `${BASE_DN.toUpperCase()}.ldb`);
  await execFileP('/usr/bin/python3', ['-c', py, part, userDn(user), toFiletime(date)]);
}

async function createPso(c, cn, attrs, appliesTo) {
  const dn = `CN=${cn},CN=Password Settings Container,CN=System,${BASE_DN}`;
  try {
    await c.del(dn);
  } catch {}
  await c.add(dn, {
    objectClass: 'msDS-PasswordSettings',
    'msDS-PasswordSettingsPrecedence': '1',
    'msDS-PasswordReversibleEncryptionEnabled': 'FALSE',
    'msDS-PasswordHistoryLength': '0',
    'msDS-PasswordComplexityEnabled': 'FALSE',
    'msDS-MinimumPasswordLength': '0',
    'msDS-MinimumPasswordAge': '0',
    'msDS-MaximumPasswordAge': String(-42n * 864000000000n),
    'msDS-LockoutThreshold': '0',
    'msDS-LockoutObservationWindow': String(-LOCKOUT_SPAN),
    'msDS-LockoutDuration': String(-LOCKOUT_SPAN),
    ...attrs,
    'msDS-PSOAppliesTo': appliesTo.map(userDn),
  });
}

/**
 * Samba's DCE/RPC endpoints (SAMR, LSA, Netlogon, ...) listen on ports from "rpc server dynamic
 * port range", by default 49152-65535: inside Linux's ephemeral range (32768-60999), where the
 * other lab servers' listen(0) ports and every outgoing connection take theirs. A CI run lost
 * that race (127.0.0.1:49154 taken, Samba exited with NT_STATUS_ADDRESS_ALREADY_ASSOCIATED), so
 * the lab gives Samba 100 ports 1000 below the ephemeral range instead.
 * @param {[number, number]} [range]
 * @returns {[number, number]}
 */
export function rpcPortRange([lo, hi] = ephemeralPortRange()) {
  const size = 100;
  if (lo - 1024 > size + 1000) return [lo - 1000 - size, lo - 1001];
  if (65535 - hi > size) return [hi + 1, hi + size];
  throw new Error(`lab: the ephemeral port range ${lo}-${hi} leaves no room for Samba's RPC ports (net.ipv4.ip_local_port_range)`);
}

export async function start({ dir, log }) {
  for (const bin of ['samba', 'samba-tool']) {
    if (!which(bin)) throw new Error(`lab: ${bin} is not installed; run "node scripts/ensure.mjs" (apt-get install samba samba-ad-dc winbind krb5-user)`);
  }
  const provisionDir = path.join(dir, 'dc');
  const t0 = Date.now();
  const [rpcLo, rpcHi] = rpcPortRange();
  // our own certificate from the lab CA: SAN covers 127.0.0.1 and localhost, not ::1 (that is the
  // name-mismatch case) — Samba's self-generated one names only the DC's FQDN.
  const ca = await makeCA(path.join(dir, 'pki'), { cn: 'credgate lab CA (samba)' });
  const leaf = await issueCert(ca, 'dc', { cn: 'dc.pamtest.local', sans: ['DNS:dc.pamtest.local', 'DNS:localhost', 'IP:127.0.0.1'], keyType: 'rsa' });
  await execFileP('samba-tool', [
    'domain', 'provision', `--realm=${REALM}`, `--domain=${DOMAIN}`, '--server-role=dc', '--dns-backend=NONE',
    `--adminpass=${ADMIN.password}`, `--targetdir=${provisionDir}`, '--use-rfc2307',
    '--option=interfaces=lo', '--option=bind interfaces only=yes',
    `--option=rpc server dynamic port range=${rpcLo}-${rpcHi}`,
    `--option=log file=${path.join(dir, 'log.%m')}`,
    '--option=tls enabled=yes',
    `--option=tls keyfile=${leaf.key}`, `--option=tls certfile=${leaf.cert}`, `--option=tls cafile=${ca.cert}`,
  ], { maxBuffer: 16 * 1024 * 1024 });
  fs.chmodSync(leaf.key, 0o600);
  const provisionMs = Date.now() - t0;
  log(`provisioned in ${provisionMs} ms`);
  const smbConf = path.join(provisionDir, 'etc', 'smb.conf');
  const logFile = path.join(dir, 'samba.log');
  const pid = startDaemon('samba', ['-i', '-s', smbConf, '-M', 'single', '--debug-stdout'], { logFile });
  recordPid(dir, pid);
  const state = {
    pids: [pid],
    provisionDir,
    smbConf,
    realm: REALM,
    domain: DOMAIN,
    baseDn: BASE_DN,
    ldapsUrl: 'ldaps://127.0.0.1:636',
    ldapUrl: 'ldap://127.0.0.1:389',
    ldapsUrlV6: 'ldaps://[::1]:636',
    caFile: ca.cert,
    certFile: leaf.cert,
    admin: ADMIN,
    reader: SUPPORT.reader,
    nearLocked: SUPPORT.nearLocked,
    lockoutThreshold: LOCKOUT_THRESHOLD,
    logFile,
    provisionMs,
  };
  const c = await waitFor('Samba LDAPS to accept the Administrator bind', async () => {
    const cl = ldapsClient(state);
    try {
      await cl.bind(ADMIN.user, ADMIN.password);
      return cl;
    } catch (e) {
      await cl.unbind().catch(() => {});
      throw e;
    }
  }, { timeoutMs: 60000, intervalMs: 100, logFile, pid });
  state.readyMs = Date.now() - t0;
  try {
    // domain policy: easy lab passwords, lockout after 3 bad passwords; lockout duration and
    // observation window of 10 days, so a lab left running keeps its locked / near-locked states
    await c.modify(BASE_DN, [
      new Change({ operation: 'replace', modification: new Attribute({ type: 'pwdProperties', values: ['0'] }) }),
      new Change({ operation: 'replace', modification: new Attribute({ type: 'minPwdAge', values: ['0'] }) }),
      new Change({ operation: 'replace', modification: new Attribute({ type: 'pwdHistoryLength', values: ['0'] }) }),
      new Change({ operation: 'replace', modification: new Attribute({ type: 'lockoutThreshold', values: [String(LOCKOUT_THRESHOLD)] }) }),
      new Change({ operation: 'replace', modification: new Attribute({ type: 'lockoutDuration', values: [String(-LOCKOUT_SPAN)] }) }),
      new Change({ operation: 'replace', modification: new Attribute({ type: 'lockOutObservationWindow', values: [String(-LOCKOUT_SPAN)] }) }),
    ]);
    // let authenticated users read fine-grained password policies (PSOs), as a read-only
    // service account needs them to know an account's effective lockout threshold
    await execFileP('samba-tool', ['dsacl', 'set', '-s', smbConf, '-H', path.join(provisionDir, 'private', 'sam.ldb'),
      `--objectdn=CN=Password Settings Container,CN=System,${BASE_DN}`, '--sddl=(A;CI;RPLCLORC;;;AU)']);
    await createUser(c, SUPPORT.reader.user, SUPPORT.reader.password);
    await createUser(c, SUPPORT.nearLocked.user, SUPPORT.nearLocked.password);
    for (const s of SCENARIOS) {
      if (s.create === false) continue;
      await createUser(c, s.user, s.password, s.attrs);
    }
    // PSOs: the wrong-password account never locks (so repeated runs stay deterministic);
    // the password-expired account has a short maximum age (Samba's minimum is just over a day).
    await createPso(c, 'lab-nolockout', {}, SCENARIOS.filter((s) => s.pso === 'nolockout').map((s) => s.user));
    await createPso(c, 'lab-shortage', { 'msDS-MaximumPasswordAge': String(-(864000000000n + 1n) * 2n), 'msDS-PasswordSettingsPrecedence': '2' }, SCENARIOS.filter((s) => s.pso === 'shortage').map((s) => s.user));
    for (const s of SCENARIOS) {
      if (s.post === 'pwdLastSet0') await replace(c, userDn(s.user), 'pwdLastSet', '0');
      if (s.post === 'lock') await badBinds(state, s.user, LOCKOUT_THRESHOLD);
      if (s.post === 'backdate') await backdatePwdLastSet(state, s.user, new Date(Date.now() - 10 * 86400e3));
    }
    await badBinds(state, SUPPORT.nearLocked.user, LOCKOUT_THRESHOLD - 1);
  } finally {
    await c.unbind().catch(() => {});
  }
  state.scenarios = SCENARIOS.map((s) => ({
    key: s.key,
    user: s.user,
    upn: `${s.user}@pamtest.local`,
    downLevel: `${DOMAIN}\\${s.user}`,
    dn: userDn(s.user),
    password: s.password,
    tryPassword: s.tryPassword ?? s.password,
    expect: s.expect,
    subcode: s.subcode,
    describe: s.describe,
  }));
  state.accountsMs = Date.now() - t0 - state.readyMs;
  state.laps = await (await import('./samba-laps.mjs')).setupLaps(state); // LAPS schema + lab computers (samba-laps.mjs)
  log(`ready (LDAPS) after ${state.readyMs} ms, scenario accounts in ${state.accountsMs} ms`);
  return state;
}

export async function healthy(state) {
  // a lab started before the RPC ports moved (or on another port range) is restarted, not reused
  const [lo, hi] = rpcPortRange();
  try {
    if (!fs.readFileSync(state.smbConf, 'utf8').includes(`rpc server dynamic port range = ${lo}-${hi}`)) return false;
  } catch {
    return false;
  }
  const c = ldapsClient(state);
  try {
    await c.bind(ADMIN.user, ADMIN.password);
    return true;
  } finally {
    await c.unbind().catch(() => {});
  }
}

export async function stop(state) {
  for (const pid of state.pids ?? []) await stopPid(pid);
}
