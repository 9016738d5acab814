// Who the Kerberos client asks for: the client principal and realm from a user name (UPN,
// DOMAIN\user or a bare name), and a service principal from an SPN such as TERMSRV/host.
//
// A UPN (alice@corp.example) is sent as an NT-ENTERPRISE name by default, with the realm taken
// from the UPN suffix (or the realm option). In AD a UPN is an attribute of the account, not its
// principal name: its prefix need not be the sAMAccountName and its suffix need not be the DNS
// domain (alternative UPN suffixes). As NT-ENTERPRISE (with the canonicalize option) the KDC looks
// the UPN up as Windows logon does, and since the client takes the salt from PA-ETYPE-INFO2 the
// name form never changes the key. `enterprise: false` sends NT-PRINCIPAL "alice" instead, which
// is what MIT kinit does and what a non-AD KDC may require.
import { CredgateError } from '../../core/errors.js';
import { NT } from './constants.js';
import type { PrincipalName } from './messages.js';

export interface ClientPrincipal {
  /** Upper-case realm the AS-REQ is sent for. */
  realm: string;
  /** The cname exactly as sent. */
  name: PrincipalName;
  /** How the user name was written. */
  form: 'upn' | 'down-level' | 'bare';
  /** The user part (for a UPN, the part before the @). */
  user: string;
  /** Salt to use when the KDC sends none: realm followed by the name components (RFC 4120 section 4). */
  defaultSalt: string;
  /** Printable principal, e.g. alice@PAMTEST.LOCAL or alice\@corp.example@CORP.EXAMPLE. */
  display: string;
}

export interface PrincipalOptions {
  /** The realm, when the user name does not say it (DOMAIN\user, bare names) or to override a UPN suffix. */
  realm?: string;
  /** DNS domain for bare names and NetBIOS-qualified names (a NetBIOS name alone cannot give the realm). */
  defaultDomain?: string;
  /** Send a UPN as NT-ENTERPRISE (default true) or as NT-PRINCIPAL with its prefix. */
  enterprise?: boolean;
}

const REALM_RE = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,253}[A-Za-z0-9])?$/;
const CONTROL_RE = /[\u0000-\u001f\u007f]/;

function invalid(message: string, details: Record<string, unknown>): CredgateError {
  return new CredgateError(message, { code: 'CONFIG_INVALID', details });
}

/** Upper-case a realm and check it is a plausible DNS-style realm name. */
export function normalizeRealm(realm: string, option = 'realm'): string {
  const r = realm.trim();
  if (!REALM_RE.test(r)) throw invalid(`The Kerberos realm "${r}" is not a valid realm name; pass ${option} as a DNS-style name such as CORP.EXAMPLE.`, { option });
  return r.toUpperCase();
}

const isDnsDomain = (s: string) => s.includes('.') && REALM_RE.test(s);

function checkPart(part: string, username: string, what: string): string {
  if (!part || CONTROL_RE.test(part) || part.length > 256) {
    throw invalid(`The user name "${username.slice(0, 300)}" has an empty or invalid ${what}; pass the account as user@dns.domain, DOMAIN\\user with realm, or a bare name with realm.`, { what });
  }
  return part;
}

function realmFor(username: string, opts: PrincipalOptions, domainPart?: string): string {
  if (opts.realm) return normalizeRealm(opts.realm);
  if (domainPart && isDnsDomain(domainPart)) return domainPart.toUpperCase();
  if (opts.defaultDomain && isDnsDomain(opts.defaultDomain.trim())) return opts.defaultDomain.trim().toUpperCase();
  const netbios = domainPart ?? opts.defaultDomain;
  throw invalid(
    netbios
      ? `Cannot tell the Kerberos realm of "${username}": "${netbios}" is a NetBIOS domain name, not a realm; pass realm (e.g. realm: 'CORP.EXAMPLE') or a DNS defaultDomain.`
      : `Cannot tell the Kerberos realm of "${username}": the name has no domain; pass realm (e.g. realm: 'CORP.EXAMPLE') or a DNS defaultDomain.`,
    { option: 'realm', username },
  );
}

