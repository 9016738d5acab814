/**
 * Purge, safely: a plan first (each entry, the rule, the evidence), nothing deleted without an
 * explicit yes, an audit record written before anything is deleted, and deletion only of the
 * entries in the plan. On Windows (live source) entries go through CredDeleteW; for fleet input
 * and elsewhere credgate emits the exact `cmdkey /delete:` commands and a PowerShell script.
 */
import os from 'node:os';
import { CredgateError } from '../core/errors.js';
import type { Finding } from '../findings/finding.js';
import type { CacheSource, CachedCredential } from './types.js';
import { CRED_TYPES } from '../platform/windows-credman.js';
import { CS_CREDMAN_DECLARATIONS } from './credman-cs.js';
import { powershellFileBytes, psComment, psString } from './script-text.js';
import { appendAuditLine } from './audit-file.js';

export { psString } from './script-text.js';

export interface PurgeItem {
  machine?: string;
  windowsUser?: string;
  target: string;
  rawTarget: string;
  type: string;
  username?: string;
  /** The entry's write time when its source recorded one: the PowerShell script deletes only if it still matches. */
  lastWritten?: string;
  source: string;
  rule: string;
  reason: string;
  evidence: Record<string, unknown>;
}

export interface PurgePlan {
  createdAt: string;
  items: PurgeItem[];
}

/** The rules whose entries a purge removes; `inspect` exits 6 exactly when one of them fired, i.e. when the plan is not empty. */
export const PURGE_RULES: ReadonlySet<string> = new Set(['cache.stale-password', 'cache.wrong-user']);

/** Plan from inspect findings: only entries named by a purge-worthy rule, each once. */
export function planPurge(findings: readonly Finding[], entries: readonly CachedCredential[]): PurgePlan {
  const items: PurgeItem[] = [];
  // index once, by source → machine → raw target (nested maps: no 100k joined key strings), the
  // first entry of each; a fleet has 100k entries and may have tens of thousands of findings
  let index: Map<string, Map<string, Map<string, CachedCredential>>> | undefined;
  const seen = new Map<string, Map<string, Set<string>>>(); // machine → windows user → type + raw target
  for (const f of findings) {
    if (!PURGE_RULES.has(f.code)) continue;
    const ev = f.evidence;
    if (!index) {
      index = new Map();
      for (const x of entries) {
        const source = String(x.source), machine = String(x.machine ?? ''), raw = String(x.rawTarget);
        let byMachine = index.get(source);
        if (!byMachine) index.set(source, (byMachine = new Map()));
        let byRaw = byMachine.get(machine);
        if (!byRaw) byMachine.set(machine, (byRaw = new Map()));
        if (!byRaw.has(raw)) byRaw.set(raw, x);
      }
    }
    const e = index.get(String(ev.source))?.get(String(ev.machine ?? ''))?.get(String(ev.rawTarget));
    if (!e) continue;
    // the same Credential Manager entry (one machine's user, type and target) is planned once
    let users = seen.get(e.machine ?? '');
    if (!users) seen.set(e.machine ?? '', (users = new Map()));
    let keys = users.get(e.windowsUser ?? '');
    if (!keys) users.set(e.windowsUser ?? '', (keys = new Set()));
    const key = `${e.type}\u0000${e.rawTarget}`;
    if (keys.has(key)) continue;
    keys.add(key);
    // field by field, in the order the JSON shows them (no spread objects: tens of thousands of items)
    const item = {} as PurgeItem;
    if (e.machine) item.machine = e.machine;
    if (e.windowsUser) item.windowsUser = e.windowsUser;
    item.target = e.target;
    item.rawTarget = e.rawTarget;
    item.type = e.type;
    if (e.username) item.username = e.username;
    if (e.lastWritten && !Number.isNaN(e.lastWritten.getTime())) item.lastWritten = e.lastWritten.toISOString();
    item.source = e.source;
    item.rule = f.code;
    item.reason = f.message;
    item.evidence = ev;
    items.push(item);
  }
  return { createdAt: new Date().toISOString(), items };
}

