// credgate's public SDK surface: re-exports only, by layer. Wire codecs (X.224, CredSSP, NTLM, the
// LDAP bind codec) and helpers (http, options, SigV4) stay internal.

// core: errors, secrets, names
export { Secret, scrub, REDACTED_TEXT } from './core/secret.js';
export {
  CredgateError, ConfigError, ProviderError, ConnectionError, UnsupportedPlatformError,
  ERROR_CODES, ERROR_CLASSES, isCredgateError, type ErrorCode, type CredgateErrorOptions,
} from './core/errors.js';
export { parseAccountName, CredentialRefSchema, type FetchedCredential, type CredentialRef, type AccountName, type AccountForm } from './core/credential.js';
export { parseHostPort } from './core/target.js';
export {
  CHANNELS, withLogger, type ChannelName, type TelemetryEvent, type TelemetryLogger,
  type StepEvent, type ProviderEvent, type BindEvent, type RetryEvent, type BulkProgressEvent, type WarningEvent,
} from './core/telemetry.js';

// findings: the catalog, one verdict, faults → findings → exit codes
export { finding, worstSeverity, type Finding, type FindingCode, type Severity, type Verdict, type Remediation } from './findings/finding.js';
export { CATALOG, EXIT_CODES, fixes, isFindingCode, type CatalogRow, type Category, type FixContext, type FixVariant, type Owner } from './findings/catalog.js';
export { diagnose, decideAccount, causeOf, exitCodeFor, CAUSES, type CauseRow, type AccountDecision } from './findings/diagnose.js';
export { exitCodeForError } from './findings/faults.js';

// protocols: what a caller may want to read itself
export { AD_SUBCODES, adSubCode, adSubCodeByNtStatus, parseAdDiagnostic, type AdSubCode } from './protocols/ldap/ad-codes.js';
export { decodePasswordPolicyValue, PasswordPolicyControl, PPOLICY_OID, type PasswordPolicyResponse } from './protocols/ldap/ppolicy.js';
export { parseLdapUrls, type LdapTransportOptions } from './protocols/ldap/transport.js';
export { filetimeToDate, dateToFiletime } from './protocols/ldap/filetime.js';
export { certInfo, certMatchesHost, chainTrusted, verifyChain, type CertInfo, type ChainResult } from './protocols/rdp/cert.js';
export {
  asProbe, asExchange, tgsExchange, discoverKdcs, parseKdcList, parseClientPrincipal, SENDS_PASSWORD_PROOF,
  type AsExchangeOptions, type AsExchangeResult, type AsProbeResult, type TgsExchangeOptions, type TgsExchangeResult,
  type KerberosCallOptions, type KerberosFailureReason, type ProofFacts, type ServiceTicketResult, type SrvResolver,
} from './protocols/kerberos/index.js';

// providers
export { defineProvider, isProvider, type Provider, type OwnedProvider, type ResolveOptions } from './providers/types.js';
export { fromEnv, type EnvProviderOptions, type EnvRef } from './providers/env.js';
export { fromStdin, type StdinProviderOptions } from './providers/stdin.js';
export { fromFile, FileCredentialSchema, type FileProviderOptions, type FileRef, type FileProviderWarning, type FileCredential } from './providers/file.js';
export { fromKeychain, type KeychainProviderOptions, type KeychainRef, type KeytarApi } from './providers/keychain.js';
export { secretServiceModified, type SecretServiceTimeOptions } from './platform/secret-service.js';
export { fromLaps, type LapsProviderOptions, type LapsRef } from './providers/laps.js';
export { fromVault, parseVaultRef, type VaultProviderOptions, type VaultRef } from './providers/vault.js';
export { fromCyberArkCcp, CYBERARK_ERRORS, type CyberArkCcpOptions, type CyberArkRef } from './providers/cyberark.js';
export { fromDelinea, type DelineaOptions, type DelineaRef } from './providers/delinea.js';
export { fromAzureKeyVault, parseKeyVaultRef, type AzureKeyVaultOptions, type AzureKeyVaultRef } from './providers/azure-keyvault.js';
export { fromAwsSecretsManager, type AwsSecretsManagerOptions, type AwsSecretsManagerRef } from './providers/aws-secrets-manager.js';
export { chain, memoize } from './providers/compose.js';
export { loadConfig, createProvider, defineConfig, testRefOf, ConfigSchema, type CredgateConfig, type ProviderConfigEntry } from './providers/config.js';
export { PROVIDER_TYPES, loadProviderFactory, type ProviderFactory } from './providers/registry.js';

