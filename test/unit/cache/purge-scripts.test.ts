// The scripts credgate writes, parsed with a real PowerShell grammar (tree-sitter-powershell) as
// Windows PowerShell 5.1 and PowerShell 7 read them: the purge script's bytes decoded as UTF-8 and,
// as 5.1 reads a file without a BOM, as cp1252. Under both readings every value that came from a
// fleet file stays one string literal in its place and reads back as itself; no value adds a
// command. The cmd.exe commands: a hostile target is quoted safely or refused.
import { describe, it, expect, beforeAll } from 'vitest';
import { cmdArg, cmdkeyCommands, credTargetName, credTypeNumber, powershellScript, powershellScriptBytes, psString, type PurgeItem, type PurgePlan } from '../../../src/cache/purge.js';
import { COLLECTOR_PS1 } from '../../../src/cache/sources/collector.js';
import { normalizeTarget } from '../../../src/cache/types.js';
import { prng } from '../../helpers/prng.js';
import { assigned, commandNames, decodeCp1252, first, lexerView, literalValue, loadPowershellParser, syntaxErrors } from './powershell-grammar.js';
import type { Tree } from 'web-tree-sitter';

let parse: (text: string) => Tree;
beforeAll(async () => {
  parse = await loadPowershellParser(); // throws (every test fails) when the grammar cannot load
});

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

function item(machine: string | undefined, windowsUser: string | undefined, name: string, username: string | undefined, generic = false): PurgeItem {
  return {
    ...(machine !== undefined ? { machine } : {}), ...(windowsUser !== undefined ? { windowsUser } : {}),
    target: normalizeTarget(name), rawTarget: `${generic ? 'LegacyGeneric' : 'Domain'}:target=${name}`, type: generic ? 'generic' : 'domain-password',
    ...(username !== undefined ? { username } : {}), lastWritten: '2026-11-01T08:00:00.000Z', source: 'collector:x.json', rule: 'cache.stale-password', reason: 'r', evidence: {},
  };
}

/** Both readings of the script file: PowerShell 7 (and 5.1 with the BOM) as UTF-8; 5.1 without a BOM as cp1252. */
function readings(bytes: Buffer): Array<[string, string]> {
  const body = bytes.subarray(0, 3).equals(BOM) ? bytes.subarray(3) : bytes;
  return [['utf-8', body.toString('utf8')], ['cp1252', decodeCp1252(body)]];
}

interface ScriptValues {
  plan: Array<[string | number, Array<string | number>]>;
  entries: Array<Record<string, string | number>>;
  commands: string[];
}

/**
 * What PowerShell would take from the purge script: the $plan hash (machine → targets) and the
 * $entries list, each value read as one literal (literalValue throws on anything else), and the
 * commands it runs. Throws on a syntax error.
 */
function readPurgeScript(text: string): ScriptValues {
  const tree = parse(lexerView(text));
  const errors = syntaxErrors(tree);
  if (errors.length) throw new Error(`syntax errors: ${errors.slice(0, 5).join('; ')}`);
  const plan: ScriptValues['plan'] = [];
  const planBody = first(assigned(tree, '$plan'), 'hash_literal_body');
  for (const e of planBody?.namedChildren ?? []) {
    if (!e || e.type !== 'hash_entry') throw new Error(`$plan holds a ${e?.type}`);
    const key = literalValue(e.namedChildren[0]!.namedChildren[0]!, text);
    const statements = first(e.namedChildren[1]!, 'array_expression')?.childForFieldName('statements');
    const named = statements?.namedChildren ?? [];
    if (named.length !== 1) throw new Error(`the targets of ${String(key)} are ${named.length} statements: ${JSON.stringify(statements?.text.slice(0, 200))}`);
    const list = first(named[0]!, 'array_literal_expression')!;
    if (list.text !== named[0]!.text.trim()) throw new Error(`the targets of ${String(key)} are more than an array: ${JSON.stringify(named[0]!.text.slice(0, 200))}`);
    plan.push([key, list.namedChildren.map((x) => literalValue(x!, text))]);
  }
  const entries: ScriptValues['entries'] = [];
  const statements = first(assigned(tree, '$entries'), 'array_expression')?.childForFieldName('statements');
  for (const s of statements?.namedChildren ?? []) {
    const hash = first(s!, 'hash_literal_expression');
    if (!hash || hash.text !== s!.text.trim()) throw new Error(`$entries holds more than a hash: ${JSON.stringify(s!.text.slice(0, 200))}`);
    const rec: Record<string, string | number> = {};
    for (const e of first(hash, 'hash_literal_body')?.namedChildren ?? []) rec[e!.namedChildren[0]!.text] = literalValue(e!.namedChildren[1]!, text);
    entries.push(rec);
  }
  return { plan, entries, commands: commandNames(tree) };
}

