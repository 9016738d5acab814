/** The fault of a step stopped by the preflight's deadline or by the caller's abort (never confused). */
import { CredgateError } from '../core/errors.js';
import type { StepDeps, StepName } from './types.js';

export function stepStopped(d: Pick<StepDeps, 'deadline' | 'deadlineMs'>, name: StepName): CredgateError {
  return d.deadline.aborted
    ? new CredgateError(`The ${name} step did not finish within the preflight deadline of ${d.deadlineMs} ms.`, { code: 'TIMEOUT', details: { deadlineMs: d.deadlineMs } })
    : new CredgateError(`The ${name} step was aborted by the caller.`, { code: 'ABORTED' });
}
