import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { runAudit, type AuditResult } from '../../src/core/audit';
import { reportBlocks, type ReportBlock } from '../../src/core/outputs/pdf';
import { fixtureBytes } from '../support/fixtures';

// What the reports say, beside the numbers they say it of (a review of the PDF by a validator).
const createdAt = '2026-12-06T12:00:00.000Z';

function blockTexts(blocks: readonly ReportBlock[]): string[] {
  return blocks.flatMap((b) => {
    if (b.type === 'heading' || b.type === 'paragraph') return [b.text];
    if (b.type === 'table') return [...b.headers, ...b.rows.flat()];
    if (b.type === 'cover') return [b.title, ...b.lines];
    return [];
  });
}

describe('an audit of a sample of the file', () => {
  let result: AuditResult;
  beforeAll(async () => {
    result = await runAudit(ort, { scoreColumn: 'decile_score', threshold: 5, data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') }, target: 'two_year_recid', protectedAttributes: ['race'], sampleSize: 500, bootstrapResamples: 0, missingSections: { explainer: 'off', robustness: 'off' } });
  });

  it('says on the cover and in the Annex IV table how many rows were audited (they gave the file\'s rows alone)', () => {
    const file = result.inputs.data.rows;
    expect(result.data.rows).toBe(500);
    expect(file).toBeGreaterThan(500);
    const texts = blockTexts(reportBlocks({ result, createdAt }));
    expect(texts).toContain(`Data: test.csv, 500 rows audited, a seeded sample of its ${file}, sha256 ${result.inputs.data.sha256}`);
    expect(texts.some((t) => t.startsWith(`Data: test.csv (500 rows audited, a seeded sample of its ${file}, sha256`))).toBe(true);
    expect(texts.some((t) => t.includes(`test.csv, ${file} rows`) || t.includes(`test.csv (${file} rows`))).toBe(false);
  });

  it('says how many values a column\'s most frequent ones leave out, and writes whole numbers whole', async () => {
    const whole = await runAudit(ort, { scoreColumn: 'decile_score', threshold: 5, data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') }, target: 'two_year_recid', protectedAttributes: ['race'], bootstrapResamples: 0, missingSections: { explainer: 'off', robustness: 'off' } });
    const texts = blockTexts(reportBlocks({ result: whole, createdAt }));
    const result = whole;
    const race = result.data.columns.find((c) => c.name === 'race')!;
    expect(race.distinct).toBeGreaterThan(race.top!.length);
    expect(texts).toContain(`${race.top!.map((t) => `${t.value} (${t.count})`).join(', ')}, and ${race.distinct - race.top!.length} more`);
    const age = result.data.columns.find((c) => c.name === 'age')!;
    expect(age.type).toBe('integer');
    expect(texts.some((t) => t.startsWith(`min ${age.summary!.min}, median `))).toBe(true);
  });
});

describe('a score column that is not a probability', () => {
  it('says once why calibration was not computed ("Not computed: not computed: …")', async () => {
    const result = await runAudit(ort, { scoreColumn: 'decile_score', threshold: 5, data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') }, target: 'two_year_recid', protectedAttributes: ['race'], bootstrapResamples: 0, missingSections: { explainer: 'off', robustness: 'off' } });
    const texts = blockTexts(reportBlocks({ result, createdAt }));
    expect(texts).toContain('Not computed: the scores are not probabilities.');
    expect(texts.some((t) => /not computed: not computed/i.test(t))).toBe(false);
    // A decile score is not p.
    expect(texts).toContain('predicted positive when the score >= 5; Wilson');
  });
});

describe('the power sentence', () => {
  it('names the group power compares with (the largest), not the four-fifths rule\'s (the highest rate)', async () => {
    const result = await runAudit(ort, { scoreColumn: 'decile_score', threshold: 5, data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') }, target: 'two_year_recid', protectedAttributes: ['race'], bootstrapResamples: 0, missingSections: { explainer: 'off', robustness: 'off' } });
    const f = result.fairness.race;
    const largest = Object.entries(f.groups).sort((a, b) => b[1].n - a[1].n)[0][0];
    expect(f.power.every((p) => p.groups[1] === largest)).toBe(true);
    const paragraph = blockTexts(reportBlocks({ result, createdAt })).find((t) => t.startsWith(`Four-fifths rule against ${f.four_fifths_rule.reference_group}`))!;
    expect(paragraph).toContain(`(the weakest comparison of a group with ${largest}, the largest group; a two-proportion z-test at α = 0.05)`);
  });
});

describe('recourse per group', () => {
  it('marks a group of fewer searched rows than min_group_size small, as the fairness tables do', async () => {
    const { recourseBlocks } = await import('../../src/core/outputs/recourse-blocks');
    const group = (rows: number) => ({ rows, feasible_share: 0.4, feasible_interval: { low: 0.1, high: 0.8 }, median_cost: 1 });
    const rec = { adverse: 'positive', rows_searched: 45, adverse_rows: 45, selection: 'all adverse rows', rows: [], recourse_feasible_share: 0.4, recourse_feasible_interval: null, confidence: 0.95, columns: [], groups: { race: { Asian: group(5), White: group(40) } }, conventions: '' } as unknown as Parameters<typeof recourseBlocks>[0];
    const texts = blockTexts(recourseBlocks(rec, undefined, 30));
    expect(texts).toContain('Asian (small)');
    expect(texts).toContain('White');
    expect(texts).toContain('Groups marked small have fewer than 30 rows searched (fairness.min_group_size): their shares rest on those rows alone; read the interval.');
  });
});
