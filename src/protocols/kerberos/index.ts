// Public surface of the Kerberos protocol client: the three calls (asProbe sends no password;
// asExchange and tgsExchange send one password proof), KDC discovery and parsing helpers, and the
// result types. Everything else in this folder is internal.
export { asProbe, asExchange, tgsExchange, SENDS_PASSWORD_PROOF } from './client.js';
export { discoverKdcs, parseKdcAddress, parseKdcList, KERBEROS_PORT, type KdcAddress, type SrvRecord, type SrvResolver, type DiscoverOptions } from './kdcs.js';
export { parseClientPrincipal, parseServicePrincipal, normalizeRealm, type ClientPrincipal, type PrincipalOptions, type ServicePrincipal } from './principal.js';
export { ETYPE, KRB_ERR, NTSTATUS, SUPPORTED_ETYPES, etypeName, krbErrorName, ntstatusName, failureReason, type KerberosFailureReason, type SupportedEtype } from './constants.js';
export type { KerberosTransport, ConnectionFailureKind } from './transport.js';
export type {
  AsExchangeOptions,
  AsExchangeResult,
  AsKeyMismatch,
  AsKrbError,
  AsOk,
  AsProbePreauthRequired,
  AsProbeNoPreauth,
  AsProbeResult,
  AsProofWithheld,
  AsUnsupported,
  EDataSummary,
  EtypeOffer,
  ExchangeFacts,
  KdcClock,
  KdcFailover,
  KerberosCallOptions,
  KrbErrorFacts,
  ProofFacts,
  ServiceTicketResult,
  TgsExchangeOptions,
  TgsExchangeResult,
} from './types.js';
