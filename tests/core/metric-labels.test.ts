/**
 * Every metric's name is written once, in the catalog (src/core/metrics/catalog.ts):
 * METRIC_CATALOG's labels and RATE_LABELS. Here one fairness label and one performance
 * label are changed at run time and real audits' report blocks (the PDF's content), HTML
 * report, model card and the app's result views are rendered again: the new names must
 * show in all four and the old ones be gone from those rows. The app's views are the
 * components the app mounts (Results.svelte, TaskResults.svelte), compiled by the app's own
 * Svelte plugin and rendered by Svelte's server renderer (every tab panel stays in the
 * document, hidden or not). Its components are also read: no catalog label may be typed in
 * them, and the key-figure component takes its name from metricLabel.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { render } from 'svelte/server';
import { beforeAll, describe, expect, it } from 'vitest';
import Results from '../../src/app/Results.svelte';
import TaskResults from '../../src/app/TaskResults.svelte';
import { runAudit, type AuditRequest, type AuditResult } from '../../src/core/audit';
import { METRIC_CATALOG, RATE_LABELS, metricLabel } from '../../src/core/metrics/catalog';
import { renderHtml } from '../../src/core/outputs/html';
import { modelCard } from '../../src/core/outputs/model-card';
import { reportBlocks, type ReportBlock } from '../../src/core/outputs/pdf';
import { escapeHtml } from '../../src/core/outputs/svg';
import { runAnyAudit } from '../../src/core/audit/run';
import { isTaskResult, type MulticlassAuditResult, type RegressionAuditResult } from '../../src/core/task/result';
import { expected, fixtureBytes, projectRoot } from '../support/fixtures';

const createdAt = '2023-11-14T22:13:20.000Z';

/** Every text of the report blocks: headings, paragraphs, table headers and cells, chart titles and axes. */
function blockTexts(blocks: readonly ReportBlock[]): string[] {
  return blocks.flatMap((b) => {
    if (b.type === 'heading' || b.type === 'paragraph') return [b.text];
    if (b.type === 'table') return [...b.headers, ...b.rows.flat()];
    if (b.type === 'chart') return [b.spec.title, b.spec.x.label, b.spec.y.label];
    if (b.type === 'cover') return [b.title, ...b.lines];
    return [];
  });
}

/**
 * The app's result view of one result, as the app mounts it, rendered to HTML; less the slice
 * rule, a sentence the audit wrote into the result (with the names of the day it ran).
 */
function appView(result: Parameters<typeof modelCard>[0]): string {
  const html = isTaskResult(result) ? render(TaskResults, { props: { result, digest: null } }).body : render(Results, { props: { result: result as AuditResult, digest: null, runtime: null } }).body;
  return html.replace(/<p [^>]*data-testid="slice-rule"[^>]*>[^<]*<\/p>/, '');
}

/** The app shows a label as text of its own: after a tag or a space, before a tag, a space or " (" ("Label (race)"). */
const shown = (app: string, label: string) => new RegExp(`(>|\\s)${escapeHtml(label).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s|<)`).test(app);

/** The four outputs of one result: report block texts, HTML, model card, the app's view. */
function outputs(result: Parameters<typeof modelCard>[0]) {
  return { blocks: blockTexts(reportBlocks({ result, createdAt })), html: renderHtml({ result, createdAt }), card: modelCard(result), app: appView(result) };
}

/** Runs `check` with the labels of `ids` changed in the catalog, and puts them back after. */
function withLabels(changes: Record<string, string>, check: () => void): void {
  const before = Object.fromEntries(Object.keys(changes).map((id) => [id, METRIC_CATALOG.get(id)!.label]));
  try {
    for (const [id, label] of Object.entries(changes)) METRIC_CATALOG.get(id)!.label = label;
    check();
  } finally {
    for (const [id, label] of Object.entries(before)) METRIC_CATALOG.get(id)!.label = label;
  }
}

