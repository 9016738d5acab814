// Lab PKI with the openssl CLI: a lab CA and leaf certificates with any validity window
// (`openssl ca` takes explicit -startdate/-enddate, so expired and not-yet-valid certificates
// need no time shifting). Used by every lab part that serves TLS.
import fs from 'node:fs';
import path from 'node:path';
import { execFileP } from './proc.mjs';

const CA_CNF = (dir) => `[ ca ]
default_ca = labca
[ labca ]
dir = ${dir}
database = ${dir}/index.txt
new_certs_dir = ${dir}/newcerts
serial = ${dir}/serial
default_md = sha256
policy = pol_any
unique_subject = no
copy_extensions = copy
[ pol_any ]
commonName = supplied
organizationName = optional
[ v3_leaf ]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_subca ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

function gtime(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
}

async function key(file, type) {
  if (type === 'rsa') {
    await execFileP('openssl', ['genrsa', '-traditional', '-out', file, '2048']);
  } else if (type === 'rsa1024') {
    await execFileP('openssl', ['genrsa', '-traditional', '-out', file, '1024']);
  } else {
    await execFileP('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', file]);
  }
  fs.chmodSync(file, 0o600);
}

/** Create a lab CA in dir (ca.crt, ca.key). */
export async function makeCA(dir, { cn = 'credgate lab CA', keyType = 'ec' } = {}) {
  fs.mkdirSync(path.join(dir, 'newcerts'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'index.txt'), '');
  fs.writeFileSync(path.join(dir, 'serial'), '1000\n');
  fs.writeFileSync(path.join(dir, 'ca.cnf'), CA_CNF(dir));
  await key(path.join(dir, 'ca.key'), keyType);
  await execFileP('openssl', [
    'req', '-x509', '-new', '-key', path.join(dir, 'ca.key'), '-days', '3650', '-sha256',
    '-subj', `/CN=${cn}/O=credgate lab`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-out', path.join(dir, 'ca.crt'),
  ]);
  return { dir, cert: path.join(dir, 'ca.crt'), key: path.join(dir, 'ca.key') };
}

/**
 * Issue a leaf certificate. sans: ['DNS:host', 'IP:127.0.0.1']. selfSigned: sign with its own
 * key instead of the CA. notBefore/notAfter: Dates (default now-1h .. now+365d).
 */
export async function issueCert(ca, name, {
  cn, sans = [], notBefore = undefined, notAfter = undefined, keyType = 'ec', selfSigned = false, md = 'sha256', outDir = undefined,
}) {
  const dir = outDir ?? ca.dir;
  const keyFile = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const crt = path.join(dir, `${name}.crt`);
  await key(keyFile, keyType);
  const reqArgs = ['req', '-new', '-key', keyFile, '-subj', `/CN=${cn}/O=credgate lab`, '-out', csr];
  if (sans.length) reqArgs.push('-addext', `subjectAltName=${sans.join(',')}`);
  await execFileP('openssl', reqArgs);
  const start = notBefore ?? new Date(Date.now() - 3600e3);
  const end = notAfter ?? new Date(Date.now() + 365 * 86400e3);
  const args = ['ca', '-batch', '-config', path.join(ca.dir, 'ca.cnf'), '-extensions', 'v3_leaf', '-md', md,
    '-startdate', gtime(start), '-enddate', gtime(end), '-in', csr, '-out', crt, '-notext'];
  if (selfSigned) args.push('-selfsign', '-keyfile', keyFile);
  else args.push('-cert', ca.cert, '-keyfile', ca.key);
  await execFileP('openssl', args);
  return { cert: crt, key: keyFile };
}

/**
 * An intermediate CA signed by `parent`, usable as the `ca` of issueCert. notBefore/notAfter as
 * for issueCert (an expired intermediate is a chain-validation case).
 */
export async function makeSubCA(parent, dir, { cn = 'credgate lab intermediate CA', keyType = 'ec', notBefore = undefined, notAfter = undefined } = {}) {
  fs.mkdirSync(path.join(dir, 'newcerts'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'index.txt'), '');
  fs.writeFileSync(path.join(dir, 'serial'), '2000\n');
  fs.writeFileSync(path.join(dir, 'ca.cnf'), CA_CNF(dir));
  const keyFile = path.join(dir, 'ca.key');
  const csr = path.join(dir, 'ca.csr');
  const crt = path.join(dir, 'ca.crt');
  await key(keyFile, keyType);
  await execFileP('openssl', ['req', '-new', '-key', keyFile, '-subj', `/CN=${cn}/O=credgate lab`, '-out', csr]);
  const start = notBefore ?? new Date(Date.now() - 3600e3);
  const end = notAfter ?? new Date(Date.now() + 5 * 365 * 86400e3);
  await execFileP('openssl', ['ca', '-batch', '-config', path.join(parent.dir, 'ca.cnf'), '-extensions', 'v3_subca', '-md', 'sha256',
    '-startdate', gtime(start), '-enddate', gtime(end), '-in', csr, '-out', crt, '-notext', '-cert', parent.cert, '-keyfile', parent.key]);
  return { dir, cert: crt, key: keyFile };
}
