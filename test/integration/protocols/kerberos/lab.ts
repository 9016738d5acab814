// Lab helper for the Kerberos integration tests: reads the shared Samba lab's state.json and
// (re)creates this suite's OWN accounts (krb-*), one per account state, idempotently: every run
// deletes and re-creates them, so a locked or expired account from a previous run never leaks into
// the next. The shared scenario accounts (alice .. judy) are never touched. Changes go through
// Samba's own Python library (the code behind samba-tool / ldbmodify, opened on the DC's sam.ldb
// via its smb.conf); the two values AD refuses over the directory API (a backdated pwdLastSet, a
// removed set of AES keys) are written to the partition file without modules, as the lab itself does.
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..', '..', '..');

export interface SambaLabState {
  smbConf: string;
  realm: string;
  domain: string;
  lockoutThreshold: number;
}

/** The shared lab's Samba state, or null when no lab is running. */
export function sambaLab(): SambaLabState | null {
  const dir = process.env.CREDGATE_LAB_DIR ? path.resolve(process.env.CREDGATE_LAB_DIR) : path.join(repoRoot, '.lab');
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'samba', 'state.json'), 'utf8')) as SambaLabState;
  } catch {
    return null;
  }
}

export type AccountState =
  | 'disabled'
  | 'account-expired'
  | 'must-change'
  | 'password-expired'
  | 'logon-hours'
  | 'workstation'
  | 'no-preauth'
  | 'rc4-only'
  | 'alt-upn'
  | 'no-lockout';

export interface AccountSpec {
  key: string;
  user: string;
  password: string;
  states?: AccountState[];
  /** false: make sure the account does NOT exist. */
  create?: boolean;
}

export interface KrbAccount extends AccountSpec {
  upn: string;
}

/** This suite's accounts. Passwords are lab data, not secrets. */
export const KRB_ACCOUNTS: AccountSpec[] = [
  { key: 'good', user: 'krb-good', password: 'Good!Krb-2026' },
  { key: 'wrong', user: 'krb-wrong', password: 'Wrong!Krb-2026', states: ['no-lockout'] },
  { key: 'unknown', user: 'krb-nobody', password: 'Nobody!Krb-2026', create: false },
  { key: 'disabled', user: 'krb-disabled', password: 'Disabled!Krb-2026', states: ['disabled'] },
  { key: 'locked', user: 'krb-locked', password: 'Locked!Krb-2026' },
  { key: 'expired', user: 'krb-expired', password: 'Expired!Krb-2026', states: ['account-expired'] },
  { key: 'must-change', user: 'krb-mustchange', password: 'MustChange!Krb-2026', states: ['must-change'] },
  { key: 'password-expired', user: 'krb-pwexpired', password: 'PwExpired!Krb-2026', states: ['password-expired'] },
  { key: 'logon-hours', user: 'krb-hours', password: 'Hours!Krb-2026', states: ['logon-hours'] },
  { key: 'workstation', user: 'krb-wks', password: 'Wks!Krb-2026', states: ['workstation'] },
  { key: 'special', user: 'krb-special', password: `P@ss w0rd!"#$%&'()*+,-./:;<=>?[\\]^_\`{|}~` },
  { key: 'long', user: 'krb-long', password: `Lång-Pässwörd-€-\u{1D11E}-Ωμέγα-日本語-`.repeat(5) + 'end!9' },
  { key: 'no-preauth', user: 'krb-nopreauth', password: 'NoPreauth!Krb-2026', states: ['no-preauth'] },
  { key: 'rc4-only', user: 'krb-rc4', password: 'Rc4Only!Krb-2026', states: ['rc4-only'] },
  { key: 'alt-upn', user: 'krb-altupn', password: 'AltUpn!Krb-2026', states: ['alt-upn'] },
];

/**
 * A suite's own copies of some KRB_ACCOUNTS (krb-good → krb-<suite>-good, same state and password),
 * so suites that run in parallel never share, delete or lock each other's accounts.
 */
export function suiteAccounts(suite: string, keys: readonly string[], extra: AccountSpec[] = []): AccountSpec[] {
  const pick = keys.map((k) => {
    const spec = KRB_ACCOUNTS.find((a) => a.key === k);
    if (!spec) throw new Error(`no Kerberos lab account ${k}`);
    return { ...spec, user: spec.user.replace(/^krb-/, `krb-${suite}-`) };
  });
  return [...pick, ...extra.map((a) => ({ ...a, user: a.user.replace(/^krb-/, `krb-${suite}-`) }))];
}

/** The UPN the 'alt-upn' account gets: another prefix and a suffix that is not the realm. */
export const ALT_UPN = 'kerberos.alt.user@alt-suffix.example';

/** Used only by the clock-skew suite (which runs in parallel with the others, so it owns its account). */
export const SKEW_ACCOUNT: AccountSpec = { key: 'skew', user: 'krb-skew', password: 'Skew!Krb-2026' };