describe('a label changed in the catalog shows in the PDF, the HTML report, the model card and the app', () => {
  let binary: AuditResult;
  let multiclass: MulticlassAuditResult;
  let regression: RegressionAuditResult;
  beforeAll(async () => {
    const want = expected('compas/rf.expected.json');
    binary = await runAudit(ort, {
      model: { fileName: 'rf.onnx', bytes: fixtureBytes('compas/rf.onnx') },
      data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') },
      target: 'two_year_recid',
      protectedAttributes: ['race', 'sex'],
      features: want.features,
      bootstrapResamples: 20,
      seed: 3,
      missingSections: { explainer: 'off in this test', robustness: 'off in this test', recourse: 'off in this test' },
    });
    const models = join(projectRoot, 'tests', 'models');
    const file = (name: string) => ({ fileName: name, bytes: new Uint8Array(readFileSync(join(models, name))) });
    const request = (model: string, data: string, target: string, protectedAttributes: string[], extra: Partial<AuditRequest> = {}): AuditRequest => ({ model: file(model), data: file(data), target, protectedAttributes, bootstrapResamples: 20, ...extra });
    multiclass = (await runAnyAudit(ort as never, request('mc3_xgb.json', 'mc3_xgb.csv', 'risk_grade', ['sex'], { classLabels: ['low', 'medium', 'high'] }))) as MulticlassAuditResult;
    regression = (await runAnyAudit(ort as never, request('reg_xgb.json', 'reg.csv', 'credit_amount', ['gender']))) as RegressionAuditResult;
  }, 120_000);

  it('binary: demographic parity difference and ROC AUC', () => {
    const old = outputs(binary);
    // The rows under test, with the catalog's labels as they are.
    expect(old.blocks).toContain('Demographic parity difference (race)');
    expect(old.blocks).toContain('ROC AUC');
    expect(old.html).toContain('<td>Demographic parity difference (race)</td>');
    expect(old.card).toMatch(/^\| Demographic parity difference \| demographic\\_parity\\_difference \| /m);
    expect(old.card).toMatch(/^\| ROC AUC \| /m);
    expect(shown(old.app, 'Demographic parity difference')).toBe(true);
    expect(shown(old.app, 'ROC AUC')).toBe(true);

    withLabels({ demographic_parity_difference: 'DP gap (test)', roc_auc: 'AUC under test' }, () => {
      const now = outputs(binary);
      expect(now.blocks).toContain('DP gap (test) (race)');
      expect(now.blocks).toContain('DP gap (test) (sex)');
      expect(now.blocks).toContain('AUC under test');
      expect(now.blocks).not.toContain('Demographic parity difference (race)');
      expect(now.blocks).not.toContain('ROC AUC');
      expect(now.html).toContain(`<td>${escapeHtml('DP gap (test) (race)')}</td>`);
      expect(now.html).toContain('<td>AUC under test</td>');
      expect(now.html).not.toContain('<td>Demographic parity difference (race)</td>');
      expect(now.html).not.toContain('<td>ROC AUC</td>');
      expect(now.card).toMatch(/^\| DP gap \(test\) \| demographic\\_parity\\_difference \| /m);
      expect(now.card).toMatch(/^\| AUC under test \| /m);
      expect(now.card).not.toMatch(/^\| Demographic parity difference \|/m);
      expect(now.card).not.toMatch(/^\| ROC AUC \|/m);
      expect(shown(now.app, 'DP gap (test)')).toBe(true);
      expect(shown(now.app, 'AUC under test')).toBe(true);
      expect(shown(now.app, 'Demographic parity difference')).toBe(false);
      expect(shown(now.app, 'ROC AUC')).toBe(false);
    });
    // Put back: the outputs are as before.
    expect(outputs(binary)).toEqual(old);
  });

  it('multiclass and regression: their key figures and metric tables', () => {
    withLabels({ roc_auc_ovr: 'OvR AUC (test)', mae: 'MAE (test)', ks_statistic: 'KS gap (test)' }, () => {
      const mc = outputs(multiclass);
      expect(mc.blocks).toContain('OvR AUC (test)');
      expect(mc.blocks.filter((t) => t === 'ROC AUC (macro one-vs-rest)')).toEqual([]);
      expect(mc.html).toContain(`<td>${escapeHtml('OvR AUC (test)')}</td>`);
      expect(mc.card).toMatch(/^\| OvR AUC \(test\) \| roc_auc_ovr \| /m);
      expect(mc.card).not.toContain('ROC AUC (macro one-vs-rest)');
      expect(shown(mc.app, 'OvR AUC (test)')).toBe(true);
      expect(shown(mc.app, 'ROC AUC (macro one-vs-rest)')).toBe(false);

      const reg = outputs(regression);
      expect(reg.blocks).toContain('MAE (test)');
      expect(reg.blocks).toContain('KS gap (test) (gender)');
      expect(reg.blocks).not.toContain('Mean absolute error');
      expect(reg.html).toContain(`<td>${escapeHtml('MAE (test)')}</td>`);
      expect(reg.card).toMatch(/^\| MAE \(test\) \| mae \| /m);
      expect(reg.card).not.toMatch(/^\| Mean absolute error \|/m);
      expect(shown(reg.app, 'MAE (test)')).toBe(true);
      expect(shown(reg.app, 'KS gap (test)')).toBe(true);
      expect(shown(reg.app, 'Mean absolute error')).toBe(false);
    });
    // And before the change, the app showed the catalog's names.
    expect(shown(outputs(multiclass).app, 'ROC AUC (macro one-vs-rest)')).toBe(true);
    expect(shown(outputs(regression).app, 'Mean absolute error')).toBe(true);
  });
});

