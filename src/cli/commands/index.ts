import type { Command } from '../types.js';
import { checkCommand } from './check.js';
import { doctorCommand } from './doctor.js';
import { launchCommand } from './launch.js';
import { probeCommand } from './probe.js';
import { cacheCommand } from './cache.js';
import { providersCommand } from './providers.js';
import { verifyCommand } from './verify.js';

/** The CLI's commands. A new command is one file in this folder and one line here. */
export const COMMANDS: Command[] = [
  checkCommand,
  doctorCommand,
  launchCommand,
  probeCommand,
  cacheCommand,
  providersCommand,
  verifyCommand,
];
