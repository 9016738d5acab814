/** `credgate probe`: the RDP host alone (reachability, negotiation, certificate); no credential. */
import { probeRdp } from '../../checks/rdp-endpoint.js';
import { parseHostPort } from '../../core/target.js';
import { diagnose } from '../../findings/diagnose.js';
import type { Command } from '../types.js';
import { alsoAccepted, hostArgument, intOption, parse } from '../args.js';
import { lines, mark, say, style, t, verdictJson, type Shown } from '../render.js';
import { exitCode, exitCodeHelp, type ExitMeanings } from '../exit-help.js';

const EXITS: ExitMeanings = {
  ok: 'reachable and healthy (without --ca-file a self-signed certificate is reported and a name mismatch warned about, not failed, as mstsc users accept them)',
  usage: 'usage',
  unreachable: 'unreachable, not RDP, refused negotiation, or a TLS or certificate failure (expired, not yet valid; with --ca-file also untrusted or not issued for <host>)',
  internal: 'internal error',
};

const USAGE = `Usage: credgate probe <host>[:port] [--ca-file <pem>] [--address <ip>...] [--expiring-days <n>] [--timeout <ms>] [--json]

Probes an RDP host without any credential: DNS (every address), TCP, the X.224 security
negotiation (TLS / NLA offered, required, refused), then the TLS certificate: expired, not yet
valid, expiring soon, self-signed, untrusted against --ca-file, name mismatch, weak key or SHA-1.
Prints the SHA-1 thumbprint Windows shows (certlm.msc, the client's CertHash) and the SHA-256.

  <host>[:port]          web01.corp.example, web01:3390, [2001:db8::5]:3389 (default port 3389);
                         or --host <host>[:port], as in doctor and launch
  --ca-file <pem>        CA bundle the RDP certificate must chain to (or the host's own certificate,
                         to pin it); with it, an untrusted certificate or one not issued for
                         <host> is a failure (exit ${exitCode('unreachable')}), as in check
  --address <ip>         connect to this IP instead of resolving <host> (repeatable, like curl
                         --resolve); the certificate is still checked against <host>
  --expiring-days <n>    warn when the certificate expires within n days (default 30)
  --timeout <ms>         deadline for the whole probe (default 10000)
  --json                 one JSON object
${alsoAccepted(['timeout'])}

${exitCodeHelp(EXITS)}`;

export const probeCommand: Command = {
  name: 'probe',
  summary: 'probe an RDP host: reachability, negotiation (TLS/NLA), the TLS certificate',
  usage: USAGE,
  exits: EXITS,
  async run(argv, io) {
    const { values: v, positionals } = parse('probe', argv, {
      host: { type: 'string' },
      'ca-file': { type: 'string', multiple: true },
      address: { type: 'string', multiple: true },
      'expiring-days': { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
    }, true);
    const { host, port } = parseHostPort(hostArgument('probe', v, positionals));
    const r = await probeRdp({
      host, port,
      ...(v['ca-file'] ? { caFile: v['ca-file'] as string[] } : {}),
      ...(v.address ? { addresses: v.address as string[] } : {}),
      expiringDays: intOption('expiring-days', v['expiring-days'] as string | undefined, 30, 0, 3650),
      timeoutMs: intOption('timeout', v.timeout as string | undefined, 10_000, 100, 600_000),
    });
    const verdict = diagnose(r.findings, r.timings);
    if (v.json) {
      io.stdout.write(verdictJson(verdict, { host, port, ...(r.sha1Thumbprint ? { sha1Thumbprint: r.sha1Thumbprint } : {}), nlaRequired: r.nlaRequired ?? null }));
      return verdict.exitCode;
    }
    const s = style(io);
    const out: Shown[] = [];
    out.push(t`${verdict.ok ? s.green(s.bold('OK')) : s.red(s.bold('FAIL'))}  ${s.bold(`${host}:${port}`)} — ${verdict.cause} ${s.dim(`[${verdict.code}]`)}`);
    for (const f of r.findings) out.push(t`  ${mark(s, f.severity)} ${f.message} ${s.dim(`[${f.code}]`)}`);
    const reach = r.findings.find((f) => f.code === 'rdp.reachable');
    const cert = reach?.evidence.certificate as Record<string, string> | undefined;
    if (reach) out.push(s.dim(t`  addresses: ${(reach.evidence.addresses as string[]).join(', ')}; selected ${String(reach.evidence.selectedProtocol)}${reach.evidence.tlsProtocol ? ` (${String(reach.evidence.tlsProtocol)})` : ''}`));
    if (cert) {
      // the certificate's names are the host's text: escaped like any other
      out.push(t`  certificate: ${cert.subject}, issued by ${cert.issuer}, valid until ${cert.notAfter}`);
      out.push(t`  thumbprint (SHA-1): ${cert.sha1Thumbprint}`);
      out.push(t`  SHA-256: ${cert.sha256Fingerprint}`);
    }
    if (verdict.remediation.length) {
      out.push(t`  ${s.bold(verdict.ok ? 'notes:' : 'fix:')}`);
      verdict.remediation.slice(0, 5).forEach((x, i) => out.push(t`    ${i + 1}. ${x.action}`));
    }
    out.push(s.dim(`  timings: ${Object.entries(r.timings).map(([k, ms]) => `${k} ${Math.round(ms)} ms`).join(', ')}`));
    say(io.stdout, lines(out));
    return verdict.exitCode;
  },
};
