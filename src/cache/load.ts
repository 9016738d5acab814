/**
 * Read cache inputs from files, recognising each by content: collector JSON, a `reg export`
 * of the RDP client key, or captured `cmdkey /list` text.
 */
import fs from 'node:fs';
import { CredgateError } from '../core/errors.js';
import { readCollectorFile } from './collector.js';
import { parseCmdkeyList } from './cmdkey.js';
import { parseRdpRegistryExport } from './rdp-registry.js';
import { decodeWindowsText, MAX_INPUT_BYTES } from './text.js';
import { emptySnapshot, type CacheSnapshot } from './types.js';

export function loadCacheFile(file: string): CacheSnapshot {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch (e) {
    throw new CredgateError(`Cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'}); check the path given to --from.`, { code: 'INPUT_INVALID', cause: e, details: { file } });
  }
  if (!st.isFile()) throw new CredgateError(`${file} is not a file.`, { code: 'INPUT_INVALID', details: { file } });
  if (st.size > MAX_INPUT_BYTES) throw new CredgateError(`${file} is ${st.size} bytes, over the ${MAX_INPUT_BYTES}-byte limit for one input; split it.`, { code: 'INPUT_INVALID', details: { file } });
  const buf = fs.readFileSync(file);
  const { text } = decodeWindowsText(buf, file);
  const head = text.replace(/^\uFEFF/, '').trimStart();
  if (head.startsWith('{')) return readCollectorFile(file, buf);
  if (/^(Windows Registry Editor Version 5\.00|REGEDIT4)/.test(head)) {
    const r = parseRdpRegistryExport(buf, file);
    return { ...emptySnapshot(), hints: r.hints, mru: r.mru, warnings: r.warnings };
  }
  const r = parseCmdkeyList(buf, file);
  if (r.entries.length === 0 && head.length > 0 && !/credentials|anmeldeinformationen|identification|credenciales/i.test(head.slice(0, 300))) {
    throw new CredgateError(`${file} is neither collector JSON, a registry export, nor cmdkey /list output.`, { code: 'INPUT_INVALID', details: { file } });
  }
  return { ...emptySnapshot(), entries: r.entries, warnings: r.warnings };
}

export function mergeSnapshots(list: CacheSnapshot[]): CacheSnapshot {
  const out = emptySnapshot();
  for (const s of list) {
    for (const e of s.entries) out.entries.push(e);
    for (const h of s.hints) out.hints.push(h);
    out.mru.push(...s.mru);
    out.warnings.push(...s.warnings);
  }
  return out;
}
