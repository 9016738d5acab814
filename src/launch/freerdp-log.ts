/**
 * Reading FreeRDP 2.x's log (WLog) as the client runs: the session-established signal and the
 * client's own account of a failure — ERRCONNECT_* (libfreerdp/core/errconnect.c, set through
 * freerdp_set_last_error_ex), ERRINFO_* (the server's Set Error Info PDU, errinfo.c), the
 * certificate refusal of libfreerdp/crypto/tls.c and the RDP_NEG_FAILURE of nego.c — and its
 * exit code (client/X11/xfreerdp.h, XF_EXIT_*). Pure functions over text: no process here.
 *
 * The established signal is the DEBUG line of com.freerdp.core.connection
 * `rdp_client_transition_to_state CONNECTION_STATE_FINALIZATION --> CONNECTION_STATE_ACTIVE`:
 * the connection sequence of MS-RDPBCGR 1.3.1.1 is complete (licensing, capabilities, the
 * finalization PDUs), which FreeRDP logs once per activation. It is the only line FreeRDP 2.11
 * writes at that point; INFO lines after it (gdi, channels) depend on the host and the build.
 */

/** The WLog settings that make FreeRDP write what this module reads (INFO, plus the connection state at DEBUG). */
export const FREERDP_LOG_LEVEL = 'INFO';
export const FREERDP_LOG_FILTER = 'com.freerdp.core.connection:DEBUG';

export type LogLevel = 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'FATAL';

export interface LogLine {
  level: LogLevel;
  /** The logger: `com.freerdp.core`, `com.freerdp.crypto`, ... */
  tag: string;
  text: string;
}

// [14:57:03:091] [27632:27640] [ERROR][com.freerdp.crypto] - certificate not trusted, aborting.
const LINE = /^\[[\d:]+\] \[\d+:\d+\] \[(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)\]\[([^\]]+)\] - (.*)$/;

export function parseLogLine(raw: string): LogLine | undefined {
  const m = LINE.exec(raw.replace(/\r$/, ''));
  return m ? { level: m[1] as LogLevel, tag: m[2]!, text: m[3]! } : undefined;
}

/** A FreeRDP error code as it names itself: `ERRCONNECT_TLS_CONNECT_FAILED [0x00020008]`. */
export interface NamedCode {
  name: string;
  /** The code without its class: 0x8 for ERRCONNECT_TLS_CONNECT_FAILED, 0x7 for ERRINFO_SERVER_DENIED_CONNECTION. */
  code: number;
  /** As FreeRDP printed it. */
  hex: string;
}

/** What the client's log has said so far. */
export interface ClientLog {
  /** CONNECTION_STATE_ACTIVE was reached. */
  active: boolean;
  /** The first ERRCONNECT_* the client set (later ones are consequences of it). */
  errconnect?: NamedCode;
  /** The first ERRINFO_* the server sent. */
  errinfo?: NamedCode & { description?: string };
  /** tls.c: "certificate not trusted, aborting." */
  certRefused: boolean;
  /** tls.c: "WARNING: CERTIFICATE NAME MISMATCH!" and the names the certificate carries. */
  nameMismatch: boolean;
  certNames: string[];
  /** tls.c: "REMOTE HOST IDENTIFICATION HAS CHANGED" (known_hosts2 holds another certificate). */
  hostKeyChanged: boolean;
  /** OpenSSL's verdict on the chain: "self-signed certificate (18)". */
  verifyFailure?: string;
  /** nego.c: "Error: HYBRID_REQUIRED_BY_SERVER". */
  negoFailure?: string;
  /** x11: "failed to open display". */
  displayFailed: boolean;
  /** freerdp.c: "freerdp_post_connect failed" / "freerdp_pre_connect failed". */
  connectPhaseFailed?: 'pre-connect' | 'post-connect';
  /** utils: "Caught signal 'Terminated' [15]". */
  caughtSignal?: string;
  /** Failures logged so far (errors set, certificate refused, a connect phase failed), and how many there were when the session became active. */
  failures: number;
  failuresAtActive?: number;
  /** The lines that decided the above (WARN and worse, and the state lines), newest last, at most 40. */
  lines: string[];
  /** Set when the line after "Common Name (CN):" is the CN. */
  expectCn?: boolean;
  expectNames?: boolean;
}

export function emptyClientLog(): ClientLog {
  return { active: false, failures: 0, certRefused: false, nameMismatch: false, certNames: [], hostKeyChanged: false, displayFailed: false, lines: [] };
}

