/**
 * A real PowerShell grammar for the tests of the scripts credgate writes: npm's
 * tree-sitter-powershell, loaded as the WebAssembly build it ships (tree-sitter-powershell.wasm)
 * through web-tree-sitter, so no native addon and no install script is involved. Both are pinned
 * devDependencies; when either is missing the loader throws (the tests fail, they never skip).
 *
 * What the grammar does not model, this file does:
 * - how Windows PowerShell 5.1 reads a script file without a BOM: in the ANSI code page, cp1252 on
 *   Western European and US Windows (`decodeCp1252`);
 * - PowerShell's lexer taking U+2018..U+201B as single quotes, U+201C..U+201E as double quotes and
 *   U+2013..U+2015 as dashes (the grammar knows only the ASCII ones): `lexerView` maps each to its
 *   ASCII twin, one UTF-16 unit for one, so offsets stay the same.
 */
import { createRequire } from 'node:module';
import { Language, Parser, type Node, type Tree } from 'web-tree-sitter';

const require = createRequire(import.meta.url);

/** A parser for PowerShell; throws, naming what to install, when the grammar cannot be loaded. */
export async function loadPowershellParser(): Promise<(text: string) => Tree> {
  let parser: Parser;
  try {
    await Parser.init();
    const language = await Language.load(require.resolve('tree-sitter-powershell/tree-sitter-powershell.wasm'));
    parser = new Parser();
    parser.setLanguage(language);
  } catch (e) {
    throw new Error(`the PowerShell grammar could not be loaded (devDependencies web-tree-sitter and tree-sitter-powershell; run npm ci): ${String(e)}`);
  }
  return (text: string) => {
    const tree = parser.parse(text);
    if (!tree) throw new Error('tree-sitter returned no tree');
    return tree;
  };
}

// cp1252 bytes 0x80..0x9F (the rest is Latin-1); the five bytes cp1252 leaves undefined read as
// the C1 controls of the same number, as MultiByteToWideChar reads them
const CP1252_80 = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
  0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

export function decodeCp1252(buf: Uint8Array): string {
  let s = '';
  for (const b of buf) s += String.fromCharCode(b >= 0x80 && b < 0xa0 ? CP1252_80[b - 0x80]! : b);
  return s;
}

