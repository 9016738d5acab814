/** `credgate cache`: list, inspect, purge (plan, then act with an audit record) and print the fleet collector. */
import fs from 'node:fs';
import path from 'node:path';
import { readCache, runCacheInspection, type CacheRun } from '../../cache/run.js';
import { cacheVerdict, purgeExitCode, purgeFaults } from '../../cache/verdict.js';
import { keepNurserySmall } from '../heap.js';
import { planPurge, eachCmdkeyCommand, cmdRemText, powershellScriptText, powershellScriptChunks, executePurge, type PurgePlan } from '../../cache/purge.js';
import { COLLECTOR_PS1 } from '../../cache/sources/collector.js';
import { exitCodeForError } from '../../findings/faults.js';
import { EXIT_CODES } from '../../findings/catalog.js';
import { CredgateError } from '../../core/errors.js';
import type { Finding } from '../../findings/finding.js';
import type { Command, CliIO } from '../types.js';
import { alsoAccepted, envSecret, fileNotStdout, parse, usageError, valueError } from '../args.js';
import { faultJson, findingJson, mark, say, style, t } from '../render.js';
import { chunkedLines, JsonTextPieces, writeJson, writeStdout } from '../output.js';
import { exitCode, exitCodeHelp, type ExitMeanings } from '../exit-help.js';

const EXITS: ExitMeanings = {
  ok: 'nothing to purge (conflicting entries, hint mismatches, orphans and entries of unknown age are reported with this code)',
  usage: 'usage or bad input',
  unreachable: 'the directory or the --probe host unreachable',
  provider: 'provider failure',
  'stale-cache': 'stale cached credentials found (stale-password or wrong-user: the entries a purge removes); inspect and purge end with it whenever there are any, and still report a fault found beside them',
  internal: 'internal error',
};
import { htmlOf, htmlTarget } from './report.js';

const USAGE = `Usage: credgate cache <list|inspect|purge|collector> [options]

  list        list cached credentials (metadata only, never passwords)
  inspect     find the stale entries behind 0x904 / extended 0x7; exits ${exitCode('stale-cache')} when it finds any (exactly when
              the purge plan is not empty), ${exitCode('ok')} otherwise
  purge       show the purge plan; with --yes, write an audit record and delete exactly the planned entries
              (Windows, live; keychain entries) or emit the cmdkey commands and a PowerShell script
              (fleet input, other OSes)
  collector   print the PowerShell fleet collector (exports Credential Manager metadata and RDP hints as JSON)

Options:
  --from <file|dir>          collector JSON, a reg export of HKCU\\...\\Terminal Server Client, or cmdkey /list text;
                             a directory: its *.json, *.reg and *.txt files (repeatable; without --from on
                             Windows: the live Credential Manager)
  --keychain <service>       also list OS keychain entries (keytar API) stored under this service name
                             (repeatable; service and account only, never the password)
  --user <name>              the account the vault says to use for the host (wrong-user needs --host)
  --host <name>              only entries for this RDP host
  --alias <name>             another name or address of --host (its IP, a CNAME; repeatable)
  --ldap <url> --service-user <u> --service-password-env <VAR> [--ca-file <pem>] [--starttls]
                             read the account's pwdLastSet from the directory (the stale-password rule)
  --changed-at <iso>         the vault's last password change (instead of, or besides, pwdLastSet)
  --provider <name> --ref <ref> [--config <file>]
                             take the vault's last password change (changedAt) and, without --user, the
                             account from a configured provider (credgate.config.json); the password is not used
  --inventory <file>         hosts that should exist, one per line: others are orphans
  --thumbprint <sha1>        the certificate the host presents now (see credgate probe): CertHash rule
  --probe                    probe --host (host[:port]) now and use the certificate it presents for the
                             CertHash rule (no credential is sent)
  --audit <file>             audit log for purge (default ./credgate-purge-audit.jsonl)
  --script-out <file>        write the PowerShell purge script here (fleet input); - for standard output
                             (the rest of the output then goes to stderr)
  --yes                      really purge
  --json                     JSON output
  --html <file>              inspect and purge: also write an HTML report of the run (credgate report --help)
${alsoAccepted(['user'])}

${exitCodeHelp(EXITS)}`;

