/** Writing a report file: whole or not at all (a temporary file beside it, renamed into place). */
import fs from 'node:fs';
import path from 'node:path';
import { CredgateError } from '../core/errors.js';

/** Fails now, with the reason, when `file` cannot be written (its folder is missing or read-only, or it is a folder). */
export function checkWritable(file: string, label = file): void {
  const dir = path.dirname(file);
  try {
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw Object.assign(new Error('a folder'), { code: 'EISDIR' });
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (e) {
    throw new CredgateError(`Cannot write the report ${label} (${(e as NodeJS.ErrnoException).code ?? 'error'}); check that its folder exists and is writable.`, { code: 'INPUT_INVALID', details: { path: label } });
  }
}

/** Write `text` to `file` atomically. */
export function writeReport(file: string, text: string, label = file): void {
  checkWritable(file, label);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new CredgateError(`Cannot write the report ${label} (${(e as NodeJS.ErrnoException).code ?? 'error'}).`, { code: 'INPUT_INVALID', details: { path: label } });
  }
}
