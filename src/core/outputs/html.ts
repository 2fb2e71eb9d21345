import { reportBlocks, reportTitle, type ReportInput } from './report';
import type { ReportBlock } from './blocks';
import { chartSvg, escapeHtml } from './svg';

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
h1{font-size:1.5rem;margin-top:2rem}h2{font-size:1.15rem}table{border-collapse:collapse;margin:.5rem 0 1rem;font-size:12px}
th,td{border-bottom:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}.banner{color:#fff;padding:.8rem 1rem;font-size:1.3rem;font-weight:bold}
.PASS{background:#1f6f3f}.WARN,.REVIEW{background:#8a5a00}.FAIL{background:#b3261e}.NO{background:#5a5a5a}svg{max-width:100%;height:auto;color:#1b1b1b}
.small{font-size:11px;color:#555}@media (prefers-color-scheme:dark){body{background:#161616;color:#ececec}svg{color:#ececec}th,td{border-color:#3a3a3a}}`;

/**
 * The audit report as one self-contained HTML file (no external asset, no script that
 * runs): the same blocks as the PDF, charts as inline SVG, every string from the data
 * escaped, and the result JSON embedded as inert data.
 */
export function renderHtml(input: ReportInput): string {
  return blocksToHtml(reportBlocks(input), reportTitle(input), input.result);
}

/** Report blocks as one self-contained HTML page, with `data` embedded as inert JSON (the audit's result, a data check's report). */
export function blocksToHtml(blocks: readonly ReportBlock[], title: string, embedded: unknown): string {
  const out: string[] = [];
  const contents: string[] = [];
  let section = 0;
  for (const block of blocks) {
    switch (block.type) {
      case 'cover':
        out.push(`<header><h1>${escapeHtml(block.title)}</h1><div class="banner ${block.verdict.split(' ')[0]}">${escapeHtml(block.banner ?? `Policy decision: ${block.verdict}`)}</div>`);
        for (const line of block.lines) out.push(`<p class="small">${escapeHtml(line)}</p>`);
        out.push('</header><nav id="contents"></nav>');
        break;
      case 'page':
        break;
      case 'heading':
        if (block.level === 1) {
          section++;
          contents.push(`<li><a href="#s${section}">${escapeHtml(block.text)}</a></li>`);
          out.push(`<h1 id="s${section}">${escapeHtml(block.text)}</h1>`);
        } else out.push(`<h2>${escapeHtml(block.text)}</h2>`);
        break;
      case 'paragraph':
        out.push(`<p${block.size && block.size < 9 ? ' class="small"' : ''}>${escapeHtml(block.text)}</p>`);
        break;
      case 'table':
        out.push(`<table><thead><tr>${block.headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${block.rows.map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`).join('')}</tbody></table>`);
        break;
      case 'chart':
        out.push(`<figure>${chartSvg(block.spec)}</figure>`);
        break;
    }
  }
  const body = out.join('\n').replace('<nav id="contents"></nav>', `<nav id="contents"><h2>Contents</h2><ol>${contents.join('')}</ol></nav>`);
  // JSON inside a non-executed script element; "<" escaped so no text can close it.
  const data = JSON.stringify(embedded).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body>
${body}
<script type="application/json" id="plumbline-result">${data}</script>
</body></html>
`;
}

/** Reads the result JSON back out of a Plumbline HTML report, or null. */
export function resultFromHtml(html: string): unknown {
  const embedded = embeddedInHtml(html);
  return embedded ? JSON.parse(embedded.json) : null;
}

/** The result JSON text inside a Plumbline HTML report and the result digest the report shows, or null. */
export function embeddedInHtml(html: string): { json: string; digest: string | null } | null {
  const match = /<script type="application\/json" id="plumbline-result">([\s\S]*?)<\/script>/.exec(html);
  if (!match) return null;
  return { json: match[1], digest: /Result digest \(sha256 of the canonical result JSON\): ([0-9a-f]{64})/.exec(html)?.[1] ?? null };
}
