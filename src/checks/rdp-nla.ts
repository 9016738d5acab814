/**
 * NLA credential check against an RDP host: X.224 with HYBRID (CredSSP) requested, TLS, then
 * CredSSP with NTLMv2 up to the point where the server has accepted the authentication AND
 * proven that it holds the session key bound to its TLS public key (pubKeyAuth). credgate stops
 * there: it NEVER sends TSCredentials, so the password never reaches the host, only the NTLMv2
 * proof of it. (xfreerdp /auth-only sends the password.)
 *
 * Answers: `rdp.nla-ok`; `rdp.logon-failure` when the server drops the connection after the
 * AUTHENTICATE message (FreeRDP, and Windows with CredSSP v2); and, when the server reports an
 * NTSTATUS in TSRequest.errorCode (CredSSP v3+, Windows), the same finding codes the LDAP
 * validator uses (`ldap.account-locked`, `ldap.password-expired`, ...), except for the statuses
 * whose meaning at NLA is the host's own (NLA_NTSTATUS: NTLM blocked, the logon type not granted,
 * an account restriction such as Protected Users). Faults throw CredgateError.
 *
 * What `rdp.nla-ok` proves: the credential, and that the host will take it at NLA — not the right
 * to an RDP session, which the host checks after authentication (Remote Desktop Users / "Allow log
 * on through Remote Desktop Services"; 0x904 / extended 0x7 when it is missing).
 */
import fs from 'node:fs';
import { onAbort } from '../core/abort.js';
import { createHash, randomBytes } from 'node:crypto';
import type tls from 'node:tls';
import { CredgateError, ConfigError, abortError } from '../core/errors.js';
import { finding, type Finding } from '../findings/finding.js';
import { fixes } from '../findings/catalog.js';
import type { Secret } from '../core/secret.js';
import { adSubCodeByNtStatus } from '../protocols/ldap/ad-codes.js';
import { connectRdp, protocolNames, PROTOCOL_HYBRID, type RdpConnection } from '../protocols/rdp/x224.js';
import { NEG_FAILURE_FINDINGS } from './rdp-endpoint.js';
import { verifyChain } from '../protocols/rdp/cert.js';
import {
  CREDSSP_VERSION, clientPubKeyAuth, decodeTsRequest, encodeTsRequest, expectedServerPubKeyAuth,
  subjectPublicKey, tsRequestLength, type TsRequest,
} from '../protocols/rdp/credssp.js';
import { buildAuthenticate, buildNegotiate, describeAvPairs, ntowfv2, parseChallenge } from '../protocols/rdp/ntlm/ntlm.js';

const SRC = 'rdp-nla';

export interface RdpNlaOptions {
  host: string;
  port?: number;
  /** `alice`, `DOMAIN\alice` or `alice@domain.example` (NTLM sends a UPN as the user name with an empty domain). */
  username: string;
  domain?: string;
  password: Secret;
  signal?: AbortSignal;
  /** One deadline for the whole check. Default 10,000 ms. */
  timeoutMs?: number;
  /**
   * CA bundle the host's RDP certificate must chain to (and be issued for `host`); when given, any
   * other certificate stops the check before any proof is sent. A bundle holding the host's own
   * certificate pins it. Without one the NTLMv2 proof goes to a host whose identity is unverified.
   */
  caFile?: string | string[];
  /** NetBIOS name the AUTHENTICATE message names as the client workstation. Default empty. */
  workstation?: string;
  /** Highest CredSSP version to announce, 2–6 (default 6). Lower it only to reproduce an old client. */
  credsspVersion?: number;
}

/** NTSTATUS codes a CredSSP server reports that are not in the AD table (ad-codes.ts). */
export const NTSTATUS_EXTRA: Record<number, { name: string; code: 'ldap.invalid-credentials' | 'rdp.logon-failure'; message: string }> = {
  0xc000006a: { name: 'STATUS_WRONG_PASSWORD', code: 'ldap.invalid-credentials', message: 'The password is wrong for this account.' },
  0xc0000022: { name: 'STATUS_ACCESS_DENIED', code: 'rdp.logon-failure', message: 'The RDP host denied access to this account at the NLA step.' },
  0x8009030c: { name: 'SEC_E_LOGON_DENIED', code: 'rdp.logon-failure', message: 'The RDP host denied the logon at the NLA step.' },
};

