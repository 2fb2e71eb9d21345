import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chartSnapshot, reliabilityChart, selectionRateChart } from '../../src/core/report/charts';
import { pdfText, resultFromPdf } from '../../src/core/report/pdf';
import { expected, fixture, projectRoot } from '../fixtures';

const want = expected('compas/rf.expected.json');
const work = mkdtempSync(join(tmpdir(), 'plumbline-report-'));

function audit(out: string) {
  const run = spawnSync(process.execPath, [join(projectRoot, 'bin/plumbline.js'), 'audit', '--model', fixture('compas/rf.onnx'), '--data', fixture('compas/test.csv'), '--reference', fixture('compas/train.csv'), '--target', 'two_year_recid', '--protected', 'race,sex', '--features', want.features!.join(','), '--seed', '42', '--output', out], { encoding: 'utf8', cwd: work, env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000', GIT_COMMIT: 'report-test' } });
  expect(run.status, run.stderr).toBe(0);
}

describe('the PDF report', () => {
  audit('a/report.pdf');
  audit('b/report.pdf');
  const pdf = join(work, 'a', 'report.pdf');
  const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });

  it('has every section, in order, with the audit’s numbers', () => {
    const sections = ['Policy decision: NO POLICY', 'Executive summary', 'Most serious findings', 'Data', 'Possible proxies', 'Performance', 'ROC curve', 'Calibration', 'Fairness', 'Intersection race × sex', 'Explanations', 'Robustness and individual fairness', 'Drift', 'Recourse', 'Reproducibility', 'Appendix: settings and definitions'];
    let at = 0;
    for (const section of sections) {
      const found = text.indexOf(section, at);
      expect(found, section).toBeGreaterThanOrEqual(0);
      at = found;
    }
    expect(text).toMatch(new RegExp(`ROC AUC\\s+${want.performance.roc_auc.toFixed(3)}`));
    expect(text).toContain('Native American');
    expect(text).toContain('fewer than 30 rows');
    expect(text).toMatch(/page 1 of \d+/);
  });

  it('renders every page to an image', () => {
    execFileSync('pdftoppm', ['-r', '40', '-png', pdf, join(work, 'page')]);
    const pages = readdirSync(work).filter((f) => f.startsWith('page') && f.endsWith('.png'));
    const count = Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [pdf], { encoding: 'utf8' }))![1]);
    expect(pages).toHaveLength(count);
    for (const page of pages) expect(statSync(join(work, page)).size).toBeGreaterThan(2000);
  });

  it('is byte-identical for the same result and SOURCE_DATE_EPOCH, and under 2 MB', () => {
    const a = readFileSync(pdf);
    expect(a.equals(readFileSync(join(work, 'b', 'report.pdf')))).toBe(true);
    expect(a.length).toBeLessThan(2 * 1024 * 1024);
  });

  it('carries the result JSON, which plumbline inspect reads back', () => {
    const embedded = resultFromPdf(new Uint8Array(readFileSync(pdf))) as { performance: { roc_auc: number } };
    const json = JSON.parse(readFileSync(join(work, 'a', 'report.json'), 'utf8'));
    expect(embedded).toEqual(json);
    const inspect = spawnSync(process.execPath, [join(projectRoot, 'bin/plumbline.js'), 'inspect', pdf], { encoding: 'utf8' });
    expect(inspect.status).toBe(0);
    expect(inspect.stdout).toMatch(/^ {2}roc_auc\s+0\.7440\d+$/m);
  });

  it('shows text from data files inert: no control characters or bidi marks', () => {
    expect(pdfText('a\u202Eb\u0007c ≥ 1 − x')).toBe('abc >= 1 - x');
  });
});

describe('chart specifications', () => {
  it('snapshot the numbers each chart shows', () => {
    const result = JSON.parse(readFileSync(join(work, 'a', 'report.json'), 'utf8'));
    const reliability = chartSnapshot(reliabilityChart(result)) as { series: { points: { x: number; y: number }[] }[] };
    // The chart shows the reliability table's own numbers (bins with rows).
    const bins = want.calibration.table.filter((b) => b.n > 0);
    expect(reliability.series[0].points.map((p) => p.y)).toEqual(bins.map((b) => Number(b.fraction_positive!.toFixed(4))));
    const selection = selectionRateChart(result, 'race');
    expect(selection.series[0].points.map((p) => p.label)).toEqual(Object.keys(want.fairness.race.groups));
    expect(selection.series[0].points.map((p) => Number(p.y.toFixed(6)))).toEqual(Object.values(want.fairness.race.groups).map((g) => Number((g.selection_rate as number).toFixed(6))));
  });
});
