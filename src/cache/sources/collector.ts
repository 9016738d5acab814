/**
 * The fleet collector: a PowerShell script admins run on each Windows client (GPO, Intune, any
 * remote shell). It writes JSON with Credential Manager metadata — target, type, user,
 * LastWritten, persistence — and the RDP client's registry hints. It never reads a password:
 * CredEnumerateW returns the blob, and the script drops it without looking (and zeroes nothing
 * it does not own). `credgate cache collector` prints it; credgate reads one file or many.
 */
import type { z } from 'zod';
import { loadZod, once } from '../../core/lazy.js';
import { CredgateError } from '../../core/errors.js';
import { hasControlChars, neutraliseControlChars, showValue, windowsTextPieces } from '../text.js';
import { JsonSyntaxError, parseJsonPieces } from '../json-stream.js';
import { normalizedHostOf, normalizeTarget, type CacheSnapshot, type CachedCredential } from '../types.js';
import { CS_CREDMAN_DECLARATIONS } from '../credman-cs.js';
import { psString } from '../script-text.js';

export const COLLECTOR_SCHEMA = 'credgate-collector/1';
const NO_TIME_BEFORE = Date.UTC(1980, 0, 1);

export const COLLECTOR_PS1 = String.raw`# credgate fleet collector (schema ${COLLECTOR_SCHEMA})
# Exports Windows Credential Manager METADATA (never passwords) and the RDP client's registry
# hints for the current user, as JSON. Run as the user whose cache you want:
#   powershell -NoProfile -ExecutionPolicy Bypass -File credgate-collector.ps1 -Out \\share\cache\%COMPUTERNAME%-%USERNAME%.json
param([string]$Out = "$env:COMPUTERNAME-$env:USERNAME.credgate.json")
$ErrorActionPreference = 'Stop'
Add-Type -TypeDefinition @'
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
public static class CredgateCredMan {
${CS_CREDMAN_DECLARATIONS}
  public static List<object[]> List() {
    var result = new List<object[]>();
    foreach (var c in ReadAll()) {
      result.Add(new object[] { OwnTarget(c.TargetName, c.Type), c.Type, c.UserName, DateTime.FromFileTimeUtc(FileTime(c)).ToString("o"), c.Persist, c.Comment });
    }
    return result;
  }
}
'@
$types = @{ 1 = 'generic'; 2 = 'domain-password'; 3 = 'domain-certificate'; 4 = 'domain-visible-password'; 5 = 'generic-certificate'; 6 = 'domain-extended' }
$persist = @{ 1 = 'session'; 2 = 'local-machine'; 3 = 'enterprise' }
$creds = foreach ($c in [CredgateCredMan]::List()) {
  [ordered]@{ target = $c[0]; type = $types[[int]$c[1]]; userName = $c[2]; lastWritten = $c[3]; persist = $persist[[int]$c[4]]; comment = $c[5] }
}
$base = 'HKCU:\Software\Microsoft\Terminal Server Client'
$servers = @()
if (Test-Path "$base\Servers") {
  $servers = foreach ($k in Get-ChildItem "$base\Servers") {
    $hint = (Get-ItemProperty $k.PSPath -Name UsernameHint -ErrorAction SilentlyContinue).UsernameHint
    $hash = (Get-ItemProperty $k.PSPath -Name CertHash -ErrorAction SilentlyContinue).CertHash
    [ordered]@{ server = $k.PSChildName; usernameHint = $hint; certHash = if ($hash) { ($hash | ForEach-Object { $_.ToString('X2') }) -join '' } else { $null } }
  }
}
$mru = @()
if (Test-Path "$base\Default") {
  $d = Get-ItemProperty "$base\Default"
  $mru = 0..9 | ForEach-Object { $d."MRU$_" } | Where-Object { $_ }
}
[ordered]@{
  schema = ${psString(COLLECTOR_SCHEMA)}; machine = $env:COMPUTERNAME; user = "$env:USERDOMAIN\$env:USERNAME"
  collectedAt = (Get-Date).ToUniversalTime().ToString('o'); credentials = @($creds); rdpServers = @($servers); mru = @($mru)
} | ConvertTo-Json -Depth 4 | Out-File -Encoding utf8 $Out
Write-Host "credgate collector: $(@($creds).Count) credential(s), $(@($servers).Count) RDP server hint(s) -> $Out"
`;

const MAX_CREDENTIALS = 100_000;