const OPTIONS = {
  from: { type: 'string', multiple: true },
  keychain: { type: 'string', multiple: true },
  user: { type: 'string' },
  host: { type: 'string' },
  ldap: { type: 'string' },
  'service-user': { type: 'string' },
  'service-password-env': { type: 'string' },
  'ca-file': { type: 'string', multiple: true },
  starttls: { type: 'boolean' },
  'changed-at': { type: 'string' },
  provider: { type: 'string' },
  ref: { type: 'string' },
  config: { type: 'string' },
  alias: { type: 'string', multiple: true },
  inventory: { type: 'string' },
  thumbprint: { type: 'string', multiple: true },
  probe: { type: 'boolean' },
  audit: { type: 'string' },
  'script-out': { type: 'string' },
  yes: { type: 'boolean' },
  json: { type: 'boolean' },
  html: { type: 'string' },
} as const;

/** changedAt and the account from a configured provider; the password it returns is dropped unread. */
async function fromProvider(v: Record<string, unknown>, io: CliIO): Promise<{ changedAt?: Date; account?: string; source: string }> {
  const { resolveProvider } = await import('../provider-source.js');
  if (typeof v.ref !== 'string') throw usageError('--provider needs --ref <ref>: the credential whose last password change to use.');
  const c = await resolveProvider({ provider: String(v.provider), ref: v.ref, config: typeof v.config === 'string' ? v.config : undefined, cwd: io.cwd });
  const qualified = c.domain && !/[\\@]/.test(c.username) ? `${c.domain}\\${c.username}` : c.username;
  return { ...(c.changedAt ? { changedAt: c.changedAt } : {}), ...(qualified ? { account: qualified } : {}), source: c.source };
}

async function runInspect(v: Record<string, unknown>, io: CliIO): Promise<CacheRun> {
  if (v.ref !== undefined && !v.provider) throw usageError('--ref needs --provider <name>.');
  if (v.provider && v['changed-at']) throw usageError('Give --changed-at or --provider, not both: both say when the vault last changed the password.');
  if (v.alias && !v.host) throw usageError('--alias names other names or addresses of --host; give --host too.');
  if (v.probe && !v.host) throw usageError('--probe needs --host <host>[:port]: the RDP host whose certificate to compare with the cached CertHash.');
  let account = v.user ? String(v.user) : undefined;
  let changedAt: Date | undefined;
  const notes: string[] = [];
  if (v.provider) {
    const p = await fromProvider(v, io);
    account ??= p.account;
    if (p.changedAt) changedAt = p.changedAt;
    else notes.push(`the provider ${String(v.provider)} gave no changedAt for ${p.source}; the stale-password rule needs it, pwdLastSet (--ldap) or --changed-at`);
  }
  if (v.ldap && (!account || !v['service-user'] || !v['service-password-env'])) throw usageError('--ldap needs --user (or --provider), --service-user and --service-password-env to read pwdLastSet.');
  if (v['changed-at']) {
    changedAt = new Date(String(v['changed-at']));
    if (Number.isNaN(changedAt.getTime())) throw valueError('changed-at', 'an ISO date (2026-11-25T10:00:00Z)');
  }
  const run = await runCacheInspection({
    ...cacheInputs(v),
    ...(account ? { account } : {}),
    ...(v.host ? { host: String(v.host) } : {}),
    ...(v.alias ? { aliases: v.alias as string[] } : {}),
    ...(changedAt ? { changedAt } : {}),
    ...(v.ldap ? {
      directory: {
        urls: String(v.ldap), serviceUser: String(v['service-user']), servicePassword: envSecret(io, String(v['service-password-env']), 'service-password-env'),
        ...(v['ca-file'] ? { caFile: v['ca-file'] as string[] } : {}), starttls: !!v.starttls,
      },
    } : {}),
    ...(v.inventory ? { inventoryFile: String(v.inventory) } : {}),
    ...(v.thumbprint ? { thumbprints: v.thumbprint as string[] } : {}),
    probe: !!v.probe,
  });
  run.snap.warnings.unshift(...notes);
  return run;
}

