/** The provider step: the credential from the vault (or the password the caller gave). */
import { finding } from '../../findings/finding.js';
import { ConfigError } from '../../core/errors.js';
import type { Step } from '../types.js';
import { stepStopped } from '../step-errors.js';

export const providerStep: Step = {
  name: 'provider',
  after: [],
  async run(d) {
    const { target, options, ctx, overall } = d;
    const account = target.account;
    if (target.password) {
      if (!account) throw new ConfigError('A target with a password needs the account name too.', { code: 'CONFIG_INVALID' });
      ctx.credential = { username: account, secret: target.password, source: 'caller' };
      return { notChecked: 'the caller supplied the password; no vault was asked' };
    }
    const p = typeof target.provider === 'string' ? options.providers?.[target.provider] : target.provider;
    if (!p) {
      if (target.provider) throw new ConfigError(`No provider named "${String(target.provider)}" is configured; configured: ${Object.keys(options.providers ?? {}).join(', ') || 'none'}.`, { code: 'CONFIG_INVALID' });
      return { notChecked: 'no provider and no password given: the credential itself cannot be checked' };
    }
    if (target.ref === undefined) throw new ConfigError(`Provider ${p.name} needs a reference (--ref).`, { code: 'CONFIG_INVALID' });
    const c = await p.resolve(target.ref, { signal: overall });
    // answered after the deadline (a provider that ignored the signal): the step already timed out
    if (overall.aborted) throw stepStopped(d, 'provider');
    ctx.credential = { ...c, username: account ?? c.username };
    return {
      findings: [finding('provider', 'provider.ok', 'ok', `${p.name} returned the credential for ${ctx.credential.username}.`, {
        source: c.source, ...(c.changedAt ? { changedAt: c.changedAt.toISOString() } : {}),
      })],
    };
  },
};
