/**
 * Draws report blocks as a PDF with jsPDF: the page cursor (headings, wrapped paragraphs,
 * tables whose header repeats, vector charts), the cover, the contents page, the outline
 * and the page numbers. The audit report, the task report and the registry's monthly
 * summary all go through {@link renderBlocksPdf}.
 */
import { jsPDF } from 'jspdf';
import type { ChartSpec } from './charts';
import type { ReportBlock } from './blocks';
import { DEJAVU_SANS_CONDENSED } from './font-data';
import { formatNumber } from '../base/format';
import { TOOL_VERSION } from '../base/version';

const PAGE = { width: 595.28, height: 841.89, margin: 48 };

/**
 * The embedded font's name, its one style: headings are larger, not bold (a second style of
 * the same file would embed and subset the font twice — the PDF larger and its writing
 * slower — for the same glyphs).
 */
const FONT = 'DejaVu';

/**
 * Text for the report's embedded font: control characters and bidi marks removed (text
 * from data files is shown inert, never reordered).
 */
export function pdfText(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '');
}

const fmt = formatNumber;

/** A cursor over the pages: headings (with outline entries), paragraphs, tables, charts. */
class Writer {
  readonly doc: jsPDF;
  y = PAGE.margin;

  constructor(createdAt: string, fileId: string) {
    this.doc = new jsPDF({ unit: 'pt', format: 'a4', compress: true, putOnlyUsedFonts: true });
    this.doc.setCreationDate(new Date(createdAt));
    this.doc.setFileId(fileId);
    // An embedded Unicode font: group names and data values show as written.
    this.doc.addFileToVFS('DejaVuSansCondensed.ttf', DEJAVU_SANS_CONDENSED);
    this.doc.addFont('DejaVuSansCondensed.ttf', FONT, 'normal');
    this.doc.setFont(FONT, 'normal');
  }

  ensure(height: number): void {
    if (this.y + height > PAGE.height - PAGE.margin) this.newPage();
  }

  newPage(): void {
    this.doc.addPage();
    this.y = PAGE.margin;
  }

  heading(text: string, level: 1 | 2 = 1): void {
    this.ensure(level === 1 ? 60 : 36);
    if (level === 1 && this.y > PAGE.margin + 1) this.y += 8;
    this.doc.setFontSize(level === 1 ? 16 : 12);
    this.doc.text(pdfText(text), PAGE.margin, this.y + (level === 1 ? 16 : 12));
    this.y += level === 1 ? 28 : 20;
    this.doc.setFontSize(9.5);
  }

  paragraph(text: string, size = 9.5): void {
    this.doc.setFontSize(size);
    const lines = this.doc.splitTextToSize(pdfText(text), PAGE.width - 2 * PAGE.margin) as string[];
    for (const line of lines) {
      this.ensure(size * 1.35);
      this.doc.text(line, PAGE.margin, this.y + size);
      this.y += size * 1.35;
    }
    this.y += 4;
  }

  /**
   * A table whose cells wrap within their column (nothing is cut off): each row is as tall
   * as its longest cell; the header repeats on every page the table runs onto.
   */
  table(headers: string[], rows: string[][], widths?: number[]): void {
    const total = PAGE.width - 2 * PAGE.margin;
    // Widths are relative (points or shares of the line): the table spans the text width. Shares were once taken for points, a letter a line.
    const sum = widths?.reduce((a, b) => a + b, 0) ?? 0;
    const w = widths && sum > 0 ? widths.map((x) => (x * total) / sum) : headers.map(() => total / headers.length);
    const line = 9.5;
    const pad = 3.5;
    const wrap = (text: string, width: number) => (this.doc.splitTextToSize(pdfText(text), Math.max(8, width - 4)) as string[]).slice(0, 40);
    const measure = (cells: string[]) => {
      this.doc.setFontSize(8);
      const wrapped = cells.map((cell, i) => wrap(cell, w[i] ?? w[w.length - 1]));
      const height = Math.max(1, ...wrapped.map((lines) => lines.length)) * line + pad;
      return { wrapped, height };
    };
    const paint = ({ wrapped, height }: { wrapped: string[][]; height: number }, isHeader: boolean) => {
      this.doc.setFontSize(8);
      let x = PAGE.margin;
      wrapped.forEach((lines, i) => {
        lines.forEach((text, k) => this.doc.text(text, x + 2, this.y + 8 + k * line));
        x += w[i];
      });
      if (isHeader) this.doc.setDrawColor(120).line(PAGE.margin, this.y + height - 1, PAGE.margin + total, this.y + height - 1);
      this.y += height;
    };
    const header = measure(headers);
    const drawHeader = () => {
      paint(header, true);
      this.y += 2;
    };
    this.ensure(header.height + 3 * line);
    drawHeader();
    for (const row of rows) {
      const measured = measure(row);
      if (this.y + measured.height > PAGE.height - PAGE.margin) {
        this.newPage();
        drawHeader();
      }
      paint(measured, false);
    }
    this.y += 8;
  }