/**
 * NTSTATUS values whose meaning at the NLA step is the host's, not the account's: their own rdp.*
 * codes, looked up before the AD table (a bind never meets them, or means something else by them).
 */
export const NLA_NTSTATUS: Record<number, { name: string; code: 'rdp.ntlm-blocked' | 'rdp.logon-type-not-granted' | 'rdp.account-restriction'; message: string }> = {
  0xc0000418: { name: 'STATUS_NTLM_BLOCKED', code: 'rdp.ntlm-blocked', message: 'NTLM is blocked for this logon (by the host or its domain controller), and the NLA check speaks NTLM' },
  0xc000015b: { name: 'STATUS_LOGON_TYPE_NOT_GRANTED', code: 'rdp.logon-type-not-granted', message: 'the account has not been granted the logon type NLA needs on this host (network logon, Remote Desktop Users)' },
  0xc000006e: { name: 'STATUS_ACCOUNT_RESTRICTION', code: 'rdp.account-restriction', message: 'an account restriction stops it (a member of Protected Users authenticating with NTLM, or a blank password)' },
};

const hex32 = (n: number) => `0x${(n >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;

/** The catalog's fixes for a logon the host rejected at the NLA step. */
const logonFailureFix = (code: 'ldap.invalid-credentials' | 'rdp.logon-failure') =>
  code === 'rdp.logon-failure' ? fixes('rdp.logon-failure', 'default') : fixes('ldap.invalid-credentials', 'nla');

/** Map a TSRequest errorCode to the finding the LDAP validator would give for the same cause. */
export function ntStatusFinding(status: number, evidence: Record<string, unknown>): Finding {
  const s = status >>> 0;
  const ev = { ...evidence, ntstatus: hex32(s) };
  const own = NLA_NTSTATUS[s];
  if (own) return finding(SRC, own.code, 'error', `The RDP host refused the logon at the NLA step with ${own.name}: ${own.message}.`, { ...ev, ntstatusName: own.name }, fixes(own.code, 'default'));
  const ad = adSubCodeByNtStatus(s);
  if (ad) {
    return finding(SRC, ad.finding, 'error', `The RDP host refused the logon at the NLA step: ${ad.message.charAt(0).toLowerCase()}${ad.message.slice(1)}`,
      { ...ev, ntstatusName: ad.ntstatusName, win32: ad.win32Name }, ad.remediation);
  }
  const extra = NTSTATUS_EXTRA[s];
  if (extra) {
    return finding(SRC, extra.code, 'error', `The RDP host refused the logon at the NLA step: ${extra.message.charAt(0).toLowerCase()}${extra.message.slice(1)}`,
      { ...ev, ntstatusName: extra.name }, logonFailureFix(extra.code));
  }
  return finding(SRC, 'rdp.logon-failure', 'error', `The RDP host refused the logon at the NLA step with status ${hex32(s)}.`, ev, logonFailureFix('rdp.logon-failure'));
}

/**
 * The NTLM user and domain fields: `DOMAIN\user` is split (its own domain wins); a UPN stays whole
 * as the user name with an empty domain, as Windows clients send it (MS-NLMP 2.2.1.3); a plain
 * name takes `domain` (or none).
 */
export function ntlmIdentity(username: string, domain?: string): { user: string; domain: string } {
  const name = username.trim();
  const empty = () => new ConfigError('The user name for the NLA check is empty; pass alice, DOMAIN\\alice or alice@domain.', { code: 'CONFIG_INVALID', details: { option: 'user' } });
  if (!name) throw empty();
  const bs = name.indexOf('\\');
  if (bs > 0) {
    const user = name.slice(bs + 1);
    if (!user) throw empty();
    return { user, domain: name.slice(0, bs) };
  }
  const at = name.lastIndexOf('@');
  if (at > 0 && at < name.length - 1) return { user: name, domain: '' };
  return { user: name, domain: domain?.trim() ?? '' };
}

/** Reads whole TSRequests from the TLS stream, bounded; a close or reset is reported as such. */
class TsReader {
  private buf: Buffer = Buffer.alloc(0);
  private closed: 'end' | 'error' | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly sock: tls.TLSSocket) {
    sock.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.wake?.();
    });
    sock.on('end', () => this.close('end'));
    sock.on('close', () => this.close('end'));
    sock.on('error', () => this.close('error'));
  }

  private close(why: 'end' | 'error') {
    this.closed ??= why;
    this.wake?.();
  }

  /** The next TSRequest's bytes, or `{ closed }` when the server hung up first. */
  async next(signal: AbortSignal, what: string): Promise<Buffer | { closed: 'end' | 'error' }> {
    for (;;) {
      const len = tsRequestLength(this.buf);
      if (len) {
        const out = this.buf.subarray(0, len);
        this.buf = this.buf.subarray(len);
        return out;
      }
      if (this.closed) return { closed: this.closed };
      if (signal.aborted) throw abortError(signal, `Waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const stop = onAbort(signal, resolve);
        this.wake = () => {
          stop();
          this.wake = undefined;
          resolve();
        };
      });
    }
  }
}

