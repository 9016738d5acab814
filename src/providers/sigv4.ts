/**
 * AWS Signature Version 4, from the AWS General Reference ("Create a signed AWS API request"):
 * canonical request → string to sign → HMAC chain kDate/kRegion/kService/kSigning → Authorization.
 * Tested against AWS's published example values.
 */
import crypto from 'node:crypto';

const hmac = (key: crypto.BinaryLike, data: string) => crypto.createHmac('sha256', key).update(data, 'utf8').digest();
const sha256hex = (data: string | Buffer) => crypto.createHash('sha256').update(data).digest('hex');

/** RFC 3986 encoding as SigV4 requires (unreserved: A-Z a-z 0-9 - _ . ~). */
export function uriEncode(s: string, encodeSlash = true): string {
  return [...Buffer.from(s, 'utf8')].map((b) => {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c) || (!encodeSlash && c === '/')) return c;
    return `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
}

/**
 * The canonical URI for every service but S3: the path normalized (RFC 3986 dot segments removed,
 * repeated slashes collapsed, as the test suite's normalize-path and get-slashes cases require),
 * then each segment URI-encoded once from its decoded form.
 */
export function canonicalPath(pathname: string): string {
  const out: string[] = [];
  const segs = (pathname || '/').split('/');
  for (const raw of segs) {
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      seg = raw;
    }
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  const trailing = out.length > 0 && /\/\.{0,2}$/.test(pathname) ? '/' : '';
  return '/' + out.map((x) => uriEncode(x)).join('/') + trailing;
}

export function signingKey(secretKey: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secretKey}`, date), region), service), 'aws4_request');
}

export interface SignInput {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  region: string;
  service: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** yyyymmddThhmmssZ; default now. */
  amzDate?: string;
}

export function signRequest(i: SignInput): { headers: Record<string, string>; canonicalRequest: string; stringToSign: string; signature: string } {
  const u = new URL(i.url);
  const amzDate = i.amzDate ?? new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const date = amzDate.slice(0, 8);
  const headers: Record<string, string> = { ...i.headers, host: u.host, 'x-amz-date': amzDate };
  if (i.sessionToken) headers['x-amz-security-token'] = i.sessionToken;
  const lower = Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v.trim().replace(/\s+/g, ' ')] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const canonicalHeaders = lower.map(([k, v]) => `${k}:${v}\n`).join('');
  const signedHeaders = lower.map(([k]) => k).join(';');
  const query = [...u.searchParams.entries()].map(([k, v]) => [uriEncode(k), uriEncode(v)]).sort(([a, x], [b, y]) => (a! < b! ? -1 : a! > b! ? 1 : x! < y! ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join('&');
  const path = canonicalPath(u.pathname);
  const canonicalRequest = [i.method, path, query, canonicalHeaders, signedHeaders, sha256hex(i.body)].join('\n');
  const scope = `${date}/${i.region}/${i.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonicalRequest)].join('\n');
  const signature = crypto.createHmac('sha256', signingKey(i.secretAccessKey, date, i.region, i.service)).update(stringToSign).digest('hex');
  const out = { ...headers, authorization: `AWS4-HMAC-SHA256 Credential=${i.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}` };
  return { headers: out, canonicalRequest, stringToSign, signature };
}
