// credgate's report: one self-contained HTML page (no script, no external asset) from verify
// outputs, cache inspect / purge and doctor results. Re-exports only.
export { readReportInput, reportInputOf } from './read.js';
export { readVerifyOutput } from './verify-input.js';
export { buildReport, type ReportOptions } from './build.js';
export { checkWritable, writeReport } from './write.js';
export { escapeHtml, html, Html } from './html.js';
export { ROW_CAP, type ReportInput, type VerifyReport, type CacheReport, type DoctorReport, type Histogram } from './types.js';