/** --from and --keychain; without either, the live Credential Manager, which exists only on Windows. */
function cacheInputs(v: Record<string, unknown>): { files?: string[]; keychainServices?: string[] } {
  const files = (v.from as string[] | undefined) ?? [];
  const keychainServices = (v.keychain as string[] | undefined) ?? [];
  if (!files.length && !keychainServices.length && process.platform !== 'win32') {
    throw usageError('Give --from <file> (collector JSON, reg export or cmdkey /list text): the live Credential Manager exists only on Windows.');
  }
  return { ...(files.length ? { files } : {}), ...(keychainServices.length ? { keychainServices } : {}) };
}

/** JSON for a provider failure under --json (as check does), else the error goes to reportError. */
function providerFailure(e: unknown, v: Record<string, unknown>, io: CliIO): number | undefined {
  if (!(e instanceof CredgateError) || !e.code.startsWith('PROVIDER_') || !v.json) return undefined;
  const exitCode = exitCodeForError(e);
  io.stdout.write(faultJson(e, { code: 'provider.error', findings: [] }));
  return exitCode;
}

/** Purge results and what is left to the emitted commands. */
function emittedPlan(plan: PurgePlan, results: ReadonlyArray<{ result?: string }>): PurgePlan {
  return { ...plan, items: plan.items.filter((_, k) => results[k]?.result === undefined || results[k]?.result === 'emitted') };
}

export const cacheCommand: Command = {
  name: 'cache',
  summary: 'list, inspect and safely purge cached RDP credentials (Credential Manager, cmdkey, registry, fleet)',
  usage: USAGE,
  exits: EXITS,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    const s = style(io);
    if (sub === 'collector') {
      io.stdout.write(COLLECTOR_PS1);
      return 0;
    }
    if (!sub || !['list', 'inspect', 'purge'].includes(sub)) throw usageError('Say what to do: credgate cache list | inspect | purge | collector (see --help).');
    const { values: v } = parse(`cache ${sub}`, rest, OPTIONS);
    fileNotStdout('audit', v.audit, 'the audit record is appended to and kept');
    if (v['script-out'] === '-' && v.json) throw usageError('--script-out - and --json would both write to standard output: without --script-out the JSON carries the script (its "powershell" field); or give --script-out <file>.');
    if (sub === 'list' && v.html !== undefined) throw usageError('--html goes with cache inspect and cache purge.');
    const html = htmlTarget(v.html, io);
    keepNurserySmall(); // a fleet's entries live until the command ends (cli/heap.ts)
    if (sub === 'list') {
      const { snap } = await readCache(cacheInputs(v));
      if (v.json) {
        await writeJson(io.stdout, { entries: snap.entries, hints: snap.hints, mru: snap.mru, warnings: snap.warnings }, { entries: undefined, hints: undefined });
        return 0;
      }
      for (const w of snap.warnings) say(io.stderr, t`credgate: warning: ${w}\n`);
      const out = chunkedLines(io.stdout);
      for (const e of snap.entries) {
        out.line(t`${e.machine ? `${e.machine}  ` : ''}${e.target.padEnd(40)} ${e.type.padEnd(16)} ${(e.username ?? '-').padEnd(24)} ${e.lastWritten ? e.lastWritten.toISOString() : '-'}\n`);
      }
      for (const h of snap.hints) out.line(t`${h.machine ? `${h.machine}  ` : ''}registry ${h.server}: UsernameHint ${h.usernameHint ?? '-'}, CertHash ${h.certHash ?? '-'}\n`);
      out.line(t`${s.dim(`${snap.entries.length} cached credential(s), ${snap.hints.length} RDP server hint(s)`)}\n`);
      out.flush();
      return 0;
    }
    let inspected: Awaited<ReturnType<typeof runInspect>>;
    try {
      if (sub === 'purge') return await purge(v, io, s, await planFromInspection(v, io), html);
      inspected = await runInspect(v, io);
    } catch (e) {
      const code = providerFailure(e, v, io);
      if (code !== undefined) return code;
      throw e;
    }
    const { snap, result, findings } = inspected;
    // inspect asks whether the plan would be empty (exactly when the rules found stale entries)
    const head = cacheVerdict(findings, result.stale.length > 0);
    const { verdict, exitCode } = head;
    const body = { ok: head.ok, code: head.code, cause: head.cause, exitCode, considered: result.considered, unknownAge: result.unknownAge, findings, remediation: verdict.remediation, warnings: snap.warnings };
    if (html) await htmlOf(html, body, 'cache inspect', io);
    if (v.json) {
      await writeJson(io.stdout, body, { findings: findingJson });
    } else {
      for (const w of snap.warnings) say(io.stderr, t`credgate: warning: ${w}\n`);
      const word = head.word === 'CLEAN' ? s.green(s.bold(head.word)) : head.word === 'STALE' ? s.red(s.bold(head.word)) : s.yellow(s.bold(head.word));
      const out = chunkedLines(io.stdout);
      out.line(t`${word}  ${head.cause} ${s.dim(`[${head.code}]`)}\n`);
      for (const f of findings.filter((x) => x.severity !== 'ok')) {
        out.line(t`  ${mark(s, f.severity)} ${f.message} ${s.dim(`[${f.code}]`)}\n`);
      }
      if (verdict.remediation.length) {
        out.line(t`  ${s.bold('fix:')}\n`);
        verdict.remediation.slice(0, 5).forEach((r, i) => out.line(t`    ${i + 1}. ${r.action}\n`));
      }
      out.line(t`${s.dim(`  ${result.considered} RDP entr${result.considered === 1 ? 'y' : 'ies'} checked of ${snap.entries.length}`)}\n`);
      out.flush();
    }
    return exitCode;
  },
};

