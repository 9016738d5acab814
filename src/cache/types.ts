/** The cache inspector's shapes: a cached credential, an RDP server hint, a snapshot, a source; target normalisation. */
import { hostKey } from './hosts.js';

/** A credential cached on a client, as metadata only: credgate never reads the secret blob. */
export interface CachedCredential {
  /** Normalised target: `TERMSRV/web01.corp.example`, `git:https://example.com`. */
  target: string;
  /** As the source wrote it: `Domain:target=TERMSRV/web01`, `LegacyGeneric:target=...`. */
  rawTarget: string;
  /** For RDP targets (`TERMSRV/<host>`): the host in canonical form (lowercase, no trailing dot, canonical IP literal). */
  normalizedHost?: string;
  /** `domain-password`, `generic`, `domain-certificate`, `domain-visible-password`, ... */
  type: string;
  username?: string;
  lastWritten?: Date;
  persist?: 'session' | 'local-machine' | 'enterprise';
  comment?: string;
  /** Which source listed it: `credman`, `cmdkey:<file>`, `collector:<file>`, `keychain`. */
  source: string;
  /** The machine it was collected from (fleet input). */
  machine?: string;
  /** The Windows user whose vault it is (fleet input). */
  windowsUser?: string;
}

/** Per-server hints from the RDP client's registry (HKCU\Software\Microsoft\Terminal Server Client). */
export interface RdpServerHint {
  server: string;
  usernameHint?: string;
  /** SHA-1 thumbprint of the certificate the user accepted, uppercase hex. */
  certHash?: string;
  source: string;
  machine?: string;
}

export interface CacheSnapshot {
  entries: CachedCredential[];
  hints: RdpServerHint[];
  /** The client's most-recently-used server list (Default\MRU0..9). */
  mru: string[];
  warnings: string[];
}

export interface CacheSource {
  readonly name: string;
  list(): Promise<CachedCredential[]>;
  /** Delete exactly one entry by its raw target (and type, when known); resolves false when it was already gone. */
  remove?(rawTarget: string, type?: string): Promise<boolean>;
}

export function emptySnapshot(): CacheSnapshot {
  return { entries: [], hints: [], mru: [], warnings: [] };
}

/** `TERMSRV/host` → `host`, else undefined. */
export function termsrvHost(target: string): string | undefined {
  const m = /^TERMSRV\/(.+)$/is.exec(target);
  return m?.[1];
}

/** Strip cmdkey/credman prefixes: `Domain:target=TERMSRV/x` → `TERMSRV/x`. */
export function normalizeTarget(raw: string): string {
  let t = raw.trim();
  const m = /^[A-Za-z]{1,40}\s*:\s*target\s*=\s*(.*)$/is.exec(t);
  if (m) t = m[1]!.trim();
  else if (/^target\s*=/i.test(t)) t = t.replace(/^target\s*=\s*/i, '');
  // the prefix in upper case (as it is written almost always: then the string itself, not a copy)
  if (!t.startsWith('TERMSRV/') && /^termsrv\//i.test(t)) t = 'TERMSRV/' + t.slice(8);
  return t;
}

// a fleet's 100k entries name a few hundred hosts: their canonical forms are remembered (bounded)
const canonicalHosts = new Map<string, string>();

/** The canonical host of an RDP target (`TERMSRV/<host>`), undefined for other targets. */
export function normalizedHostOf(target: string): string | undefined {
  const h = termsrvHost(target);
  if (!h) return undefined;
  if (h.length > 255) return hostKey(h).canonical; // no DNS name is longer; not kept (a target can be 32k)
  let c = canonicalHosts.get(h);
  if (c === undefined) {
    if (canonicalHosts.size >= 10_000) canonicalHosts.clear();
    c = hostKey(h).canonical;
    canonicalHosts.set(h, c);
  }
  return c;
}

/** `{ normalizedHost }` for an RDP target, `{}` otherwise: spread it into a new entry. */
export function hostField(target: string): { normalizedHost?: string } {
  const c = normalizedHostOf(target);
  return c !== undefined ? { normalizedHost: c } : {};
}
