import { jsPDF } from 'jspdf';
import { comparisonBlocks, decisionBlocks } from './decision-blocks';
import type { AuditResult } from '../audit';
import type { PolicyDecision } from '../config/policy';
import { METRIC_CATALOG } from '../metrics/catalog';
import { confidenceLabel } from '../metrics/intervals';
import { thresholdText } from '../metrics/curves';
import { resultDigest, type Manifest } from '../manifest';
import { TOOL_VERSION } from '../version';
import { importanceChart, reliabilityChart, rocChart, selectionRateChart, type ChartSpec } from './charts';
import { DEJAVU_SANS_CONDENSED } from './font-data';
import { formatInterval, formatNumber, settingRows } from './format';
import { isUnlabelled, unlabelledSectionBlocks, unlabelledSummaryBlocks } from './unlabelled-blocks';

/** What a report is made from. */
export interface ReportInput {
  result: AuditResult;
  manifest?: Manifest;
  decision?: PolicyDecision;
  title?: string;
  /** ISO date printed on the cover and used as the PDF's creation date (from SOURCE_DATE_EPOCH when set). */
  createdAt: string;
}

/** XMP namespace under which the result JSON travels inside the PDF. */
export const RESULT_NAMESPACE = 'https://plumbline.invalid/ns/result/1.0/';

const PAGE = { width: 595.28, height: 841.89, margin: 48 };

/** The embedded font's name (headings use it larger rather than a second, bold file). */
const FONT = 'DejaVu';

/**
 * Text for the report's embedded font: control characters and bidi marks removed (text
 * from data files is shown inert, never reordered).
 */
export function pdfText(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '');
}

const fmt = formatNumber;
const interval = (i: { low: number; high: number } | null | undefined, digits = 3) => formatInterval(i, digits);

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
    this.doc.addFont('DejaVuSansCondensed.ttf', FONT, 'bold');
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
    this.doc.setFont(FONT, 'bold').setFontSize(level === 1 ? 16 : 12);
    this.doc.text(pdfText(text), PAGE.margin, this.y + (level === 1 ? 16 : 12));
    this.y += level === 1 ? 28 : 20;
    this.doc.setFont(FONT, 'normal').setFontSize(9.5);
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
    const w = widths ?? headers.map(() => total / headers.length);
    const line = 9.5;
    const pad = 3.5;
    const wrap = (text: string, width: number) => (this.doc.splitTextToSize(pdfText(text), Math.max(8, width - 4)) as string[]).slice(0, 40);
    const drawRow = (cells: string[], bold: boolean) => {
      this.doc.setFont(FONT, bold ? 'bold' : 'normal').setFontSize(8);
      const wrapped = cells.map((cell, i) => wrap(cell, w[i] ?? w[w.length - 1]));
      const height = Math.max(1, ...wrapped.map((lines) => lines.length)) * line + pad;
      return { wrapped, height };
    };
    const paint = ({ wrapped, height }: { wrapped: string[][]; height: number }, bold: boolean) => {
      this.doc.setFont(FONT, bold ? 'bold' : 'normal').setFontSize(8);
      let x = PAGE.margin;
      wrapped.forEach((lines, i) => {
        lines.forEach((text, k) => this.doc.text(text, x + 2, this.y + 8 + k * line));
        x += w[i];
      });
      if (bold) this.doc.setDrawColor(120).line(PAGE.margin, this.y + height - 1, PAGE.margin + total, this.y + height - 1);
      this.y += height;
    };
    const header = drawRow(headers, true);
    const drawHeader = () => {
      paint(header, true);
      this.y += 2;
    };
    this.ensure(header.height + 3 * line);
    drawHeader();
    for (const row of rows) {
      const measured = drawRow(row, false);
      if (this.y + measured.height > PAGE.height - PAGE.margin) {
        this.newPage();
        drawHeader();
      }
      paint(measured, false);
    }
    this.doc.setFont(FONT, 'normal');
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
    doc.setFont(FONT, 'bold').setFontSize(9).text(pdfText(spec.title), PAGE.margin, this.y + 9);
    doc.setFont(FONT, 'normal').setFontSize(7);
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
        if (spec.kind === 'line') doc.text(fmt(spec.x.min + tick * (spec.x.max - spec.x.min), 2), sx(spec.x.min + tick * (spec.x.max - spec.x.min)), top + height + 9, { align: 'center' });
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
            if (p.label && spec.x.label !== 'Mean predicted p(positive)') doc.text(this.fit(pdfText(p.label), width / series.points.length - 2), sx(p.x), top + height + 9, { align: 'center' });
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

/** One piece of the report, drawn by either renderer. */
export type ReportBlock =
  | { type: 'cover'; title: string; verdict: string; lines: string[]; /** Text on the coloured band (default "Policy decision: VERDICT"). */ banner?: string }
  | { type: 'page' }
  | { type: 'heading'; text: string; level: 1 | 2 }
  | { type: 'paragraph'; text: string; size?: number }
  | { type: 'table'; headers: string[]; rows: string[][]; widths?: number[] }
  | { type: 'chart'; spec: ChartSpec; height?: number };

