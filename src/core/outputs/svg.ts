import type { ChartSpec } from './charts';

/** Escapes text for HTML and SVG: data-file strings become inert text. */
export function escapeHtml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const n = (v: number) => Number(v.toFixed(2));

/** A chart spec drawn as a self-contained SVG (the HTML report's and the app's renderer). */
export function chartSvg(spec: ChartSpec, width = 480, height = 260): string {
  // Bar charts label their bars on the left: leave room for the longest label.
  const longest = spec.kind === 'bar' ? Math.max(0, ...spec.series[0].points.map((p) => (p.label ?? '').length)) : spec.kind === 'strip' ? Math.max(0, ...spec.series.map((s) => s.name.length)) : 0;
  const left = spec.kind === 'bar' || spec.kind === 'strip' ? Math.min(200, 14 + 6 * longest) : 56;
  const top = 24;
  const plotWidth = width - left - 90;
  const plotHeight = height - top - 44;
  const sx = (v: number) => n(left + ((v - spec.x.min) / (spec.x.max - spec.x.min || 1)) * plotWidth);
  const sy = (v: number) => n(top + plotHeight - ((v - spec.y.min) / (spec.y.max - spec.y.min || 1)) * plotHeight);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeHtml(spec.title)}" font-family="sans-serif" font-size="10">`,
    `<title>${escapeHtml(spec.title)}</title>`,
    `<text x="0" y="12" font-weight="bold">${escapeHtml(spec.title)}</text>`,
    `<rect x="${left}" y="${top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="currentColor"/>`,
  ];
  if (spec.kind === 'bar') {
    const band = plotHeight / Math.max(1, spec.series[0].points.length);
    spec.series[0].points.forEach((p, i) => {
      parts.push(`<rect x="${left}" y="${n(top + i * band + 2)}" width="${n(Math.max(0.5, sx(p.x) - left))}" height="${n(band - 4)}" fill="#1f77b4"><title>${escapeHtml(p.label ?? '')}: ${p.x}</title></rect>`);
      parts.push(`<text x="${left - 4}" y="${n(top + i * band + band / 2 + 3)}" text-anchor="end">${escapeHtml(p.label ?? '')}</text>`);
    });
  } else if (spec.kind === 'strip') {
    const band = plotHeight / Math.max(1, spec.series.length);
    spec.series.forEach((series, i) => {
      parts.push(`<text x="${left - 4}" y="${n(top + i * band + band / 2 + 3)}" text-anchor="end">${escapeHtml(series.name)}</text>`);
      // Points spread over the band by their order (deterministic, no random jitter).
      series.points.forEach((p, k) => {
        const y = top + i * band + band * (0.2 + 0.6 * ((k * 0.618034) % 1));
        parts.push(`<circle cx="${sx(p.x)}" cy="${n(y)}" r="2.2" fill="${p.x >= 0 ? '#d55e00' : '#0072b2'}" fill-opacity="0.75"><title>${escapeHtml(series.name)}, ${escapeHtml(p.label ?? '')}: ${p.x}</title></circle>`);
      });
    });
    for (const tick of [0, 0.5, 1]) {
      const v = spec.x.min + tick * (spec.x.max - spec.x.min);
      parts.push(`<text x="${sx(v)}" y="${top + plotHeight + 12}" text-anchor="middle">${v.toFixed(3)}</text>`);
    }
    for (const rule of spec.rules.filter((r) => r.axis === 'x')) parts.push(`<line x1="${sx(rule.value)}" x2="${sx(rule.value)}" y1="${top}" y2="${top + plotHeight}" stroke="#999" stroke-dasharray="3 3"/>`);
  } else {
    for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
      const v = spec.y.min + tick * (spec.y.max - spec.y.min);
      parts.push(`<text x="${left - 4}" y="${sy(v) + 3}" text-anchor="end">${v.toFixed(2)}</text>`);
    }
    // Value ticks on x too, unless the points carry their own labels there (groups, bins).
    if (spec.pointLabels === 'tooltip' || !spec.series.some((series) => series.points.some((p) => p.label))) {
      for (const tick of [0, 0.5, 1]) {
        const v = spec.x.min + tick * (spec.x.max - spec.x.min);
        parts.push(`<text x="${sx(v)}" y="${top + plotHeight + 12}" text-anchor="middle">${Number(v.toPrecision(3))}</text>`);
      }
    }
    for (const series of spec.series) {
      const reference = series.name === 'chance' || series.name === 'perfect';
      if (spec.kind === 'line' || reference) {
        const path = series.points.map((p, i) => `${i ? 'L' : 'M'}${sx(p.x)},${sy(p.y)}`).join('');
        parts.push(`<path d="${path}" fill="none" stroke="${reference ? '#999' : '#1f77b4'}" stroke-width="${reference ? 1 : 1.6}"${reference ? ' stroke-dasharray="4 3"' : ''}/>`);
      } else {
        for (const p of series.points) {
          if (p.low !== undefined && p.high !== undefined) parts.push(`<line x1="${sx(p.x)}" x2="${sx(p.x)}" y1="${sy(p.low)}" y2="${sy(p.high)}" stroke="#1f77b4"/>`);
          parts.push(`<circle cx="${sx(p.x)}" cy="${sy(p.y)}" r="3" fill="#1f77b4"><title>${escapeHtml(p.label ?? '')}: ${p.y}</title></circle>`);
          if (p.label && spec.x.label !== 'Mean predicted p(positive)' && spec.pointLabels !== 'tooltip') parts.push(`<text x="${sx(p.x)}" y="${top + plotHeight + 12}" text-anchor="middle">${escapeHtml(p.label)}</text>`);
        }
      }
    }
    for (const rule of spec.rules) {
      const line = rule.axis === 'y' ? `x1="${left}" x2="${left + plotWidth}" y1="${sy(rule.value)}" y2="${sy(rule.value)}"` : `x1="${sx(rule.value)}" x2="${sx(rule.value)}" y1="${top}" y2="${top + plotHeight}"`;
      parts.push(`<line ${line} stroke="#d62728" stroke-dasharray="3 3"/><text x="${left + plotWidth + 4}" y="${sy(rule.value) + 3}" fill="#d62728">${escapeHtml(rule.label)}</text>`);
    }
  }
  parts.push(`<text x="${left + plotWidth / 2}" y="${height - 6}" text-anchor="middle">${escapeHtml(spec.x.label)}</text>`, '</svg>');
  return parts.join('');
}
