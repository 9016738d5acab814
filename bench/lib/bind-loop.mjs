#!/usr/bin/env node
// A bind loop as a process of its own, for bench/verify-cli.mjs: reads an accounts CSV (a header
// with username and password columns, RFC 4180 quoting on one line) as a stream and binds every
// account over `conns` persistent LDAPS connections with the password policy control, writing
// nothing. Two clients:
//   raw     the hand-encoded BER loop of bench/lib/raw-bind.mjs (no LDAP library)
//   ldapts  ldapts Client.bind re-binding over `conns` persistent clients (ldapts' own Control for
//           the request control, no value)
//   wire    credgate's wire client (src/protocols/ldap/connection.ts, bundled by the caller into the
//           module given as the sixth argument): LdapWireConnection.bind with the ppolicy control,
//           its answer decoded (result code, diagnostic, ppolicy control), nothing else of credgate
// Exit code 0 when every bind succeeded; on failure one line on stderr.
// Usage: node bench/lib/bind-loop.mjs raw|ldapts|wire <accounts.csv> <ldaps-url> <ca.pem> <conns> [wire module]
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { PPOLICY_OID, rawLoop } from './raw-bind.mjs';

/** The fields of one CSV line (quoted fields with "" inside; no line breaks inside a field). */
function csvFields(line) {
  const out = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let v = '';
      let j = i + 1;
      for (;;) {
        const q = line.indexOf('"', j);
        if (q < 0) throw new Error('unterminated quote');
        v += line.slice(j, q);
        if (line[q + 1] === '"') {
          v += '"';
          j = q + 2;
        } else {
          i = q + 2;
          break;
        }
      }
      out.push(v);
    } else {
      const c = line.indexOf(',', i);
      const end = c < 0 ? line.length : c;
      out.push(line.slice(i, end).replace(/\r$/, ''));
      i = end + 1;
    }
  }
  return out;
}

/** { dn, password } for each data line of the CSV, streamed. */
async function* accounts(file) {
  let rest = '';
  let cols;
  for await (const chunk of fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 256 * 1024 })) {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop();
    for (const line of lines) {
      if (!line) continue;
      const f = csvFields(line);
      if (!cols) {
        cols = { user: f.indexOf('username'), password: f.indexOf('password') };
        continue;
      }
      yield { dn: f[cols.user], password: f[cols.password] };
    }
  }
  if (rest) {
    const f = csvFields(rest);
    yield { dn: f[cols.user], password: f[cols.password] };
  }
}

async function ldaptsLoop(url, ca, input, conns) {
  const { Client, Control } = await import('ldapts');
  const it = input[Symbol.asyncIterator]();
  let binds = 0;
  let bad = 0;
  await Promise.all(Array.from({ length: conns }, async () => {
    const c = new Client({ url, tlsOptions: { ca } });
    for (let r = await it.next(); !r.done; r = await it.next()) {
      binds++;
      try {
        await c.bind(r.value.dn, r.value.password, [new Control(PPOLICY_OID)]);
      } catch {
        bad++;
      }
    }
    await c.unbind();
  }));
  return { binds, bad };
}

async function wireLoop(url, ca, input, conns) {
  const { LdapWireConnection } = await import(pathToFileURL(wireModule).href);
  const u = new URL(url);
  const it = input[Symbol.asyncIterator]();
  let binds = 0;
  let bad = 0;
  await Promise.all(Array.from({ length: conns }, async () => {
    const c = await LdapWireConnection.connect({ host: u.hostname, port: Number(u.port), mode: 'ldaps', tls: { ca }, timeoutMs: 10_000 });
    for (let r = await it.next(); !r.done; r = await it.next()) {
      binds++;
      if ((await c.bind(r.value.dn, r.value.password, { ppolicy: true, timeoutMs: 10_000 })).resultCode !== 0) bad++;
    }
    c.dispose();
  }));
  return { binds, bad };
}

const [side, file, url, caFile, conns, wireModule] = process.argv.slice(2);
const ca = fs.readFileSync(caFile);
const loop = side === 'raw' ? rawLoop : side === 'ldapts' ? ldaptsLoop : side === 'wire' && wireModule ? wireLoop : undefined;
if (!loop) {
  process.stderr.write('usage: bind-loop.mjs raw|ldapts|wire <accounts.csv> <ldaps-url> <ca.pem> <conns> [wire module]\n');
  process.exit(2);
}
const { binds, bad } = await loop(url, ca, accounts(file), Number(conns));
if (bad) {
  process.stderr.write(`${side}: ${bad} of ${binds} binds failed\n`);
  process.exitCode = 1;
}
