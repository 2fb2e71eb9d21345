import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { runAudit, type AuditRequest, type AuditResult } from '../../src/core/audit';
import { auditSettingsOf } from '../../src/core/config/plan';
import { parseAuditConfig } from '../../src/core/config/audit-config';
import type { Ll144Characteristic } from '../../src/core/metrics/ll144';
import { projectRoot } from '../support/fixtures';

// NYC Local Law 144 tables of the COMPAS random forest's predictions (the fixture's
// predictions_p1 as a score column, with ~3% of sex and race blanked), against pandas
// (tests/statistics/build_ll144.py → ll144_compas.json).
interface Reference {
  median_score: number;
  rows: number;
  selection: Record<'sex' | 'race_ethnicity' | 'intersectional', { unknown: number; reference_category: string; categories: { category: string; n: number; selected: number; rate: number; share: number; excludable: boolean; impact_ratio: number | null }[] }>;
  scoring: Reference['selection'];
}
const reference = JSON.parse(readFileSync(join(projectRoot, 'tests/statistics/ll144_compas.json'), 'utf8')) as Reference;
const bytes = new Uint8Array(readFileSync(join(projectRoot, 'tests/statistics/compas_ll144.csv')));

const request = (rate: 'selection' | 'scoring'): AuditRequest => ({
  scoreColumn: 'p',
  data: { fileName: 'compas_ll144.csv', bytes },
  target: 'two_year_recid',
  protectedAttributes: ['race', 'sex'],
  bootstrapResamples: 0,
  seed: 1,
  ll144: { sex: 'sex', race_ethnicity: 'race', rate },
});

function expectSame(got: Ll144Characteristic | null, want: Reference['selection']['sex']) {
  expect(got).not.toBeNull();
  expect(got!.unknown).toBe(want.unknown);
  expect(got!.reference_category).toBe(want.reference_category);
  expect(got!.categories.map((c) => c.category).sort()).toEqual(want.categories.map((c) => c.category).sort());
  for (const w of want.categories) {
    const g = got!.categories.find((c) => c.category === w.category)!;
    expect(g.n, w.category).toBe(w.n);
    expect(g.selected, w.category).toBe(w.selected);
    expect(Math.abs(g.rate - w.rate), w.category).toBeLessThan(1e-12);
    expect(Math.abs(g.share - w.share), w.category).toBeLessThan(1e-12);
    expect(g.excludable, w.category).toBe(w.excludable);
    if (w.impact_ratio === null) expect(g.impact_ratio).toBeNull();
    else expect(Math.abs(g.impact_ratio! - w.impact_ratio), w.category).toBeLessThan(1e-12);
  }
}

describe('NYC Local Law 144 tables (COMPAS rf predictions, blanks in sex and race)', () => {
  const results: Partial<Record<'selection' | 'scoring', AuditResult>> = {};
  beforeAll(async () => {
    for (const rate of ['selection', 'scoring'] as const) results[rate] = await runAudit(ort, request(rate));
  }, 120_000);

  it.each(['selection', 'scoring'] as const)('%s rates and impact ratios for sex, race and sex × race match pandas', (rate) => {
    const l = results[rate]!.ll144!;
    expect(l.rate).toBe(rate);
    expect(l.rows).toBe(reference.rows);
    if (rate === 'scoring') expect(l.median_score).toBe(reference.median_score);
    expectSame(l.sex, reference[rate].sex);
    expectSame(l.race_ethnicity, reference[rate].race_ethnicity);
    expectSame(l.intersectional, reference[rate].intersectional);
    // The case the 2% rule is for: small categories exist and are never the reference.
    expect(l.race_ethnicity!.categories.filter((c) => c.excludable).length).toBeGreaterThan(0);
    expect(l.race_ethnicity!.categories.find((c) => c.category === l.race_ethnicity!.reference_category)!.excludable).toBe(false);
  });

  it('is asked for in the config as fairness.ll144, and absent otherwise', async () => {
    const config = parseAuditConfig('fairness:\n  ll144: {sex: sex, race_ethnicity: race, rate: scoring}\n', 'audit.yaml');
    expect(auditSettingsOf(config).ll144).toEqual({ sex: 'sex', race_ethnicity: 'race', rate: 'scoring' });
    expect(auditSettingsOf(parseAuditConfig('fairness:\n  ll144: {sex: sex}\n', 'audit.yaml')).ll144).toEqual({ sex: 'sex', race_ethnicity: null, rate: 'selection' });
    const plain = await runAudit(ort, { ...request('selection'), ll144: undefined });
    expect(plain.ll144).toBeNull();
  });

  it('refuses a column the data does not have, naming it and the columns', async () => {
    await expect(runAudit(ort, { ...request('selection'), ll144: { sex: 'gender', race_ethnicity: 'race', rate: 'selection' } })).rejects.toThrow(
      /^fairness\.ll144\.sex names the column "gender", which the data does not have\. Columns: sex, race, age/,
    );
  });
});