describe('the app takes metric names from the catalog', () => {
  const appDir = join(projectRoot, 'src', 'app');
  const components = readdirSync(appDir).filter((f) => f.endsWith('.svelte')).map((f) => ({ file: f, text: readFileSync(join(appDir, f), 'utf8') }));
  const labels = [...new Set([...[...METRIC_CATALOG.values()].map((m) => m.label), ...Object.values(RATE_LABELS)])];
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  /** A label typed as a literal: a quoted string, or the whole text (or its start, before " (" or "{") of a markup element. */
  const typed = (label: string) => new RegExp(`['"\`]${escape(label)}['"\`]|>\\s*${escape(label)}\\s*(<|\\(|\\{)`);

  it('finds a planted literal (the check can fail)', () => {
    expect(typed('ROC AUC').test('<th scope="col">ROC AUC</th>')).toBe(true);
    expect(typed('Accuracy').test('<th scope="col">Accuracy ({level} CI)</th>')).toBe(true);
    expect(typed('Precision').test("{ id: 'precision', label: 'Precision' }")).toBe(true);
    expect(typed('ROC AUC').test('<th scope="col">{metricLabel(\'roc_auc\')}</th>')).toBe(false);
  });

  /** Section headings that happen to read as a metric's label: they name a part of the page, not the metric. */
  const headings = new Set(['Results.svelte: Underperforming slices']);

  it('no component types a catalog label', () => {
    const found = components.flatMap(({ file, text }) => labels.filter((label) => typed(label).test(text)).map((label) => `${file}: ${label}`)).filter((f) => !headings.has(f));
    expect(found).toEqual([]);
  });

  it('the key-figure component names a metric by metricLabel(id), and no caller passes its own name', () => {
    const metric = components.find((c) => c.file === 'Metric.svelte')!.text;
    expect(metric).toContain('{metricLabel(id)}');
    expect(metric).not.toMatch(/\blabel\s*[:?]\s*string/);
    for (const { file, text } of components) for (const use of text.match(/<Metric\b[^>]*>/g) ?? []) expect(use, file).not.toMatch(/\slabel=/);
    // Every id a <Metric> is given literally has a name.
    for (const { text } of components) for (const [, id] of text.matchAll(/<Metric\b[^>]*\sid="([a-z_]+)"/g)) expect(() => metricLabel(id)).not.toThrow();
  });
});