function readCa(caFile: string | string[] | undefined): Buffer[] | undefined {
  if (caFile === undefined) return undefined;
  return (Array.isArray(caFile) ? caFile : [caFile]).map((f) => {
    try {
      return fs.readFileSync(f);
    } catch (e) {
      throw new ConfigError(`The CA bundle ${f} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}); check the --ca path.`, { code: 'CONFIG_INVALID', cause: e, details: { option: 'ca', path: f } });
    }
  });
}

function negotiationFinding(conn: RdpConnection, host: string, port: number): Finding | undefined {
  const n = conn.negotiation;
  const ev = { host, port, requested: protocolNames(PROTOCOL_HYBRID) };
  if (n.kind === 'failure') {
    // the probe's code for each RDP_NEG_FAILURE, with the catalog's NLA fixes (INCONSISTENT_FLAGS and
    // SSL_WITH_USER_AUTH_REQUIRED lead with their own)
    const code = NEG_FAILURE_FINDINGS[n.failureCode]?.code ?? 'rdp.neg-failure';
    return finding(SRC, code, 'error', `The host does not offer NLA (it answered ${n.failureName}), so the credential cannot be checked at the NLA step.`, { ...ev, failureCode: n.failureCode, failureName: n.failureName }, fixes(code, 'nla'));
  }
  if (n.kind === 'legacy') return finding(SRC, 'rdp.neg-failure', 'error', 'The host speaks only legacy RDP security (no NLA), so the credential cannot be checked at the NLA step.', ev, fixes('rdp.neg-failure', 'nla'));
  if (!(n.selectedProtocol & PROTOCOL_HYBRID)) {
    return finding(SRC, 'rdp.neg-failure', 'error', `The host selected ${protocolNames(n.selectedProtocol).join('+')} instead of NLA (CredSSP).`, { ...ev, selected: protocolNames(n.selectedProtocol) }, fixes('rdp.neg-failure', 'nla'));
  }
  return undefined;
}

/**
 * Check a credential at the RDP host's NLA step without ever sending it. Returns findings
 * (`rdp.nla-ok`, `rdp.logon-failure`, or an account-state code); throws CredgateError on faults.
 */