const SET_ERROR = /freerdp_set_last_error_ex (ERR(?:CONNECT|INFO)_[A-Z0-9_]+) \[0x([0-9A-Fa-f]{8})\]/;
const ERRINFO_PRINT = /^(ERRINFO_[A-Z0-9_]+) \(0x([0-9A-Fa-f]{8})\):(.*)$/;
const ERRINFO_UNKNOWN = /^ERRINFO_UNKNOWN 0x([0-9A-Fa-f]{8}):/;
const ACTIVE = /--> CONNECTION_STATE_ACTIVE$/;
const MAX_LINES = 40;

function keep(log: ClientLog, l: LogLine): void {
  if (/^@+$/.test(l.text)) return; // the banner's frame
  log.lines.push(`[${l.level}][${l.tag}] ${l.text}`);
  if (log.lines.length > MAX_LINES) log.lines.shift();
}

/** Fold one raw log line into what the log has said (returns the same object). */
export function readLogLine(log: ClientLog, raw: string): ClientLog {
  const l = parseLogLine(raw);
  if (!l) return log;
  const t = l.text;
  if (log.expectCn) {
    log.expectCn = false;
    const cn = t.trim();
    if (cn && cn !== 'no CN found in certificate' && !log.certNames.includes(cn)) log.certNames.push(cn);
  } else if (log.expectNames && /^\s/.test(t) && l.tag === 'com.freerdp.crypto') {
    if (!log.certNames.includes(t.trim())) log.certNames.push(t.trim());
  } else {
    log.expectNames = false;
  }
  if (l.tag === 'com.freerdp.core.connection' && ACTIVE.test(t)) {
    log.active = true;
    log.failuresAtActive = log.failures;
    keep(log, l);
    return log;
  }
  const set = SET_ERROR.exec(t);
  if (set) {
    const full = parseInt(set[2]!, 16);
    const named = { name: set[1]!, code: full & 0xffff, hex: `0x${set[2]!.toUpperCase()}` };
    log.failures++;
    if (named.name.startsWith('ERRCONNECT_')) log.errconnect ??= named;
    else log.errinfo ??= named;
    keep(log, l);
    return log;
  }
  const info = ERRINFO_PRINT.exec(t);
  if (info) {
    const code = parseInt(info[2]!, 16);
    if (!log.errinfo || log.errinfo.code === code) log.errinfo = { name: info[1]!, code, hex: `0x${info[2]!.toUpperCase()}`, description: info[3]!.trim() };
    keep(log, l);
    return log;
  }
  const unknown = ERRINFO_UNKNOWN.exec(t);
  if (unknown) {
    log.errinfo ??= { name: 'ERRINFO_UNKNOWN', code: parseInt(unknown[1]!, 16), hex: `0x${unknown[1]!.toUpperCase()}` };
    keep(log, l);
    return log;
  }
  if (l.tag === 'com.freerdp.crypto') {
    if (t === 'certificate not trusted, aborting.') {
      log.certRefused = true;
      log.failures++;
    }
    else if (t.includes('WARNING: CERTIFICATE NAME MISMATCH!')) log.nameMismatch = true;
    else if (t.includes('REMOTE HOST IDENTIFICATION HAS CHANGED')) log.hostKeyChanged = true;
    else if (t === 'Common Name (CN):') log.expectCn = true;
    else if (t === 'Alternative names:') log.expectNames = true;
    const v = /^Certificate verification failure '(.*)' at stack position/.exec(t);
    if (v) log.verifyFailure ??= v[1]!;
  }
  const nego = /^Error: ([A-Z_]+_BY_SERVER|SSL_CERT_NOT_ON_SERVER|INCONSISTENT_FLAGS|SSL_[A-Z_]+)$/.exec(t);
  if (nego && l.tag === 'com.freerdp.core.nego') log.negoFailure ??= nego[1]!;
  if (/failed to open display/.test(t)) log.displayFailed = true;
  if (t === 'freerdp_post_connect failed' || t === 'freerdp_pre_connect failed') {
    log.connectPhaseFailed ??= t === 'freerdp_post_connect failed' ? 'post-connect' : 'pre-connect';
    log.failures++;
  }
  const sig = /^Caught signal '([^']+)' \[(\d+)\]$/.exec(t);
  if (sig) log.caughtSignal ??= sig[1]!;
  // the backtrace after a caught signal is noise; everything else from WARN up is evidence
  if ((l.level === 'WARN' || l.level === 'ERROR' || l.level === 'FATAL') && !(l.tag === 'com.freerdp.utils' && /^\d+: /.test(t))) keep(log, l);
  return log;
}

/** Fold a chunk of log text (whole lines) into the state. */
export function readLogText(log: ClientLog, text: string): ClientLog {
  for (const raw of text.split('\n')) readLogLine(log, raw);
  return log;
}
