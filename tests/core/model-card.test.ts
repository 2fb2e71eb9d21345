import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { runAudit, type AuditResult } from '../../src/core/audit';
import { modelCard } from '../../src/core/outputs/model-card';
import { formatInterval } from '../../src/core/base/format';
import { expected, fixtureBytes } from '../support/fixtures';

// The model card a validator files: intended use and limitations from the config's
// metadata, the training file summarised (rows, class balance, period), every interval.
const text = (path: string) => new TextDecoder().decode(fixtureBytes(path));

/** Rows per value of a column, counted from the CSV text here (no project code). */
function countColumn(csv: string, column: string): Record<string, number> {
  const [header, ...rows] = csv.trimEnd().split(/\r?\n/);
  const at = header.split(',').indexOf(column);
  const counts: Record<string, number> = {};
  for (const row of rows) {
    const value = row.split(',')[at];
    counts[value] = (counts[value] ?? 0) + 1;
  }
  return counts;
}

describe('the model card', () => {
  let result: AuditResult;
  let card: string;
  beforeAll(async () => {
    const want = expected('compas/rf.expected.json');
    result = await runAudit(ort, {
      model: { fileName: 'rf.onnx', bytes: fixtureBytes('compas/rf.onnx') },
      data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') },
      reference: { fileName: 'train.csv', bytes: fixtureBytes('compas/train.csv') },
      target: 'two_year_recid',
      protectedAttributes: ['race', 'sex'],
      features: want.features,
      bootstrapResamples: 100,
      seed: 3,
      missingSections: { explainer: 'off in this test', robustness: 'off in this test', recourse: 'off in this test' },
    });
    card = modelCard(result, { metadata: { intended_use: 'Pretrial risk triage research only', limitations: 'Trained on one county (Broward, 2013–2014)', training_data: 'ProPublica COMPAS extract' } });
  }, 120_000);

  it('states intended use, limitations and the training data’s source from metadata', () => {
    expect(card).toContain('## Intended use\nPretrial risk triage research only');
    expect(card).toContain('- Trained on one county (Broward, 2013–2014)');
    expect(card).toContain('Source: ProPublica COMPAS extract.');
  });

  it('summarises the training file: rows, class balance and that no column holds dates', () => {
    const csv = text('compas/train.csv');
    const rows = csv.trimEnd().split(/\r?\n/).length - 1;
    expect(card).toContain(`File \`train.csv\` (SHA-256 \`${result.reference_data!.sha256}\`): ${rows} rows`);
    const counts = countColumn(csv, 'two_year_recid');
    const balance = Object.entries(counts)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, n]) => `${k} ${n} (${((n / rows) * 100).toFixed(1)}%)`)
      .join(', ');
    expect(card).toContain(`Class balance of \`two\\_year\\_recid\`: ${balance}.`);
    expect(card).toContain('No column of the file holds dates');
  });

  it('counts the audited rows by the positive label, not by 0/1 (which read as the model\'s class numbers)', () => {
    const counts = countColumn(text('compas/test.csv'), 'two_year_recid');
    expect(card).toContain(`; rows ${counts['1']} positive (1), ${counts['0']} negative (the other labels).`);
    const zero = modelCard({ ...result, settings: { ...result.settings, positive_label: '0' }, data: { ...result.data, target: { ...result.data.target, counts: { '0': counts['1'], '1': counts['0'] } } } }, {});
    expect(zero).toContain(`; rows ${counts['0']} positive (0), ${counts['1']} negative (the other labels).`);
    // An audit without labels counts none (it said "0 positive, 0 negative").
    expect(modelCard({ ...result, data: { ...result.data, target: { ...result.data.target, counts: {} } } }, {})).toContain('; rows not counted (no labels).');
  });

  it('carries every interval the result has, with its method', () => {
    const p = result.performance;
    for (const id of ['accuracy', 'precision', 'recall', 'specificity', 'selection_rate', 'roc_auc'] as const) expect(card).toContain(formatInterval(p.intervals[id]));
    expect(card).toContain(formatInterval(result.calibration.intervals.expected_calibration_error));
    for (const [, f] of Object.entries(result.fairness)) {
      for (const [id, i] of Object.entries(f.intervals)) if (i) expect(card, id).toContain(`| ${id.replace(/_/g, '\\_')} | ${((f as unknown as Record<string, number>)[id] as number).toFixed(3)} | ${formatInterval(i)} |`);
      for (const m of Object.values(f.groups)) if (m.intervals.selection_rate) expect(card).toContain(`${(m.selection_rate as number).toFixed(3)} (${formatInterval(m.intervals.selection_rate)})`);
    }
    expect(card).toContain('Native American (small)');
    expect(card).not.toMatch(/undefined|NaN|\[object/);
  });
});