/** The values the script should hold for a plan: the same grouping powershellScript makes. */
function expected(plan: PurgePlan): Omit<ScriptValues, 'commands'> {
  const groups = new Map<string, [string, string[]]>();
  for (const i of plan.items) {
    const m = i.machine ?? '*';
    const g = groups.get(m.toUpperCase()) ?? [m, []];
    g[1].push(credTargetName(i.rawTarget));
    groups.set(m.toUpperCase(), g);
  }
  return {
    plan: [...groups.values()],
    entries: plan.items.map((i) => ({ Machine: i.machine ?? '*', WindowsUser: i.windowsUser ?? '', Target: credTargetName(i.rawTarget), Type: credTypeNumber(i) ?? 0, UserName: i.username ?? '', LastWrittenMs: Date.parse(i.lastWritten!) })),
  };
}

const HARMLESS: PurgePlan = { createdAt: '2026-11-20T00:00:00.000Z', items: [item('WS-1', 'PAMTEST\\admin', 'TERMSRV/web01', 'PAMTEST\\alice')] };

/** Every reading of the plan's script: no syntax error, exactly the planned values, only the harmless script's commands. */
function expectSafeScript(plan: PurgePlan): void {
  const commands = readPurgeScript(powershellScript(HARMLESS)).commands;
  const want = expected(plan);
  for (const [reading, text] of readings(powershellScriptBytes(plan))) {
    const got = readPurgeScript(text);
    expect({ reading, plan: got.plan }).toEqual({ reading, plan: want.plan });
    expect({ reading, entries: got.entries }).toEqual({ reading, entries: want.entries });
    expect({ reading, commands: got.commands }).toEqual({ reading, commands });
  }
}

// each reads, in cp1252, as text holding a PowerShell quote: Ò is C3 92, and 0x92 is U+2019
const REPORTED = 'TERMSRV/xÒ; calc = 1; Z = Ò';
const HOSTILE = [
  REPORTED,
  "TERMSRV/xÑ'; calc; 'Ñ", // C3 91: U+2018
  'TERMSRV/xÂ; calc; Â', // C3 82: U+201A
  'TERMSRV/xÓ$(calc)Ó', // C3 93: U+201C, a double quote
  'TERMSRV/xÄ"; calc; "Ä', // C3 84: U+201E
  'TERMSRV/x\u2019; calc; \u2019', // the quote itself
  'TERMSRV/x\u2018\u201a\u201b\u201c\u201d\u201e\u2013\u2014',
  "TERMSRV/a'b''c'''",
  "TERMSRV/'@\r\ncalc\r\n@'",
  'TERMSRV/`$(calc)`"$env:PATH"',
  'TERMSRV/x\u2028calc\u2029\u0085\u000b\u000c\u0000',
  'TERMSRV/<# x #> # y',
  'TERMSRV/ä中\ud83d\ude00\ud800',
  'TERMSRV/\u00a0\ufeff\u202e',
  'TERMSRV/x;calc|calc&calc',
];