  /** The text cut to fit `width` points at the current font size, with "…" where it was cut (one line, for axis labels). */
  fit(text: string, width: number): string {
    if (this.doc.getTextWidth(text) <= width) return text;
    let cut = text;
    while (cut.length > 1 && this.doc.getTextWidth(`${cut}…`) > width) cut = cut.slice(0, -1);
    return `${cut}…`;
  }

  /** Draws a chart spec with vector paths: axes, series, intervals, reference rules. */
  chart(spec: ChartSpec, height = 200): void {
    this.ensure(height + 40);
    const doc = this.doc;
    const left = PAGE.margin + 36;
    const top = this.y + 16;
    const width = Math.min(320, PAGE.width - 2 * PAGE.margin - 40);
    doc.setFontSize(9).text(pdfText(spec.title), PAGE.margin, this.y + 9);
    doc.setFontSize(7);
    const sx = (v: number) => left + ((v - spec.x.min) / (spec.x.max - spec.x.min || 1)) * width;
    const sy = (v: number) => top + height - ((v - spec.y.min) / (spec.y.max - spec.y.min || 1)) * height;
    doc.setDrawColor(0).setLineWidth(0.6).rect(left, top, width, height);
    if (spec.kind === 'bar') {
      const band = height / Math.max(1, spec.series[0].points.length);
      spec.series[0].points.forEach((p, i) => {
        doc.setFillColor(31, 119, 180).rect(left, top + i * band + 2, Math.max(0.5, sx(p.x) - left), band - 4, 'F');
        doc.setTextColor(0).text(pdfText(p.label ?? ''), left - 4, top + i * band + band / 2 + 2, { align: 'right' });
      });
    } else {
      for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
        const v = spec.y.min + tick * (spec.y.max - spec.y.min);
        doc.text(fmt(v, 2), left - 4, sy(v) + 2, { align: 'right' });
        if (spec.kind === 'line' || spec.pointLabels === 'tooltip') doc.text(fmt(spec.x.min + tick * (spec.x.max - spec.x.min), 2), sx(spec.x.min + tick * (spec.x.max - spec.x.min)), top + height + 9, { align: 'center' });
      }
      spec.series.forEach((series, s) => {
        const reference = series.name === 'chance' || series.name === 'perfect';
        if (reference) doc.setDrawColor(150).setLineDashPattern([3, 3], 0);
        else doc.setDrawColor(31, 119, 180).setLineDashPattern([], 0);
        doc.setLineWidth(reference ? 0.5 : 1);
        if (spec.kind === 'line' || reference) {
          for (let i = 1; i < series.points.length; i++) doc.line(sx(series.points[i - 1].x), sy(series.points[i - 1].y), sx(series.points[i].x), sy(series.points[i].y));
        } else {
          for (const p of series.points) {
            if (p.low !== undefined && p.high !== undefined) doc.line(sx(p.x), sy(p.low), sx(p.x), sy(p.high));
            doc.setFillColor(31, 119, 180).circle(sx(p.x), sy(p.y), 2, 'F');
            if (p.label && spec.x.label !== 'Mean predicted p(positive)' && spec.pointLabels !== 'tooltip') doc.text(this.fit(pdfText(p.label), width / series.points.length - 2), sx(p.x), top + height + 9, { align: 'center' });
          }
        }
        doc.setLineDashPattern([], 0);
        void s;
      });
      for (const rule of spec.rules) {
        doc.setDrawColor(214, 39, 40).setLineDashPattern([2, 2], 0).setLineWidth(0.6);
        if (rule.axis === 'y') doc.line(left, sy(rule.value), left + width, sy(rule.value));
        else doc.line(sx(rule.value), top, sx(rule.value), top + height);
        doc.setLineDashPattern([], 0).setTextColor(214, 39, 40).text(pdfText(rule.label), left + width + 3, sy(rule.value) + 2);
        doc.setTextColor(0);
      }
      doc.setDrawColor(0);
    }
    doc.setFontSize(7.5).text(pdfText(spec.x.label), left + width / 2, top + height + 20, { align: 'center' });
    this.y = top + height + 30;
    doc.setFontSize(9.5);
  }
}

