// What a report page may hold: its own tags and attributes only (no script, no src, hrefs that are
// in-page anchors), no control character, and its Content-Security-Policy. Shared by the report tests.
import { expect } from 'vitest';

const TAGS = new Set(['html', 'head', 'meta', 'title', 'style', 'body', 'header', 'h1', 'h2', 'h3', 'p', 'main', 'div', 'a', 'span', 'section', 'figure', 'figcaption',
  'svg', 'g', 'text', 'rect', 'line', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'code', 'strong', 'br', 'ol', 'ul', 'li', 'details', 'summary', 'footer']);
const ATTRS = /^(class|id|href|lang|charset|http-equiv|content|name|role|aria-label|viewBox|width|height|x|y|x1|y1|x2|y2|rx|text-anchor|open|data-[a-z-]+)$/;

/** Every tag and attribute of the page is one of the report's own; hrefs are in-page anchors. */
export function expectOwnMarkup(page: string): void {
  expect(page.startsWith('<!DOCTYPE html>')).toBe(true);
  for (const m of page.matchAll(/<\/?([a-zA-Z][\w-]*)([^>]*)>/g)) {
    expect(TAGS.has(m[1]!.toLowerCase()), `tag <${m[1]}>`).toBe(true);
    const attrs = m[2]!.replace(/\/$/, '');
    const rest = attrs.replace(/\s([\w-]+)(="[^"]*")?/g, (_, name: string, value?: string) => {
      expect(name, `attribute ${name} on <${m[1]}>`).toMatch(ATTRS);
      if (name === 'href') expect(value).toMatch(/^="#[\w-]+"$/);
      return '';
    });
    expect(rest.trim(), `left over in <${m[1]}${attrs}>`).toBe('');
  }
  expect(page).not.toMatch(/<script|javascript:/i); // and no src attribute: not in ATTRS
  expect(page.replace(/\n/g, '')).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/);
  expect(page).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
}
