/**
 * Windows LAPS / legacy Microsoft LAPS: the managed local administrator password of a computer,
 * read from its computer object in Active Directory by a reader service account, over LDAPS or
 * StartTLS (never plain LDAP: the reader's password and the LAPS password both cross the wire).
 *
 * Attributes (Microsoft, "Windows LAPS schema extensions reference"):
 *   msLAPS-Password                JSON {"n": account, "t": hex FILETIME update time, "p": password}
 *   msLAPS-PasswordExpirationTime  FILETIME (not confidential: readable without the read right)
 *   msLAPS-EncryptedPassword       encrypted blob (DPAPI-NG) — credgate cannot decrypt it
 *   ms-Mcs-AdmPwd                  legacy LAPS clear-text password (the account name is not stored)
 *   ms-Mcs-AdmPwdExpirationTime    legacy FILETIME
 * The password attributes are confidential: a reader without the control-access right gets the
 * object without them, so "expiration time but no password" means "not allowed to read".
 */
import type { Client, Filter } from 'ldapts';
import { asLdapResult, ldapResultCode } from '../findings/faults.js';
import type { z } from 'zod';
import { loadZod, once } from '../core/lazy.js';
import { Secret, scrub } from '../core/secret.js';
import { ConfigError, CredgateError, ProviderError, abortError, disposedError } from '../core/errors.js';
import { filetimeToDate } from '../protocols/ldap/filetime.js';
import {
  assertBindTransport, closeClient, deadline, loadCa, loadLdapts, newClient, parseLdapUrls,
  tlsOptionsFor, withSignal, type LdapTransportOptions, type ParsedUrl,
} from '../protocols/ldap/transport.js';
import { connectionFinding } from '../findings/faults.js';
import { describeIssues, issueFields, validateOptions } from './options.js';
import type { OwnedProvider, ResolveOptions } from './types.js';
import { observed } from './observed.js';
import type { CredentialRef, FetchedCredential } from '../core/credential.js';

/** The zod schemas of this module, made (and zod loaded) when first used. */
const schemas = once(() => {
  const { z } = loadZod();
  const secretish = z.union([z.string().min(1), z.custom<Secret>((v) => v instanceof Secret, 'expected a string or a Secret')]);
  const LapsOptions = z.object({
    /** ldaps://dc1.corp.example (several, comma-separated or an array: tried in order when unreachable). */
    url: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    /** The reader service account: UPN, DOMAIN\name or DN. */
    user: z.string().min(1),
    /** Its password (a Secret or a string), or the name of an environment variable holding it. */
    password: secretish.optional(),
    passwordEnv: z.string().min(1).optional(),
    /** Search base; default: the directory's defaultNamingContext. */
    baseDn: z.string().min(1).optional(),
    caFile: z.union([z.string().min(1), z.array(z.string().min(1))]).optional(),
    ca: z.union([z.string(), z.array(z.string())]).optional(),
    /** Upgrade ldap:// URLs with StartTLS (required for ldap://). */
    starttls: z.boolean().optional(),
    servername: z.string().min(1).optional(),
    insecureSkipTlsVerify: z.boolean().optional(),
    /** When a computer has both: which one wins. Default `windows` (msLAPS-Password). */
    prefer: z.enum(['windows', 'legacy']).default('windows'),
    /** Account name to report for legacy LAPS, which does not store it. Default `Administrator`. */
    legacyAccount: z.string().min(1).default('Administrator'),
    /** Domain to report; default: the computer's name (the account is local to it). */
    domain: z.string().min(1).optional(),
    /** Deadline per resolve (ms). Default 10 s. */
    timeoutMs: z.number().int().positive().max(600_000).default(10_000),
  }).strict().refine((o) => !(o.password !== undefined && o.passwordEnv !== undefined), { message: 'give password or passwordEnv, not both', path: ['passwordEnv'] });
  const RefObject = z.object({
    /** NetBIOS name (WEB01 or WEB01$), DNS host name (web01.corp.example), or DN. */
    computer: z.string().min(1),
  }).strict();
  const WindowsLapsJson = z.object({
    n: z.string().min(1, 'must name the managed account'),
    t: z.string().regex(/^[0-9a-fA-F]{1,16}$/, 'must be the update time as a hex FILETIME'),
    p: z.string().min(1, 'must hold the password'),
  }).passthrough();
  return { secretish, LapsOptions, RefObject, WindowsLapsJson };
});
type Schemas = ReturnType<typeof schemas>;

