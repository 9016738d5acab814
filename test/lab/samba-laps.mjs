// LAPS on the lab's Samba AD DC: extends the schema with the Windows LAPS and legacy Microsoft
// LAPS attributes (LDIF-equivalent adds over LDAPS as Administrator), adds them to the computer
// class's mayContain, and creates lab computer objects carrying LAPS passwords, plus a reader
// account allowed to read them.
//
// Attribute definitions follow Microsoft's "Windows LAPS schema extensions reference"
// (learn.microsoft.com/windows-server/identity/laps/laps-technical-reference) for msLAPS-*, and
// the legacy LAPS (AdmPwd.PS) schema for ms-Mcs-AdmPwd / ms-Mcs-AdmPwdExpirationTime. The password
// attributes are CONFIDENTIAL (searchFlags 904): a reader sees them only with the control-access
// right on the attribute, exactly as on Windows, so "no right to read" is a real lab case.
//
// state.laps (recorded by samba.mjs):
//   ou             DN of the OU holding the lab computers (the reader's read right is granted here)
//   reader         { user, password, dn } — may read the LAPS password attributes under `ou`
//   computers      { [key]: { name, dn, dnsHostName, kind, account?, password?, updatedAt?, expiresAt? } }
//                  keys: windows (msLAPS-Password JSON), legacy (ms-Mcs-AdmPwd), both (both;
//                  Windows LAPS wins), encrypted (msLAPS-EncryptedPassword only), none (no LAPS
//                  attributes), outside (a Windows LAPS password in CN=Computers, outside `ou`: the
//                  reader sees the expiration time but not the password)
// Passwords here are lab data, not secrets.
import fs from 'node:fs';
import path from 'node:path';
import { Client, Change, Attribute } from 'ldapts';
import { execFile } from 'node:child_process';
import { execFileP } from './proc.mjs';

export const LAPS_READER = { user: 'svc-laps', password: 'Laps!Reader-2026' };
const FT_EPOCH = 116444736000000000n;
const ft = (d) => BigInt(d.getTime()) * 10000n + FT_EPOCH;

/** name → definition (Microsoft's published values). */
export const LAPS_ATTRIBUTES = [
  { cn: 'ms-LAPS-PasswordExpirationTime', lDAPDisplayName: 'msLAPS-PasswordExpirationTime', attributeID: '1.2.840.113556.1.6.44.1.1', attributeSyntax: '2.5.5.16', oMSyntax: '65', searchFlags: '0' },
  { cn: 'ms-LAPS-Password', lDAPDisplayName: 'msLAPS-Password', attributeID: '1.2.840.113556.1.6.44.1.2', attributeSyntax: '2.5.5.5', oMSyntax: '19', searchFlags: '904' },
  { cn: 'ms-LAPS-EncryptedPassword', lDAPDisplayName: 'msLAPS-EncryptedPassword', attributeID: '1.2.840.113556.1.6.44.1.3', attributeSyntax: '2.5.5.10', oMSyntax: '4', searchFlags: '904' },
  { cn: 'ms-Mcs-AdmPwd', lDAPDisplayName: 'ms-Mcs-AdmPwd', attributeID: '1.2.840.113556.1.8000.2554.50051.45980.28112.18903.35903.6685103.1224907.2.1', attributeSyntax: '2.5.5.5', oMSyntax: '19', searchFlags: '904' },
  { cn: 'ms-Mcs-AdmPwdExpirationTime', lDAPDisplayName: 'ms-Mcs-AdmPwdExpirationTime', attributeID: '1.2.840.113556.1.8000.2554.50051.45980.28112.18903.35903.6685103.1224907.2.2', attributeSyntax: '2.5.5.16', oMSyntax: '65', searchFlags: '0' },
];

const mod = (operation, type, values) => new Change({ operation, modification: new Attribute({ type, values }) });

async function exists(c, base, filter) {
  try {
    const r = await c.search(base, { scope: 'base', filter, attributes: ['distinguishedName'] });
    return r.searchEntries.length > 0;
  } catch (e) {
    if (/no such object/i.test(String(e?.message)) || e?.code === 32) return false;
    throw e;
  }
}

