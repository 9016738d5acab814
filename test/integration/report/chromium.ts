// Debian's Chromium (scripts/ensure.mjs installs it), driven by playwright-core, for looking at a
// report as a person would: a fresh profile each time, no network at all (every request but the
// report's own file:// URL is aborted and recorded), bounded in time, closed and removed after.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Opened {
  page: Page;
  /** Requests the page made other than its own URL (all aborted). */
  blocked: string[];
}

/** Open `file` in a fresh headless Chromium, run `fn` on it, and close the browser and remove its profile whatever happens. */
export async function inChromium<T>(file: string, fn: (o: Opened) => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'credgate-chromium-'));
  const url = pathToFileURL(file).href;
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 30_000, viewport: { width: 1280, height: 900 }, offline: true,
  });
  try {
    const blocked: string[] = [];
    await ctx.route('**/*', (route) => (route.request().url() === url ? route.continue() : (blocked.push(route.request().url()), route.abort('blockedbyclient'))));
    ctx.setDefaultTimeout(timeoutMs);
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    await page.goto(url, { waitUntil: 'load', timeout: timeoutMs });
    return await fn({ page, blocked });
  } finally {
    await ctx.close().catch(() => undefined);
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

/** A PNG's width and height, from its IHDR chunk. */
export function pngSize(file: string): { width: number; height: number } {
  const b = fs.readFileSync(file);
  if (b.readUInt32BE(0) !== 0x89504e47) throw new Error(`${file} is not a PNG`);
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}
