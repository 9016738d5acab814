// Observability over real runs (issue 13): every credgate channel and a logger are listened to
// while the preflight runs against the lab (Samba DC, FreeRDP NLA host, a file vault), a bulk run
// verifies accounts against the DC, a provider resolves from the Vault fixture through a 503 and
// a retry, and `credgate doctor` runs as a process (a preloaded subscriber writes its events to
// a file). Everything received must carry the documented shapes and no secret: the lab's
// passwords, the service account's, the vault token and the fixture's passwords.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import dc from 'node:diagnostics_channel';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import util from 'node:util';
import { CHANNELS, type TelemetryEvent } from '../../../src/core/telemetry.js';
import { preflight } from '../../../src/pipeline/preflight.js';
import { verifyMany } from '../../../src/bulk/verify-many.js';
import { fromFile } from '../../../src/providers/file.js';
import { fromVault } from '../../../src/providers/vault.js';
import { withLogger } from '../../../src/core/telemetry.js';
import { Secret } from '../../../src/core/secret.js';
import { assertNoLeak, knownSecrets, runCli } from '../../helpers/cli.js';
import { startVault, VAULT_TOKEN, KV2_DATA } from '../../fixtures/vendors/vault.js';
import { labPart, samba, sambaDirectory, sambaScenario, type SambaState } from '../../lab/state.js';

interface RdpLab { nla: { port: number } }
let lab: SambaState;
let rdp: RdpLab;
let tmp: string;
const NOBODY_PW = 'Obs-Nobody-Pw-9!';

beforeAll(() => {
  lab = samba();
  rdp = labPart<RdpLab>('rdp');
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-obs-'));
});
afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const fixtureSecrets = () => [VAULT_TOKEN, ...Object.values(KV2_DATA).flatMap((e) => e.versions.map((v) => String(v.data.password ?? ''))), NOBODY_PW];