/** Records the report's blocks in order (the PDF and HTML renderers replay them). */
class Blocks {
  readonly list: ReportBlock[] = [];
  newPage(): void {
    this.list.push({ type: 'page' });
  }
  heading(text: string, level: 1 | 2 = 1): void {
    this.list.push({ type: 'heading', text, level });
  }
  paragraph(text: string, size?: number): void {
    this.list.push({ type: 'paragraph', text, size });
  }
  table(headers: string[], rows: string[][], widths?: number[]): void {
    this.list.push({ type: 'table', headers, rows, widths });
  }
  chart(spec: ChartSpec, height?: number): void {
    this.list.push({ type: 'chart', spec, height });
  }
}

/** How an interval was made, in words ("no value" / "no interval" where there is none). */
function methodOf(interval: { method?: string } | null | undefined, value: unknown): string {
  if (interval) return interval.method ?? 'no method recorded';
  return value === null || value === undefined ? 'no value' : 'no interval: too few groups or rows';
}

/** ", driven by A (n) vs B (n, small)": which groups give a worst-case disparity, and whether either is small. */
function drivenBy(f: AuditResult['fairness'][string], id: string, minGroupSize: number): string {
  const driver = f.drivers?.[id];
  if (!driver) return '';
  const name = (g: string) => (f.groups[g] ? `${g} (${f.groups[g].n} rows${driver.small_groups.includes(g) ? `, small: under ${minGroupSize}` : ''})` : g);
  return `; ${driver.rate}: ${name(driver.high_group)} vs ${name(driver.low_group)}`;
}


/** Performance, calibration and fairness per attribute of a labelled audit. */
function labelledSections(b: Blocks, result: AuditResult, decision: PolicyDecision | undefined, level: string): void {
  const p = result.performance;
  b.heading('Performance');
  const c = p.confusion_matrix;
  b.table(
    ['Metric', 'Value', `${level} interval`],
    [
      ['Accuracy', fmt(p.accuracy), interval(p.intervals.accuracy)],
      ['Balanced accuracy', fmt(p.balanced_accuracy), '-'],
      ['Precision', fmt(p.precision), interval(p.intervals.precision)],
      ['Recall (TPR)', fmt(p.recall), interval(p.intervals.recall)],
      ['Specificity (TNR)', fmt(p.specificity), interval(p.intervals.specificity)],
      ['F1', fmt(p.f1), '-'],
      ['ROC AUC', fmt(p.roc_auc), interval(p.intervals.roc_auc)],
      ['Average precision', fmt(p.average_precision), '-'],
      ['Log loss', fmt(p.log_loss), '-'],
      ['Brier score', fmt(p.brier_score), '-'],
      ['Selection rate', fmt(p.selection_rate), interval(p.intervals.selection_rate)],
      ['Confusion matrix', `TP ${c.tp}  FP ${c.fp}  TN ${c.tn}  FN ${c.fn}`, ''],
    ],
    [170, 170, 159],
  );
  b.paragraph(`Threshold ${thresholdText(result.threshold_selection)}.`);
  b.chart(rocChart(result));

  // 5. Calibration.
  b.heading('Calibration');
  if (result.calibration.expected_calibration_error === null) b.paragraph(`Not computed: ${result.calibration.binning}.`);
  else {
    b.paragraph(`ECE ${fmt(result.calibration.expected_calibration_error)} (${level} interval ${interval(result.calibration.intervals.expected_calibration_error)}, ${methodOf(result.calibration.intervals.expected_calibration_error, result.calibration.expected_calibration_error)}${result.calibration.intervals.expected_calibration_error?.note ? `: ${result.calibration.intervals.expected_calibration_error.note}` : ''}), MCE ${fmt(result.calibration.maximum_calibration_error)}, Brier ${fmt(p.brier_score)}. Binning: ${result.calibration.binning}; positive-class calibration.`);
    b.chart(reliabilityChart(result));
    b.table(['Bin', 'Range', 'n', 'Mean predicted', 'Observed', `Observed ${level} (Wilson)`], result.calibration.table.map((b) => [String(b.bin), `${fmt(b.lower, 2)}-${fmt(b.upper, 2)}`, String(b.n), fmt(b.mean_predicted), fmt(b.fraction_positive), interval(b.fraction_positive_interval)]), [40, 80, 50, 100, 100, 129]);
  }

  // 6. Fairness.
  b.heading('Fairness');
  for (const [attribute, f] of Object.entries(result.fairness)) {
    b.heading(attribute, 2);
    b.table(
      ['Group', 'n', 'Selection', 'TPR', 'FPR', 'Precision', 'Accuracy', 'Note'],
      Object.entries(f.groups).map(([group, m]) => [
        group,
        String(m.n),
        `${fmt(m.selection_rate)} (${interval(m.intervals.selection_rate, 2)})`,
        fmt(m.tpr),
        fmt(m.fpr),
        fmt(m.precision),
        fmt(m.accuracy),
        m.insufficient_samples ? `fewer than ${result.settings.min_group_size} rows` : Object.keys(m.null_reasons).length ? `no value: ${Object.keys(m.null_reasons).join(', ')}` : '',
      ]),
      [90, 35, 90, 45, 45, 55, 55, 84],
    );
    b.chart(selectionRateChart(result, attribute, decision), 150);
    b.table(
      ['Disparity', 'Value', `${level} interval`, 'Method; groups behind it'],
      ['demographic_parity_difference', 'demographic_parity_ratio', 'equal_opportunity_difference', 'equalized_odds_difference', 'equalized_odds_ratio', 'predictive_parity_difference', 'fpr_difference', 'fnr_difference', 'accuracy_difference'].map((id) => [id, fmt(f[id]), interval(f.intervals[id]), `${methodOf(f.intervals[id], f[id])}${drivenBy(f, id, result.settings.min_group_size)}`]),
      [150, 50, 80, 219],
    );
    const small = Object.entries(f.groups).filter(([, m]) => m.insufficient_samples);
    if (small.length) b.paragraph(`Small groups: ${small.map(([g, m]) => `${g} (${m.n} rows)`).join(', ')} ${small.length === 1 ? 'has' : 'have'} fewer than ${result.settings.min_group_size} rows (fairness.min_group_size). Their rates and any disparity they drive are too uncertain to judge on their own: read the intervals, which are as wide as the data allow.`);
    const reference = f.groups[f.four_fifths_rule.reference_group];
    const referenceSmall = reference?.insufficient_samples ? ` (${reference.n} rows, under ${result.settings.min_group_size}: a small group's rate is uncertain, read the comparison with care)` : '';
    b.paragraph(`Four-fifths rule against ${f.four_fifths_rule.reference_group}${referenceSmall}${f.four_fifths_rule.basis ? `, ${f.four_fifths_rule.basis}` : ''}: ${f.four_fifths_rule.violations.length ? `violated by ${f.four_fifths_rule.violations.join(', ')}` : 'met'}. Statistical power to detect a ${result.settings.power_difference} difference in selection rate (the weakest comparison with the reference group): ${fmt(f.statistical_power)}.`);
  }
}