/**
 * Whether planPurge would plan anything, without building the plan, for a caller holding only the
 * findings (with inspectCache's result at hand, `result.stale.length > 0` says the same). The evidence of the
 * first purge-rule findings is looked up directly (they come from the entries, so the first one
 * matches); after a few misses it falls back to the plan itself.
 */
export function hasPurgeItems(findings: readonly Finding[], entries: readonly CachedCredential[]): boolean {
  let misses = 0;
  for (const f of findings) {
    if (!PURGE_RULES.has(f.code)) continue;
    const ev = f.evidence;
    const source = String(ev.source), machine = String(ev.machine ?? ''), raw = String(ev.rawTarget);
    if (entries.some((x) => String(x.source) === source && String(x.machine ?? '') === machine && String(x.rawTarget) === raw)) return true;
    if (++misses >= 8) return planPurge(findings, entries).items.length > 0;
  }
  return false;
}

/** Items a Credential Manager command can address (not keychain entries). */
function credmanItems(plan: PurgePlan): PurgeItem[] {
  return plan.items.filter(isCredmanItem);
}

const isCredmanItem = (i: PurgeItem): boolean => i.source !== 'keychain';

const CRED_PREFIX = /^(Domain|LegacyGeneric|Generic)\s*:\s*target=(.*)$/is;

/**
 * The TargetName CredEnumerateW reports: `cmdkey /list` shows domain credentials as
 * `Domain:target=<TargetName>` and generic ones as `LegacyGeneric:target=<TargetName>`; the
 * collector and the live source write the TargetName itself.
 */
export function credTargetName(rawTarget: string): string {
  return CRED_PREFIX.exec(rawTarget)?.[2] ?? rawTarget;
}

/**
 * The CRED_TYPE_* number of a planned entry: from its type name (collector, live source, a
 * cmdkey capture in a known language), else from the cmdkey prefix (`Domain:` → domain password,
 * `LegacyGeneric:` → generic); undefined when neither says (the entry is then left alone).
 */
export function credTypeNumber(item: Pick<PurgeItem, 'type' | 'rawTarget'>): number | undefined {
  const byName = Object.entries(CRED_TYPES).find(([, t]) => t === item.type)?.[0];
  if (byName) return Number(byName);
  const m = CRED_PREFIX.exec(item.rawTarget);
  if (!m) return undefined;
  return /generic/i.test(m[1]!) ? 1 : 2;
}

/**
 * The target as `cmdkey /delete:` takes it, with its type: the spelling `cmdkey /list` prints
 * (`Domain:target=TERMSRV/host` for a domain credential, `LegacyGeneric:target=name` for a generic
 * one), so a generic and a domain credential under the same name are not confused. undefined when
 * the type is unknown.
 */
export function cmdkeyTarget(item: Pick<PurgeItem, 'type' | 'rawTarget'>): string | undefined {
  const t = credTypeNumber(item);
  if (t === undefined) return undefined;
  return `${t === 1 || t === 5 ? 'LegacyGeneric' : 'Domain'}:target=${credTargetName(item.rawTarget)}`;
}

/**
 * One cmdkey argument for a batch file: `%` doubled (cmd expands %VAR% even inside quotes), quoted
 * when it holds a separator or an operator (inside quotes `& | < > ^ ( )` are literal). undefined
 * when it cannot be passed safely: a double quote (cmd cannot escape one inside quotes), `!` (with
 * delayed expansion on, `!VAR!` expands even inside quotes), a control character (it could end the
 * line), or any character beyond ASCII (cmd.exe reads a .cmd file in the console's code page: the
 * bytes would name another target, and in a DBCS code page a lead byte can swallow the closing quote).
 */