export type LapsProviderOptions = z.input<Schemas['LapsOptions']> & { env?: Record<string, string | undefined> };
/** A reference for fromLaps: the computer (NetBIOS name, DNS host name or DN), or { computer }. */
export type LapsRef = string | z.input<Schemas['RefObject']>;



const ATTRS = [
  'distinguishedName', 'sAMAccountName', 'dNSHostName',
  'msLAPS-Password', 'msLAPS-PasswordExpirationTime', 'msLAPS-EncryptedPassword',
  'ms-Mcs-AdmPwd', 'ms-Mcs-AdmPwdExpirationTime',
];

type Entry = Record<string, string | string[] | Buffer | Buffer[]>;

function first(v: unknown): string | undefined {
  const x = Array.isArray(v) ? v[0] : v;
  if (x === undefined || x === null) return undefined;
  return Buffer.isBuffer(x) ? x.toString('utf8') : String(x);
}

function present(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (Buffer.isBuffer(v)) return v.length > 0;
  return v !== undefined && v !== null && v !== '';
}

function filetime(v: string | undefined): Date | undefined {
  if (!v || !/^\d+$/.test(v) || v === '0') return undefined;
  try {
    const d = filetimeToDate(v);
    // a FILETIME past year 275760 is no Date at all
    return d && !Number.isNaN(d.getTime()) ? d : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The value of msLAPS-Password, the JSON Windows LAPS writes: {"n": account, "t": update time as hex
 * FILETIME, "p": password}. A PROVIDER_BAD_RESPONSE naming the attribute and the fields (never a value)
 * when it is anything else.
 */
export function parseMsLapsPassword(raw: string, dn: string): { account: string; secret: Secret; changedAt?: Date } {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    // JSON.parse's message quotes the text (the password): never passed on
    throw new ProviderError(`msLAPS-Password on ${dn} is not the JSON Windows LAPS writes ({"n","t","p"}).`, {
      code: 'PROVIDER_BAD_RESPONSE', details: { provider: 'laps', dn, attribute: 'msLAPS-Password' },
    });
  }
  const r = schemas().WindowsLapsJson.safeParse(json);
  if (!r.success) {
    throw new ProviderError(`msLAPS-Password on ${dn} is not what Windows LAPS writes: ${describeIssues(r.error.issues)}.`, {
      code: 'PROVIDER_BAD_RESPONSE', details: { provider: 'laps', dn, attribute: 'msLAPS-Password', fields: issueFields(r.error.issues) },
    });
  }
  const changedAt = filetime(BigInt(`0x${r.data.t}`).toString());
  return { account: r.data.n, secret: new Secret(r.data.p), ...(changedAt ? { changedAt } : {}) };
}

function refComputer(ref: CredentialRef): string {
  if (typeof ref === 'string') return ref.trim();
  const r = schemas().RefObject.safeParse(ref);
  if (!r.success) {
    throw new ProviderError(`Invalid LAPS reference: ${describeIssues(r.error.issues)}; use the computer name, e.g. "WEB01" or { computer: "web01.corp.example" }.`, {
      code: 'CONFIG_INVALID', details: { provider: 'laps', fields: issueFields(r.error.issues) },
    });
  }
  return r.data.computer.trim();
}

function isDn(s: string): boolean {
  return /^[A-Za-z][A-Za-z0-9-]*=/.test(s) && s.includes(',');
}

/** The search filter for a computer name in any of its forms (values escaped by ldapts). */
export function computerFilter(name: string): Filter {
  // the client's own ldapts (loaded on first use), so the filters are of its classes
  const { EqualityFilter, OrFilter, AndFilter } = loadLdapts();
  const isComputer = new EqualityFilter({ attribute: 'objectClass', value: 'computer' });
  const short = name.replace(/\$$/, '');
  const alternatives: Filter[] = [];
  if (name.includes('.')) {
    alternatives.push(new EqualityFilter({ attribute: 'dNSHostName', value: name }));
    const host = short.split('.')[0]!;
    alternatives.push(new EqualityFilter({ attribute: 'sAMAccountName', value: `${host}$` }));
  } else {
    alternatives.push(new EqualityFilter({ attribute: 'sAMAccountName', value: `${short}$` }));
    alternatives.push(new EqualityFilter({ attribute: 'cn', value: short }));
  }
  return new AndFilter({ filters: [isComputer, new OrFilter({ filters: alternatives })] });
}

/**
 * `fromLaps(options)`: resolve(`"WEB01"` | `"web01.corp.example"` | DN | `{ computer }`) reads that
 * computer's LAPS password. Windows LAPS gives the account name and the update time (`changedAt`);
 * legacy LAPS gives only the password (account from `legacyAccount`, no `changedAt`).
 * `msLAPS-EncryptedPassword` is PROVIDER_UNSUPPORTED; a password the reader may not see is
 * PROVIDER_FORBIDDEN; no LAPS data is PROVIDER_NOT_FOUND; a refused reader is PROVIDER_AUTH_FAILED.
 */
export function fromLaps(options: LapsProviderOptions): OwnedProvider<LapsRef> {
  const { env, ...rest } = (options ?? {}) as LapsProviderOptions;
  const parsed = { data: validateOptions('laps', schemas().LapsOptions, rest) };
  const opts = parsed.data;
  const transport: LdapTransportOptions = {
    urls: opts.url,
    ...(opts.caFile !== undefined ? { caFile: opts.caFile } : {}),
    ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
    ...(opts.starttls !== undefined ? { starttls: opts.starttls } : {}),
    ...(opts.servername !== undefined ? { servername: opts.servername } : {}),
    ...(opts.insecureSkipTlsVerify !== undefined ? { insecureSkipTlsVerify: opts.insecureSkipTlsVerify } : {}),
    timeoutMs: opts.timeoutMs,
  };
  const urls = parseLdapUrls(opts.url);
  // the reader's password must never cross in clear: ldap:// only with StartTLS
  assertBindTransport(urls, { ...transport, allowPlainBind: false });
  let password: Secret | undefined;
  if (opts.password !== undefined) password = Secret.from(opts.password);
  else if (opts.passwordEnv !== undefined) {
    const v = (env ?? process.env)[opts.passwordEnv];
    if (v === undefined || v === '') {
      throw new ConfigError(`The laps provider reads the reader's password from environment variable ${opts.passwordEnv}, which is not set.`, {
        code: 'CONFIG_INVALID', details: { provider: 'laps', option: 'passwordEnv', variable: opts.passwordEnv },
      });
    }
    password = new Secret(v);
  }
  if (!password) {
    throw new ConfigError('The laps provider needs the reader account\'s password: set "password" or "passwordEnv".', {
      code: 'CONFIG_INVALID', details: { provider: 'laps', option: 'password' },
    });
  }
  const readerPw = password;
  const live = new Set<Client>();
  let disposed = false;

  const secrets = () => [readerPw.reveal()];

  /** Connect, StartTLS when asked, bind as the reader. Tries the URLs in order while they are unreachable. */
  const connect = async (signal: AbortSignal): Promise<{ client: Client; url: ParsedUrl }> => {
    const ca = loadCa(transport);
    const failures: Array<{ url: string; reason: string; code?: string }> = [];
    for (const u of urls) {
      if (signal.aborted) break;
      const client = newClient(u, transport, ca);
      live.add(client);
      let phase = 'connect';
      try {
        if (u.scheme === 'ldap' && opts.starttls) {
          phase = 'starttls';
          await withSignal(client.startTLS(tlsOptionsFor(u, transport, ca)), signal, () => closeClient(client));
        }
        phase = 'bind';
        await withSignal(client.bind(opts.user, readerPw.reveal()), signal, () => closeClient(client));
        return { client, url: u };
      } catch (err) {
        live.delete(client);
        closeClient(client);
        const e = asLdapResult(err);
        if (e?.code === 49) {
          const diag = scrub(e.message.replace(/\s*Code: 0x[0-9a-f]+\s*$/i, ''), secrets()).slice(0, 300);
          throw new ProviderError(`The directory at ${u.url} refused the LAPS reader account ${opts.user}; check its password (and that it is not locked or disabled).`, {
            code: 'PROVIDER_AUTH_FAILED', details: { provider: 'laps', url: u.url, user: opts.user, diagnosticMessage: diag },
          });
        }
        if (signal.aborted) break;
        if (e) {
          throw new ProviderError(`The directory at ${u.url} refused the LAPS reader's bind with LDAP result ${e.code} (${e.name}).`, {
            code: 'PROVIDER_AUTH_FAILED', details: { provider: 'laps', url: u.url, resultCode: e.code },
          });
        }
        const f = connectionFinding(err, u, 'laps', phase, false);
        failures.push({ url: u.url, reason: f?.message ?? scrub(err instanceof Error ? err.message : String(err), secrets()).slice(0, 200), ...(f ? { code: f.code } : {}) });
      }
    }
    if (signal.aborted) throw signal.reason;
    const tls = failures.find((f) => f.code?.startsWith('tls.'));
    throw new ProviderError(
      `The directory could not be reached for LAPS (${failures.map((f) => f.reason).join(' / ')})${tls ? '; pass the issuing CA with caFile' : '; check the URL and that the DC is up'}.`,
      { code: 'PROVIDER_UNAVAILABLE', details: { provider: 'laps', attempts: failures } },
    );
  };

  const defaultBase = async (client: Client, signal: AbortSignal): Promise<string> => {
    const r = await withSignal(client.search('', { scope: 'base', filter: '(objectClass=*)', attributes: ['defaultNamingContext'] }), signal, () => closeClient(client));
    const base = first(r.searchEntries[0]?.defaultNamingContext);
    if (!base) {
      throw new ProviderError('The directory did not announce a defaultNamingContext; set the laps provider\'s baseDn option.', {
        code: 'PROVIDER_BAD_RESPONSE', details: { provider: 'laps' },
      });
    }
    return base;
  };

  const interpret = (computer: string, entry: Entry): FetchedCredential => {
    const dn = first(entry.distinguishedName) ?? String(entry.dn);
    const sam = first(entry.sAMAccountName);
    const host = (sam ? sam.replace(/\$$/, '') : computer.split('.')[0]!).toUpperCase();
    const domain = opts.domain ?? host;
    const winRaw = first(entry['msLAPS-Password']);
    const legacy = first(entry['ms-Mcs-AdmPwd']);
    const encrypted = present(entry['msLAPS-EncryptedPassword']);
    const winExpiry = first(entry['msLAPS-PasswordExpirationTime']);
    const legacyExpiry = first(entry['ms-Mcs-AdmPwdExpirationTime']);

    const fromWindows = (): FetchedCredential => {
      const w = parseMsLapsPassword(winRaw!, dn);
      return {
        username: w.account,
        secret: w.secret,
        domain,
        ...(w.changedAt ? { changedAt: w.changedAt } : {}),
        source: `laps msLAPS-Password ${dn}`,
      };
    };
    const fromLegacy = (): FetchedCredential => ({
      username: opts.legacyAccount,
      secret: new Secret(legacy!),
      domain,
      source: `laps ms-Mcs-AdmPwd ${dn}`,
    });

    if (winRaw && legacy) return opts.prefer === 'legacy' ? fromLegacy() : fromWindows();
    if (winRaw) return fromWindows();
    if (legacy) return fromLegacy();
    if (encrypted) {
      throw new ProviderError(
        `${host} stores its Windows LAPS password encrypted (msLAPS-EncryptedPassword), which only Windows can decrypt for an authorized principal; credgate reads clear-text LAPS only — fetch it with Get-LapsADPassword, or set ADPasswordEncryptionEnabled to false for this computer's policy.`,
        { code: 'PROVIDER_UNSUPPORTED', details: { provider: 'laps', dn, attribute: 'msLAPS-EncryptedPassword' } },
      );
    }
    if (winExpiry || legacyExpiry) {
      const expiresAt = filetime(winExpiry ?? legacyExpiry);
      throw new ProviderError(
        `LAPS manages ${host}'s password${expiresAt ? ` (next rotation ${expiresAt.toISOString()})` : ''}, but ${opts.user} may not read it; grant the read right (Set-LapsADReadPasswordPermission, or Set-AdmPwdReadPasswordPermission for legacy LAPS) on the computer's OU.`,
        { code: 'PROVIDER_FORBIDDEN', details: { provider: 'laps', dn, user: opts.user, scheme: winExpiry ? 'windows' : 'legacy' } },
      );
    }
    throw new ProviderError(`${host} has no LAPS password in the directory (no msLAPS-Password, ms-Mcs-AdmPwd or expiration time); check that a LAPS policy applies to it and has run.`, {
      code: 'PROVIDER_NOT_FOUND', details: { provider: 'laps', dn },
    });
  };

  const lookup = async (computer: string, signal: AbortSignal): Promise<FetchedCredential> => {
    const { client, url } = await connect(signal);
    try {
      let entries: Entry[];
      if (isDn(computer)) {
        try {
          const r = await withSignal(client.search(computer, { scope: 'base', filter: '(objectClass=computer)', attributes: ATTRS, explicitBufferAttributes: ['msLAPS-EncryptedPassword'] }), signal, () => closeClient(client));
          entries = r.searchEntries as Entry[];
        } catch (e) {
          if (ldapResultCode(e) === 32) entries = [];
          else throw e;
        }
      } else {
        const base = opts.baseDn ?? (await defaultBase(client, signal));
        const r = await withSignal(client.search(base, { scope: 'sub', filter: computerFilter(computer), attributes: ATTRS, explicitBufferAttributes: ['msLAPS-EncryptedPassword'], sizeLimit: 5 }), signal, () => closeClient(client));
        entries = r.searchEntries as Entry[];
      }
      if (entries.length === 0) {
        throw new ProviderError(`No computer object named ${computer} is visible to ${opts.user} in the directory; check the name (NetBIOS, DNS name or DN) and the search base.`, {
          code: 'PROVIDER_NOT_FOUND', details: { provider: 'laps', computer, url: url.url },
        });
      }
      if (entries.length > 1) {
        const dns = entries.map((e) => first(e.distinguishedName) ?? String(e.dn));
        throw new ProviderError(`${entries.length} computer objects match ${computer}; use its distinguished name as the reference.`, {
          code: 'PROVIDER_BAD_RESPONSE', details: { provider: 'laps', computer, matches: dns },
        });
      }
      return interpret(computer, entries[0]!);
    } catch (e) {
      if (e instanceof CredgateError) throw e;
      if (signal.aborted) throw signal.reason;
      const r = asLdapResult(e);
      if (r) {
        throw new ProviderError(`The directory at ${url.url} answered the LAPS search with LDAP result ${r.code} (${r.name}).`, {
          code: r.code === 50 ? 'PROVIDER_FORBIDDEN' : 'PROVIDER_BAD_RESPONSE', details: { provider: 'laps', url: url.url, resultCode: r.code },
        });
      }
      const f = connectionFinding(e, url, 'laps', 'search', false);
      throw new ProviderError(`The directory connection at ${url.url} failed during the LAPS search${f ? ` (${f.message})` : ''}.`, {
        code: 'PROVIDER_UNAVAILABLE', details: { provider: 'laps', url: url.url },
      });
    } finally {
      live.delete(client);
      closeClient(client);
    }
  };

  const provider: OwnedProvider<LapsRef> = {
    name: 'laps',
    async resolve(ref: CredentialRef, { signal }: ResolveOptions = {}): Promise<FetchedCredential> {
      if (disposed) throw disposedError('laps provider', 'create a new one with fromLaps()', { provider: 'laps' });
      if (signal?.aborted) throw abortError(signal, 'Reading LAPS from the directory');
      const computer = refComputer(ref);
      if (!computer) throw new ProviderError('The LAPS reference is empty; name the computer (WEB01, web01.corp.example or its DN).', { code: 'CONFIG_INVALID', details: { provider: 'laps' } });
      const all = deadline(signal, opts.timeoutMs);
      try {
        return await lookup(computer, all);
      } catch (e) {
        if (signal?.aborted) throw abortError(signal, 'Reading LAPS from the directory');
        if (all.aborted && !(e instanceof CredgateError)) {
          throw new ProviderError(`The directory did not answer the LAPS read for ${computer} within ${opts.timeoutMs} ms; check that the DC answers or raise timeoutMs.`, {
            code: 'TIMEOUT', details: { provider: 'laps', computer, timeoutMs: opts.timeoutMs },
          });
        }
        throw e;
      }
    },
    async dispose() {
      disposed = true;
      for (const c of live) closeClient(c);
      live.clear();
    },
    async [Symbol.asyncDispose]() {
      provider.dispose?.();
    },
  };
  return observed(provider);
}