/** PowerShell's quote characters (CharExtensions.IsSingleQuote / IsDoubleQuote / IsDash in its lexer). */
export const PS_SINGLE_QUOTES = /['\u2018\u2019\u201a\u201b]/;
const ASCII_TWIN: Record<string, string> = { '\u2018': "'", '\u2019': "'", '\u201a': "'", '\u201b': "'", '\u201c': '"', '\u201d': '"', '\u201e': '"', '\u2013': '-', '\u2014': '-', '\u2015': '-' };

/** The text as PowerShell's lexer sees its quotes and dashes, for the ASCII-only grammar. */
export function lexerView(text: string): string {
  return text.replace(/[\u2018-\u201b\u201c-\u201e\u2013-\u2015]/g, (c) => ASCII_TWIN[c]!);
}

/** Every ERROR or MISSING node of a tree, as "type at row:column: text". */
export function syntaxErrors(tree: Tree): string[] {
  const out: string[] = [];
  const walk = (n: Node) => {
    if (n.type === 'ERROR' || n.isMissing) out.push(`${n.isMissing ? 'MISSING ' : ''}${n.type} at ${n.startPosition.row + 1}:${n.startPosition.column + 1}: ${JSON.stringify(n.text.slice(0, 80))}`);
    for (const c of n.children) if (c) walk(c);
  };
  walk(tree.rootNode);
  if (tree.rootNode.hasError && !out.length) out.push('the tree has an error');
  return out;
}

export function descendants(n: Node, type: string): Node[] {
  return n.descendantsOfType(type).filter((x): x is Node => !!x);
}

/** The names of the commands the script runs (Write-Host, Add-Type, ...), in order. */
export function commandNames(tree: Tree): string[] {
  return descendants(tree.rootNode, 'command').map((c) => c.childForFieldName('command_name')?.text ?? c.text.split(/\s/)[0]!);
}

// the only node types a literal credgate writes may contain: a single-quoted string, a [char]
// cast of a hex number, a decimal number, their + joins in parentheses, and the expression
// levels the grammar wraps each in
const LITERAL_TYPES = new Set([
  'pipeline', 'pipeline_chain', 'logical_expression', 'bitwise_expression', 'comparison_expression', 'additive_expression', 'multiplicative_expression',
  'format_expression', 'range_expression', 'array_literal_expression', 'unary_expression', 'expression_with_unary_operator', 'parenthesized_expression',
  'cast_expression', 'type_literal', 'type_spec', 'type_name', 'type_identifier', 'integer_literal', 'hexadecimal_integer_literal', 'decimal_integer_literal',
  'string_literal', 'verbatim_string_characters',
]);

/**
 * The value of a node that must be one literal: a string ('...' or ('...' + [char]0x00E9 + ...),
 * starting with a string so + joins strings) or a whole number. `original` is the decoded script
 * before lexerView (the node's offsets index both), so the characters of a string are the ones
 * PowerShell reads. Throws, saying why, on anything else: a command, a variable, a subexpression,
 * an expandable string, an array, another cast.
 */
export function literalValue(node: Node, original: string): string | number {
  const atoms: Node[] = [];
  const walk = (n: Node) => {
    if (n.isNamed && !LITERAL_TYPES.has(n.type)) throw new Error(`not a literal: a ${n.type} in ${JSON.stringify(node.text.slice(0, 120))}`);
    if (!n.isNamed && !['(', ')', '+', '-', '[', ']'].includes(n.type)) throw new Error(`not a literal: "${n.type}" in ${JSON.stringify(node.text.slice(0, 120))}`);
    if (n.type === 'verbatim_string_characters' || n.type === 'cast_expression' || n.type === 'decimal_integer_literal') {
      atoms.push(n);
      return;
    }
    for (const c of n.children) if (c) walk(c);
  };
  walk(node);
  let skeleton = '';
  let at = node.startIndex;
  for (const a of atoms) {
    skeleton += original.slice(at, a.startIndex) + (a.type === 'verbatim_string_characters' ? 'S' : a.type === 'cast_expression' ? 'C' : 'N');
    at = a.endIndex;
  }
  skeleton += original.slice(at, node.endIndex);
  if (/^-?N$/.test(skeleton)) return Number(original.slice(node.startIndex, node.endIndex));
  if (!/^(S|\(S( \+ [SC])*\))$/.test(skeleton)) throw new Error(`not one string literal: ${skeleton} in ${JSON.stringify(node.text.slice(0, 120))}`);
  let value = '';
  for (const a of atoms) {
    if (a.type === 'cast_expression') {
      const m = /^\[char\]0x([0-9A-Fa-f]{1,4})$/.exec(original.slice(a.startIndex, a.endIndex));
      if (!m) throw new Error(`not a [char] of a hex number: ${a.text}`);
      value += String.fromCharCode(parseInt(m[1]!, 16));
    } else {
      // inside a single-quoted string two quote characters in a row are one, the second
      const raw = original.slice(a.startIndex + 1, a.endIndex - 1);
      for (let k = 0; k < raw.length; k++) {
        if (PS_SINGLE_QUOTES.test(raw[k]!)) k++;
        value += raw[k];
      }
    }
  }
  return value;
}

/** The first node of a type in preorder (the outermost one), or undefined. */
export function first(n: Node, type: string): Node | undefined {
  if (n.type === type) return n;
  for (const c of n.children) {
    const f = c && first(c, type);
    if (f) return f;
  }
  return undefined;
}

/** The right-hand side of the top-level assignment to a variable (`$plan = ...`). */
export function assigned(tree: Tree, variable: string): Node {
  for (const a of descendants(tree.rootNode, 'assignment_expression')) {
    const left = a.child(0);
    if (left?.text.trim().toLowerCase() === variable.toLowerCase()) {
      const value = a.childForFieldName('value');
      if (value) return value;
    }
  }
  throw new Error(`no assignment to ${variable}`);
}