/** Parse a user name into the client principal and realm of an AS-REQ. Throws CONFIG_INVALID. */
export function parseClientPrincipal(username: string, opts: PrincipalOptions = {}): ClientPrincipal {
  const name = username.trim();
  if (!name) throw invalid('The user name is empty; pass the account as user@dns.domain, DOMAIN\\user or a bare name.', {});
  const slash = name.indexOf('\\');
  if (slash >= 0) {
    const domain = checkPart(name.slice(0, slash), name, 'domain');
    const user = checkPart(name.slice(slash + 1), name, 'user part');
    if (/[\\@/]/.test(user)) throw invalid(`The user name "${name}" has a \\, @ or / after the domain; pass DOMAIN\\user or user@dns.domain.`, {});
    const realm = realmFor(name, opts, domain);
    return principal(realm, { nameType: NT.PRINCIPAL, names: [user] }, 'down-level', user);
  }
  const at = name.lastIndexOf('@');
  if (at >= 0) {
    const user = checkPart(name.slice(0, at), name, 'user part');
    const suffix = checkPart(name.slice(at + 1), name, 'UPN suffix');
    if (!opts.realm && !isDnsDomain(suffix)) {
      throw invalid(`Cannot tell the Kerberos realm of "${name}": "${suffix}" is not a DNS domain; pass realm (e.g. realm: 'CORP.EXAMPLE').`, { option: 'realm', username: name });
    }
    const realm = opts.realm ? normalizeRealm(opts.realm) : suffix.toUpperCase();
    if (opts.enterprise === false) {
      if (user.includes('@')) throw invalid(`The user name "${name}" has two @ signs; an NT-PRINCIPAL name cannot contain @ (leave enterprise on).`, {});
      return principal(realm, { nameType: NT.PRINCIPAL, names: user.split('/') }, 'upn', user);
    }
    return principal(realm, { nameType: NT.ENTERPRISE, names: [`${user}@${suffix}`] }, 'upn', user);
  }
  const realm = realmFor(name, opts);
  return principal(realm, { nameType: NT.PRINCIPAL, names: name.split('/') }, 'bare', name);
}

function principal(realm: string, name: PrincipalName, form: ClientPrincipal['form'], user: string): ClientPrincipal {
  const enterprise = name.nameType === NT.ENTERPRISE;
  const saltNames = enterprise ? [user] : name.names;
  return {
    realm,
    name,
    form,
    user,
    defaultSalt: realm + saltNames.join(''),
    display: `${name.names.map((n) => n.replace(/\\/g, '\\\\').replace(/@/g, '\\@')).join('/')}@${realm}`,
  };
}

export interface ServicePrincipal {
  realm: string;
  name: PrincipalName;
  display: string;
}

/** Parse an SPN ("TERMSRV/host", "HOST/host.corp.example@CORP.EXAMPLE"); NT-SRV-INST. */
export function parseServicePrincipal(spn: string, defaultRealm: string): ServicePrincipal {
  const s = spn.trim();
  const at = s.lastIndexOf('@');
  const body = at >= 0 ? s.slice(0, at) : s;
  const realm = at >= 0 ? normalizeRealm(s.slice(at + 1), 'the SPN realm') : defaultRealm;
  const names = body.split('/');
  if (names.length < 2 || names.length > 4 || names.some((n) => !n || CONTROL_RE.test(n) || n.length > 256 || n.includes('@'))) {
    throw invalid(`"${s.slice(0, 300)}" is not a service principal name; pass it as service/host, e.g. TERMSRV/rdp01.corp.example.`, { spn: s.slice(0, 300) });
  }
  return { realm, name: { nameType: NT.SRV_INST, names }, display: `${names.join('/')}@${realm}` };
}