/** The report title. */
export function reportTitle(input: ReportInput): string {
  const model = input.result.inputs.model;
  return input.title ?? `Model audit: ${'file' in model ? model.file : `score column ${model.column}`}`;
}

/**
 * The report's content as blocks, from the result alone: cover, executive summary, data,
 * performance, calibration, fairness, explanations, robustness, drift, recourse,
 * reproducibility, appendix. A section whose analysis did not run says why.
 */
export function reportBlocks(input: ReportInput): ReportBlock[] {
  const level = confidenceLabel(input.result.settings.confidence);
  const { result, manifest, decision } = input;
  const digest = resultDigest(result);
  const b = new Blocks();
  const model = result.inputs.model;
  b.list.push({
    type: 'cover',
    title: reportTitle(input),
    verdict: decision?.decision ?? 'NO POLICY',
    lines: [
      ...(result.labels_notice ? [result.labels_notice] : []),
      'file' in model ? `Model: ${model.file} (${model.format}) sha256 ${model.sha256}` : `Scores: column ${model.column} of the data (no model file)`,
      `Data: ${result.inputs.data.file}, ${result.inputs.data.rows} rows, sha256 ${result.inputs.data.sha256}`,
      `Date: ${input.createdAt}    Tool: Plumbline ${TOOL_VERSION}`,
      `Result digest (sha256 of the canonical result JSON): ${digest}`,
      decision ? `Policy: ${decision.policy_name}${decision.policy_version ? ` v${decision.policy_version}` : ''} (sha256 ${decision.policy_sha256})` : 'No policy gates were evaluated.',
      ...(decision?.notices ?? []),
      ...(result.comparison ? [`Baseline: ${result.comparison.baseline.file} (${result.comparison.paired ? 'paired on the same rows' : 'not paired'})`] : []),
    ],
  });
  // 2. Executive summary.
  b.newPage();
  b.heading('Executive summary');
  const p = result.performance;
  const unlabelled = isUnlabelled(result);
  if (unlabelled) b.list.push(...unlabelledSummaryBlocks(result));
  else b.table(
    ['Key figure', 'Value', `${level} interval`, 'Convention'],
    [
      ['ROC AUC', fmt(p.roc_auc), interval(p.intervals.roc_auc), 'ties count half; DeLong interval'],
      ['Accuracy', fmt(p.accuracy), interval(p.intervals.accuracy), `predicted positive when p >= ${result.threshold}; Wilson`],
      ['Expected calibration error', fmt(result.calibration.expected_calibration_error), interval(result.calibration.intervals.expected_calibration_error), result.calibration.binning],
      ...Object.entries(result.fairness).map(([attribute, f]) => [`Demographic parity difference (${attribute})`, fmt(f.demographic_parity_difference), interval(f.intervals.demographic_parity_difference), `max − min selection rate; ${methodOf(f.intervals.demographic_parity_difference, f.demographic_parity_difference)}${drivenBy(f, 'demographic_parity_difference', result.settings.min_group_size)}`]),
      ...Object.entries(result.fairness).map(([attribute, f]) => [`Equalized odds difference (${attribute})`, fmt(f.equalized_odds_difference), interval(f.intervals.equalized_odds_difference), `max(ΔTPR, ΔFPR); ${methodOf(f.intervals.equalized_odds_difference, f.equalized_odds_difference)}${drivenBy(f, 'equalized_odds_difference', result.settings.min_group_size)}`]),
    ],
    [170, 60, 90, 179],
  );
  if (decision) b.list.push(...decisionBlocks(decision));
  const serious = [
    ...result.data.findings.filter((f) => f.severity === 'error').map((f) => f.message),
    ...Object.entries(result.fairness).flatMap(([a, f]) => (f.four_fifths_rule.violations.length ? [`Four-fifths rule on ${a}: ${f.four_fifths_rule.violations.join(', ')} below 80% of ${f.four_fifths_rule.reference_group}'s selection rate.`] : [])),
    ...result.data.findings.filter((f) => f.severity === 'warning').map((f) => f.message),
  ].slice(0, 12);
  b.heading('Most serious findings', 2);
  if (serious.length === 0) b.paragraph('No data, proxy or fairness finding was raised.');
  for (const finding of serious) b.paragraph(`• ${finding}`);
  const notRun = Object.entries(result.missing_sections);
  if (notRun.length) {
    b.heading('Not run', 2);
    for (const [section, why] of notRun) b.paragraph(`${section}: ${why}`);
  }

  if (result.comparison) b.list.push(...comparisonBlocks(result.comparison, result.settings.confidence));

  // 3. Data.
  b.heading('Data');
  b.paragraph(`${result.data.rows} rows audited${result.settings.test_sample_size ? ` (a seeded, target-stratified sample of ${result.inputs.data.rows})` : ''}; target ${result.settings.target}, ${result.settings.positive_label_convention}; class counts ${Object.entries(result.data.target.counts).map(([k, v]) => `${k}: ${v}`).join(', ')}; ${result.data.duplicate_rows} duplicate rows.`);
  b.table(
    ['Column', 'Type', 'Missing', 'Distinct', 'Summary'],
    result.data.columns.map((c) => [c.name, c.type ?? c.kind, `${c.missing} (${(c.missing_rate * 100).toFixed(1)}%)`, String(c.distinct), c.date_range ? `${c.date_range.min} to ${c.date_range.max}${c.date_format ? ` (written ${c.date_format})` : ''}` : c.summary ? `min ${fmt(c.summary.min, 2)}, median ${fmt(c.summary.median, 2)}, max ${fmt(c.summary.max, 2)}, mean ${fmt(c.summary.mean, 2)}` : (c.top ?? []).map((t) => `${t.value} (${t.count})`).join(', ')]),
    [110, 60, 70, 50, 209],
  );
  if (result.input_fidelity) {
    b.heading('Model inputs as fed', 2);
    b.paragraph(`How each input of ${result.inputs.model.format === 'score-column' ? 'the model' : result.inputs.model.file} was fed from the data. ${result.input_fidelity.conventions}`);
    b.table(
      ['Input', 'Column', 'Unseen values', 'Missing, fed as'],
      result.input_fidelity.inputs.map((e) => [
        e.input,
        e.column,
        e.unseen ? `${e.unseen.count} (${(e.unseen.share * 100).toFixed(1)}%)${e.unseen.top.length ? `: ${e.unseen.top.map((t) => `${t.value} ×${t.count}`).join(', ')}` : ''}` : 'any value',
        `${e.missing.count} (${(e.missing.share * 100).toFixed(1)}%)${e.missing.count ? `: ${e.missing.fed_as}` : ''}`,
      ]),
      [100, 90, 160, 149],
    );
  }
  const proxies = result.data.proxies.filter((x) => x.flag !== 'none');
  b.heading('Possible proxies', 2);
  if (proxies.length === 0) b.paragraph('No column is associated with a protected attribute at 0.3 or above.');
  else b.table(['Column', 'Protected attribute', 'Measure', 'Value', 'Flag'], proxies.map((x) => [x.feature, x.attribute, x.measure, fmt(x.value), x.flag]), [120, 110, 110, 80, 79]);
  b.paragraph(result.data.conventions, 7.5);

  // 4-6. Performance, calibration, fairness: without labels, what can be measured and the estimates.
  if (unlabelled) b.list.push(...unlabelledSectionBlocks(result, decision));
  else labelledSections(b, result, decision, level);
  for (const [name, intersection] of Object.entries(result.intersections)) {
    b.heading(`Intersection ${name}`, 2);
    b.table(['Group', 'n', 'Selection', 'TPR', 'FPR', 'Note'], Object.entries(intersection.groups).map(([g, m]) => [g, String(m.n), fmt(m.selection_rate), fmt(m.tpr), fmt(m.fpr), m.insufficient_samples ? `small: fewer than ${result.settings.min_group_size} rows` : '']), [150, 50, 70, 60, 60, 109]);
    if (intersection.empty_cells.length) b.paragraph(`Empty cells: ${intersection.empty_cells.join(', ')}.`);
    if (intersection.small_cells.length) b.paragraph(`Cells under ${result.settings.min_group_size} rows: ${intersection.small_cells.join(', ')}.`);
  }

  const slices = unlabelled ? null : result.slice_summary;
  if (slices) {
    b.heading('Underperforming slices', 2);
    b.paragraph(`${slices.rule} ${slices.underperforming_slice_count ? `${slices.underperforming_slice_count} slice${slices.underperforming_slice_count === 1 ? '' : 's'} underperform${slices.underperforming_slice_count === 1 ? 's' : ''}.` : 'None underperforms.'} Largest gap among slices large enough to judge: ${fmt(slices.max_slice_auc_gap)}.${slices.too_small ? ` ${slices.too_small} slice${slices.too_small === 1 ? ' is' : 's are'} too small to judge and left out.` : ''}`);
    if (slices.underperforming.length) b.table(['Column', 'Slice', 'n', 'ROC AUC', 'Below overall by'], slices.underperforming.map((x) => [x.column, x.slice, String(x.n), fmt(x.roc_auc), fmt(x.auc_gap)]), [110, 140, 60, 90, 99]);
  }

  if (result.ll144) {
    const l = result.ll144;
    b.heading('NYC Local Law 144 bias audit', 2);
    b.paragraph(`${l.rate === 'selection' ? 'Selection' : 'Scoring'} rates and impact ratios over ${l.rows.toLocaleString('en')} rows; ${l.definition}. Impact ratio: a category's rate over the highest rate among the categories. ${l.excludable_rule}`);
    for (const [title, c] of [['Sex', l.sex], ['Race/ethnicity', l.race_ethnicity], ['Intersectional (sex × race/ethnicity)', l.intersectional]] as const) {
      if (!c) continue;
      b.table(
        [`${title} (${c.column})`, 'Rows', l.rate === 'selection' ? 'Selected' : 'Above median', 'Rate', 'Impact ratio', 'Note'],
        c.categories.map((x) => [x.category, x.n.toLocaleString('en'), x.selected.toLocaleString('en'), fmt(x.rate), fmt(x.impact_ratio), `${x.category === c.reference_category ? 'highest rate (reference)' : ''}${x.excludable ? `${x.category === c.reference_category ? '; ' : ''}under 2% of rows: excludable` : ''}`]),
        [170, 50, 70, 50, 70, 89],
      );
      b.paragraph(`${c.unknown.toLocaleString('en')} row${c.unknown === 1 ? '' : 's'} of unknown category (missing ${c.column}), not in any category above.`);
    }
  }

  // 7. Explanations.
  b.heading('Explanations');
  if (!result.explanations) b.paragraph(`Not run: ${result.missing_sections.explainer ?? 'no explanation requested'}.`);
  else {
    const e = result.explanations;
    b.paragraph(`${e.method} SHAP values of ${e.rows.length} rows in ${e.output}; background: ${e.background}; expected value ${fmt(e.expected_value, 5)}; local accuracy error ${e.local_accuracy_error.toExponential(2)}.`);
    const chart = importanceChart(result);
    if (chart) b.chart(chart, Math.min(220, 18 * chart.series[0].points.length + 10));
    const reasons = e.adverse_action;
    if (reasons) {
      b.paragraph(
        `Reason codes: ${reasons.adverse_rows} of the ${e.rows.length} explained rows have an adverse decision; each gets at most ${reasons.count} principal reasons, never ${reasons.excluded.join(', ')}${reasons.rows_with_excluded_factor ? ` (in ${reasons.rows_with_excluded_factor} of them one of these was among the top pushes; the next input is given instead)` : ''}.${reasons.first_reasons.length ? ` Most frequent first reason: ${reasons.first_reasons.slice(0, 3).map((f) => `${f.column} (${f.rows})`).join(', ')}.` : ''}`,
      );
      const stability = reasons.stability;
      b.paragraph(
        stability
          ? `Stability: explained again with another seed (${stability.rerun}), ${stability.stable} of ${stability.rows} adverse rows keep the same set of reasons (${fmt(stability.share, 3)}; ${Math.round(stability.confidence * 100)}% interval ${interval(stability.interval)}).`
          : `Stability not measured: ${reasons.stability_unavailable ?? 'no second run'}.`,
      );
      if (e.reason_codes?.length) b.table(['Row', 'Score', 'Principal reasons (value)'], e.reason_codes.slice(0, 10).map((r) => [String(r.row), fmt(r.score), r.reasons.map((x) => `${x.column} (${x.value})`).join('; ')]), [50, 60, 389]);
      b.paragraph(reasons.convention, 7.5);
    }
  }

  // 8-10. Robustness, drift, recourse.
  b.heading('Robustness and individual fairness');
  const robustness = result.robustness;
  if (!robustness) b.paragraph(`Not run: ${result.missing_sections.robustness ?? 'not requested'}.`);
  else {
    const shift = robustness.demographic_shift;
    b.paragraph(`Demographic shift (shares moved by ±${shift.delta}): worst degradation ${fmt(shift.max_shift_degradation, 4)}${shift.worst ? ` (${shift.worst.metric} when ${shift.worst.attribute} = ${shift.worst.group} goes to a ${fmt(shift.worst.to, 2)} share)` : ''}.`);
    if (robustness.perturbation) b.table(['Noise ε', 'Rows', 'Decisions flipped (95% CI)', 'Mean |Δp|', 'Max |Δp|'], robustness.perturbation.map((r) => [String(r.epsilon), (r.rows ?? 0).toLocaleString('en'), `${fmt(r.flip_rate, 4)} (${interval(r.flip_rate_interval, 4)})`, fmt(r.mean_abs_change, 4), fmt(r.max_abs_change, 4)]), [70, 80, 149, 100, 100]);
    if (robustness.consistency) b.paragraph(`Consistency (k = ${robustness.consistency.k} nearest neighbours on ${robustness.consistency.columns.join(', ')}): ${fmt(robustness.consistency.consistency, 4)}${robustness.consistency.standard_error !== null && robustness.consistency.standard_error !== undefined ? ` ± ${fmt(robustness.consistency.standard_error, 4)} (standard error)` : ''} over ${robustness.consistency.rows_queried} rows, neighbours among ${robustness.consistency.pool_rows ?? robustness.consistency.rows_queried} rows.`);
    for (const flip of robustness.counterfactual_flips) {
      b.paragraph(flip.applicable ? `Counterfactual flips of ${flip.attribute}: ${Object.entries(flip.flip_rate).map(([g, r]) => `${g} ${fmt(r, 3)}`).join(', ')}.` : `Counterfactual flips of ${flip.attribute}: not applicable: ${flip.reason}.`);
    }
    b.paragraph(robustness.conventions, 7.5);
  }
  b.heading('Drift');
  if (!result.drift) b.paragraph(`Not run: ${result.missing_sections.drift ?? 'not requested'}.`);
  else {
    b.paragraph(`Against ${result.drift.reference}: max PSI ${fmt(result.drift.max_psi, 4)}, drifted feature share ${fmt(result.drift.drifted_feature_share)}${result.drift.prediction ? `, prediction PSI ${fmt(result.drift.prediction.psi, 4)}` : ''}.`);
    b.table(['Column', 'Kind', 'PSI', 'Level', 'Test'], result.drift.columns.map((d) => [d.column, d.kind, fmt(d.psi, 4), d.level, d.ks ? `KS ${fmt(d.ks.statistic)} (p ${fmt(d.ks.p_value, 4)})` : d.chi_square ? `chi-square p ${fmt(d.chi_square.p_value, 4)}` : '']), [130, 70, 70, 60, 169]);
    b.paragraph(result.drift.conventions, 7.5);
  }
  b.heading('Recourse');
  const rec = result.recourse;
  if (!rec) b.paragraph(`Not run: ${result.missing_sections.recourse ?? 'not requested'}.`);
  else {
    const feasibleInterval = rec.recourse_feasible_interval ? ` (${Math.round((rec.confidence ?? 0.95) * 100)}% interval ${fmt(rec.recourse_feasible_interval.low * 100, 1)}-${fmt(rec.recourse_feasible_interval.high * 100, 1)}%)` : '';
    b.paragraph(`${rec.rows_searched.toLocaleString('en')} of ${rec.adverse_rows.toLocaleString('en')} adverse decisions searched${rec.selection === 'seeded sample' ? ' (a seeded sample)' : ''}; ${fmt((rec.recourse_feasible_share ?? 0) * 100, 1)}%${feasibleInterval} have a feasible counterfactual.`);
    if (rec.columns?.length) b.table(['Model input', 'May change', 'Why'], rec.columns.map((c) => [c.column, c.changes === 'never' ? 'no' : c.range ? `${c.range[0]} to ${c.range[1]}` : (c.values ?? []).join(', '), c.reason]), [110, 130, 259]);
    for (const [attribute, groups] of Object.entries(rec.groups)) {
      b.table([`Group (${attribute})`, 'Rows', 'Feasible', 'Interval', 'Median cost'], Object.entries(groups).map(([g, v]) => [g, String(v.rows), fmt(v.feasible_share), interval(v.feasible_interval), fmt(v.median_cost)]), [150, 60, 80, 110, 99]);
    }
    const change = (c: { column: string; from: string; to: string; percentile_from?: number; percentile_to?: number }) => `${c.column}: ${c.from} → ${c.to}${c.percentile_from !== undefined ? ` (p${c.percentile_from} → p${c.percentile_to})` : ''}`;
    b.table(['Row', 'Score', 'Cheapest change', 'Cost', 'New score'], rec.rows.filter((r) => r.counterfactuals.length).slice(0, 15).map((r) => [String(r.row), fmt(r.score), r.counterfactuals[0].changes.map(change).join('; '), fmt(r.counterfactuals[0].cost, 2), fmt(r.counterfactuals[0].score)]), [40, 50, 289, 50, 70]);
    b.paragraph(rec.conventions, 7.5);
  }

  // 11. Reproducibility.
  b.heading('Reproducibility');
  const settings = result.settings;
  b.table(
    ['Item', 'Value'],
    [
      ['Random seed', String(settings.seed)],
      ['ECE interval draws (bootstrap.resamples)', String(settings.bootstrap_resamples)],
      ['Result sha256', digest],
      ...(manifest
        ? [
            ['Created', `${manifest.created} (${manifest.created_from})`],
            ['Runtime', `${manifest.runtime.environment}, ${manifest.runtime.platform}, ${manifest.runtime.backend}, ${manifest.runtime.threads} thread(s)`],
            ['Git commit', manifest.git_commit ?? 'none'],
            ...Object.entries(manifest.inputs).map(([role, f]) => [`${role} sha256`, `${f.file}: ${f.sha256}`]),
            ...Object.entries(manifest.dependencies).map(([name, version]) => [name, version]),
            ...Object.entries(manifest.derived_seeds).map(([stream, seed]) => [`seed of ${stream}`, String(seed)]),
          ]
        : [['Manifest', 'not written (the app and the CLI write one beside the result)']]),
    ],
    [160, 339],
  );

  // 12. Where the report answers the EU AI Act's technical documentation (Annex IV).
  b.newPage();
  b.heading('EU AI Act Annex IV mapping');
  b.paragraph('Regulation (EU) 2024/1689, Annex IV (technical documentation of a high-risk AI system): the points this report answers, and where. Plumbline documents a model audit; the provider remains responsible for the rest of the documentation.');
  const groupsText = Object.keys(result.fairness).join(', ') || 'no protected attribute';
  b.table(
    ['Annex IV point', 'What it asks', 'Where this report answers'],
    [
      ['2(g)', 'Validation and testing data used and their main characteristics', `Data: ${result.inputs.data.file} (${result.inputs.data.rows} rows, sha256 ${result.inputs.data.sha256.slice(0, 16)}…), class counts, column profiles, data findings, model inputs as fed.`],
      ['2(g)', 'Metrics used to measure accuracy, robustness and other requirements', `Performance (with ${level} intervals), Calibration, Robustness and individual fairness${result.robustness ? '' : ' (not run in this audit)'}, Drift${result.drift ? '' : ' (not run in this audit)'}.`],
      ['2(g)', 'Potentially discriminatory impacts', `Fairness: group rates and disparities with intervals for ${groupsText}; four-fifths rule; intersections; underperforming slices${result.ll144 ? '; NYC Local Law 144 tables' : ''}; proxies (Data).`],
      ['2(g)', 'Test logs and test reports, dated and signed', `Reproducibility: date ${input.createdAt}, result digest, input hashes, seeds; the evidence pack holds this report, the result, the manifest and SHA256SUMS. Signing is the responsible person's act: sign SHA256SUMS (Plumbline does not sign).`],
      ['3', 'Capabilities and limitations in performance, degrees of accuracy for specific persons or groups, overall expected accuracy', `Performance (overall), Fairness (accuracy, TPR, FPR per group of ${groupsText}), Underperforming slices; limitations: Most serious findings, small groups, Not run${result.threshold_selection.policy.policy === 'fixed' ? '' : ', how the threshold was chosen (Performance)'}.`],
      ['3', 'Foreseeable unintended outcomes and sources of risk of discrimination', `Possible proxies (Data), Robustness (demographic shift, counterfactual flips), Recourse${result.recourse ? '' : ' (not run in this audit)'}, reason codes (Explanations${result.explanations ? '' : ', not run in this audit'}).`],
      ['4', 'Appropriateness of the performance metrics', `Appendix: each metric's definition. The metrics are those of a binary decision at threshold ${result.threshold}: ranking (ROC AUC), decisions (accuracy, precision, recall, selection rate), probability quality (calibration, Brier, log loss), and group disparities in the same rates.${input.decision ? ` The policy ${input.decision.policy_name} states which of them gate the model.` : ' No policy was given: the deploying organisation states which metrics gate the model.'}`],
    ],
    [60, 170, 269],
  );

  // 13. Appendix.
  b.heading('Appendix: settings and definitions');
  b.paragraph('Settings as used (the result JSON holds the same under `settings`):', 8.5);
  b.table(['Setting', 'Value'], settingRows(settings), [170, 329]);
  b.table(['Metric id', 'Definition'], [...METRIC_CATALOG.values()].map((m) => [m.id, m.definition]), [170, 329]);

  return b.list;
}