/** The collector file's schemas, made (and zod loaded) when the first file is read. */
const schemas = once(() => {
  const { z } = loadZod();
  const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not a date');
  const Credential = z.object({
    target: z.string().min(1).max(32767),
    type: z.string().max(64).nullish(),
    userName: z.string().max(512).nullish(),
    lastWritten: isoDate.nullish(),
    persist: z.enum(['session', 'local-machine', 'enterprise']).nullish(),
    comment: z.string().max(4096).nullish(),
  }).passthrough();
  const CollectorFile = z.object({
    schema: z.literal(COLLECTOR_SCHEMA),
    machine: z.string().min(1).max(255),
    user: z.string().max(512).optional(),
    collectedAt: isoDate.optional(),
    credentials: z.array(Credential).max(MAX_CREDENTIALS),
    rdpServers: z.array(z.object({
      server: z.string().min(1).max(1024),
      usernameHint: z.string().max(512).nullish(),
      certHash: z.string().regex(/^[0-9A-Fa-f]*$/).max(128).nullish(),
    })).max(100_000).default([]),
    mru: z.array(z.string().max(1024)).max(100).default([]),
  });
  /** The file with its credentials unchecked: they are then checked by plainlyValidCredentials, or by zod. */
  const CollectorHead = CollectorFile.extend({ credentials: z.array(z.unknown()).max(MAX_CREDENTIALS) });
  return { Credential, CollectorFile, CollectorHead };
});
type Schemas = ReturnType<typeof schemas>;
type Credential = z.infer<Schemas['Credential']>;

const PERSIST: ReadonlySet<unknown> = new Set(['session', 'local-machine', 'enterprise']);
const optionalString = (v: unknown, max: number) => v === undefined || v === null || (typeof v === 'string' && v.length <= max);

/**
 * True only for credentials the Credential schema accepts as they are (a fleet has 100k of them:
 * zod over each costs about as much as reading the files). Anything else, false, and zod itself
 * decides and words the error; so this may be stricter than the schema, never looser (a test
 * checks it against the schema on random rows).
 */
export function plainlyValidCredentials(list: readonly unknown[]): list is Credential[] {
  for (const c of list) {
    if (typeof c !== 'object' || c === null || Array.isArray(c)) return false;
    const r = c as Record<string, unknown>;
    const t = r.target;
    if (typeof t !== 'string' || t.length < 1 || t.length > 32767) return false;
    if (!optionalString(r.type, 64) || !optionalString(r.userName, 512) || !optionalString(r.comment, 4096)) return false;
    const lw = r.lastWritten;
    if (!(lw === undefined || lw === null || (typeof lw === 'string' && !Number.isNaN(Date.parse(lw))))) return false;
    const p = r.persist;
    if (!(p === undefined || p === null || PERSIST.has(p))) return false;
  }
  return true;
}

/** The Credential schema's verdict on one row (for the test of plainlyValidCredentials). */
export const credentialSchemaAccepts = (row: unknown): boolean => schemas().Credential.safeParse(row).success;

/** Up to this many characters, JSON.parse reads the whole text (faster; a fleet's files are ~25 KB); longer ones are parsed as they stream. */
const WHOLE_JSON_CHARS = 1 << 20;

/**
 * The value of a JSON text in pieces: JSON.parse when it is short, else parseJsonPieces as the
 * pieces come. A syntax error always comes from parseJsonPieces, so it reads the same at any size.
 */
function parseJson(pieces: Iterator<string>): unknown {
  const held: string[] = [];
  let size = 0;
  for (let r = pieces.next(); !r.done; r = pieces.next()) {
    held.push(r.value);
    size += r.value.length;
    if (size > WHOLE_JSON_CHARS) {
      // long: parse what is held, then the rest as it comes
      const rest = pieces;
      return parseJsonPieces((function* () {
        yield* held.splice(0);
        for (let x = rest.next(); !x.done; x = rest.next()) yield x.value;
      })());
    }
  }
  const text = held.join('');
  try {
    return JSON.parse(text);
  } catch {
    return parseJsonPieces([text][Symbol.iterator]());
  }
}

/** The pieces, less one U+FEFF at the start of the text (JSON.parse would refuse it). */
function* withoutBom(pieces: Iterator<string>): Generator<string> {
  let first = true;
  for (let r = pieces.next(); !r.done; r = pieces.next()) {
    const p = first ? r.value.replace(/^\uFEFF/, '') : r.value;
    first = false;
    if (p) yield p;
  }
}

/**
 * Read one collector JSON file into a snapshot, streamed a chunk at a time (memory bounded by the
 * entries kept, not by the size of the file); `data`: its bytes, already read. A bad file is an
 * INPUT_INVALID error naming the path and the line or field.
 */
