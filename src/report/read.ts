/**
 * A report's inputs, whatever produced them and when: a file's kind is told by its first record (a
 * verify output is JSON Lines whose first line is a result record) or by the members of its JSON
 * object (cache inspect, cache purge, doctor). Big files are read as they stream.
 */
import fs from 'node:fs';
import { CredgateError } from '../core/errors.js';
import { readJsonMembers, visitObject } from './json-members.js';
import { jsonFold } from './json-input.js';
import { readVerifyOutput, recordProblem } from './verify-input.js';
import type { CacheReport, DoctorReport, ReportInput } from './types.js';

/** How much of a file's start is read to tell its kind (a verify record is far shorter). */
const HEAD_BYTES = 1024 * 1024;

/** The kind of input a file holds, by its first bytes. */
function kindOf(head: string): 'verify' | 'json' | undefined {
  const text = head.replace(/^\uFEFF/, '').trimStart();
  if (!text.startsWith('{')) return undefined;
  const nl = text.indexOf('\n');
  try {
    if (recordProblem(JSON.parse(nl < 0 ? text : text.slice(0, nl))) === undefined) return 'verify';
  } catch {
    // not one object on the first line: a JSON object over several lines
  }
  return 'json';
}

function unreadable(file: string, e: unknown): CredgateError {
  return new CredgateError(`Cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'error'}); check the path.`, { code: 'INPUT_INVALID', details: { path: file } });
}

/**
 * Read one input file into its part of a report (`source`: how the report names it, the path by
 * default). Throws INPUT_INVALID naming the file (and the line) when it is not one of credgate's
 * outputs a report reads.
 */
export async function readReportInput(file: string, source: string = file): Promise<ReportInput> {
  let head: string;
  try {
    const fh = await fs.promises.open(file, 'r');
    try {
      if (!(await fh.stat()).isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
      const buf = Buffer.alloc(HEAD_BYTES);
      const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
      head = buf.subarray(0, bytesRead).toString('utf8');
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw unreadable(source, e);
  }
  const kind = kindOf(head);
  if (kind === undefined) {
    const what = head.trim() ? 'is not JSON' : 'is empty';
    throw new CredgateError(`${source} ${what}; a report reads credgate verify --output files (JSON Lines) and the --json output of cache inspect, cache purge and doctor.`, { code: 'INPUT_INVALID', details: { path: source } });
  }
  if (kind === 'verify') return readVerifyOutput(file, source);
  const fold = jsonFold(source);
  await readJsonMembers(fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 256 * 1024 }), fold.visitor, source);
  return fold.result();
}

/** A report's part from a cache inspect / purge or doctor result in memory, shaped as its --json output. */
export function reportInputOf(json: Record<string, unknown>, source: string): CacheReport | DoctorReport {
  const fold = jsonFold(source);
  visitObject(json, fold.visitor);
  return fold.result();
}