/**
 * The schema extension as LDIF. Samba refuses schema changes over LDAP unless the DC runs with
 * "dsdb:schema update allowed = yes", so the LDIF is applied to the DC's sam.ldb with Samba's own
 * Python bindings (the samba-tool way, with that option set for this one connection); the running
 * samba process notices the schema change and reloads it.
 */
export function schemaLdif(schemaNc) {
  const out = [];
  for (const a of LAPS_ATTRIBUTES) {
    out.push([
      `dn: CN=${a.cn},${schemaNc}`,
      'changetype: add',
      'objectClass: top',
      'objectClass: attributeSchema',
      `cn: ${a.cn}`,
      `lDAPDisplayName: ${a.lDAPDisplayName}`,
      `adminDisplayName: ${a.lDAPDisplayName}`,
      `attributeID: ${a.attributeID}`,
      `attributeSyntax: ${a.attributeSyntax}`,
      `oMSyntax: ${a.oMSyntax}`,
      'isSingleValued: TRUE',
      'systemOnly: FALSE',
      'isMemberOfPartialAttributeSet: FALSE',
      `searchFlags: ${a.searchFlags}`,
      'showInAdvancedViewOnly: TRUE',
    ].join('\n'));
  }
  out.push([`dn: CN=Computer,${schemaNc}`, 'changetype: modify', 'add: mayContain', ...LAPS_ATTRIBUTES.map((a) => `mayContain: ${a.lDAPDisplayName}`), '-'].join('\n'));
  return out;
}

const APPLY_PY = `
import sys
from samba.samdb import SamDB
from samba.param import LoadParm
from samba.auth import system_session
lp = LoadParm()
lp.load(sys.argv[1])
lp.set("dsdb:schema update allowed", "true")
db = SamDB(url=sys.argv[2], session_info=system_session(), lp=lp)
for chunk in sys.stdin.read().split("\\n\\n"):
    if chunk.strip():
        db.modify_ldif(chunk)
`;

async function missingSchema(c, schemaNc) {
  const have = new Set();
  const r = await c.search(schemaNc, { scope: 'one', filter: '(|(lDAPDisplayName=msLAPS-*)(lDAPDisplayName=ms-Mcs-AdmPwd*))', attributes: ['lDAPDisplayName'] });
  for (const e of r.searchEntries) have.add(String(e.lDAPDisplayName).toLowerCase());
  const attrs = LAPS_ATTRIBUTES.filter((a) => !have.has(a.lDAPDisplayName.toLowerCase()));
  const cur = (await c.search(`CN=Computer,${schemaNc}`, { scope: 'base', attributes: ['mayContain'] })).searchEntries[0];
  const may = new Set([].concat(cur?.mayContain ?? []).map((x) => String(x).toLowerCase()));
  const mayMissing = LAPS_ATTRIBUTES.filter((a) => !may.has(a.lDAPDisplayName.toLowerCase()));
  return { attrs, mayMissing };
}

/** Add the LAPS attributes to the schema and to computer's mayContain. Idempotent. */
export async function extendSchema(state, c) {
  const root = (await c.search('', { scope: 'base', attributes: ['schemaNamingContext', 'defaultNamingContext'] })).searchEntries[0];
  const schemaNc = String(root.schemaNamingContext);
  const before = await missingSchema(c, schemaNc);
  if (before.attrs.length || before.mayMissing.length) {
    const ldif = schemaLdif(schemaNc);
    const wanted = new Set(before.attrs.map((a) => a.cn));
    const chunks = ldif.filter((chunk) => {
      const cn = /^dn: CN=([^,]+),/.exec(chunk)?.[1];
      return cn === 'Computer' ? before.mayMissing.length > 0 : wanted.has(cn);
    });
    // mayContain: only the missing names
    const fixed = chunks.map((chunk) => chunk.startsWith('dn: CN=Computer,')
      ? [`dn: CN=Computer,${schemaNc}`, 'changetype: modify', 'add: mayContain', ...before.mayMissing.map((a) => `mayContain: ${a.lDAPDisplayName}`), '-'].join('\n')
      : chunk);
    const samLdb = path.join(state.provisionDir, 'private', 'sam.ldb');
    await runPy(APPLY_PY, [state.smbConf, samLdb], fixed.join('\n\n'));
    // the running DC reloads its schema when it sees the change; tell it now as well
    await c.modify('', [mod('add', 'schemaUpdateNow', ['1'])]).catch(() => {});
  }
  // wait until the running DC serves the new schema
  const t0 = Date.now();
  for (;;) {
    const now = await missingSchema(c, schemaNc);
    if (!now.attrs.length && !now.mayMissing.length) break;
    if (Date.now() - t0 > 15000) throw new Error(`lab: the DC does not show the LAPS schema after 15 s (missing ${[...now.attrs, ...now.mayMissing].map((a) => a.lDAPDisplayName).join(', ')})`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { schemaNc, baseDn: String(root.defaultNamingContext), added: before.attrs.length };
}

function runPy(code, args, input) {
  return new Promise((resolve, reject) => {
    const child = execFile('/usr/bin/python3', ['-c', code, ...args], { timeout: 60000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`lab: applying the LAPS schema LDIF failed: ${stderr || err.message}`));
      else resolve(stdout);
    });
    child.stdin.end(input);
  });
}