/** Every channel subscribed and a logger (object shape) recording: what both received. */
function recorder() {
  const events: TelemetryEvent[] = [];
  const logged: Array<[string, TelemetryEvent, string | undefined]> = [];
  const on = (m: unknown) => events.push(m as TelemetryEvent);
  for (const n of Object.values(CHANNELS)) dc.subscribe(n, on);
  const line = (level: string) => (e: TelemetryEvent, m?: string) => logged.push([level, e, m]);
  return {
    events, logged,
    logger: { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') },
    stop: () => { for (const n of Object.values(CHANNELS)) dc.unsubscribe(n, on); },
    scan(where: string) {
      const text = JSON.stringify(events) + JSON.stringify(logged) + util.inspect(events, { depth: 6 }) + logged.map((l) => l[2]).join('\n');
      assertNoLeak(text, [...knownSecrets(), ...fixtureSecrets()], where);
    },
  };
}

describe('events over real runs, with no secret in any of them', () => {
  it('the preflight (a file vault, the DC, the NLA host): step, provider, bind events; the logger gets the same', async () => {
    const s = sambaScenario('good');
    const vaultFile = path.join(tmp, 'vault.json');
    fs.writeFileSync(vaultFile, JSON.stringify({ 'rdp/good': { username: s.downLevel, password: s.password } }), { mode: 0o600 });
    const rec = recorder();
    try {
      const r = await preflight({ host: `127.0.0.1:${rdp.nla.port}`, provider: 'vault', ref: `${vaultFile}#rdp/good` }, {
        providers: { vault: fromFile() }, directory: sambaDirectory(), logger: rec.logger,
      });
      expect(r.verdict.code).toBe('rdp.nla-ok');
    } finally {
      rec.stop();
    }
    const ends = rec.events.filter((e) => e.phase === 'end');
    const steps = ends.filter((e): e is Extract<TelemetryEvent, { channel: 'credgate:step' }> => e.channel === 'credgate:step');
    expect(Object.fromEntries(steps.map((e) => [e.step, e.status]))).toMatchObject({ provider: 'passed', 'account-state': 'passed', 'ldap-bind': 'passed', 'rdp-endpoint': 'passed', 'rdp-nla': 'passed' });
    expect(steps.find((e) => e.step === 'ldap-bind')).toMatchObject({ host: '127.0.0.1', port: rdp.nla.port, codes: expect.arrayContaining(['ldap.ok']), ms: expect.any(Number) });
    expect(ends).toContainEqual(expect.objectContaining({ channel: 'credgate:provider', op: 'resolve', provider: 'file', source: expect.stringContaining('vault.json') }));
    expect(ends).toContainEqual(expect.objectContaining({ channel: 'credgate:bind', source: 'ldap-bind', url: lab.ldapsUrl, account: s.downLevel, outcome: 'answered', code: 'ldap.ok' }));
    // every start has its end
    const starts = rec.events.filter((e) => e.phase === 'start');
    expect(starts.map((e) => e.id).sort()).toEqual(ends.map((e) => e.id).sort());
    // the logger received exactly what the channels did (the run's events), at their levels
    expect(rec.logged.map((l) => l[1])).toEqual(rec.events);
    expect(rec.logged.filter((l) => l[1].phase === 'start').every((l) => l[0] === 'debug')).toBe(true);
    rec.scan('the preflight\'s events');
  }, 30_000);

  it('a bulk run against the DC: a bind per account and progress (answered / ok / failed)', async () => {
    const s = sambaScenario('good');
    const rec = recorder();
    const results = [];
    try {
      // an account that does not exist cannot be locked out: its rejection is safe to cause
      for await (const r of verifyMany([
        { username: s.upn, password: new Secret(s.password), line: 1 },
        { username: `credgate-obs-nobody@${lab.realm.toLowerCase()}`, password: new Secret(NOBODY_PW), line: 2 },
      ], { urls: lab.ldapsUrl, caFile: lab.caFile, logger: rec.logger })) results.push(r);
    } finally {
      rec.stop();
    }
    expect(results.map((r) => r.code).sort()).toEqual(['ldap.invalid-credentials', 'ldap.ok']);
    const progress = rec.events.filter((e) => e.channel === 'credgate:bulk:progress');
    expect(progress.at(-1)).toMatchObject({ answered: 2, ok: 1, failed: 1 });
    expect(rec.events.filter((e) => e.channel === 'credgate:bind' && e.phase === 'end')).toHaveLength(2);
    expect(rec.logged.map((l) => l[1])).toEqual(rec.events);
    rec.scan('the bulk run\'s events');
  }, 30_000);

  it('a provider resolve from the Vault fixture through a 503: request events, a retry, the resolve', async () => {
    const srv = await startVault({ failFirst: [503] });
    const rec = recorder();
    try {
      const p = fromVault({ address: srv.url, caFile: srv.caFile, tokenEnv: 'VT', env: { VT: VAULT_TOKEN }, backoffMs: 5 });
      const c = await withLogger(rec.logger, () => p.resolve('kv2:secret/rdp/web01'));
      expect(c.username).toBe('PAMTEST\\svc-rdp');
      await p.dispose();
    } finally {
      rec.stop();
      await srv.close();
    }
    const requests = rec.events.filter((e) => e.channel === 'credgate:provider' && e.op === 'request' && e.phase === 'end');
    expect(requests[0]).toMatchObject({ provider: 'vault', method: 'GET', status: 503, attempt: 1, url: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+\/v1\/secret\/data\/rdp\/web01$/) });
    expect(requests[1]).toMatchObject({ status: 200, attempt: 2 });
    expect(rec.events).toContainEqual(expect.objectContaining({ channel: 'credgate:retry', what: 'http', provider: 'vault', attempt: 2, reason: '503' }));
    expect(rec.events.at(-1)).toMatchObject({ channel: 'credgate:provider', op: 'resolve', phase: 'end', source: expect.stringContaining('secret/rdp/web01') });
    rec.scan('the vault resolve\'s events');
  }, 30_000);

  it('credgate doctor as a process: a preloaded subscriber records every channel; nothing secret in it', async () => {
    const s = sambaScenario('good');
    const out = path.join(tmp, 'events.jsonl');
    const preload = path.join(tmp, 'subscribe.mjs');
    fs.writeFileSync(preload, `import dc from 'node:diagnostics_channel';\nimport fs from 'node:fs';\n` +
      `for (const n of ${JSON.stringify(Object.values(CHANNELS))}) dc.subscribe(n, (m) => fs.appendFileSync(${JSON.stringify(out)}, JSON.stringify(m) + '\\n'));\n`);
    const r = await runCli(['doctor', '--host', `127.0.0.1:${rdp.nla.port}`, '--account', s.downLevel, '--password-stdin', '--ldap', lab.ldapsUrl, '--ca-file', lab.caFile,
      '--service-user', `${lab.reader.user}@pamtest.local`, '--service-password-env', 'CREDGATE_SVC_PW', '--json'], {
      stdin: s.password, env: { CREDGATE_SVC_PW: lab.reader.password, NODE_OPTIONS: `--import=${preload}` },
    });
    expect([r.code, r.json.code]).toEqual([0, 'rdp.nla-ok']);
    const text = fs.readFileSync(out, 'utf8');
    const events = text.trim().split('\n').map((l) => JSON.parse(l) as TelemetryEvent);
    const steps = Object.fromEntries(events.filter((e) => e.channel === 'credgate:step' && e.phase === 'end').map((e) => [(e as { step: string }).step, (e as { status: string }).status]));
    expect(steps).toEqual({ provider: 'not-checked', 'account-state': 'passed', kerberos: 'not-checked', 'ldap-bind': 'passed', 'rdp-endpoint': 'passed', 'rdp-nla': 'passed', cache: 'not-checked' });
    expect(events).toContainEqual(expect.objectContaining({ channel: 'credgate:bind', phase: 'end', code: 'ldap.ok' }));
    assertNoLeak(text, [...knownSecrets(), lab.reader.password], 'the events of credgate doctor');
  }, 30_000);
});
