/** The preflight's steps, in report order. A new step is one file here and one line in this list. */
import type { Step } from '../types.js';
import { providerStep } from './provider.js';
import { accountStateStep } from './account-state.js';
import { kerberosStep } from './kerberos.js';
import { ldapBindStep } from './ldap-bind.js';
import { rdpEndpointStep } from './rdp-endpoint.js';
import { rdpNlaStep } from './rdp-nla.js';
import { cacheStep } from './cache.js';

export const STEPS: readonly Step[] = [providerStep, accountStateStep, kerberosStep, ldapBindStep, rdpEndpointStep, rdpNlaStep, cacheStep];