async function schemaGuid(c, schemaNc, ldapName) {
  // binary attributes as bytes: ldapts hands a value over as text when it happens to be valid UTF-8
  const r = await c.search(schemaNc, { scope: 'one', filter: `(lDAPDisplayName=${ldapName})`, attributes: ['schemaIDGUID'], explicitBufferAttributes: ['schemaIDGUID'] });
  const b = r.searchEntries[0]?.schemaIDGUID;
  if (!Buffer.isBuffer(b)) throw new Error(`lab: no schemaIDGUID for ${ldapName}`);
  if (b.length !== 16) throw new Error(`lab: no schemaIDGUID for ${ldapName}`);
  // GUID string form: first three groups little-endian
  const h = b.toString('hex');
  const le = (s) => s.match(/../g).reverse().join('');
  return `${le(h.slice(0, 8))}-${le(h.slice(8, 12))}-${le(h.slice(12, 16))}-${h.slice(16, 20)}-${h.slice(20)}`;
}

async function objectSid(c, dn) {
  // as bytes: ldapts hands a value over as text when its bytes happen to be valid UTF-8, and a
  // domain whose random SID did made the lab fail to start (a SID too short to read)
  const r = await c.search(dn, { scope: 'base', attributes: ['objectSid'], explicitBufferAttributes: ['objectSid'] });
  const buf = r.searchEntries[0]?.objectSid;
  if (!Buffer.isBuffer(buf) || buf.length < 8 || buf.length !== 8 + 4 * buf[1]) throw new Error(`lab: no readable objectSid for ${dn}`);
  const count = buf[1];
  const auth = buf.readUIntBE(2, 6);
  const subs = [];
  for (let i = 0; i < count; i++) subs.push(buf.readUInt32LE(8 + 4 * i));
  return `S-${buf[0]}-${auth}-${subs.join('-')}`;
}

/**
 * Set LAPS up on a running lab DC (state = the samba part's state). Uses its own Administrator
 * connection over LDAPS unless one is given. Idempotent: safe to run again on the same DC.
 */
export async function setupLaps(state, given) {
  const t0 = Date.now();
  const c = given ?? new Client({ url: state.ldapsUrl, timeout: 15000, connectTimeout: 5000, tlsOptions: { ca: fs.readFileSync(state.caFile) } });
  try {
    if (!given) await c.bind(state.admin.user, state.admin.password);
    return await setup(state, c, t0);
  } finally {
    if (!given) await c.unbind().catch(() => {});
  }
}