/** What a PDF made from blocks says about itself. */
export interface PdfDocumentInfo {
  title: string;
  subject: string;
  keywords?: string;
  /** ISO date: the PDF's creation date (the same input gives the same bytes). */
  createdAt: string;
  /** 32 hex digits: the PDF's file id. */
  fileId: string;
  /** Printed on every page before "page i of n". */
  footer: string;
  /** XMP metadata to embed, if any. */
  xmp?: string;
}

/**
 * Draws report blocks as a PDF: contents page after the cover, outline, page numbers,
 * vector charts, the embedded Unicode font. Used by the audit report and the registry's
 * monthly summary.
 */
export function renderBlocksPdf(blocks: ReportBlock[], info: PdfDocumentInfo): Uint8Array {
  const w = new Writer(info.createdAt, info.fileId);
  const doc = w.doc;
  doc.setDocumentProperties({ title: pdfText(info.title), subject: info.subject, creator: `Plumbline ${TOOL_VERSION}`, ...(info.keywords ? { keywords: info.keywords } : {}) });
  const contents: { text: string; page: number; level: 1 | 2 }[] = [];
  for (const block of blocks) {
    switch (block.type) {
      case 'cover': {
        doc.setFontSize(22).text(pdfText(block.title), PAGE.margin, 110, { maxWidth: PAGE.width - 2 * PAGE.margin });
        const colour: [number, number, number] = block.verdict === 'PASS' ? [31, 111, 63] : block.verdict === 'WARN' || block.verdict === 'REVIEW' ? [138, 90, 0] : block.verdict === 'FAIL' ? [179, 38, 30] : [90, 90, 90];
        doc.setFillColor(...colour).rect(PAGE.margin, 150, PAGE.width - 2 * PAGE.margin, 44, 'F');
        doc.setTextColor(255).setFontSize(18).text(pdfText(block.banner ?? `Policy decision: ${block.verdict}`), PAGE.margin + 14, 178);
        doc.setTextColor(0).setFontSize(10);
        w.y = 220;
        for (const line of block.lines) w.paragraph(line, 9);
        break;
      }
      case 'page':
        w.newPage();
        break;
      case 'heading':
        w.heading(block.text, block.level);
        contents.push({ text: block.text, page: doc.getNumberOfPages(), level: block.level });
        break;
      case 'paragraph':
        w.paragraph(block.text, block.size);
        break;
      case 'table':
        w.table(block.headers, block.rows, block.widths);
        break;
      case 'chart':
        w.chart(block.spec, block.height);
        break;
    }
  }

  // Table of contents on page 2 (pages after it move down by one).
  doc.insertPage(2);
  doc.setFontSize(16).text('Contents', PAGE.margin, PAGE.margin + 16);
  doc.setFontSize(10);
  contents
    .filter((entry) => entry.level === 1)
    .forEach((entry, i) => {
      const y = PAGE.margin + 44 + i * 16;
      doc.text(pdfText(entry.text), PAGE.margin, y);
      doc.text(String(entry.page + 1), PAGE.width - PAGE.margin, y, { align: 'right' });
    });
  // Bookmarks, with the page numbers as they are after the contents page went in.
  doc.outline.add(null, 'Cover', { pageNumber: 1 });
  doc.outline.add(null, 'Contents', { pageNumber: 2 });
  let parent: unknown = null;
  for (const entry of contents) {
    const item = doc.outline.add(entry.level === 1 ? null : parent, pdfText(entry.text), { pageNumber: entry.page + 1 });
    if (entry.level === 1) parent = item;
  }

  const pages = doc.getNumberOfPages();
  for (let page = 1; page <= pages; page++) {
    doc.setPage(page);
    doc.setFontSize(7.5).setTextColor(110).text(pdfText(`${info.footer} · page ${page} of ${pages}`), PAGE.width / 2, PAGE.height - 24, { align: 'center' });
    doc.setTextColor(0);
  }
  if (info.xmp) doc.addMetadata(info.xmp, true);
  return new Uint8Array(doc.output('arraybuffer'));
}