/**
 * The purge's plan from an inspection. The inspection itself (a fleet's 100,000 entries and their
 * findings) stays inside this call and is garbage once it returns, before the audit record and the
 * commands are written: the peak memory of a fleet's purge.
 */
async function planFromInspection(v: Record<string, unknown>, io: CliIO): Promise<{ plan: PurgePlan; faults: Finding[]; warnings: string[]; sources: CacheRun['sources']; exitCode: number }> {
  const { snap, sources, findings } = await runInspect(v, io);
  // exactly the entries behind stale-password and wrong-user findings, the ones inspect exits 6 for
  const plan = planPurge(findings, snap.entries);
  // the dry run ends with the inspection's exit code; --yes with the purge's (purgeExitCode), so it
  // does not judge the whole inspection again
  const exitCode = v.yes ? EXIT_CODES.ok : cacheVerdict(findings, plan.items.length > 0).exitCode;
  // what kept a rule from running (an unreachable probe or directory, a user not found): said
  // beside the plan, as inspect lists it, whether or not there is something to purge
  return { plan, faults: purgeFaults(findings), warnings: snap.warnings, sources, exitCode };
}

/** The PowerShell script into a file, piece by piece; a piece that cannot be written removes the file (never half a script). */
function writeScriptFile(file: string, plan: PurgePlan): void {
  const fd = fs.openSync(file, 'w');
  try {
    for (const piece of powershellScriptChunks(plan)) for (let off = 0; off < piece.length; ) off += fs.writeSync(fd, piece, off);
  } catch (e) {
    fs.closeSync(fd);
    try {
      fs.unlinkSync(file);
    } catch {}
    throw e;
  }
  fs.closeSync(fd);
}

