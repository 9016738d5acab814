// The command list loads each command on demand; its one-line summaries must match the modules'.
import { describe, it, expect } from 'vitest';
import { COMMANDS } from '../../../src/cli/commands/index.js';
import { main } from '../../../src/cli/main.js';
import { Writable } from 'node:stream';

const sink = () => {
  let text = '';
  const w = new Writable({ write(c, _e, cb) { text += String(c); cb(); } });
  return { w, text: () => text };
};

describe('CLI command list', () => {
  it('every entry loads a command with the same name and summary, and usage text', async () => {
    expect(COMMANDS.map((c) => c.name)).toEqual(['check', 'doctor', 'launch', 'probe', 'cache', 'providers', 'verify', 'report']);
    for (const e of COMMANDS) {
      const c = await e.load();
      expect([c.name, c.summary]).toEqual([e.name, e.summary]);
      expect(c.usage).toMatch(new RegExp(`^Usage: credgate ${e.name}`));
    }
  });

  it('credgate <command> --help prints that usage and exits 0; an unknown command exits 2 naming the commands', async () => {
    for (const e of COMMANDS) {
      const out = sink();
      expect(await main([e.name, '--help'], { stdout: out.w })).toBe(0);
      expect(out.text()).toBe((await e.load()).usage.endsWith('\n') ? (await e.load()).usage : (await e.load()).usage + '\n');
    }
    const err = sink();
    expect(await main(['chek'], { stderr: err.w })).toBe(2);
    expect(err.text()).toContain("unknown command (not shown: it may be a password). Did you mean check? Commands: check, doctor, launch, probe, cache, providers, verify, report");
  });
});