export async function validateRdpNla(o: RdpNlaOptions): Promise<Finding[]> {
  const port = o.port ?? 3389;
  const timeoutMs = o.timeoutMs ?? 10_000;
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = o.signal ? AbortSignal.any([o.signal, deadline]) : deadline;
  const id = ntlmIdentity(o.username, o.domain);
  const ours = o.credsspVersion ?? CREDSSP_VERSION;
  if (!Number.isInteger(ours) || ours < 2 || ours > CREDSSP_VERSION) {
    throw new ConfigError(`The CredSSP version must be an integer from 2 to ${CREDSSP_VERSION}; got ${String(o.credsspVersion)}.`, { code: 'CONFIG_INVALID', details: { option: 'credsspVersion' } });
  }
  const ca = readCa(o.caFile);
  const t0 = performance.now();
  if (signal.aborted) throw abortError(signal, `The NLA check of ${o.host}:${port}`);

  const conn = await connectRdp({ host: o.host, port, requestedProtocols: PROTOCOL_HYBRID, signal, timeoutMs, ...(ca ? { ca } : {}) });
  try {
    const negFinding = negotiationFinding(conn, o.host, port);
    if (negFinding) return [negFinding];
    const sock = conn.socket as tls.TLSSocket;
    if (!conn.peerCertificate) throw new CredgateError(`The RDP host ${o.host}:${port} presented no TLS certificate, so the NLA check cannot bind to it.`, { code: 'TLS_FAILED', details: { kind: 'tls', host: o.host, port } });
    const certSha256 = createHash('sha256').update(conn.peerCertificate).digest('hex').toUpperCase();
    // a bundle holding this very certificate pins it (as the client's CertHash does): its identity is proven whatever names it carries
    const pinned = ca ? verifyChain(conn.peerCertificate, ca).pinned === true : false;
    if (ca && conn.tlsAuthorizationError && !pinned) {
      const wrongName = conn.tlsAuthorizationError === 'ERR_TLS_CERT_ALTNAME_INVALID';
      throw new CredgateError(wrongName
        ? `The RDP certificate of ${o.host}:${port} chains to the given CA but is not issued for ${o.host} (${conn.tlsAuthorizationError}); credgate sent no proof of the password. Connect with a name the certificate carries, or reissue it with ${o.host} in its subjectAltName.`
        : `The RDP certificate of ${o.host}:${port} does not chain to the given CA (${conn.tlsAuthorizationError}); credgate sent no proof of the password. Fix the host's certificate or the --ca bundle.`, {
        code: 'TLS_FAILED', details: { kind: 'untrusted', host: o.host, port, reason: conn.tlsAuthorizationError, sha256: certSha256, ...(wrongName ? { nameMismatch: true } : {}) },
      });
    }
    const publicKey = subjectPublicKey(conn.peerCertificate);
    const reader = new TsReader(sock);
    const send = (r: TsRequest) => {
      if (r.authInfo) throw new CredgateError('credgate never sends TSCredentials.', { code: 'INTERNAL' });
      sock.write(encodeTsRequest(r));
    };
    const lost = (phase: string, why: string) => new CredgateError(`The RDP host ${o.host}:${port} closed the connection ${phase} (${why}); it is not accepting NLA logons right now.`, {
      code: 'CONNECTION_FAILED', details: { kind: 'closed', host: o.host, port, phase },
    });

    // leg 1: NEGOTIATE → CHALLENGE
    const negotiate = buildNegotiate();
    send({ version: ours, negoTokens: [negotiate] });
    const r1 = await reader.next(signal, 'the NTLM CHALLENGE');
    if (!Buffer.isBuffer(r1)) throw lost('after the NTLM NEGOTIATE', r1.closed === 'error' ? 'reset' : 'closed');
    const ts1 = decodeTsRequest(r1);
    const base = { host: o.host, port, user: id.user, domain: id.domain, credsspVersion: Math.min(ts1.version, ours), certSha256 };
    if (ts1.errorCode !== undefined) return [ntStatusFinding(ts1.errorCode, { ...base, phase: 'negotiate' })];
    const token = ts1.negoTokens?.[0];
    if (!token) throw new CredgateError(`The RDP host ${o.host}:${port} answered the NTLM NEGOTIATE without a CHALLENGE.`, { code: 'PROTOCOL_ERROR', details: { kind: 'credssp', host: o.host, port } });
    const challenge = parseChallenge(token);
    const version = Math.min(ts1.version, ours);
    if (version < 2) throw new CredgateError(`The RDP host ${o.host}:${port} speaks CredSSP version ${ts1.version}; credgate needs 2 or later.`, { code: 'PROTOCOL_ERROR', details: { kind: 'credssp-version', version: ts1.version } });
    const server = {
      ...describeAvPairs(challenge.avPairs),
      ...(challenge.version ? { ntlmServerVersion: `${challenge.version.major}.${challenge.version.minor}.${challenge.version.build}` } : {}),
    };

    // leg 2: AUTHENTICATE + pubKeyAuth (+ clientNonce for v5+). The password is used here only, as NTOWFv2.
    const auth = buildAuthenticate({
      negotiate, challenge, user: id.user, domain: id.domain,
      responseKeyNT: ntowfv2({ user: id.user, domain: id.domain, password: o.password.reveal() }),
      ...(o.workstation ? { workstation: o.workstation } : {}),
      spn: `TERMSRV/${o.host}`,
    });
    const nonce = version >= 5 ? randomBytes(32) : undefined;
    const sealed = auth.session.seal(clientPubKeyAuth(version, publicKey, nonce));
    // every TSRequest announces credgate's own highest version (MS-CSSP 2.2.1); the binding follows the negotiated one
    send({ version: ours, negoTokens: [auth.message], pubKeyAuth: Buffer.concat([sealed.signature, sealed.sealed]), ...(nonce ? { clientNonce: nonce } : {}) });

    const r2 = await reader.next(signal, 'the answer to the NTLM AUTHENTICATE');
    const timingMs = Math.round(performance.now() - t0);
    const evidence = { ...base, credsspVersion: version, server, timingMs };
    if (!Buffer.isBuffer(r2)) {
      return [finding(SRC, 'rdp.logon-failure', 'error', `The RDP host ${o.host} rejected the user name or password at the NLA step (it closed the connection after the NTLM AUTHENTICATE without a status).`,
        { ...evidence, serverAnswer: r2.closed === 'error' ? 'connection reset after AUTHENTICATE' : 'connection closed after AUTHENTICATE' }, logonFailureFix('rdp.logon-failure'))];
    }
    const ts2 = decodeTsRequest(r2);
    if (ts2.errorCode !== undefined) return [ntStatusFinding(ts2.errorCode, { ...evidence, phase: 'authenticate' })];
    if (!ts2.pubKeyAuth || ts2.pubKeyAuth.length < 16) {
      throw new CredgateError(`The RDP host ${o.host}:${port} accepted the NTLM AUTHENTICATE without proving its public key; credgate stopped.`, { code: 'PROTOCOL_ERROR', details: { kind: 'credssp', host: o.host, port } });
    }
    const plain = auth.session.unseal(ts2.pubKeyAuth.subarray(0, 16), ts2.pubKeyAuth.subarray(16));
    const expected = expectedServerPubKeyAuth(version, publicKey, nonce);
    if (!plain || !plain.equals(expected)) {
      throw new CredgateError(`The RDP host ${o.host}:${port} answered with a public-key proof that does not match its TLS certificate (a TLS-intercepting proxy or a broken server); credgate stopped before sending anything else.`, {
        code: 'TLS_FAILED', details: { kind: 'pubkey-mismatch', host: o.host, port, signatureValid: plain !== undefined, certSha256 },
      });
    }
    return [finding(SRC, 'rdp.nla-ok', 'ok', `The RDP host ${o.host} accepted the credential at the NLA step and proved its identity (credgate sent no password).`,
      { ...evidence, selectedProtocol: 'HYBRID', tlsProtocol: conn.tlsProtocol, tlsAuthorizationError: conn.tlsAuthorizationError ?? null, ...(pinned ? { pinnedCertificate: true } : {}) })];
  } catch (e) {
    if (e instanceof CredgateError) throw e;
    if (signal.aborted) throw abortError(signal, `The NLA check of ${o.host}:${port}`);
    throw new CredgateError(`The NLA check of ${o.host}:${port} failed unexpectedly.`, { code: 'INTERNAL', cause: e });
  } finally {
    conn.close();
  }
}