/**
 * The audit report as a PDF, made by jsPDF from the report blocks (the browser and the
 * CLI make the same document): a table of contents after the cover, an outline
 * (bookmarks), page numbers, vector charts, and the result JSON embedded (XMP metadata)
 * so `plumbline inspect` and the app can read a report back. The creation date and the
 * document id come from the inputs, so the same result gives the same bytes.
 */
export function renderPdf(input: ReportInput): Uint8Array {
  const { result } = input;
  const digest = resultDigest(result);
  return renderBlocksPdf(reportBlocks(input), {
    title: reportTitle(input),
    subject: 'Plumbline model audit',
    keywords: `result-sha256:${digest}`,
    createdAt: input.createdAt,
    fileId: digest.slice(0, 32),
    footer: `Plumbline audit · ${digest.slice(0, 12)}`,
    xmp: `<plumbline:result xmlns:plumbline="${RESULT_NAMESPACE}">${base64(new TextEncoder().encode(JSON.stringify(result)))}</plumbline:result>`,
  });
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
        doc.setFont(FONT, 'bold').setFontSize(22).text(pdfText(block.title), PAGE.margin, 110, { maxWidth: PAGE.width - 2 * PAGE.margin });
        const colour: [number, number, number] = block.verdict === 'PASS' ? [31, 111, 63] : block.verdict === 'WARN' || block.verdict === 'REVIEW' ? [138, 90, 0] : block.verdict === 'FAIL' ? [179, 38, 30] : [90, 90, 90];
        doc.setFillColor(...colour).rect(PAGE.margin, 150, PAGE.width - 2 * PAGE.margin, 44, 'F');
        doc.setTextColor(255).setFontSize(18).text(pdfText(block.banner ?? `Policy decision: ${block.verdict}`), PAGE.margin + 14, 178);
        doc.setTextColor(0).setFont(FONT, 'normal').setFontSize(10);
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
  doc.setFont(FONT, 'bold').setFontSize(16).text('Contents', PAGE.margin, PAGE.margin + 16);
  doc.setFont(FONT, 'normal').setFontSize(10);
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

function base64(bytes: Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += alphabet[(n >> 18) & 63] + alphabet[(n >> 12) & 63] + (i + 1 < bytes.length ? alphabet[(n >> 6) & 63] : '=') + (i + 2 < bytes.length ? alphabet[n & 63] : '=');
  }
  return out;
}