/** `cache purge`: the plan (a dry run), or with --yes the audit record, then the deletions or the commands and script. */
async function purge(
  v: Record<string, unknown>,
  io: CliIO,
  s: ReturnType<typeof style>,
  planned: Awaited<ReturnType<typeof planFromInspection>>,
  html: string | undefined,
): Promise<number> {
  const audit = path.resolve(io.cwd, String(v.audit ?? 'credgate-purge-audit.jsonl'));
  const { plan, faults, warnings, sources, exitCode } = planned;
  if (!v.json) {
    for (const w of warnings) say(io.stderr, t`credgate: warning: ${w}\n`);
    for (const f of faults) say(io.stderr, t`credgate: ${f.message} [${f.code}]\n`);
  }
  if (!v.yes) {
    if (html) await htmlOf(html, { dryRun: true, plan, warnings, faults }, 'cache purge', io);
    if (v.json) await writeJson(io.stdout, { dryRun: true, plan, commands: eachCmdkeyCommand(plan), warnings, ...(faults.length ? { faults: faults.map(findingJson) } : {}) }, { plan: { items: undefined }, commands: undefined, faults: undefined });
    else {
      const out = chunkedLines(io.stdout);
      out.line(t`${s.bold('Purge plan')} (dry run — nothing deleted; re-run with --yes):\n`);
      if (!plan.items.length) out.line(t`  nothing to purge\n`);
      for (const i of plan.items) out.line(t`  ${i.machine ? `${i.machine}: ` : ''}${i.target} (${i.username ?? '-'}) — ${i.rule}: ${i.reason}\n`);
      out.flush();
    }
    // 6 exactly when there is something to purge; a fault that kept a rule from running keeps its own code
    return exitCode;
  }
  const record = await executePurge(plan, { yes: true, auditFile: audit, sources });
  const left = emittedPlan(plan, record.items);
  const commands = eachCmdkeyCommand(left); // written as they are made (JSON or .cmd lines)
  // --script-out -: the script on stdout, what else purge prints on stderr
  const scriptOut = v['script-out'] === undefined ? undefined : String(v['script-out']);
  if (scriptOut === '-') await writeStdout(io, powershellScriptChunks(left));
  else if (scriptOut !== undefined) writeScriptFile(path.resolve(io.cwd, scriptOut), left);
  const failed = record.items.filter((i) => i.result === 'failed');
  if (html) await htmlOf(html, { dryRun: false, audit, mode: record.mode, items: record.items, warnings, faults }, 'cache purge', io);
  if (v.json) {
    await writeJson(io.stdout, { dryRun: false, audit, mode: record.mode, items: record.items, commands, ...(scriptOut !== undefined ? { script: scriptOut } : { powershell: new JsonTextPieces(powershellScriptText(left)) }), warnings, ...(faults.length ? { faults: faults.map(findingJson) } : {}) }, { items: undefined, commands: undefined });
  } else {
    const out = chunkedLines(scriptOut === '-' ? io.stderr : io.stdout);
    for (const i of record.items) if (i.result && i.result !== 'emitted') out.line(t`  ${i.result}: ${i.target}${i.username ? ` (${i.username})` : ''}${i.error ? ` — ${i.error}` : ''}\n`);
    if (left.items.length) {
      out.line(t`REM credgate purge: run on each machine as a .cmd file (audit record: ${cmdRemText(audit)}); the PowerShell script also checks each entry is unchanged\r\n`);
      out.line(t`setlocal DisableDelayedExpansion\r\n`);
      for (const c of commands) for (const l of c.split('\r\n')) out.line(t`${l}\r\n`); // REM + cmdkey line, printable ASCII
      if (scriptOut !== undefined) out.line(t`REM PowerShell script for the whole fleet: ${scriptOut === '-' ? 'written to standard output' : cmdRemText(scriptOut)}\r\n`);
    } else {
      out.line(t`audit record: ${audit}\n`);
    }
    out.flush();
  }
  if (failed.length) say(io.stderr, t`credgate: ${failed.length} planned entr${failed.length === 1 ? 'y' : 'ies'} could not be deleted (see the audit record ${audit})\n`);
  return purgeExitCode(failed.length, faults);
}