describe('the PowerShell purge script under both readings (UTF-8, and cp1252 as 5.1 reads a file without a BOM)', () => {
  it('is written as UTF-8 with a BOM (5.1 and 7 both read it as UTF-8) and holds only ASCII', () => {
    const bytes = powershellScriptBytes({ createdAt: '2026-11-20T00:00:00.000Z', items: HOSTILE.map((t, k) => item(`WS-${k}`, 'PAMTEST\\admin', t, 'u')) });
    expect(bytes.subarray(0, 3)).toEqual(BOM);
    expect([...bytes.subarray(3)].filter((b) => b > 0x7e || (b < 0x20 && b !== 0x0d && b !== 0x0a))).toEqual([]);
  });

  it('the reported target stays one string in its array, and runs no calc', () => {
    const plan: PurgePlan = { createdAt: '2026-11-20T00:00:00.000Z', items: [item('WS-1', 'PAMTEST\\admin', REPORTED, 'PAMTEST\\alice')] };
    for (const [reading, text] of readings(powershellScriptBytes(plan))) {
      const got = readPurgeScript(text);
      expect(got.commands.filter((c) => /calc/i.test(c)), reading).toEqual([]);
      expect(got.plan, reading).toEqual([['WS-1', [REPORTED]]]);
    }
    expectSafeScript(plan);
  });

  it('each hostile value, as a target, a machine, a Windows user and a user name', () => {
    for (const h of HOSTILE) {
      expectSafeScript({ createdAt: '2026-11-20T00:00:00.000Z', items: [item(h, h, h, h), item(`WS-${h}`, undefined, `TERMSRV/${h}`, undefined, true), item(undefined, h, 'TERMSRV/plain', h)] });
    }
  });

  it('fuzz (bounded): random plans of quotes, controls, separators, cp1252-hostile and other non-ASCII characters', () => {
    const r = prng(1401);
    const pool = ["'", '\u2018', '\u2019', '\u201a', '\u201b', '\u201c', '\u201d', '\u201e', '"', '`', '$', '(', ')', '{', '}', '@', '#', '<#', '#>', ';', '|', '&', ',', '+', ' ', '\r\n', '\n', '\t', '\u0000', '\u0085', '\u2028', 'calc', '$(calc)', "'@", '@"'];
    const char = () => (r.next() < 0.5 ? r.pick(pool) : String.fromCharCode(r.next() < 0.6 ? 0x80 + r.int(0x180) : r.int(0x10000)));
    const text = (max: number) => Array.from({ length: r.int(max) }, char).join('');
    for (let i = 0; i < 60; i++) {
      const items = Array.from({ length: 1 + r.int(4) }, (_, k) => item(r.next() < 0.8 ? `M${k}${text(8)}` : undefined, r.next() < 0.5 ? text(8) : undefined, `TERMSRV/${text(16)}`, r.next() < 0.7 ? text(8) : undefined, r.next() < 0.3));
      expectSafeScript({ createdAt: '2026-11-20T00:00:00.000Z', items });
    }
  });

  it('psString: ASCII only, and one literal that reads back as the value under both readings', () => {
    const r = prng(1402);
    for (let i = 0; i < 300; i++) {
      const v = i < HOSTILE.length ? HOSTILE[i]! : Array.from({ length: r.int(20) }, () => String.fromCharCode(r.next() < 0.5 ? r.int(0x100) : r.int(0x10000))).join('');
      const lit = psString(v);
      expect(/^[\x20-\x7e]*$/.test(lit), JSON.stringify(lit)).toBe(true);
      const script = `$v = @(${lit})`;
      for (const text of [Buffer.from(script, 'utf8').toString('utf8'), decodeCp1252(Buffer.from(script, 'utf8'))]) {
        const tree = parse(lexerView(text));
        expect(syntaxErrors(tree)).toEqual([]);
        const statements = first(assigned(tree, '$v'), 'array_expression')!.childForFieldName('statements')!;
        expect(statements.namedChildren).toHaveLength(1);
        const list = first(statements.namedChildren[0]!, 'array_literal_expression')!;
        expect(list.namedChildren).toHaveLength(1);
        expect(literalValue(list.namedChildren[0]!, text), JSON.stringify(v)).toBe(v);
      }
    }
  });

  it('a plan whose createdAt is not a date writes nothing of it but a comment of printable ASCII', () => {
    const plan: PurgePlan = { createdAt: "x\r\ncalc\u2019'; calc", items: HARMLESS.items };
    for (const [, text] of readings(powershellScriptBytes(plan))) expect(readPurgeScript(text).commands).toEqual(readPurgeScript(powershellScript(HARMLESS)).commands);
  });
});

describe('the fleet collector script (credgate cache collector)', () => {
  it('parses without a syntax error, holds only ASCII (5.1 and 7 read it the same), and runs the expected commands', () => {
    expect(/^[\x20-\x7e\r\n]*$/.test(COLLECTOR_PS1)).toBe(true);
    const tree = parse(COLLECTOR_PS1);
    expect(syntaxErrors(tree)).toEqual([]);
    const commands = commandNames(tree);
    for (const c of ['Add-Type', 'Get-ItemProperty', 'ConvertTo-Json', 'Out-File', 'Write-Host']) expect(commands).toContain(c);
    expect(commands.filter((c) => /remove|delete|invoke|iex|start-process/i.test(c))).toEqual([]);
  });
});

/**
 * cmd.exe reading one line of a .cmd file: %% is one %, a lone % starts a variable; outside double
 * quotes & | < > ^ ( ) are operators; ! expands a variable wherever it is when delayed expansion is
 * on; a byte over 0x7F is read in the console's code page (a DBCS lead byte can swallow a quote).
 * The argument cmdkey gets, or why the line is unsafe.
 */
