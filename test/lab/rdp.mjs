// RDP endpoints for the lab: Xvfb (-noreset, ready via -displayfd) plus three FreeRDP shadow
// servers on free loopback ports:
//   nla     — NLA only (CredSSP/NTLM) against a FreeRDP SAM file of lab users; its own
//             auto-generated self-signed certificate (CN=<hostname>)
//   expired — TLS only, serving our EXPIRED self-signed RSA certificate (-auth: no PAM check)
//   valid   — TLS only, serving a valid certificate from a lab CA (SAN localhost, 127.0.0.1)
// The shadow server reads $XDG_CONFIG_HOME/freerdp/shadow/shadow.{crt,key}: one config dir per instance.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import { execFileP, freePort, portOpen, waitFor, which, alive, stopPid } from './proc.mjs';
import { recordPid } from './lab.mjs';
import { makeCA, issueCert } from './pki.mjs';

export const name = 'rdp';

/**
 * Lab users of the NLA server: user, domain ('' = any domain), password. Lab data, not secrets.
 * The same accounts and passwords as the Samba DC's scenario accounts, as on a domain-joined host.
 */
export const USERS = [
  { user: 'alice', domain: 'PAMTEST', password: 'Alice!Lab-2026' },
  { user: 'bob', domain: '', password: 'Bob!Current-2026' },
];

async function ntHash(pw) {
  // MD4(UTF-16LE(pw)); MD4 is in OpenSSL 3's legacy provider
  const tmp = path.join(fs.mkdtempSync('/tmp/cg-nt-'), 'pw');
  fs.writeFileSync(tmp, Buffer.from(pw, 'utf16le'), { mode: 0o600 });
  try {
    const { stdout } = await execFileP('openssl', ['dgst', '-md4', '-provider', 'legacy', '-provider', 'default', tmp]);
    return stdout.trim().split(/\s+/).pop().toUpperCase();
  } finally {
    fs.rmSync(path.dirname(tmp), { recursive: true, force: true });
  }
}

function sha(file, alg) {
  const der = new crypto.X509Certificate(fs.readFileSync(file)).raw;
  return crypto.createHash(alg).update(der).digest('hex').toUpperCase();
}

function startXvfb(dir) {
  return new Promise((resolve, reject) => {
    const log = fs.openSync(path.join(dir, 'xvfb.log'), 'a');
    const child = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1024x768x24', '-nolisten', 'tcp', '-noreset'], {
      detached: true, stdio: ['ignore', log, log, 'pipe'],
    });
    fs.closeSync(log);
    recordPid(dir, child.pid);
    let buf = '';
    const t = setTimeout(() => reject(new Error('lab: Xvfb did not report its display within 10 s')), 10000);
    child.stdio[3].on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) {
        clearTimeout(t);
        child.stdio[3].destroy();
        child.unref();
        resolve({ pid: child.pid, display: `:${buf.trim()}` });
      }
    });
    child.once('exit', (c) => {
      clearTimeout(t);
      reject(new Error(`lab: Xvfb exited with ${c}`));
    });
  });
}

function startShadow(dir, inst, display, args) {
  const cfg = path.join(dir, `cfg-${inst}`);
  fs.mkdirSync(path.join(cfg, 'freerdp', 'shadow'), { recursive: true });
  const log = fs.openSync(path.join(dir, `shadow-${inst}.log`), 'a');
  // FreeRDP's log goes to stdout, block-buffered into a file: stdbuf (coreutils) makes it line-buffered
  // so that tests reading the log ("Client ... is activated") see each line when it happens.
  // stdbuf execs the server, so the recorded PID is the server's own.
  const child = spawn('stdbuf', ['-oL', '-eL', 'freerdp-shadow-cli', ...args], {
    detached: true, stdio: ['ignore', log, log], env: { ...process.env, DISPLAY: display, XDG_CONFIG_HOME: cfg },
  });
  fs.closeSync(log);
  child.unref();
  recordPid(dir, child.pid);
  return child.pid;
}

