/** The .rdp file credgate writes for the client: host, port, user and connection settings; never a password. */
import { CredgateError } from '../core/errors.js';

export interface RdpFileOptions {
  host: string;
  port?: number;
  username: string;
  domain?: string;
  /** Extra `key:type:value` lines, e.g. `screen mode id:i:2`. */
  extra?: string[];
}

/** The .rdp file content (mstsc and xfreerdp both read it). */
export function buildRdpFile(o: RdpFileOptions): string {
  for (const [k, v] of [['host', o.host], ['username', o.username], ['domain', o.domain ?? '']] as const) {
    if (/[\r\n]/.test(v)) {
      throw new CredgateError(`The ${k} contains a line break, which would inject settings into the .rdp file; fix the ${k}.`, { code: 'CONFIG_INVALID', details: { field: k } });
    }
  }
  const address = o.port && o.port !== 3389 ? `${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port}` : o.host;
  const user = o.domain && !o.username.includes('\\') && !o.username.includes('@') ? `${o.domain}\\${o.username}` : o.username;
  const lines = [
    `full address:s:${address}`,
    `username:s:${user}`,
    'prompt for credentials:i:0',
    'enablecredsspsupport:i:1',
    'authentication level:i:2',
    'negotiate security layer:i:1',
    'screen mode id:i:2',
    'redirectclipboard:i:1',
    ...(o.extra ?? []),
  ];
  return lines.join('\r\n') + '\r\n';
}

/** UTF-16LE with a BOM, as mstsc writes .rdp files (xfreerdp reads it too). */
export function encodeRdpFile(text: string): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
}
