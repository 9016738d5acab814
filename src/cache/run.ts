/**
 * One cache inspection from its inputs: read the cached credentials (files, the OS keychain, or
 * the live Windows Credential Manager), learn when the password last changed (the directory's
 * pwdLastSet, the vault's changedAt), optionally probe the host for the certificate it presents,
 * and rate every entry (inspect.ts). What the CLI's `cache inspect` and `cache purge` run.
 */
import fs from 'node:fs';
import { ConfigError, CredgateError, UnsupportedPlatformError } from '../core/errors.js';
import { parseHostPort } from '../core/target.js';
import type { Secret } from '../core/secret.js';
import type { Finding } from '../findings/finding.js';
import { inspectCache, type InspectResult } from './inspect.js';
import { loadCacheInputs, mergeSnapshots } from './load.js';
import { emptySnapshot, type CacheSnapshot, type CacheSource } from './types.js';

export interface CacheRunInput {
  /** Collector JSON, reg exports, cmdkey captures, or folders of them. */
  files?: readonly string[];
  /** OS keychain service names whose entries to list (service and account, never the password). */
  keychainServices?: readonly string[];
  /** The account the vault says to use for the host. */
  account?: string;
  /** Only entries for this RDP host (`host[:port]`). */
  host?: string;
  /** Other names or addresses of the host. */
  aliases?: readonly string[];
  /** The vault's last password change. */
  changedAt?: Date;
  /** Read the account's pwdLastSet from the directory with a read-only service account. */
  directory?: { urls: string; serviceUser: string; servicePassword: Secret; caFile?: string[]; starttls?: boolean };
  /** A file listing the hosts that should exist (one per line, # comments): others are orphans. */
  inventoryFile?: string;
  /** SHA-1 thumbprints of the certificate the host presents now. */
  thumbprints?: readonly string[];
  /** Probe the host now for the certificate it presents (no credential is sent). */
  probe?: boolean;
}

export interface CacheRun {
  snap: CacheSnapshot;
  /** Sources that can delete what they listed (the live Credential Manager, the keychain). */
  sources: CacheSource[];
  result: InspectResult;
  /** The rules' findings, after those of anything that kept a rule from running (directory, probe). */
  findings: Finding[];
  pwdLastSet?: Date;
}

/** The cached credentials: from the files and keychain services given, else the live Credential Manager (Windows). */
export async function readCache(input: Pick<CacheRunInput, 'files' | 'keychainServices'>): Promise<{ snap: CacheSnapshot; sources: CacheSource[] }> {
  const files = input.files ?? [];
  const services = input.keychainServices ?? [];
  if (files.length || services.length) {
    const parts = files.length ? [loadCacheInputs(files)] : [];
    const sources: CacheSource[] = [];
    if (services.length) {
      const { keychainCacheSource } = await import('./sources/keychain.js');
      const src = keychainCacheSource({ services: [...services] });
      sources.push(src);
      const entries = await src.list();
      parts.push({ ...emptySnapshot(), entries, warnings: [...src.warnings] });
    }
    return { snap: parts.length === 1 ? parts[0]! : mergeSnapshots(parts), sources };
  }
  if (process.platform !== 'win32') {
    throw new UnsupportedPlatformError('Give --from <file> (collector JSON, reg export or cmdkey /list text): the live Credential Manager exists only on Windows.', { code: 'UNSUPPORTED_PLATFORM' });
  }
  const { windowsCredentialManager } = await import('./sources/credman.js');
  const src = windowsCredentialManager();
  return { snap: { ...emptySnapshot(), entries: await src.list() }, sources: [src] };
}

function readInventory(file: string): string[] {
  try {
    return fs.readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.replace(/#.*$/, '').trim()).filter(Boolean);
  } catch (e) {
    throw new CredgateError(`Cannot read the inventory ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`, { code: 'INPUT_INVALID', details: { file } });
  }
}

export async function runCacheInspection(input: CacheRunInput): Promise<CacheRun> {
  const { snap, sources } = await readCache(input);
  const extra: Finding[] = [];
  const account = input.account;
  let pwdLastSet: Date | undefined;
  if (input.directory) {
    if (!account) throw new ConfigError('Reading pwdLastSet from the directory needs the account (--user or --provider).', { code: 'CONFIG_INVALID', details: { option: 'account' } });
    const { readPwdLastSet } = await import('./pwdlastset.js');
    const d = input.directory;
    const r = await readPwdLastSet({
      urls: d.urls, serviceUser: d.serviceUser, servicePassword: d.servicePassword, target: account,
      ...(d.caFile ? { caFile: d.caFile } : {}), starttls: !!d.starttls,
    });
    if (r.pwdLastSet) pwdLastSet = r.pwdLastSet;
    extra.push(...r.findings.filter((f) => f.code.startsWith('net.') || f.code.startsWith('tls.') || f.code === 'ldap.user-not-found'));
  }
  let host = input.host;
  const thumbprints = [...(input.thumbprints ?? [])];
  if (input.probe) {
    if (!host) throw new ConfigError('Probing needs the host (--host <host>[:port]) whose certificate to compare with the cached CertHash.', { code: 'CONFIG_INVALID', details: { option: 'host' } });
    const hp = parseHostPort(host);
    host = hp.host;
    const { probeRdp } = await import('../checks/rdp-endpoint.js');
    const r = await probeRdp({ host: hp.host, port: hp.port, timeoutMs: 10_000 });
    if (r.sha1Thumbprint) thumbprints.push(r.sha1Thumbprint);
    // the host could not be reached or spoke no TLS: say so; the CertHash rule is then not checked
    else extra.push(...r.findings.filter((f) => f.severity === 'error'));
  } else if (host) {
    host = parseHostPort(host).host; // web01:3390 and [2001:db8::5]:3389 name the host web01 / 2001:db8::5
  }
  if (account && !host) snap.warnings.push(`--user without --host: the wrong-user rule was not applied (${account} is the vault's account for one host; entries for other users are only judged for a given --host)`);
  const aliases = (input.aliases ?? []).map((a) => parseHostPort(a).host);
  const result = inspectCache({
    entries: snap.entries, hints: snap.hints,
    ...(account ? { account } : {}), ...(host ? { host } : {}), ...(aliases.length ? { hostAliases: aliases } : {}),
    ...(pwdLastSet ? { pwdLastSet } : {}), ...(input.changedAt ? { changedAt: input.changedAt } : {}),
    ...(input.inventoryFile ? { inventory: readInventory(input.inventoryFile) } : {}),
    ...(thumbprints.length ? { presentedThumbprints: thumbprints } : {}),
  });
  return { snap, sources, result, findings: [...extra, ...result.findings], ...(pwdLastSet ? { pwdLastSet } : {}) };
}