function placeCert(dir, inst, cert) {
  const d = path.join(dir, `cfg-${inst}`, 'freerdp', 'shadow');
  fs.mkdirSync(d, { recursive: true });
  fs.copyFileSync(cert.cert, path.join(d, 'shadow.crt'));
  fs.copyFileSync(cert.key, path.join(d, 'shadow.key'));
  fs.chmodSync(path.join(d, 'shadow.key'), 0o600);
}

export async function start({ dir, log }) {
  for (const b of ['Xvfb', 'freerdp-shadow-cli']) {
    if (!which(b)) throw new Error(`lab: ${b} is not installed; run "node scripts/ensure.mjs" (apt-get install xvfb freerdp2-shadow-x11 freerdp2-x11)`);
  }
  const pki = path.join(dir, 'pki');
  const ca = await makeCA(pki, { cn: 'credgate lab CA (rdp)' });
  const [expired, valid] = await Promise.all([
    issueCert(ca, 'expired', {
      cn: 'expired.rdp.test', sans: ['DNS:expired.rdp.test', 'IP:127.0.0.1'], keyType: 'rsa', selfSigned: true,
      notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2021-01-01T00:00:00Z'),
    }),
    issueCert(ca, 'valid', { cn: 'rdp.pamtest.local', sans: ['DNS:rdp.pamtest.local', 'DNS:localhost', 'IP:127.0.0.1'], keyType: 'rsa' }),
  ]);
  placeCert(dir, 'expired', expired);
  placeCert(dir, 'valid', valid);
  const sam = path.join(dir, 'sam');
  const lines = [];
  for (const u of USERS) lines.push(`${u.user}:${u.domain}::${await ntHash(u.password)}:::`);
  fs.writeFileSync(sam, lines.join('\n') + '\n', { mode: 0o600 });
  const x = await startXvfb(dir);
  const [pNla, pExpired, pValid] = await Promise.all([freePort(), freePort(), freePort()]);
  const host = '127.0.0.1';
  const pids = [x.pid];
  pids.push(startShadow(dir, 'nla', x.display, [`/bind-address:${host}`, `/port:${pNla}`, '/sec:nla', `/sam-file:${sam}`]));
  pids.push(startShadow(dir, 'expired', x.display, [`/bind-address:${host}`, `/port:${pExpired}`, '/sec:tls', '-auth']));
  pids.push(startShadow(dir, 'valid', x.display, [`/bind-address:${host}`, `/port:${pValid}`, '/sec:tls', '-auth']));
  for (const [port, inst, pid] of [[pNla, 'nla', pids[1]], [pExpired, 'expired', pids[2]], [pValid, 'valid', pids[3]]]) {
    await waitFor(`the ${inst} RDP server on ${host}:${port}`, async () => {
      if (!alive(pid)) throw new Error(`shadow server ${inst} exited`);
      return portOpen(port, host);
    }, { timeoutMs: 20000, intervalMs: 25, logFile: path.join(dir, `shadow-${inst}.log`), pid });
  }
  const nlaCert = path.join(dir, 'cfg-nla', 'freerdp', 'shadow', 'shadow.crt');
  const clientCfg = path.join(dir, 'cfg-client');
  fs.mkdirSync(clientCfg, { recursive: true });
  log(`Xvfb ${x.display}; NLA :${pNla}, expired-cert TLS :${pExpired}, valid-cert TLS :${pValid}`);
  return {
    pids,
    display: x.display,
    host,
    caFile: ca.cert,
    users: USERS,
    sam,
    nla: { port: pNla, certFile: fs.existsSync(nlaCert) ? nlaCert : null },
    expired: { port: pExpired, certFile: expired.cert, sha256: sha(expired.cert, 'sha256'), sha1: sha(expired.cert, 'sha1') },
    valid: { port: pValid, certFile: valid.cert, sha256: sha(valid.cert, 'sha256'), sha1: sha(valid.cert, 'sha1') },
    clientEnv: { DISPLAY: x.display, XDG_CONFIG_HOME: clientCfg },
  };
}

export async function healthy(state) {
  return (await portOpen(state.nla.port)) && (await portOpen(state.expired.port)) && (await portOpen(state.valid.port));
}

export async function stop(state) {
  // shadow servers first (they hold the display), in parallel; Xvfb last
  await Promise.all(state.pids.slice(1).map((p) => stopPid(p)));
  await stopPid(state.pids[0]);
}