/**
 * One string for each value a fleet repeats (a type, a persistence, a user, a target), not one per
 * entry: JSON.parse makes a new string for every value, and a fleet's 100,000 entries repeat a few
 * hundred (~10 MB of copies). Bounded: emptied when it holds 4,096 values; short values only.
 */
const seen = new Map<string, string>();
function shared(v: string): string {
  if (v.length > 64) return v;
  const x = seen.get(v);
  if (x !== undefined) return x;
  if (seen.size >= 4096) seen.clear();
  seen.set(v, v);
  return v;
}

export function readCollectorFile(file: string, data?: Buffer): CacheSnapshot {
  const { pieces, result: dec } = windowsTextPieces(data ?? { path: file }, file);
  let json: unknown;
  try {
    json = parseJson(withoutBom(pieces));
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e;
    throw new CredgateError(`${file}:${e.line} is not valid JSON (${e.message.slice(0, 120)}); re-run the collector or fix the file.`, { code: 'INPUT_INVALID', details: { file, line: e.line } });
  } finally {
    pieces.return(undefined);
  }
  const { CollectorHead, CollectorFile } = schemas();
  const head = CollectorHead.safeParse(json);
  const r = head.success && plainlyValidCredentials(head.data.credentials)
    ? { success: true as const, data: head.data as z.infer<Schemas['CollectorFile']> }
    : CollectorFile.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new CredgateError(`${file}: ${i.path.join('.') || '(root)'}: ${i.message}; this is not a credgate collector file (schema ${COLLECTOR_SCHEMA}).`, { code: 'INPUT_INVALID', details: { file, path: i.path.join('.') } });
  }
  const f = r.data;
  // a fleet file is input from many machines: a control character in a machine, user or target
  // name could become a new line (a new command) in the emitted purge scripts, or rewrite the terminal
  for (const [field, value] of [['machine', f.machine], ['user', f.user]] as const) {
    if (value !== undefined && hasControlChars(value)) {
      throw new CredgateError(`${file}: ${field}: ${showValue(value)} contains control characters; this file was not read (a machine or user name never has them).`, { code: 'INPUT_INVALID', details: { file, path: field } });
    }
  }
  const warnings = [...dec.warnings];
  const source = `collector:${file}`; // one string per file, not per entry (fleets have 100k entries)
  const entries: CachedCredential[] = [];
  f.credentials.forEach((c, i) => {
    const bad = (['target', 'userName', 'type'] as const).find((k) => typeof c[k] === 'string' && hasControlChars(c[k]));
    if (bad) {
      warnings.push(`${file}: credentials.${i}.${bad}: ${showValue(String(c[bad]))} contains control characters; entry skipped`);
      return;
    }
    const rawTarget = shared(c.target);
    const target = shared(normalizeTarget(rawTarget));
    // built field by field in the order JSON shows them (no spread objects: 100k entries per fleet)
    const e: CachedCredential = { target, rawTarget } as CachedCredential;
    const host = normalizedHostOf(target);
    if (host !== undefined) e.normalizedHost = shared(host);
    e.type = c.type ? shared(c.type) : 'unknown';
    if (c.userName) e.username = shared(c.userName);
    // a FILETIME of 0 comes out as 1601-01-01: no write time, not an ancient one
    if (c.lastWritten) {
      const t = Date.parse(c.lastWritten);
      if (t > NO_TIME_BEFORE) e.lastWritten = new Date(t);
    }
    if (c.persist) e.persist = shared(c.persist) as typeof c.persist;
    if (c.comment) e.comment = neutraliseControlChars(c.comment);
    e.source = source;
    e.machine = f.machine;
    if (f.user) e.windowsUser = f.user;
    entries.push(e);
  });
  const hints: CacheSnapshot['hints'] = [];
  f.rdpServers.forEach((s, i) => {
    const bad = (['server', 'usernameHint'] as const).find((k) => typeof s[k] === 'string' && hasControlChars(s[k]));
    if (bad) {
      warnings.push(`${file}: rdpServers.${i}.${bad}: ${showValue(String(s[bad]))} contains control characters; hint skipped`);
      return;
    }
    hints.push({ server: s.server, ...(s.usernameHint ? { usernameHint: s.usernameHint } : {}), ...(s.certHash ? { certHash: s.certHash.toUpperCase() } : {}), source, machine: f.machine });
  });
  const mru = f.mru.filter((m, i) => {
    if (!hasControlChars(m)) return true;
    warnings.push(`${file}: mru.${i}: ${showValue(m)} contains control characters; skipped`);
    return false;
  });
  return { entries, hints, mru, warnings };
}
