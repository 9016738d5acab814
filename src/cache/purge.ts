/**
 * Purge, safely: a plan first (each entry, the rule, the evidence), nothing deleted without an
 * explicit yes, an audit record written before anything is deleted, and deletion only of the
 * entries in the plan. On Windows (live source) entries go through CredDeleteW; for fleet input
 * and elsewhere credgate emits the exact `cmdkey /delete:` commands and a PowerShell script.
 */
import fs from 'node:fs';
import os from 'node:os';
import { CredgateError } from '../core/errors.js';
import type { Finding } from '../core/findings.js';
import type { CacheSource, CachedCredential } from './types.js';

export interface PurgeItem {
  machine?: string;
  windowsUser?: string;
  target: string;
  rawTarget: string;
  type: string;
  username?: string;
  source: string;
  rule: string;
  reason: string;
  evidence: Record<string, unknown>;
}

export interface PurgePlan {
  createdAt: string;
  items: PurgeItem[];
}

const PURGE_RULES = new Set(['cache.stale-password', 'cache.wrong-user']);

/** Plan from inspect findings: only entries named by a purge-worthy rule, each once. */
export function planPurge(findings: readonly Finding[], entries: readonly CachedCredential[]): PurgePlan {
  const items: PurgeItem[] = [];
  const seen = new Set<string>();
  // index once: a fleet has 100k entries and may have tens of thousands of findings
  const idx = (source: unknown, machine: unknown, raw: unknown) => `${String(source)}\u0000${String(machine ?? '')}\u0000${String(raw)}`;
  let byKey: Map<string, CachedCredential> | undefined;
  for (const f of findings) {
    if (!PURGE_RULES.has(f.code)) continue;
    const ev = f.evidence;
    if (!byKey) {
      byKey = new Map();
      for (const x of entries) {
        const k = idx(x.source, x.machine, x.rawTarget);
        if (!byKey.has(k)) byKey.set(k, x);
      }
    }
    const e = byKey.get(idx(ev.source, ev.machine, ev.rawTarget));
    if (!e) continue;
    const key = `${e.machine ?? ''}\u0000${e.windowsUser ?? ''}\u0000${e.rawTarget}`;
    if (seen.has(key)) continue;
    seen.add(key);
    items.push({
      ...(e.machine ? { machine: e.machine } : {}), ...(e.windowsUser ? { windowsUser: e.windowsUser } : {}),
      target: e.target, rawTarget: e.rawTarget, type: e.type, ...(e.username ? { username: e.username } : {}), source: e.source,
      rule: f.code, reason: f.message, evidence: ev,
    });
  }
  return { createdAt: new Date().toISOString(), items };
}

/** cmd.exe quoting for a cmdkey argument. */
function cmdQuote(s: string): string {
  return /[\s&|<>^"]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The exact cmdkey commands, grouped by machine. cmdkey takes the target as `TERMSRV/host`. */
export function cmdkeyCommands(plan: PurgePlan): string[] {
  return plan.items.filter((i) => i.source !== 'keychain').map((i) => `${i.machine ? `REM ${i.machine}${i.windowsUser ? ` (${i.windowsUser})` : ''}: ${i.rule}\r\n` : ''}cmdkey /delete:${cmdQuote(i.target)}`);
}

/** A PowerShell script that deletes exactly the planned entries on the machine it runs on, idempotently. */
export function powershellScript(plan: PurgePlan): string {
  const byMachine = new Map<string, PurgeItem[]>();
  for (const i of plan.items) {
    if (i.source === 'keychain') continue; // not a Credential Manager entry: cmdkey cannot delete it
    const m = i.machine ?? '*';
    byMachine.set(m, [...(byMachine.get(m) ?? []), i]);
  }
  const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
  const lines = [
    '# credgate purge plan — deletes only the cached credentials listed here, on the machine it runs on.',
    `# plan created ${plan.createdAt}; ${plan.items.length} entr${plan.items.length === 1 ? 'y' : 'ies'}.`,
    '$plan = @{',
    ...[...byMachine].map(([m, items]) => `  ${q(m)} = @(${items.map((i) => q(i.target)).join(', ')})`),
    '}',
    "$targets = @($plan[$env:COMPUTERNAME]) + @($plan['*']) | Where-Object { $_ }",
    'foreach ($t in $targets) {',
    '  $listed = cmdkey /list:$t | Select-String -SimpleMatch $t',
    '  if ($listed) { cmdkey /delete:$t | Out-Null; Write-Host "deleted $t" } else { Write-Host "already gone: $t" }',
    '}',
  ];
  return lines.join('\r\n') + '\r\n';
}

export interface AuditRecord {
  at: string;
  machine: string;
  by: string;
  mode: 'delete' | 'emit';
  items: Array<PurgeItem & { result?: 'deleted' | 'already-gone' | 'failed'; error?: string }>;
}

/**
 * Execute a plan. Without `yes` it refuses. The audit record is written (appended as one JSON
 * line) BEFORE anything is deleted, then again with the results.
 */
export async function executePurge(plan: PurgePlan, o: { yes: boolean; auditFile: string; source?: CacheSource }): Promise<AuditRecord> {
  if (!o.yes) throw new CredgateError('Nothing was deleted: purging needs an explicit yes (--yes).', { code: 'USAGE' });
  const record: AuditRecord = { at: new Date().toISOString(), machine: os.hostname(), by: safeUser(), mode: o.source?.remove ? 'delete' : 'emit', items: plan.items.map((i) => ({ ...i })) };
  try {
    fs.appendFileSync(o.auditFile, JSON.stringify({ ...record, phase: 'planned' }) + '\n', { mode: 0o600 });
  } catch (e) {
    throw new CredgateError(`Cannot write the audit record to ${o.auditFile} (${(e as NodeJS.ErrnoException).code ?? 'error'}); nothing was deleted.`, { code: 'CONFIG_INVALID', cause: e });
  }
  if (o.source?.remove) {
    for (const item of record.items) {
      try {
        item.result = (await o.source.remove(item.rawTarget, item.type)) ? 'deleted' : 'already-gone';
      } catch (e) {
        item.result = 'failed';
        item.error = e instanceof Error ? e.message : String(e);
      }
    }
    fs.appendFileSync(o.auditFile, JSON.stringify({ ...record, phase: 'done' }) + '\n');
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
