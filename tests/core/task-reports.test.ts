/**
 * The PDF and HTML reports and the model card of multiclass and regression audits: real
 * audits of the reference models (tests/models) rendered, their numbers read back from
 * the HTML and compared with the result's (rounded here with toFixed, not by the report's
 * formatter), every class and group present, small groups flagged, nothing printed as
 * undefined/NaN/[object …], and the result embedded in the PDF reading back equal.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuditRequest } from '../../src/core/audit';
import { resultDigest } from '../../src/core/outputs/manifest';
import { runAnyAudit } from '../../src/core/audit/run';
import { renderHtml, resultFromHtml } from '../../src/core/outputs/html';
import { modelCard } from '../../src/core/outputs/model-card';
import { embeddedInPdf, renderPdf, resultFromPdf } from '../../src/core/outputs/pdf';
import { escapeHtml } from '../../src/core/outputs/svg';
import { predictedActualChart } from '../../src/core/outputs/task-charts';
import type { MulticlassAuditResult, RegressionAuditResult, TaskAuditResult } from '../../src/core/task/result';
import { projectRoot } from '../support/fixtures';

const models = join(projectRoot, 'tests', 'models');
const file = (name: string) => ({ fileName: name, bytes: new Uint8Array(readFileSync(join(models, name))) });
const createdAt = '2023-11-14T22:13:20.000Z';
const request = (model: string, data: string, target: string, protectedAttributes: string[], extra: Partial<AuditRequest> = {}): AuditRequest => ({ model: file(model), data: file(data), target, protectedAttributes, bootstrapResamples: 200, ...extra });

/** A number as the report shows it (3 decimals, or the dash for null). */
const shown = (v: number | null | undefined, digits = 3) => (typeof v === 'number' ? v.toFixed(digits) : '—');
const shownInterval = (i: { low: number; high: number } | null | undefined, digits = 3) => (i ? `${i.low.toFixed(digits)}–${i.high.toFixed(digits)}` : '—');

/** The report's visible text: the embedded JSON removed, and the core's own prose (conventions, reasons), which may use "undefined" as a word, taken out. */
function visible(html: string, result: TaskAuditResult): string {
  let text = html.replace(/<script type="application\/json"[\s\S]*?<\/script>/, '');
  const prose = [...Object.values(result.conventions), ...Object.values(result.performance.null_reasons)];
  for (const p of prose) text = text.split(escapeHtml(p)).join('');
  return text;
}

