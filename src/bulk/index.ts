// credgate/bulk: many accounts against one directory — the pool, account files, resume, results,
// the run's summary, and createPreflight (one configuration for many targets). Re-exports only.
export { verifyMany, type AccountLine, type VerifyResult, type VerifyManyOptions } from './verify-many.js';
export { createSummary, type VerifySummary, type SummaryBuilder } from './summary.js';
export { readAccounts, csvRecords, jsonlRecords, type AccountFileOptions, type InputRecord } from './input.js';
export type { CsvDelimiter } from './csv-delimiter.js';
export { AccountStates, readPreviousOutput, type ResumeState } from './resume.js';
export { resultLine } from './results.js';
export { createPreflight } from './session.js';
