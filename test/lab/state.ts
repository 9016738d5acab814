// Tests read the running lab's state (URLs, CA files, scenario accounts) from .lab/<part>/state.json.
import { readState } from './lab.mjs';
import { Secret } from '../../src/core/secret.js';

export interface SambaScenario {
  key: string;
  user: string;
  upn: string;
  downLevel: string;
  dn: string;
  password: string;
  tryPassword: string;
  expect: string;
  subcode: string | null;
  describe: string;
}

export interface SambaState {
  pids: number[];
  provisionDir: string;
  smbConf: string;
  realm: string;
  domain: string;
  baseDn: string;
  ldapsUrl: string;
  ldapUrl: string;
  ldapsUrlV6: string;
  caFile: string;
  certFile: string;
  admin: { user: string; password: string };
  reader: { user: string; password: string };
  nearLocked: { user: string; password: string };
  lockoutThreshold: number;
  scenarios: SambaScenario[];
  startMs: number;
}

export interface SlapdScenario {
  key: string;
  uid: string;
  dn: string;
  password: string;
  tryPassword: string;
  expect: string;
}

export interface SlapdState {
  pids: number[];
  suffix: string;
  ldapUrl: string;
  ldapsUrl: string;
  caFile: string;
  admin: { dn: string; password: string };
  password: string;
  benchPassword: string;
  benchUsers: number;
  scenarios: SlapdScenario[];
}

export function labPart<T = Record<string, unknown>>(name: string): T {
  const s = readState(name);
  if (!s) throw new Error(`lab part "${name}" is not running; the vitest global setup should have started it (npm run lab:up)`);
  return s as T;
}

export const samba = (): SambaState => labPart<SambaState>('samba');
export const slapd = (): SlapdState => labPart<SlapdState>('slapd');

/** The lab's read-only service account (lockout guard, account state), as the SDK takes it. */
export function sambaReader(): { username: string; password: Secret } {
  const lab = samba();
  return { username: `${lab.reader.user}@pamtest.local`, password: new Secret(lab.reader.password) };
}

/** The Samba DC as a preflight / verify directory: LDAPS, the lab CA, the read-only service account. */
export function sambaDirectory(): { urls: string; caFile: string; service: { username: string; password: Secret } } {
  const lab = samba();
  return { urls: lab.ldapsUrl, caFile: lab.caFile, service: sambaReader() };
}

export function sambaScenario(key: string): SambaScenario {
  const s = samba().scenarios.find((x) => x.key === key);
  if (!s) throw new Error(`no samba scenario ${key}`);
  return s;
}

/** Every password the lab knows: the leak check scans all output for each of them. */
export function allLabPasswords(): string[] {
  const out = new Set<string>();
  const add = (p: unknown) => {
    if (typeof p === 'string' && p.length >= 4) out.add(p);
  };
  try {
    const s = samba();
    add(s.admin.password);
    add(s.reader.password);
    add(s.nearLocked.password);
    for (const x of s.scenarios) {
      add(x.password);
      add(x.tryPassword);
    }
  } catch {}
  try {
    const s = slapd();
    add(s.admin.password);
    add(s.password);
    add(s.benchPassword);
  } catch {}
  return [...out];
}
