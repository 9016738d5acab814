// credgate's public SDK surface: re-exports only. Each module adds its line here.
export { Secret, scrub, REDACTED_TEXT } from './core/secret.js';
export {
  CredgateError, ConfigError, ProviderError, ConnectionError, UnsupportedPlatformError,
  ERROR_CODES, isCredgateError, type ErrorCode, type CredgateErrorOptions,
} from './core/errors.js';
export { finding, worstSeverity, type Finding, type Severity, type Verdict, type Remediation } from './core/findings.js';
export { parseAccountName, CredentialRefSchema, type FetchedCredential, type CredentialRef, type AccountName, type AccountForm } from './core/credential.js';
export { diagnose, causeOf, exitCodeFor, CAUSES, EXIT_CODES, type CauseRow, type Category } from './diagnose.js';
export { defineProvider, isProvider, type Provider, type ResolveOptions } from './providers/types.js';
export { fromEnv, type EnvProviderOptions } from './providers/env.js';
export { validateLdapBind, type LdapBindOptions } from './validators/ldap-bind.js';
export { readAccountState, stateFindings, filetimeToDate, dateToFiletime, type AccountState, type AccountStateOptions, type AccountStateResult } from './validators/account-state.js';
export { checkCredential, type CredentialCheckOptions, type CredentialCheckResult } from './validators/credential-check.js';
export { AD_SUBCODES, adSubCode, adSubCodeByNtStatus, parseAdDiagnostic, type AdSubCode } from './validators/ad-codes.js';
export { decodePasswordPolicyValue, PasswordPolicyControl, PPOLICY_OID, type PasswordPolicyResponse } from './validators/ppolicy.js';
export { parseLdapUrls, type LdapTransportOptions } from './validators/ldap-common.js';
export { preflight, createPreflight, parseHostPort, headline, type PreflightTarget, type PreflightOptions, type PreflightReport, type StepReport, type StepName, type StepStatus, type DirectoryConfig } from './preflight.js';
export { buildRdpFile, encodeRdpFile, planLaunch, launch, type LaunchOptions, type LaunchPlan, type RdpFileOptions } from './launch.js';
export { probeRdp, probeRdpEndpoint, type ProbeOptions, type ProbeResult } from './validators/rdp-endpoint.js';
export { analyseCertificate, certInfo, certMatchesHost, chainTrusted, type CertInfo, type CertAnalysisOptions } from './validators/rdp-cert.js';
export { connectRdp, buildConnectionRequest, parseConnectionConfirm, protocolNames, PROTOCOL_RDP, PROTOCOL_SSL, PROTOCOL_HYBRID, PROTOCOL_HYBRID_EX, NEG_FAILURE, type Negotiation, type RdpConnection, type ConnectRdpOptions } from './validators/rdp-x224.js';
export { inspectCache, sameAccount, type InspectInput, type InspectResult } from './cache/staleness.js';
export { planPurge, cmdkeyCommands, powershellScript, executePurge, type PurgePlan, type PurgeItem, type AuditRecord } from './cache/purge.js';
export { parseCmdkeyList } from './cache/cmdkey.js';
export { parseRdpRegistryExport } from './cache/rdp-registry.js';
export { readCollectorFile, COLLECTOR_PS1, COLLECTOR_SCHEMA } from './cache/collector.js';
export { loadCacheFile, mergeSnapshots } from './cache/load.js';
export { windowsCredentialManager } from './cache/windows-credman.js';
export { hostKey, sameHost } from './cache/hosts.js';
export { normalizeTarget, termsrvHost, type CachedCredential, type RdpServerHint, type CacheSnapshot, type CacheSource } from './cache/types.js';
export { verifyMany, createSummary, readAccounts, csvRecords, jsonlRecords, type AccountLine, type VerifyResult, type VerifyManyOptions, type VerifySummary, type AccountFileOptions, type InputRecord } from './bulk.js';
export { fromStdin, type StdinProviderOptions } from './providers/stdin.js';
export { fromFile, FileCredentialSchema, type FileProviderOptions, type FileProviderWarning, type FileCredential } from './providers/file.js';
export { fromKeychain, type KeychainProviderOptions, type KeytarApi } from './providers/keychain.js';
export { fromLaps, type LapsProviderOptions } from './providers/laps.js';
export { validateRdpNla, ntStatusFinding, ntlmIdentity, NTSTATUS_EXTRA, type RdpNlaOptions } from './validators/rdp-nla.js';
export { encodeTsRequest, decodeTsRequest, tsRequestLength, subjectPublicKey, clientPubKeyAuth, expectedServerPubKeyAuth, CREDSSP_VERSION, type TsRequest } from './validators/credssp.js';
export { buildNegotiate, parseChallenge, buildAuthenticate, parseAuthenticate, parseAvPairs, encodeAvPairs, ntowfv1, ntowfv2, NtlmSession, NTLM_FLAGS, AV as NTLM_AV, type ChallengeMessage, type AuthenticateResult, type AvPair } from './validators/ntlm/ntlm.js';
export { md4 } from './validators/ntlm/md4.js';
export { Rc4, rc4 } from './validators/ntlm/rc4.js';