const PY = String.raw`
import sys, json, time
import ldb, samba
from samba.samdb import SamDB
from samba.auth import system_session
from samba.param import LoadParm
from samba import dsdb
sys.path.insert(0, sys.argv[3])
from samba_pso import no_lockout_pso

spec = json.load(sys.stdin)
lp = LoadParm(); lp.load(sys.argv[1])
db = SamDB(url=lp.samdb_url(), session_info=system_session(), lp=lp)
base = str(db.domain_dn())
def dn_of(u): return 'CN=%s,CN=Users,%s' % (u, base)
def find(u): return db.search(base=base, scope=ldb.SCOPE_SUBTREE, expression='(sAMAccountName=%s)' % ldb.binary_encode(u), attrs=[])
def replace(u, attr, value):
    m = ldb.Message(); m.dn = ldb.Dn(db, dn_of(u))
    m[attr] = ldb.MessageElement(value, ldb.FLAG_MOD_REPLACE, attr)
    db.modify(m)
raw = []
no_lockout = []
for a in spec:
    u = a['user']
    if len(find(u)): db.deleteuser(u)
    if a.get('create') is False: continue
    db.newuser(u, a['password'], useusernameascn=True)
    f = '(sAMAccountName=%s)' % ldb.binary_encode(u)
    for s in a.get('states', []):
        if s == 'disabled': db.disable_account(f)
        elif s == 'account-expired': replace(u, 'accountExpires', str(samba.unix2nttime(int(time.time()) - 86400)))
        elif s == 'must-change': replace(u, 'pwdLastSet', '0')
        elif s == 'logon-hours': replace(u, 'logonHours', bytes(21))
        elif s == 'workstation': replace(u, 'userWorkstations', 'NOTTHISONE')
        elif s == 'no-preauth': db.toggle_userAccountFlags(f, dsdb.UF_DONT_REQUIRE_PREAUTH, on=True)
        elif s == 'no-lockout': no_lockout.append(dn_of(u))
        elif s == 'alt-upn': replace(u, 'userPrincipalName', 'kerberos.alt.user@alt-suffix.example')
        elif s == 'password-expired': raw.append((u, 'pwdLastSet', str(samba.unix2nttime(int(time.time()) - 400 * 86400))))
        elif s == 'rc4-only': raw.append((u, 'supplementalCredentials', None))
        else: raise Exception('unknown state ' + s)
if no_lockout: no_lockout_pso(db, base, sys.argv[2], no_lockout, 7)
dc = db.search(base=base, scope=ldb.SCOPE_SUBTREE, expression='(&(objectClass=computer)(userAccountControl:1.2.840.113556.1.4.803:=8192))', attrs=['dnsHostName'])
dom = db.search(base=base, scope=ldb.SCOPE_BASE, attrs=['maxPwdAge', 'lockoutThreshold'])[0]
out = {'dcFqdn': str(dc[0]['dnsHostName'][0]), 'maxPwdAge': int(str(dom['maxPwdAge'][0])), 'lockoutThreshold': int(str(dom['lockoutThreshold'][0]))}
del db
if raw:
    part = ldb.Ldb()
    part.connect('tdb://' + lp.private_path('sam.ldb.d') + '/' + base.upper() + '.ldb', flags=0, options=['modules:'])
    for (u, attr, value) in raw:
        m = ldb.Message(); m.dn = ldb.Dn(part, dn_of(u))
        m[attr] = ldb.MessageElement(value, ldb.FLAG_MOD_REPLACE, attr) if value is not None else ldb.MessageElement([], ldb.FLAG_MOD_DELETE, attr)
        part.modify(m)
print(json.dumps(out))
`;

export interface PreparedLab {
  realm: string;
  kdc: string;
  dcFqdn: string;
  maxPwdAge: number;
  lockoutThreshold: number;
  accounts: Record<string, KrbAccount>;
}

/**
 * (Re)create every krb-* account in its state. Takes a few seconds; call it from beforeAll. Suites
 * that run in parallel use their own accounts and their own password settings object (`pso`, for
 * the 'no-lockout' state), so one suite's re-creation never touches another's accounts.
 */
export function prepareKrbAccounts(lab: SambaLabState, specs: AccountSpec[] = KRB_ACCOUNTS, pso = 'krb-nolockout'): PreparedLab {
  if (specs.some((s) => !s.user.startsWith('krb-'))) throw new Error('the Kerberos suite only manages its own krb-* accounts');
  if (!/^krb-[a-z0-9-]{1,40}$/.test(pso)) throw new Error('the password settings object of a Kerberos suite is named krb-<suite>');
  const out = execFileSync('/usr/bin/python3', ['-c', PY, lab.smbConf, pso, path.join(repoRoot, 'test', 'lab')], { input: JSON.stringify(specs), timeout: 60_000, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  const facts = JSON.parse(out.trim().split('\n').pop()!) as { dcFqdn: string; maxPwdAge: number; lockoutThreshold: number };
  const domain = lab.realm.toLowerCase();
  return {
    realm: lab.realm,
    kdc: '127.0.0.1:88',
    ...facts,
    accounts: Object.fromEntries(specs.map((s) => [s.key, { ...s, upn: `${s.user}@${domain}` }])),
  };
}
