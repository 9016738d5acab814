/** The CLI's command list, each loaded on demand. */
import type { Command } from '../types.js';

/**
 * The CLI's commands, loaded on demand: `credgate --help` and the start of any one command load
 * only that command's module (and what it imports), which keeps the CLI's start time low.
 * A new command is one file in this folder and one entry here.
 */
export interface CommandEntry {
  name: string;
  /** One line for `credgate --help` (the same text as the module's `summary`). */
  summary: string;
  load(): Promise<Command>;
}

export const COMMANDS: CommandEntry[] = [
  { name: 'check', summary: 'prove a credential (KDC pre-authentication, LDAP bind, NLA at the RDP host) and explain the answer', load: async () => (await import('./check.js')).checkCommand },
  { name: 'doctor', summary: 'explain a failing RDP launch (0x904/0x7): one verdict over vault, directory, host and client cache', load: async () => (await import('./doctor.js')).doctorCommand },
  { name: 'launch', summary: 'run doctor, then start the RDP client with the vault\'s credential (never on argv)', load: async () => (await import('./launch.js')).launchCommand },
  { name: 'probe', summary: 'probe an RDP host: reachability, negotiation (TLS/NLA), the TLS certificate', load: async () => (await import('./probe.js')).probeCommand },
  { name: 'cache', summary: 'list, inspect and safely purge cached RDP credentials (Credential Manager, cmdkey, registry, fleet)', load: async () => (await import('./cache.js')).cacheCommand },
  { name: 'providers', summary: 'list the configured vault providers and whether each resolves (no secrets printed)', load: async () => (await import('./providers.js')).providersCommand },
  { name: 'verify', summary: 'verify many accounts (CSV / JSON Lines) against the directory or the KDC, fast, lockout-safe and resumable', load: async () => (await import('./verify.js')).verifyCommand },
  { name: 'report', summary: 'one self-contained HTML report (verdicts, causes with fixes, charts, tables) from verify, cache and doctor outputs', load: async () => (await import('./report.js')).reportCommand },
];
