/**
 * The report page: one self-contained HTML file (inline CSS, inline SVG, no script and no external
 * asset; a Content-Security-Policy that allows neither), the verdict of every input up front as
 * cards, then one section per input. A pure function of the inputs already read (read.ts).
 */
import { cachePart } from './cache-section.js';
import { doctorPart } from './doctor-section.js';
import { Html, html, join } from './html.js';
import type { ReportInput } from './types.js';
import { verifyPart, type Part } from './verify-section.js';

export interface ReportOptions {
  /** The page's title (default "credgate report"). */
  title?: string;
  /** When the report was made (default now); shown in its header. */
  generatedAt?: Date;
}

const CSS = `
:root{--bad:#c0392b;--ok:#1e8449;--warn:#b9770e;--info:#2471a3;--muted:#6b7785;--bg:#f3f5f7;--fg:#1f2933;--card:#fff;--line:#e1e5ea}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif;background:var(--bg);color:var(--fg)}
header{background:#1f2933;color:#fff;padding:18px 32px}
header h1{margin:0;font-size:22px;font-weight:650}
header p{margin:4px 0 0;color:#cbd2d9;font-size:13px}
main{max-width:1120px;margin:0 auto;padding:24px 32px 40px}
h2{margin:0 0 12px;font-size:19px}
h3{margin:22px 0 8px;font-size:15px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(330px,1fr));gap:14px;margin:0 0 26px}
.card{display:flex;flex-direction:column;gap:6px;background:var(--card);border-radius:8px;padding:14px 18px;border-left:6px solid var(--muted);box-shadow:0 1px 3px rgba(0,0,0,.08);color:inherit;text-decoration:none}
.card.tone-bad{border-left-color:var(--bad)}.card.tone-ok{border-left-color:var(--ok)}.card.tone-warn{border-left-color:var(--warn)}
.card-kind{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);overflow-wrap:anywhere}
.card-head{font-size:20px;font-weight:650}
.card.tone-bad .card-head{color:var(--bad)}.card.tone-ok .card-head{color:var(--ok)}.card.tone-warn .card-head{color:var(--warn)}
.card-cause{font-size:13px}
section{background:var(--card);border-radius:8px;padding:20px 24px;margin:0 0 24px;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.source{font-weight:400;color:var(--muted);font-size:14px;margin-left:8px;overflow-wrap:anywhere}
.tiles{display:flex;flex-wrap:wrap;gap:10px;margin:6px 0 12px}
.tile{min-width:118px;padding:8px 14px;border-radius:6px;background:var(--bg);border-top:3px solid var(--line)}
.tile-value{font-size:22px;font-weight:650}.tile-label{font-size:12px;color:var(--muted)}
.tile.tone-bad{border-top-color:var(--bad)}.tile.tone-bad .tile-value{color:var(--bad)}
.tile.tone-ok{border-top-color:var(--ok)}.tile.tone-ok .tile-value{color:var(--ok)}
.tile.tone-warn{border-top-color:var(--warn)}.tile.tone-warn .tile-value{color:var(--warn)}
table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0 10px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:anywhere}
th{background:var(--bg);font-weight:600}
td.num,th.num{text-align:right;white-space:nowrap}
code.code{font:12px ui-monospace,"DejaVu Sans Mono",monospace;background:#eef1f4;padding:1px 5px;border-radius:4px;white-space:nowrap}
.fixes{margin:0;padding-left:18px}.fixes li{margin:2px 0}
.owner{font-size:11px;color:var(--muted);border:1px solid var(--line);border-radius:3px;padding:0 4px;margin-left:4px}
figure.chart{margin:6px 0 12px}figcaption{font-size:13px;color:var(--muted);margin-bottom:4px}
svg{max-width:100%;height:auto;font:12px system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif}
svg .tone-bad{fill:var(--bad)}svg .tone-ok{fill:var(--ok)}svg .tone-warn{fill:var(--warn)}svg .tone-info{fill:var(--info)}svg .tone-muted{fill:var(--muted)}
.bar-label{fill:var(--fg)}.bar-value{fill:var(--muted)}.axis{fill:var(--muted);font-size:11px}.axis-line{stroke:#c5ccd3}
details{margin:12px 0;border:1px solid var(--line);border-radius:6px;padding:0 12px}
details>summary{cursor:pointer;padding:9px 0;font-weight:600}
.note,.muted{color:var(--muted)}.note{font-size:13px}
.good{color:var(--ok);font-weight:600}
.stats{font-size:13px}
.sev-error{color:var(--bad);font-weight:600}.sev-warning{color:var(--warn);font-weight:600}.sev-info{color:var(--info)}
.status{white-space:nowrap}table[data-table=steps] td:first-child{white-space:nowrap}
.status.tone-ok{color:var(--ok)}.status.tone-bad{color:var(--bad);font-weight:600}.status.tone-muted{color:var(--muted)}
.verdict-line{font-size:16px;margin:4px 0}.verdict-line .word{font-weight:750;margin-right:6px}
.verdict-line.tone-bad .word,.verdict-line.tone-bad strong:first-child{color:var(--bad)}.verdict-line.tone-ok .word{color:var(--ok)}.verdict-line.tone-warn .word{color:var(--warn)}
.headline{margin:2px 0 10px}
.warnings{margin:6px 0 12px;padding-left:18px;font-size:13px}
footer{color:var(--muted);font-size:12px;text-align:center;padding:0 32px 28px}
@media print{body{background:#fff}section,.card{box-shadow:none;border:1px solid var(--line)}details{border:none;padding:0}}
`;

function partOf(input: ReportInput, id: string): Part {
  if (input.kind === 'verify') return verifyPart(input, id);
  if (input.kind === 'doctor') return doctorPart(input, id);
  return cachePart(input, id);
}

/** The report of `inputs` as one HTML document. */
export function buildReport(inputs: readonly ReportInput[], o: ReportOptions = {}): string {
  const title = o.title ?? 'credgate report';
  const at = (o.generatedAt ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const parts = inputs.map((x, i) => partOf(x, `part-${i + 1}`));
  const page = html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="credgate">
<title>${title}</title>
<style>${new Html(CSS)}</style>
</head>
<body>
<header><h1>${title}</h1><p>Made ${at} from ${inputs.length} input${inputs.length === 1 ? '' : 's'}: ${inputs.map((x) => x.source).join(', ')}</p></header>
<main>
<h2>Verdict</h2>
<div class="cards">${join(parts.map((p) => p.card))}</div>
${join(parts.map((p) => p.section), '\n')}
</main>
<footer>credgate report · no script, no external resource · result records carry no password, so none is in this page</footer>
</body>
</html>
`;
  return page.text;
}
