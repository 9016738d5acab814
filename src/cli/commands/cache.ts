import fs from 'node:fs';
import path from 'node:path';
import { loadCacheFile, mergeSnapshots } from '../../cache/load.js';
import { inspectCache } from '../../cache/staleness.js';
import { planPurge, cmdkeyCommands, powershellScript, executePurge } from '../../cache/purge.js';
import { COLLECTOR_PS1 } from '../../cache/collector.js';
import type { CacheSnapshot } from '../../cache/types.js';
import { emptySnapshot } from '../../cache/types.js';
import { diagnose } from '../../diagnose.js';
import { parseHostPort } from '../../core/host.js';
import { CredgateError } from '../../core/errors.js';
import type { Finding } from '../../core/findings.js';
import type { Command, CliIO } from '../types.js';
import { envSecret, parse, usageError } from '../args.js';
import { findingJson, style } from '../render.js';

const USAGE = `Usage: credgate cache <list|inspect|purge|collector> [options]

  list        list cached credentials (metadata only, never passwords)
  inspect     find the stale entries behind 0x904 / extended 0x7; exits 6 when it finds any, 0 when clean
  purge       show the purge plan; with --yes, write an audit record and delete exactly the planned entries
              (Windows, live) or emit the cmdkey commands and a PowerShell script (fleet input, other OSes)
  collector   print the PowerShell fleet collector (exports Credential Manager metadata and RDP hints as JSON)

Options:
  --from <file>              collector JSON, a reg export of HKCU\\...\\Terminal Server Client, or cmdkey /list text
                             (repeatable; without --from on Windows: the live Credential Manager)
  --keychain <service>       also list OS keychain entries (keytar API) stored under this service name
                             (repeatable; service and account only, never the password)
  --account <name>           the account the vault says to use for the host
  --host <name>              only entries for this RDP host
  --ldap <url> --service-user <u> --service-password-env <VAR> [--ca-file <pem>] [--starttls]
                             read the account's pwdLastSet from the directory (the stale-password rule)
  --changed-at <iso>         the vault's last password change (instead of, or besides, pwdLastSet)
  --inventory <file>         hosts that should exist, one per line: others are orphans
  --thumbprint <sha1>        the certificate the host presents now (see credgate probe): CertHash rule
  --probe                    probe --host (host[:port]) now and use the certificate it presents for the
                             CertHash rule (no credential is sent)
  --audit <file>             audit log for purge (default ./credgate-purge-audit.jsonl)
  --script-out <file>        write the PowerShell purge script here (fleet input)
  --yes                      really purge
  --json                     JSON output

Exit codes: 0 clean, 2 usage or bad input, 4 directory unreachable, 6 stale cached credentials found.
`;

