// A read-only service account that can read users but not given objects (the domain object, a
// password settings object): a deny-read-property ACE for its SID alone, added with Samba's
// python SD helpers on the lab DC's sam.ldb (as the lab itself grants ACLs) and removed again.
// Nobody else's access changes; the account's password is lab data made up here.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { adminClient, createUser } from '../lab/samba.mjs';
import type { SambaState } from '../lab/state.js';

const PY = `
import re, sys
from samba.samdb import SamDB
from samba.auth import system_session
from samba.param import LoadParm
from samba.sd_utils import SDUtils
from samba.dcerpc import security
lp = LoadParm(); lp.load(sys.argv[1])
db = SamDB(url=sys.argv[2], session_info=system_session(), lp=lp)
sdu = SDUtils(db)
dom = security.dom_sid(db.get_domain_sid())
op, sid = sys.argv[3], sys.argv[4]
ace = "(D;;RP;;;%s)" % sid
aces = lambda sddl: re.findall(r"\\([^)]*\\)", sddl.split("S:")[0])
ALL = ["sd_flags:1:%d" % (security.SECINFO_OWNER | security.SECINFO_GROUP | security.SECINFO_DACL | security.SECINFO_SACL)]
for dn in sys.argv[5:]:
    before = sdu.get_sd_as_sddl(dn)
    if op == "add":
        if ace not in before:
            sdu.dacl_add_ace(dn, ace)
        want = sorted(aces(before) + ([] if ace in before else [ace]))
    else:
        # only this exact ACE, by its text: never touch anything else on the object
        # (SDUtils.dacl_delete_aces / descriptor.dacl_del_ace are not safe for this here)
        if ace in before:
            sdu.modify_sd_on_dn(dn, security.descriptor.from_sddl(before.replace(ace, "", 1), dom), controls=ALL)
        want = sorted(a for a in aces(before) if a != ace)
    got = sorted(aces(sdu.get_sd_as_sddl(dn)))
    if got != want:
        sys.exit("the DACL of %s is not what was intended after %s; before: %s" % (dn, op, before))
`;

// One DACL edit at a time across test files (each edit reads the descriptor, writes it and checks
// it: two at once on the same object could lose one of them). A lock directory, stale after 60 s.
const LOCK = path.join(os.tmpdir(), 'credgate-samba-dacl.lock');
async function withDaclLock<T>(fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      try {
        if (Date.now() - fs.statSync(LOCK).mtimeMs > 60_000) fs.rmdirSync(LOCK);
      } catch {
        // released meanwhile
      }
      if (Date.now() - t0 > 90_000) throw new Error(`the Samba DACL lock ${LOCK} was not released`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmdirSync(LOCK);
  }
}

function py(args: string[]): Promise<void> {
  return withDaclLock(() => pyUnlocked(args));
}

function pyUnlocked(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('/usr/bin/python3', ['-c', PY, ...args], { timeout: 30_000 }, (err, _out, stderr) => {
      if (err) reject(new Error(`samba sd_utils failed: ${String(stderr).slice(-400)}`));
      else resolve();
    });
  });
}

/** The account's SID as S-1-5-21-... (objectSid is binary over LDAP). */
async function objectSid(lab: SambaState, dn: string): Promise<string> {
  const c = await adminClient(lab);
  try {
    const r = await c.search(dn, { scope: 'base', attributes: ['objectSid'], explicitBufferAttributes: ['objectSid'] });
    const b = r.searchEntries[0]?.objectSid;
    const buf = Buffer.isBuffer(b) ? b : Array.isArray(b) && Buffer.isBuffer(b[0]) ? b[0] : undefined;
    if (!buf) throw new Error(`no objectSid on ${dn}`);
    const auth = buf.readUIntBE(2, 6);
    const subs = Array.from({ length: buf[1]! }, (_, i) => buf.readUInt32LE(8 + 4 * i));
    return `S-${buf[0]}-${auth}-${subs.join('-')}`;
  } finally {
    await c.unbind().catch(() => {});
  }
}

export interface RestrictedReader {
  upn: string;
  password: string;
  /** Remove the deny ACEs and the account. */
  remove(): Promise<void>;
}

export async function restrictedReader(lab: SambaState, user: string, denyReadOn: string[]): Promise<RestrictedReader> {
  const password = `Restricted!Lab-${process.pid}`;
  const admin = await adminClient(lab);
  let dn: string;
  try {
    dn = await createUser(admin, user, password);
  } finally {
    await admin.unbind().catch(() => {});
  }
  const db = [lab.smbConf, path.join(lab.provisionDir, 'private', 'sam.ldb')];
  const sid = await objectSid(lab, dn);
  const remove = async () => {
    // the ACEs first (by SID), then the account; a failure here fails the test run
    await py([...db, 'remove', sid, ...denyReadOn]);
    const c = await adminClient(lab);
    try {
      await c.del(dn);
    } finally {
      await c.unbind().catch(() => {});
    }
  };
  try {
    await py([...db, 'add', sid, ...denyReadOn]);
  } catch (e) {
    await remove().catch(() => {});
    throw e;
  }
  return { upn: `${user}@pamtest.local`, password, remove };
}