export function cmdArg(s: string): string | undefined {
  if (/[^\x20-\x7e]|["!]/.test(s)) return undefined;
  const esc = s.replace(/%/g, '%%');
  return /[\s&|<>^(),;=%]/.test(s.replace(/^[A-Za-z]+:target=/, '')) ? `"${esc}"` : esc;
}

/**
 * Text for a REM line (or any remark credgate prints into a .cmd file): letters, digits and
 * harmless ASCII punctuation only; anything else, `_` (REM still expands %VAR%, and cmd.exe reads
 * the file in the console's code page).
 */
export function cmdRemText(s: string): string {
  return s.replace(/[^A-Za-z0-9 ._\-\\@#:/+[\]{}~']/g, '_');
}

/**
 * The exact cmdkey commands (for a .cmd file run on each machine), one per planned entry, each after
 * a REM line naming the machine, the Windows user and the rule. The target keeps its type
 * (`Domain:target=...`). cmdkey cannot check that an entry is unchanged since the plan: the
 * PowerShell script does.
 */
export function cmdkeyCommands(plan: PurgePlan): string[] {
  return [...eachCmdkeyCommand(plan)];
}

/** cmdkeyCommands one at a time (a fleet's plan has tens of thousands: written as they are made). */
export function* eachCmdkeyCommand(plan: PurgePlan): Generator<string> {
  for (const i of plan.items) {
    if (!isCredmanItem(i)) continue;
    const rem = i.machine ? `REM ${cmdRemText(i.machine)}${i.windowsUser ? ` (${cmdRemText(i.windowsUser)})` : ''}: ${cmdRemText(i.rule)}\r\n` : '';
    const t = cmdkeyTarget(i);
    const arg = t === undefined ? undefined : cmdArg(t);
    if (arg === undefined) {
      yield `${rem}REM skipped ${cmdRemText(i.target)}: ${t === undefined ? 'its credential type is unknown' : 'the target cannot be quoted safely for cmd.exe'}; use the PowerShell script`;
    } else yield `${rem}cmdkey /delete:${arg}`;
  }
}

const PS_CREDMAN = String.raw`Add-Type -TypeDefinition @'
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
public class CredgatePurgeEntry { public string Target; public UInt32 Type; public string UserName; public long LastWrittenMs; }
public static class CredgatePurge {
${CS_CREDMAN_DECLARATIONS}
  [DllImport("advapi32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
  static extern bool CredDeleteW(string target, UInt32 type, UInt32 flags);
  // CRED_ENUMERATE_ALL_CREDENTIALS (1), or flags 0 where it is refused (ERROR_INVALID_FLAGS, 1004).
  // Only ERROR_NOT_FOUND (1168) is an empty vault: any other failure stops the script with its
  // Win32 code, never reads as "already gone".
  public static List<CredgatePurgeEntry> List() {
    var result = new List<CredgatePurgeEntry>();
    foreach (var c in ReadAll()) {
      long ft = FileTime(c);
      result.Add(new CredgatePurgeEntry { Target = OwnTarget(c.TargetName, c.Type), Type = c.Type, UserName = c.UserName, LastWrittenMs = ft == 0 ? -1 : (ft - 116444736000000000L) / 10000 });
    }
    return result;
  }
  // 0 deleted, 1168 ERROR_NOT_FOUND, else the Win32 error
  public static int Delete(string target, UInt32 type) { return CredDeleteW(target, type, 0) ? 0 : Marshal.GetLastWin32Error(); }
}
'@`;

/**
 * A PowerShell script that deletes exactly the planned entries, idempotently, through
 * CredEnumerateW / CredDeleteW: an entry is deleted only on the machine it was planned for
 * ($env:COMPUTERNAME), for the Windows user whose vault it was collected from (when recorded), with
 * its credential type, and only while it still has the planned user name and write time; an entry
 * that changed since the plan (the PAM client rewrote it) is left alone and reported.
 */
export function powershellScript(plan: PurgePlan): string {
  return [...powershellScriptText(plan)].join('');
}

/**
 * powershellScript in pieces of about 64 KiB (whole CRLF-ended lines): a fleet's script is tens of
 * MB, written as it is made, never one string.
 */
export function* powershellScriptText(plan: PurgePlan): Generator<string> {
  let buf = '';
  for (const line of powershellScriptLines(plan)) {
    buf += `${line}\r\n`;
    if (buf.length >= 65536) {
      yield buf;
      buf = '';
    }
  }
  if (buf) yield buf;
}

function* powershellScriptLines(plan: PurgePlan): Generator<string> {
  const items = credmanItems(plan);
  // machine names compare case-insensitively (and a PowerShell hash literal refuses keys that differ only by case)
  const byMachine = new Map<string, { name: string; items: PurgeItem[] }>();
  for (const i of items) {
    const m = i.machine ?? '*';
    let l = byMachine.get(m.toUpperCase());
    if (!l) byMachine.set(m.toUpperCase(), (l = { name: m, items: [] }));
    l.items.push(i);
  }
  const entry = (i: PurgeItem) => {
    const t = credTypeNumber(i);
    const lw = i.lastWritten ? Date.parse(i.lastWritten) : undefined;
    return `  @{ Machine = ${psString(i.machine ?? '*')}; WindowsUser = ${psString(i.windowsUser ?? '')}; Target = ${psString(credTargetName(i.rawTarget))}; Type = ${t ?? 0}; UserName = ${psString(i.username ?? '')}; LastWrittenMs = ${lw !== undefined && Number.isFinite(lw) ? lw : -2} }`;
  };
  yield '# credgate purge plan: deletes only the cached credentials listed here, on the machine and for the Windows user';
  yield '# they were planned for, with their credential type, and only while each still has the planned user name and';
  yield '# write time (an entry rewritten since the plan is left alone). Run it as the user whose vault it is.';
  yield `# plan created ${psComment(plan.createdAt)}; ${items.length} entr${items.length === 1 ? 'y' : 'ies'}.`;
  yield "$ErrorActionPreference = 'Stop'";
  yield '# the plan by machine';
  yield '$plan = @{';
  for (const { name, items: list } of byMachine.values()) yield `  ${psString(name)} = @(${list.map((i) => psString(credTargetName(i.rawTarget))).join(', ')})`;
  yield '}';
  yield '# each planned entry as it was when planned (Type: CRED_TYPE_*; LastWrittenMs: Unix ms, -2 when not recorded)';
  yield '$entries = @(';
  for (const i of items) yield entry(i);
  yield ')';
  yield PS_CREDMAN;
  yield* [
    '$me = "$env:USERDOMAIN\\$env:USERNAME"',
    '$now = [CredgatePurge]::List()',
    'foreach ($p in $entries) {',
    "  if ($p.Machine -ne '*' -and $p.Machine -ne $env:COMPUTERNAME) { continue }",
    '  if ($p.WindowsUser -and $p.WindowsUser -ne $me) { Write-Host "skipped (planned for $($p.WindowsUser), running as $me): $($p.Target)"; continue }',
    '  if ($p.Type -eq 0) { Write-Host "left alone (credential type unknown): $($p.Target)"; continue }',
    '  $c = $null',
    '  foreach ($x in $now) { if ($x.Target -eq $p.Target -and $x.Type -eq $p.Type) { $c = $x; break } }',
    '  if (-not $c) { Write-Host "already gone: $($p.Target)"; continue }',
    '  if ([string]$c.UserName -ne $p.UserName) { Write-Host "left alone (its user is now $($c.UserName), planned $($p.UserName)): $($p.Target)"; continue }',
    '  if ($p.LastWrittenMs -ne -2 -and $c.LastWrittenMs -ne $p.LastWrittenMs) { Write-Host "left alone (rewritten since the plan): $($p.Target)"; continue }',
    '  $err = [CredgatePurge]::Delete($p.Target, $p.Type)',
    '  if ($err -eq 0) { Write-Host "deleted $($p.Target)" } elseif ($err -eq 1168) { Write-Host "already gone: $($p.Target)" } else { Write-Host "failed (Win32 error $err): $($p.Target)" }',
    '}',
  ];
}

/** The bytes of the PowerShell purge script as `--script-out` writes them: UTF-8 with a BOM, ASCII after it. */
export function powershellScriptBytes(plan: PurgePlan): Buffer {
  return Buffer.concat([...powershellScriptChunks(plan)]);
}

/** powershellScriptBytes in pieces of about 64 KiB (the BOM first), each checked as it is made. */
export function* powershellScriptChunks(plan: PurgePlan): Generator<Buffer> {
  let offset = 0;
  let first = true;
  for (const piece of powershellScriptText(plan)) {
    yield powershellFileBytes(piece, { bom: first, offset });
    first = false;
    offset += piece.length;
  }
}

export interface AuditRecord {
  at: string;
  machine: string;
  by: string;
  /** delete: every item went through a source's remove(); emit: none did (commands and a script are emitted); mixed: some did. */
  mode: 'delete' | 'emit' | 'mixed';
  items: Array<PurgeItem & { result?: 'deleted' | 'already-gone' | 'failed' | 'emitted'; error?: string }>;
}

export interface ExecutePurgeOptions {
  yes: boolean;
  auditFile: string;
  /** Deletes every item (one live store). */
  source?: CacheSource;
  /** Delete each item through the source whose name is the item's source (`credman`, `keychain`); other items are emitted. */
  sources?: readonly CacheSource[];
}

/**
 * Execute a plan. Without `yes` it refuses. The audit record is written (appended as one JSON
 * line) BEFORE anything is deleted, then again with the results. Items no source can delete
 * (fleet input) are left to the emitted commands and script.
 */
export async function executePurge(plan: PurgePlan, o: ExecutePurgeOptions): Promise<AuditRecord> {
  if (!o.yes) throw new CredgateError('Nothing was deleted: purging needs an explicit yes (--yes).', { code: 'USAGE' });
  const byName = new Map((o.sources ?? []).filter((s) => s.remove).map((s) => [s.name, s] as const));
  const sourceOf = (i: PurgeItem): CacheSource | undefined => (o.source?.remove ? o.source : byName.get(i.source));
  const live = plan.items.filter((i) => sourceOf(i)).length;
  const mode = live === 0 ? 'emit' : live === plan.items.length ? 'delete' : 'mixed';
  // the items get their results only when something is deleted here; otherwise the plan's own
  // items are the record's (a fleet's 100,000 are not copied)
  const items: AuditRecord['items'] = live ? plan.items.map((i) => ({ ...i })) : plan.items;
  const record: AuditRecord = { at: new Date().toISOString(), machine: os.hostname(), by: safeUser(), mode, items };
  const append = (phase: 'planned' | 'done') => {
    const { items: list, ...head } = record;
    appendAuditLine(o.auditFile, head, list, phase);
  };
  try {
    append('planned');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CredgateError(`Cannot write the audit record to ${o.auditFile} (${code === 'ELOCKED' ? (e as Error).message : code ?? 'error'}); nothing was deleted.`, { code: 'CONFIG_INVALID', cause: e });
  }
  if (live) {
    for (const item of record.items) {
      const src = sourceOf(item);
      if (!src?.remove) {
        item.result = 'emitted';
        continue;
      }
      try {
        item.result = (await src.remove(item.rawTarget, item.type)) ? 'deleted' : 'already-gone';
      } catch (e) {
        item.result = 'failed';
        item.error = e instanceof Error ? e.message : String(e);
      }
    }
    append('done');
  }
  return record;
}

function safeUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}
