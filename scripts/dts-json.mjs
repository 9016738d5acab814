#!/usr/bin/env node
// After tsup: the declaration bundler writes a JSON module a source file imports (the finding
// catalog) as `var data = { ... };` into dist/*.d.ts — not valid in a declaration file (TS1046,
// TS1039: a consumer with skipLibCheck off cannot compile against credgate). This rewrites each such
// top-level block into `declare const data: { ... };` — the JSON value read as its literal type
// (another block's name used as a value becomes `typeof name`). Idempotent.
//   node scripts/dts-json.mjs [dist]
import fs from 'node:fs';
import path from 'node:path';

const dir = path.resolve(process.argv[2] ?? 'dist');
const KEYWORDS = new Set(['true', 'false', 'null']);

/** The rewritten text, or undefined when nothing needed it. */
export function fixDeclarations(text) {
  if (!/^var [\w$]+ = /m.test(text)) return undefined;
  const lines = text.split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^var ([\w$]+) = (.*)$/.exec(lines[i]);
    if (!m) {
      out.push(lines[i]);
      continue;
    }
    // the block ends on the first line that ends with ';' where the brackets balance (strings skipped)
    const block = [`declare const ${m[1]}: ${m[2]}`];
    let depth = depthOf(m[2]);
    while (!(depth === 0 && block.at(-1).trimEnd().endsWith(';')) && i + 1 < lines.length) {
      i++;
      block.push(lines[i]);
      depth += depthOf(lines[i]);
    }
    out.push(...block.map((l) => l.replace(/^(\s*(?:"(?:[^"\\]|\\.)*"|[\w$]+): )([A-Za-z_$][\w$]*)(,?)$/, (all, pre, id, comma) => (KEYWORDS.has(id) ? all : `${pre}typeof ${id}${comma}`))));
  }
  return out.join('\n');
}

function depthOf(line) {
  let d = 0;
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') d++;
    else if (c === '}' || c === ']') d--;
  }
  return d;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  let fixed = 0;
  for (const f of fs.readdirSync(dir, { recursive: true })) {
    const p = path.join(dir, String(f));
    if (!/\.d\.c?ts$/.test(p)) continue;
    const next = fixDeclarations(fs.readFileSync(p, 'utf8'));
    if (next === undefined) continue;
    fs.writeFileSync(p, next);
    fixed++;
  }
  console.log(`dts-json: ${fixed} declaration file(s) fixed`);
}