const OPTIONS = {
  from: { type: 'string', multiple: true },
  keychain: { type: 'string', multiple: true },
  account: { type: 'string' },
  host: { type: 'string' },
  ldap: { type: 'string' },
  'service-user': { type: 'string' },
  'service-password-env': { type: 'string' },
  'ca-file': { type: 'string', multiple: true },
  starttls: { type: 'boolean' },
  'changed-at': { type: 'string' },
  inventory: { type: 'string' },
  thumbprint: { type: 'string', multiple: true },
  probe: { type: 'boolean' },
  audit: { type: 'string' },
  'script-out': { type: 'string' },
  yes: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

async function snapshot(v: Record<string, unknown>): Promise<{ snap: CacheSnapshot; live: boolean }> {
  const files = (v.from as string[] | undefined) ?? [];
  const services = (v.keychain as string[] | undefined) ?? [];
  if (files.length || services.length) {
    const parts = files.map(loadCacheFile);
    if (services.length) {
      const { keychainCacheSource } = await import('../../cache/keychain.js');
      parts.push({ ...emptySnapshot(), entries: await keychainCacheSource({ services }).list() });
    }
    return { snap: mergeSnapshots(parts), live: false };
  }
  if (process.platform !== 'win32') {
    throw usageError('Give --from <file> (collector JSON, reg export or cmdkey /list text): the live Credential Manager exists only on Windows.');
  }
  const { windowsCredentialManager } = await import('../../cache/windows-credman.js');
  const src = windowsCredentialManager();
  return { snap: { ...emptySnapshot(), entries: await src.list() }, live: true };
}

function readLines(file: string): string[] {
  try {
    return fs.readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.replace(/#.*$/, '').trim()).filter(Boolean);
  } catch (e) {
    throw new CredgateError(`Cannot read the inventory ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`, { code: 'INPUT_INVALID', details: { file } });
  }
}

async function runInspect(v: Record<string, unknown>, io: CliIO) {
  const { snap, live } = await snapshot(v);
  let pwdLastSet: Date | undefined;
  const extra: Finding[] = [];
  if (v.ldap) {
    if (!v.account || !v['service-user'] || !v['service-password-env']) throw usageError('--ldap needs --account, --service-user and --service-password-env to read pwdLastSet.');
    const { readPwdLastSet } = await import('../../cache/pwdlastset.js');
    const r = await readPwdLastSet({
      urls: String(v.ldap), serviceUser: String(v['service-user']), servicePassword: envSecret(io, String(v['service-password-env']), 'service-password-env'),
      target: String(v.account), ...(v['ca-file'] ? { caFile: v['ca-file'] as string[] } : {}), starttls: !!v.starttls,
    });
    if (r.pwdLastSet) pwdLastSet = r.pwdLastSet;
    extra.push(...r.findings.filter((f) => f.code.startsWith('net.') || f.code.startsWith('tls.') || f.code === 'ldap.user-not-found'));
  }
  let changedAt: Date | undefined;
  if (v['changed-at']) {
    changedAt = new Date(String(v['changed-at']));
    if (Number.isNaN(changedAt.getTime())) throw usageError(`--changed-at must be an ISO date (2026-11-25T10:00:00Z), got "${String(v['changed-at'])}".`);
  }
  let host = v.host ? String(v.host) : undefined;
  const thumbprints = [...((v.thumbprint as string[] | undefined) ?? [])];
  if (v.probe) {
    if (!host) throw usageError('--probe needs --host <host>[:port]: the RDP host whose certificate to compare with the cached CertHash.');
    const hp = parseHostPort(host);
    host = hp.host;
    const { probeRdp } = await import('../../validators/rdp-endpoint.js');
    const r = await probeRdp({ host: hp.host, port: hp.port, timeoutMs: 10_000 });
    if (r.sha1Thumbprint) thumbprints.push(r.sha1Thumbprint);
    // the host could not be reached or spoke no TLS: say so; the CertHash rule is then not checked
    else extra.push(...r.findings.filter((f) => f.severity === 'error'));
  } else if (host) {
    host = parseHostPort(host).host; // web01:3390 and [2001:db8::5]:3389 name the host web01 / 2001:db8::5
  }
  const result = inspectCache({
    entries: snap.entries, hints: snap.hints,
    ...(v.account ? { account: String(v.account) } : {}), ...(host ? { host } : {}),
    ...(pwdLastSet ? { pwdLastSet } : {}), ...(changedAt ? { changedAt } : {}),
    ...(v.inventory ? { inventory: readLines(String(v.inventory)) } : {}),
    ...(thumbprints.length ? { presentedThumbprints: thumbprints } : {}),
  });
  return { snap, live, result, findings: [...extra, ...result.findings], pwdLastSet };
}

export const cacheCommand: Command = {
  name: 'cache',
  summary: 'list, inspect and safely purge cached RDP credentials (Credential Manager, cmdkey, registry, fleet)',
  usage: USAGE,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    const s = style(io);
    if (sub === 'collector') {
      io.stdout.write(COLLECTOR_PS1);
      return 0;
    }
    if (!sub || !['list', 'inspect', 'purge'].includes(sub)) throw usageError('Say what to do: credgate cache list | inspect | purge | collector (see --help).');
    const { values: v } = parse(`cache ${sub}`, rest, OPTIONS);
    if (sub === 'list') {
      const { snap } = await snapshot(v);
      if (v.json) {
        io.stdout.write(JSON.stringify({ entries: snap.entries, hints: snap.hints, mru: snap.mru, warnings: snap.warnings }, null, 2) + '\n');
        return 0;
      }
      for (const w of snap.warnings) io.stderr.write(`credgate: warning: ${w}\n`);
      for (const e of snap.entries) {
        io.stdout.write(`${e.machine ? `${e.machine}  ` : ''}${e.target.padEnd(40)} ${e.type.padEnd(16)} ${(e.username ?? '-').padEnd(24)} ${e.lastWritten ? e.lastWritten.toISOString() : '-'}\n`);
      }
      for (const h of snap.hints) io.stdout.write(`${h.machine ? `${h.machine}  ` : ''}registry ${h.server}: UsernameHint ${h.usernameHint ?? '-'}, CertHash ${h.certHash ?? '-'}\n`);
      io.stdout.write(s.dim(`${snap.entries.length} cached credential(s), ${snap.hints.length} RDP server hint(s)\n`));
      return 0;
    }
    const { snap, live, result, findings } = await runInspect(v, io);
    const verdict = diagnose(findings);
    if (sub === 'inspect') {
      if (v.json) {
        io.stdout.write(JSON.stringify({ ok: verdict.ok, code: verdict.code, exitCode: verdict.exitCode, considered: result.considered, findings: findings.map(findingJson), remediation: verdict.remediation, warnings: snap.warnings }, null, 2) + '\n');
      } else {
        for (const w of snap.warnings) io.stderr.write(`credgate: warning: ${w}\n`);
        io.stdout.write(`${verdict.ok ? s.green(s.bold('CLEAN')) : s.red(s.bold('STALE'))}  ${verdict.cause} ${s.dim(`[${verdict.code}]`)}\n`);
        for (const f of findings.filter((x) => x.severity !== 'ok')) {
          io.stdout.write(`  ${f.severity === 'error' ? s.red('✖') : f.severity === 'warning' ? s.yellow('!') : s.dim('·')} ${f.message} ${s.dim(`[${f.code}]`)}\n`);
        }
        if (verdict.remediation.length) {
          io.stdout.write(`  ${s.bold('fix:')}\n`);
          verdict.remediation.slice(0, 5).forEach((r, i) => io.stdout.write(`    ${i + 1}. ${r.action}\n`));
        }
        io.stdout.write(s.dim(`  ${result.considered} RDP entr${result.considered === 1 ? 'y' : 'ies'} checked of ${snap.entries.length}\n`));
      }
      return verdict.exitCode;
    }
    // purge
    const plan = planPurge(findings, snap.entries);
    const audit = path.resolve(io.cwd, String(v.audit ?? 'credgate-purge-audit.jsonl'));
    if (!v.yes) {
      if (v.json) io.stdout.write(JSON.stringify({ dryRun: true, plan, commands: cmdkeyCommands(plan) }, null, 2) + '\n');
      else {
        io.stdout.write(`${s.bold('Purge plan')} (dry run — nothing deleted; re-run with --yes):\n`);
        if (!plan.items.length) io.stdout.write('  nothing to purge\n');
        for (const i of plan.items) io.stdout.write(`  ${i.machine ? `${i.machine}: ` : ''}${i.target} (${i.username ?? '-'}) — ${i.rule}: ${i.reason}\n`);
      }
      return plan.items.length ? 6 : 0;
    }
    const liveSource = live ? (await import('../../cache/windows-credman.js')).windowsCredentialManager() : undefined;
    const record = await executePurge(plan, { yes: true, auditFile: audit, ...(liveSource ? { source: liveSource } : {}) });
    const script = powershellScript(plan);
    if (v['script-out']) fs.writeFileSync(String(v['script-out']), script);
    if (v.json) {
      io.stdout.write(JSON.stringify({ dryRun: false, audit, mode: record.mode, items: record.items, commands: cmdkeyCommands(plan), ...(v['script-out'] ? { script: String(v['script-out']) } : { powershell: script }) }, null, 2) + '\n');
    } else if (record.mode === 'delete') {
      for (const i of record.items) io.stdout.write(`  ${i.result}: ${i.target}\n`);
      io.stdout.write(`audit record: ${audit}\n`);
    } else {
      io.stdout.write(`REM credgate purge: run on each machine (audit record: ${audit})\r\n`);
      for (const c of cmdkeyCommands(plan)) io.stdout.write(c + '\r\n');
      if (v['script-out']) io.stdout.write(`REM PowerShell script for the whole fleet: ${String(v['script-out'])}\r\n`);
    }
    return 0;
  },
};