function expectClean(text: string) {
  expect(text).not.toMatch(/undefined|NaN|\[object/);
}

/** A table row of the HTML whose cells start with these. */
const row = (...cells: string[]) => `<tr>${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}`;

let multiclass: MulticlassAuditResult;
let regression: RegressionAuditResult;
let decision: RegressionAuditResult;

beforeAll(async () => {
  multiclass = (await runAnyAudit(ort as never, request('mc3_xgb.json', 'mc3_xgb.csv', 'risk_grade', ['sex', 'race'], { classLabels: ['low', 'medium', 'high'] }))) as MulticlassAuditResult;
  regression = (await runAnyAudit(ort as never, request('reg_xgb.json', 'reg.csv', 'credit_amount', ['gender', 'age_group']))) as RegressionAuditResult;
  decision = (await runAnyAudit(ort as never, request('reg_xgb.json', 'reg.csv', 'credit_amount', ['gender', 'age_group'], { threshold: 5000, positiveWhen: 'above' }))) as RegressionAuditResult;
  expect(multiclass.task).toBe('multiclass');
  expect(regression.task).toBe('regression');
  expect(decision.decision_audit).toBeDefined();
}, 120_000);

describe('the multiclass report', () => {
  it('says what kind of audit it is, and prints every metric, class and group as the result holds it', () => {
    const html = renderHtml({ result: multiclass, createdAt });
    const p = multiclass.performance;
    expect(html).toContain('Multiclass model audit: mc3_xgb.json');
    expect(html).toContain(escapeHtml(multiclass.task_notice));
    expect(html).toContain(escapeHtml(`Kind of audit: multiclass (${multiclass.settings.task_source})`));
    for (const [label, id] of [['Accuracy', 'accuracy'], ['Balanced accuracy', 'balanced_accuracy'], ['ROC AUC (macro one-vs-rest)', 'roc_auc_ovr'], ['F1 (macro)', 'f1_macro'], ['Log loss', 'log_loss']] as const) {
      expect(html, label).toContain(row(label, id, shown(p[id]), shownInterval(p.intervals[id])));
    }
    // Every class: its support, one-vs-rest AUC and precision with intervals, and its confusion-matrix row, whose sum is the class's count in the data.
    for (const [k, label] of ['low', 'medium', 'high'].entries()) {
      const m = p.per_class[label];
      expect(html, label).toContain(row(label, String(m.support), `${shown(m.roc_auc)} (${shownInterval(p.intervals[`per_class.${label}.roc_auc`], 2)})`, `${shown(m.precision)} (${shownInterval(p.intervals[`per_class.${label}.precision`], 2)})`));
      const counts = p.confusion_matrix[k];
      expect(counts.reduce((a, b) => a + b, 0)).toBe(multiclass.data.target.counts[label]);
      expect(html).toContain(row(label, ...counts.map(String), String(multiclass.data.target.counts[label])));
      expect(html).toContain(row(label, shown(multiclass.calibration.classwise_ece_per_class[label])));
    }
    expect(html).toContain('Top-label reliability (ECE ' + shown(multiclass.calibration.top_label_ece));
    for (const [attribute, f] of Object.entries(multiclass.fairness)) {
      for (const [group, g] of Object.entries(f.groups)) {
        const name = g.insufficient_samples ? `${group} (small: under ${multiclass.settings.min_group_size} rows)` : group;
        expect(html, `${attribute} ${group}`).toContain(row(name, String(g.n), `${shown(g.accuracy)} (${shownInterval(g.accuracy_interval, 2)})`, shown(g.f1_macro), ...['low', 'medium', 'high'].map((k) => shown(g.selection_rate[k]))));
      }
      expect(html).toContain(row('max_class_selection_rate_difference', shown(f.max_class_selection_rate_difference), f.max_class_selection_rate_difference_class ?? '—'));
    }
    expect(multiclass.fairness.race.small_groups.length).toBeGreaterThan(0);
    expect(html).toContain('Small groups: Asian (2 rows)');
    expect(html).toContain(row('task_source', multiclass.settings.task_source));
    expect(html).toContain(row('classes_source', multiclass.settings.classes_source!));
    for (const [k, v] of Object.entries(multiclass.conventions)) expect(html).toContain(row(k, v));
    expectClean(visible(html, multiclass));
    expect(resultFromHtml(html)).toEqual(JSON.parse(JSON.stringify(multiclass)));
  });

  it('embeds the result in the PDF, read back equal under the digest its keywords record', () => {
    const pdf = renderPdf({ result: multiclass, createdAt });
    expect(resultFromPdf(pdf)).toEqual(JSON.parse(JSON.stringify(multiclass)));
    expect(embeddedInPdf(pdf)!.digest).toBe(resultDigest(multiclass));
    expect(Buffer.from(renderPdf({ result: multiclass, createdAt })).equals(Buffer.from(pdf))).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'plumbline-task-report-'));
    writeFileSync(join(dir, 'r.pdf'), pdf);
    const text = execFileSync('pdftotext', ['-layout', join(dir, 'r.pdf'), '-'], { encoding: 'utf8' });
    expect(text).toContain('MULTICLASS AUDIT of 3 classes');
    expect(text).toContain('Confusion matrix');
    expect(text).not.toMatch(/NaN|\[object/);
  });

  it('gets a model card of its own: classes, metrics with intervals, groups, limitations, conventions', () => {
    const card = modelCard(multiclass);
    const plain = card.replace(/\\([*_`#<>[\]|])/g, '$1');
    expect(plain).toContain(multiclass.task_notice);
    expect(plain).toContain('Classes: low, medium, high');
    expect(card).toContain(`| Accuracy | accuracy | ${shown(multiclass.performance.accuracy)} | ${shownInterval(multiclass.performance.intervals.accuracy)} | Wilson |`);
    for (const label of ['low', 'medium', 'high']) expect(card).toContain(`| ${label} | ${multiclass.performance.per_class[label].support} |`);
    expect(card).toContain('| Asian (small) | 2 |');
    expect(plain).toContain('The recourse analysis did not run');
    expect(card).toContain('## Conventions');
    expect(card).not.toMatch(/undefined(?! is left out| on the| value)|NaN|\[object/);
  });
});

describe('the regression report', () => {
  it('prints every metric, group and disparity of the result, flags small groups and draws predicted against actual', () => {
    const html = renderHtml({ result: regression, createdAt });
    const p = regression.performance;
    expect(html).toContain('Regression model audit: reg_xgb.json');
    expect(html).toContain(escapeHtml(regression.task_notice));
    for (const [label, id] of [['Mean absolute error', 'mae'], ['Root mean squared error', 'rmse'], ['R²', 'r2'], ['Median absolute error', 'median_absolute_error'], ['Mean absolute percentage error', 'mape']] as const) {
      expect(html, label).toContain(row(label, id, shown(p[id]), shownInterval(p.intervals[id])));
    }
    for (const [attribute, f] of Object.entries(regression.fairness)) {
      for (const [group, g] of Object.entries(f.groups)) {
        expect(html, `${attribute} ${group}`).toContain(row(group, String(g.n), shown(g.mean_prediction, 2), shown(g.mean_outcome, 2), shown(g.mae, 2), shown(g.rmse, 2), shown(g.r2)));
      }
      expect(html).toContain(row('bounded_group_loss', shown(f.bounded_group_loss), `largest group MSE: ${f.bounded_group_loss_group}`));
      const ks = f.distribution.ks_statistic;
      expect(html).toContain(row('ks_statistic', shown(f.ks_statistic), `${ks.groups![0]} vs ${ks.groups![1]}, permutation p ${shown(ks.p_value, 4)}`));
    }
    expect(regression.fairness.age_group.small_groups).toContain('60+');
    expect(html).toContain(row('60+', String(regression.fairness.age_group.groups['60+'].n)));
    expect(html).toContain('small: fewer than 30 rows');
    // The decile table covers every row once.
    expect(regression.calibration.deciles.reduce((a, d) => a + d.n, 0)).toBe(regression.n);
    const chart = predictedActualChart(regression)!;
    expect(chart.series[0].points).toHaveLength(regression.residuals.shown);
    expect(html).toContain(escapeHtml(chart.title));
    expect(html).toContain('Residuals (actual − predicted)');
    expect(html).not.toContain('Decision audit');
    expectClean(visible(html, regression));
    const pdf = renderPdf({ result: regression, createdAt });
    expect(resultFromPdf(pdf)).toEqual(JSON.parse(JSON.stringify(regression)));
  });

  it('adds the binary audit of the decision the prediction feeds', () => {
    const html = renderHtml({ result: decision, createdAt });
    const d = decision.decision_audit!;
    expect(html).toContain('Decision audit');
    expect(html).toContain('positive when the prediction is at or above 5000');
    expect(html).toContain(row('Accuracy', shown(d.performance.accuracy), shownInterval(d.performance.intervals.accuracy)));
    expect(html).toContain(row('ROC AUC', shown(d.performance.roc_auc), shownInterval(d.performance.intervals.roc_auc)));
    for (const [group, m] of Object.entries(d.fairness.gender.groups)) expect(html).toContain(row(group, String(m.n), `${shown(m.selection_rate as number | null)} (${shownInterval(m.intervals.selection_rate, 2)})`));
    expectClean(visible(html, decision));
    expect(resultFromPdf(renderPdf({ result: decision, createdAt }))).toEqual(JSON.parse(JSON.stringify(decision)));
  });

  it('gets a model card of its own with group means and errors', () => {
    const card = modelCard(decision);
    expect(card).toContain(`| Mean absolute error | mae | ${shown(decision.performance.mae)} | ${shownInterval(decision.performance.intervals.mae)} |`);
    expect(card).toContain('Decision: positive when the prediction is at or above 5000');
    for (const [group, g] of Object.entries(decision.fairness.age_group.groups)) expect(card).toContain(`| ${group}${g.insufficient_samples ? ' (small)' : ''} | ${g.n} | ${shown(g.mean_prediction, 2)} |`);
    expect(card).not.toMatch(/NaN|\[object/);
  });
});
