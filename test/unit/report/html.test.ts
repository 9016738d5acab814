// The report's one escaping rule and its template: a value from outside never becomes markup,
// never breaks out of an attribute, and never reorders or hides what is shown.
import { describe, it, expect } from 'vitest';
import { escapeHtml, html, join, Html, clip, num, pct } from '../../../src/report/html.js';
import { HOSTILE, RAW } from './fixtures.js';


describe('escapeHtml', () => {
  it('turns markup characters into entities and controls, bidi controls and separators into visible escapes', () => {
    const out = escapeHtml(HOSTILE);
    expect(out).not.toMatch(RAW);
    expect(out).toBe('&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39; onmouseover=&quot;x&quot; \\x1B[2J\\r\\nFAKE\\u202Eevil\\x00&lt;img src=https://evil.example/x&gt;&amp;amp;');
    for (const c of ['\u061c', '\u200e', '\u200f', '\u202a', '\u2066', '\u2069', '\u0085', '\u2028', '\u2029', '\u007f']) expect(escapeHtml(`a${c}b`)).not.toMatch(RAW);
  });

  it('leaves ordinary text alone (accents, other scripts, backslashes, emoji)', () => {
    for (const s of ['Zoë → 例え', 'CORP\\alice', 'ldaps://dc1.corp.example:636', '😀 ok', 'a/b?c=d']) expect(escapeHtml(s)).toBe(s);
  });
});

describe('the html template', () => {
  it('escapes every value, passes Html once, joins lists of Html, and writes nothing for null and undefined', () => {
    const inner = html`<b>${HOSTILE}</b>`;
    const outer = html`<p title="${HOSTILE}">${inner}${[html`<i>1</i>`, html`<i>2</i>`]}${null}${undefined}${3}</p>`;
    expect(outer).toBeInstanceOf(Html);
    expect(outer.text.startsWith('<p title="&lt;script&gt;')).toBe(true);
    expect(outer.text).toContain('<b>&lt;script&gt;');
    expect(outer.text).toContain('<i>1</i><i>2</i>3</p>');
    // exactly the template's own tags are left: p, b, i
    expect(outer.text.match(/<\/?[a-z]+/g)).toEqual(['<p', '<b', '</b', '<i', '</i', '<i', '</i', '</p']);
    expect(join([html`a`, html`b`], ',').text).toBe('a,b');
  });

  it('a value that looks like Html but is a string is still escaped', () => {
    expect(html`${'<b>x</b>'}`.text).toBe('&lt;b&gt;x&lt;/b&gt;');
    expect(html`${{ text: '<b>' } as unknown as string}`.text).toBe('[object Object]');
  });
});

describe('number and text helpers', () => {
  it('counts with separators, shares with one decimal, text clipped by characters (never inside a surrogate pair)', () => {
    expect(num(20000)).toBe('20,000');
    expect(num(Number.NaN)).toBe('-');
    expect(pct(1, 3)).toBe('33.3%');
    expect(pct(0, 0)).toBe('0%');
    expect(pct(5, 5)).toBe('100%');
    expect(clip('abcdef', 4)).toBe('abc…');
    expect(clip('😀😀😀😀😀', 3)).toBe('😀😀…');
    expect(clip('abc', 3)).toBe('abc');
  });
});