function cmdLine(line: string): { arg: string } | { unsafe: string } {
  if (/[^\x20-\x7e]/.test(line)) return { unsafe: 'not ASCII' };
  if (line.includes('!')) return { unsafe: '!' };
  let expanded = '';
  for (let k = 0; k < line.length; k++) {
    if (line[k] !== '%') expanded += line[k];
    else if (line[k + 1] === '%') expanded += line[k++];
    else return { unsafe: 'a lone %' };
  }
  const m = /^cmdkey \/delete:(.*)$/.exec(expanded);
  if (!m) return { unsafe: 'not a cmdkey line' };
  let quoted = false;
  let arg = '';
  for (const c of m[1]!) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && /[&|<>^()\s]/.test(c)) return { unsafe: `${c} outside quotes` };
    else arg += c;
  }
  if (quoted) return { unsafe: 'an open quote' };
  return { arg };
}

describe('cmd.exe: the cmdkey /delete commands', () => {
  const quoted = ['TERMSRV/a&calc', 'TERMSRV/a|calc', 'TERMSRV/a^b', 'TERMSRV/a<b>c', 'TERMSRV/a%PATH%b', 'TERMSRV/a%%b', 'TERMSRV/(a) b,c;d=e', 'TERMSRV/web01'];
  const refused = ['TERMSRV/a"&calc&"', 'TERMSRV/a!PATH!b', 'TERMSRV/a\r\ncalc', 'TERMSRV/a\ncalc', 'TERMSRV/xÒ', 'TERMSRV/a\u00a0b', 'TERMSRV/\uff02&calc', 'TERMSRV/a\u2028b', 'TERMSRV/a\u0000b'];

  it('a target with cmd metacharacters or % is quoted and reads back as itself', () => {
    for (const t of quoted) {
      const [line] = cmdkeyCommands({ createdAt: 'x', items: [item(undefined, undefined, t, 'u')] });
      expect(cmdLine(line!), JSON.stringify(line)).toEqual({ arg: `Domain:target=${t}` });
    }
  });

  it('a double quote, !, a line break or control, or any non-ASCII character: refused, pointing to the PowerShell script', () => {
    for (const t of refused) {
      expect(cmdArg(`Domain:target=${t}`), JSON.stringify(t)).toBeUndefined();
      const [line] = cmdkeyCommands({ createdAt: 'x', items: [item(undefined, undefined, t, 'u')] });
      expect(line, JSON.stringify(t)).toMatch(/^REM skipped [\x20-\x7e]*: the target cannot be quoted safely for cmd\.exe; use the PowerShell script$/);
      expect(line).not.toMatch(/[%&|<>^"!]/);
    }
  });

  it('REM lines hold printable ASCII without % & | < > ^ " !, whatever the machine, user and rule', () => {
    const h = 'WS-%PATH%&calc|x<y>z^"!Ò\u2019\r\n';
    for (const c of cmdkeyCommands({ createdAt: 'x', items: [item(h, h, 'TERMSRV/web01', 'u'), item(h, h, 'TERMSRV/xÒ', 'u')] })) {
      for (const l of c.split('\r\n')) {
        if (l.startsWith('REM ')) expect(l, JSON.stringify(l)).toMatch(/^REM [\x20-\x7e]*$/);
        if (l.startsWith('REM ')) expect(l).not.toMatch(/[%&|<>^"!]/);
        else expect(cmdLine(l)).toEqual({ arg: 'Domain:target=TERMSRV/web01' });
      }
    }
  });

  it('fuzz (bounded): every command line is safe by the cmd.exe model, or a REM line', () => {
    const r = prng(1403);
    const pool = ['%', '%%', '!', '^', '&', '|', '<', '>', '(', ')', '"', ' ', ',', ';', '=', '\r\n', 'Ò', '\u2019', '\uff02', 'a', 'b', '/', ':', '\\'];
    for (let i = 0; i < 2000; i++) {
      const t = `TERMSRV/${Array.from({ length: r.int(12) }, () => r.pick(pool)).join('')}`;
      const generic = r.next() < 0.3;
      const [line] = cmdkeyCommands({ createdAt: 'x', items: [item(undefined, undefined, t, 'u', generic)] });
      if (line!.startsWith('REM ')) {
        expect(line).toMatch(/^REM [\x20-\x7e]*$/);
        expect(line).not.toMatch(/[%&|<>^"!]/);
      } else expect(cmdLine(line!), JSON.stringify(line)).toEqual({ arg: `${generic ? 'LegacyGeneric' : 'Domain'}:target=${t}` });
    }
  });
});
