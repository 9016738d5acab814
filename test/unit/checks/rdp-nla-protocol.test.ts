// An RDP host that speaks CredSSP or NTLM wrongly (issue 14, defect 8): a malformed TSRequest and
// a malformed NTLM CHALLENGE are rdp.protocol-error (exit 4), reported when the bytes arrive —
// not rdp.neg-failure, not net.unreachable with a network fix. Against credssp-error-server (a
// test server, named as such) answering the first leg with the given bytes.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { makeCA, issueCert } from '../../lab/pki.mjs';
import { startCredsspErrorServer } from '../../fixtures/credssp-error-server.js';
import { tlv } from '../../helpers/ldap-server.js';
import { nlaFaultFinding, rdpFaultFinding } from '../../../src/findings/faults.js';
import { CredgateError } from '../../../src/core/errors.js';
import { main } from '../../../src/cli/main.js';

let dir: string;
let pki: { cert: Buffer; key: Buffer };
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cg-nla-proto-'));
  const ca = await makeCA(path.join(dir, 'ca'));
  const leaf = await issueCert(ca, 'rdp', { cn: '127.0.0.1', sans: ['IP:127.0.0.1'] });
  pki = { cert: fs.readFileSync(leaf.cert), key: fs.readFileSync(leaf.key) };
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** TSRequest { version 6, negoTokens { { negoToken OCTET STRING } } } (MS-CSSP 2.2.1), by hand. */
const tsRequest = (token: Buffer) => tlv(0x30, tlv(0xa0, tlv(0x02, Buffer.from([6]))), tlv(0xa1, tlv(0x30, tlv(0x30, tlv(0xa0, tlv(0x04, token))))));
// an NTLM CHALLENGE (MS-NLMP 2.2.1.2) cut after its signature, type and half a TargetNameFields
const SHORT_CHALLENGE = Buffer.concat([Buffer.from('NTLMSSP\0', 'latin1'), Buffer.from([2, 0, 0, 0, 4, 0])]);
// a whole CHALLENGE header whose TargetInfo points far past the message
const CHALLENGE_OVERRUN = (() => {
  const b = Buffer.alloc(56);
  b.write('NTLMSSP\0', 0, 'latin1');
  b.writeUInt32LE(2, 8);
  b.writeUInt32LE(0xe2888235, 20);
  b.writeUInt16LE(200, 40); // TargetInfoLen
  b.writeUInt16LE(200, 42);
  b.writeUInt32LE(4000, 44); // TargetInfoBufferOffset
  return b;
})();

const CASES: Array<[string, Buffer]> = [
  ['a TSRequest whose version overruns it', Buffer.from('3005a005020106', 'hex')],
  ['a TSRequest that is not DER at all', Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')],
  ['a malformed NTLM CHALLENGE (cut short)', tsRequest(SHORT_CHALLENGE)],
  ['a malformed NTLM CHALLENGE (TargetInfo past its end)', tsRequest(CHALLENGE_OVERRUN)],
];

async function check(port: number): Promise<{ code: number; json: { code: string; exitCode: number; findings: Array<{ code: string; remediation: Array<{ action: string }> }> } }> {
  let out = '';
  const sink = new Writable({ write(c, _e, cb) { out += String(c); cb(); } });
  const code = await main(['check', '--rdp', `127.0.0.1:${port}`, '--user', 'CORP\\carol', '--password-env', 'PW', '--timeout', '20000', '--json'], { stdout: sink, stderr: sink, env: { PW: 'Nla-Test-Pw-55' }, cwd: dir });
  return { code, json: JSON.parse(out) };
}

describe('credgate check --rdp against a host that breaks CredSSP / NTLM', () => {
  it.each(CASES)('%s: rdp.protocol-error, exit 4, at once', async (_n, reply) => {
    await using srv = await startCredsspErrorServer({ mode: 'raw', leg1Reply: reply, ...pki });
    const t0 = performance.now();
    const r = await check(srv.port);
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(r.code).toBe(4);
    expect(r.json.code).toBe('rdp.protocol-error');
    const f = r.json.findings.find((x) => x.code === 'rdp.protocol-error')!;
    expect(f.remediation[0]!.action).toContain(`127.0.0.1:${srv.port}`);
    expect(JSON.stringify(r.json)).not.toMatch(/net\.unreachable|rdp\.neg-failure|Nla-Test-Pw-55/);
  });
});

describe('the NLA fault map', () => {
  const err = (code: 'PROTOCOL_ERROR' | 'CONNECTION_FAILED', kind?: string) => new CredgateError('x', { code, details: kind ? { kind } : {} });
  it('a protocol error of any NLA layer is rdp.protocol-error; not-rdp stays rdp.not-rdp; an old CredSSP version is a negotiation failure', () => {
    for (const kind of ['credssp', 'ntlm', 'certificate', undefined]) expect(nlaFaultFinding(err('PROTOCOL_ERROR', kind), 'h', 3389)?.code).toBe('rdp.protocol-error');
    for (const kind of ['not-rdp', 'reset']) expect(nlaFaultFinding(err('PROTOCOL_ERROR', kind), 'h', 3389)?.code).toBe('rdp.not-rdp');
    expect(nlaFaultFinding(err('PROTOCOL_ERROR', 'credssp-version'), 'h', 3389)?.code).toBe('rdp.neg-failure');
    expect(rdpFaultFinding(err('PROTOCOL_ERROR', 'certificate'), 'h', 3389).code).toBe('rdp.protocol-error');
    expect(rdpFaultFinding(err('CONNECTION_FAILED', 'weird'), 'h', 3389).code).toBe('net.unreachable');
  });
});