/** Reads the result JSON back out of a Plumbline PDF report, or null when it holds none. */
export function resultFromPdf(bytes: Uint8Array): unknown {
  const embedded = embeddedInPdf(bytes);
  return embedded ? JSON.parse(embedded.json) : null;
}

/**
 * The result JSON text embedded in a Plumbline PDF (in its XMP metadata, base64) and the
 * result digest its keywords record, or null when the PDF holds none.
 */
export function embeddedInPdf(bytes: Uint8Array): { json: string; digest: string | null } | null {
  const text = new TextDecoder('latin1').decode(bytes);
  const match = /<plumbline:result[^>]*>([A-Za-z0-9+/=\s]+)<\/plumbline:result>/.exec(text);
  if (!match) return null;
  const clean = match[1].replace(/\s+/g, '');
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const out: number[] = [];
  for (let i = 0; i < clean.length; i += 4) {
    const n = (alphabet.indexOf(clean[i]) << 18) | (alphabet.indexOf(clean[i + 1]) << 12) | ((alphabet.indexOf(clean[i + 2]) & 63) << 6) | (alphabet.indexOf(clean[i + 3]) & 63);
    out.push((n >> 16) & 255);
    if (clean[i + 2] !== '=') out.push((n >> 8) & 255);
    if (clean[i + 3] !== '=') out.push(n & 255);
  }
  return { json: new TextDecoder().decode(Uint8Array.from(out)), digest: /result-sha256:([0-9a-f]{64})/.exec(text)?.[1] ?? null };
}