async function setup(state, c, t0) {
  const { schemaNc, baseDn } = await extendSchema(state, c);
  const ou = `OU=LAPS Lab,${baseDn}`;
  if (!(await exists(c, ou, '(objectClass=organizationalUnit)'))) {
    await c.add(ou, { objectClass: ['top', 'organizationalUnit'], ou: 'LAPS Lab' });
  }
  // the reader: an ordinary user
  const readerDn = `CN=${LAPS_READER.user},CN=Users,${baseDn}`;
  try {
    await c.del(readerDn);
  } catch {}
  await c.add(readerDn, {
    objectClass: ['top', 'person', 'organizationalPerson', 'user'],
    sAMAccountName: LAPS_READER.user,
    userPrincipalName: `${LAPS_READER.user}@${state.realm.toLowerCase()}`,
    unicodePwd: Buffer.from(`"${LAPS_READER.password}"`, 'utf16le'),
    userAccountControl: '512',
  });

  const now = Date.now();
  const day = 86400e3;
  const computers = {
    windows: { name: 'LAPSWIN01', kind: 'windows', account: 'Administrator', password: 'Win!Laps-7fQ2-2026', updatedAt: new Date(now - 3 * day), expiresAt: new Date(now + 27 * day) },
    legacy: { name: 'LAPSLEG01', kind: 'legacy', account: 'Administrator', password: 'Leg!Laps-9xK4-2026', expiresAt: new Date(now + 20 * day) },
    both: { name: 'LAPSBOTH01', kind: 'both', account: 'LapsAdmin', password: 'Both!Laps-new-2026', legacyPassword: 'Both!Laps-old-2025', updatedAt: new Date(now - 1 * day), expiresAt: new Date(now + 29 * day) },
    encrypted: { name: 'LAPSENC01', kind: 'encrypted', expiresAt: new Date(now + 30 * day) },
    none: { name: 'LAPSNONE01', kind: 'none' },
    outside: { name: 'LAPSOUT01', kind: 'windows', account: 'Administrator', password: 'Out!Laps-3vB8-2026', updatedAt: new Date(now - 2 * day), expiresAt: new Date(now + 28 * day), container: `CN=Computers,${baseDn}` },
  };
  const domainDns = state.realm.toLowerCase();
  for (const comp of Object.values(computers)) {
    const parent = comp.container ?? ou;
    comp.dn = `CN=${comp.name},${parent}`;
    comp.dnsHostName = `${comp.name.toLowerCase()}.${domainDns}`;
    try {
      await c.del(comp.dn);
    } catch {}
    const attrs = {
      objectClass: ['top', 'person', 'organizationalPerson', 'user', 'computer'],
      sAMAccountName: `${comp.name}$`,
      dNSHostName: comp.dnsHostName,
      userAccountControl: '4096',
    };
    if (comp.kind === 'windows' || comp.kind === 'both') {
      attrs['msLAPS-Password'] = JSON.stringify({ n: comp.account, t: ft(comp.updatedAt).toString(16), p: comp.password });
      attrs['msLAPS-PasswordExpirationTime'] = String(ft(comp.expiresAt));
    }
    if (comp.kind === 'legacy' || comp.kind === 'both') {
      attrs['ms-Mcs-AdmPwd'] = comp.kind === 'both' ? comp.legacyPassword : comp.password;
      attrs['ms-Mcs-AdmPwdExpirationTime'] = String(ft(comp.expiresAt));
    }
    if (comp.kind === 'encrypted') {
      // an opaque blob in the documented layout's spirit (header + ciphertext); credgate must not try to decrypt it
      attrs['msLAPS-EncryptedPassword'] = Buffer.concat([Buffer.alloc(16, 1), Buffer.from('not-a-real-cms-blob')]);
      attrs['msLAPS-PasswordExpirationTime'] = String(ft(comp.expiresAt));
    }
    await c.add(comp.dn, attrs);
    for (const k of ['updatedAt', 'expiresAt']) if (comp[k]) comp[k] = comp[k].toISOString();
    delete comp.container;
  }

  // the read right: control access + read property on the confidential password attributes,
  // for the reader, on the OU and inherited by computer objects (Set-LapsADReadPasswordPermission)
  const sid = await objectSid(c, readerDn);
  const computerClass = await schemaGuid(c, schemaNc, 'computer');
  const aces = [];
  for (const n of ['msLAPS-Password', 'msLAPS-EncryptedPassword', 'ms-Mcs-AdmPwd']) {
    const g = await schemaGuid(c, schemaNc, n);
    aces.push(`(OA;CIIO;CRRP;${g};${computerClass};${sid})`);
  }
  // granted with samba-tool dsacl (editing the binary nTSecurityDescriptor by hand is error-prone)
  // one call: dsacl accepts several ACEs in one SDDL string (and skips ones already present)
  await execFileP('samba-tool', ['dsacl', 'set', '-s', state.smbConf, '-H', path.join(state.provisionDir, 'private', 'sam.ldb'),
    `--objectdn=${ou}`, `--sddl=${aces.join('')}`]);
  return {
    ou,
    reader: { ...LAPS_READER, dn: readerDn, upn: `${LAPS_READER.user}@${domainDns}` },
    computers,
    setupMs: Date.now() - t0,
  };
}
