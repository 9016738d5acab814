// Inputs for the report tests, made with credgate's own code: verify result lines from real bind
// answers (AD's result 49 with its data sub-codes, as bindAnswerFindings reads them), real
// connection faults (connectionFinding), decided as the pool decides (decideAccount) and written as
// verify writes them (resultLine); a fleet of collector files as the collector writes them.
import fs from 'node:fs';
import path from 'node:path';
import { accountAnswerFindings } from '../../../src/checks/ldap-answer.js';
import { connectionFinding } from '../../../src/findings/faults.js';
import { decideAccount } from '../../../src/findings/diagnose.js';
import { resultLine } from '../../../src/bulk/results.js';
import type { Finding } from '../../../src/findings/finding.js';
import { prng } from '../../helpers/prng.js';

/** Markup, an attribute break-out, a terminal escape, a fake line, a bidi override, a NUL, an external URL. */
export const HOSTILE = `<script>alert(1)</script>"' onmouseover="x" \u001b[2J\r\nFAKE\u202eevil\u0000<img src=https://evil.example/x>&amp;`;

/** Nothing raw that a page could act on: no tag opener, no quote, no control, no bidi control. */
export const RAW = /[<>"'\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

const DIRECTORIES = [
  { url: 'ldaps://dc1.corp.example:636', scheme: 'ldaps' as const, host: 'dc1.corp.example', port: 636 },
  { url: 'ldaps://dc2.corp.example:636', scheme: 'ldaps' as const, host: 'dc2.corp.example', port: 636 },
];

/** AD's answer to a rejected bind, with the data sub-code that says why. */
const adReject = (data: string) => `80090308: LdapErr: DSID-0C09056B, comment: AcceptSecurityContext error, data ${data}, v4f7c`;

/** One account's answer, by kind; `bound` is whether a bind was sent. */
type Kind = 'ok' | '52e' | '775' | '532' | '533' | '773' | '701' | '525' | 'refused' | 'timeout';
/** The mix of a bulk run over a real estate: mostly valid, the rest the usual reasons. */
const MIX: Array<[Kind, number]> = [
  ['ok', 7200], ['52e', 1200], ['775', 400], ['532', 300], ['533', 200], ['773', 200], ['701', 100], ['525', 100], ['refused', 200], ['timeout', 100],
];

function findingsFor(kind: Kind, account: string, dir: (typeof DIRECTORIES)[number]): { findings: Finding[]; bound: boolean } {
  if (kind === 'ok') return { findings: accountAnswerFindings({ resultCode: 0, diagnosticMessage: '' }, 'x', 14, account), bound: true };
  if (kind === 'refused') {
    const e = Object.assign(new Error(`connect ECONNREFUSED ${dir.host}:${dir.port}`), { code: 'ECONNREFUSED' });
    return { findings: [connectionFinding(e, dir, 'ldap-bind', 'connect', false)!], bound: false };
  }
  if (kind === 'timeout') {
    const e = Object.assign(new Error('bind timed out'), { code: 'ETIMEDOUT' });
    return { findings: [connectionFinding(e, dir, 'ldap-bind', 'bind', true, { requestSent: true })!], bound: true };
  }
  return { findings: accountAnswerFindings({ resultCode: 49, diagnosticMessage: adReject(kind) }, 'x', 14, account), bound: true };
}

export interface VerifyFixture {
  /** The output file's text. */
  text: string;
  /** What a report must count: each account's last record. */
  accounts: number;
  ok: number;
  byCode: Record<string, number>;
  /** Records replaced by a later run's answer. */
  superseded: number;
}

/**
 * A verify output of `n` accounts (`n` a multiple of 10,000 keeps the mix exact), the first
 * `resumed` of them recorded twice: unreachable before their bind (a first run), then answered by
 * the rerun, as a resumed run appends. `names(i)` names account i.
 */
export function verifyOutput(n: number, o: { seed?: number; resumed?: number; names?: (i: number) => string } = {}): VerifyFixture {
  const r = prng(o.seed ?? 13);
  const total = MIX.reduce((s, [, w]) => s + w, 0);
  const kinds: Kind[] = [];
  for (const [k, w] of MIX) for (let i = 0; i < Math.round((w * n) / total); i++) kinds.push(k);
  while (kinds.length < n) kinds.push('ok');
  kinds.length = n;
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  const name = o.names ?? ((i: number) => `user${String(i).padStart(5, '0')}@corp.example`);
  const lines: string[] = [];
  const byCode: Record<string, number> = {};
  let ok = 0;
  const resumed = Math.min(o.resumed ?? 0, n);
  for (let i = 0; i < resumed; i++) {
    const { findings, bound } = findingsFor('refused', name(i), DIRECTORIES[0]!);
    lines.push(resultLine({ line: i + 2, account: name(i), ...decideAccount(findings), bound, url: DIRECTORIES[0]!.url, findings, ms: 1 + r.int(3) }));
  }
  for (let i = 0; i < n; i++) {
    const kind = kinds[i]!;
    const dir = DIRECTORIES[r.next() < 0.7 ? 0 : 1]!;
    const { findings, bound } = findingsFor(kind, name(i), dir);
    const d = decideAccount(findings);
    const ms = kind === 'timeout' ? 10_000 + r.int(40) : kind === 'refused' ? 1 + r.int(4) : 6 + Math.round(-Math.log(1 - r.next()) * 14) + r.int(6);
    lines.push(resultLine({ line: i + 2, id: `A${i}`, account: name(i), ...d, bound, url: dir.url, findings, ms }));
    byCode[d.code] = (byCode[d.code] ?? 0) + 1;
    if (d.ok) ok++;
  }
  return { text: lines.join(''), accounts: n, ok, byCode, superseded: resumed };
}

export interface FleetFixture {
  dir: string;
  machines: number;
  hosts: string[];
}

/**
 * `machines` collector files (credgate-collector/1, as the collector writes them), `per` cached
 * credentials each over 300 hosts, written over 60 days around the password change
 * (2026-11-01): about half are stale; 10% are cached for another user.
 */
export function writeFleet(dir: string, machines: number, per = 40, seed = 7): FleetFixture {
  fs.mkdirSync(dir, { recursive: true });
  const r = prng(seed);
  const hosts = Array.from({ length: 300 }, (_, i) => `srv${i}.pamtest.local`);
  for (let m = 0; m < machines; m++) {
    const credentials = [];
    for (let k = 0; k < per; k++) {
      const h = r.pick(hosts);
      credentials.push({
        target: k % 5 === 0 ? `LegacyGeneric:target=app${k}` : `Domain:target=TERMSRV/${h}`,
        type: 'domain-password', userName: r.next() < 0.9 ? 'PAMTEST\\svc-rdp' : 'PAMTEST\\olduser',
        lastWritten: new Date(Date.UTC(2026, 9, 1) + r.int(60) * 86400e3).toISOString(), persist: 'local-machine',
      });
    }
    fs.writeFileSync(path.join(dir, `ws${String(m).padStart(4, '0')}.json`), JSON.stringify({
      schema: 'credgate-collector/1', machine: `WS-${String(m).padStart(4, '0')}`, credentials,
      rdpServers: [{ server: hosts[m % hosts.length], usernameHint: 'PAMTEST\\svc-rdp', certHash: 'AB'.repeat(20) }],
    }));
  }
  return { dir, machines, hosts };
}
