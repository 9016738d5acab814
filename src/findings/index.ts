// credgate/findings: the finding catalog, one verdict from many findings, and the fault → finding →
// exit code map. Re-exports only.
export { finding, worstSeverity, type Finding, type FindingCode, type Severity, type Verdict, type Remediation } from './finding.js';
export { CATALOG, EXIT_CODES, fixes, isFindingCode, catalogRow, exitCodeForCategory, type CatalogRow, type Category, type FixContext, type FixVariant, type Owner } from './catalog.js';
export { diagnose, decideAccount, causeOf, exitCodeFor, rowFor, isFailure, CAUSES, type CauseRow, type AccountDecision } from './diagnose.js';
export { exitCodeForError, exitCodeForErrorCode, exitCodeForSignal, stepFaultFinding, connectionFinding, rdpFaultFinding, nlaFaultFinding, errnoOf, type DirectoryTarget } from './faults.js';