// checks
export { validateLdapBind, type LdapBindOptions } from './checks/ldap-bind.js';
export { bindAnswerFindings, type BindAnswer } from './checks/ldap-answer.js';
export { readAccountState, stateFindings, oneFailureFromLockout, type AccountState, type AccountStateOptions, type AccountStateResult } from './checks/account-state.js';
export { probeRdp, probeRdpEndpoint, type ProbeOptions, type ProbeResult } from './checks/rdp-endpoint.js';
export { analyseCertificate, type CertAnalysisOptions } from './checks/rdp-cert.js';
export { validateRdpNla, ntStatusFinding, ntlmIdentity, NTSTATUS_EXTRA, NLA_NTSTATUS, type RdpNlaOptions } from './checks/rdp-nla.js';
export { validateKerberos, asFindings, spnFindings, type KerberosCheckOptions, type KerberosCheckResult } from './checks/kerberos.js';
export { connectionFinding, rdpFaultFinding, nlaFaultFinding, kdcFaultFinding } from './findings/faults.js';

// cache
export { inspectCache, sameAccount, type InspectInput, type InspectResult } from './cache/inspect.js';
export { planPurge, cmdkeyCommands, powershellScript, executePurge, type PurgePlan, type PurgeItem, type AuditRecord } from './cache/purge.js';
export { parseCmdkeyList } from './cache/sources/cmdkey.js';
export { parseRdpRegistryExport } from './cache/sources/rdp-registry.js';
export { readCollectorFile, COLLECTOR_PS1, COLLECTOR_SCHEMA } from './cache/sources/collector.js';
export { loadCacheFile, mergeSnapshots } from './cache/load.js';
export { windowsCredentialManager } from './cache/sources/credman.js';
export { hostKey, sameHost } from './cache/hosts.js';
export { normalizeTarget, termsrvHost, type CachedCredential, type RdpServerHint, type CacheSnapshot, type CacheSource } from './cache/types.js';

// pipeline
export { preflight } from './pipeline/preflight.js';
export { headline, logonRightNote, HEADLINES } from './pipeline/verdict.js';
export { checkCredential, guardAccount, type CredentialCheckOptions, type CredentialCheckResult, type AccountGuard } from './pipeline/credential-check.js';
export { runCheck, type CheckOptions } from './pipeline/check.js';
export {
  NO_BIND, stopsBind, bindStop, directoryRefusal, kerberosRefusal, nlaGate, passwordGate, TRY_ORDER,
  type NlaGateInput, type PasswordGateInput, type EarlierTry, type PasswordTry,
} from './pipeline/lockout-policy.js';
export type { PreflightTarget, PreflightOptions, PreflightReport, StepReport, StepName, StepStatus, DirectoryConfig, KerberosConfig, CacheConfig } from './pipeline/types.js';

// bulk
export { verifyMany, type AccountLine, type VerifyResult, type VerifyManyOptions } from './bulk/verify-many.js';
export type { BulkKerberosOptions } from './bulk/types.js';
export { createSummary, type VerifySummary, type SummaryBuilder } from './bulk/summary.js';
export { readAccounts, csvRecords, jsonlRecords, type AccountFileOptions, type InputRecord } from './bulk/input.js';
export type { CsvDelimiter } from './bulk/csv-delimiter.js';
export { AccountStates, readPreviousOutput, type ResumeState } from './bulk/resume.js';
export { resultLine } from './bulk/results.js';
export { createPreflight } from './bulk/session.js';

// launch
export { buildRdpFile, encodeRdpFile, planLaunch, launch, type LaunchOptions, type LaunchPlan, type RdpFileOptions } from './launch/launch.js';
export { clientTrust, type ClientTrust, type MstscNote } from './launch/client-trust.js';
export { clientEnv, type ClientEnvOptions } from './launch/client-env.js';
export type { ClientSession, LaunchOutcome, SessionEnd } from './launch/session.js';
