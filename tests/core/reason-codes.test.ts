import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { runAudit } from '../../src/core/audit';
import { parseCsv } from '../../src/core/data/csv';
import { ExplainerCompatibilityError } from '../../src/core/base/errors';
import { explainModel } from '../../src/core/analyses/explain/explain';
import { adverseActionReasons, MAX_REASONS, reasonCodes } from '../../src/core/analyses/explain/outputs';
import { fixtureBytes } from '../support/fixtures';
import { corpusBytes } from '../support/model-corpus';

const table = parseCsv('sex,zip,income,debt,tenure,late,note\nF,10115,20,9,1,3,a\nM,20095,80,1,9,0,b\n', { fileName: 'applicants.csv' });
const columns = ['sex', 'zip', 'income', 'debt', 'tenure', 'late'];
/** Row 1 is adverse (p 0.2): sex and zip push it down most; row 2 is not (p 0.9). */
const values = [
  [-0.9, -0.8, -0.5, -0.4, -0.3, -0.2],
  [0.1, 0.2, 0.3, 0.1, 0.1, 0.1],
];
const scores = Float64Array.of(0.2, 0.9);
const options = { adverse: 'negative' as const, threshold: 0.5, excluded: ['sex', 'zip'] };

describe('adverse-action reason codes (ECOA / Regulation B)', () => {
  it('gives at most four reasons, each a scored input, never a protected attribute or a declared proxy', () => {
    const codes = reasonCodes(table, [1, 2], columns, values, scores, options);
    expect(codes).toEqual([
      {
        row: 1,
        score: 0.2,
        reasons: [
          { column: 'income', value: '20', shap: -0.5 },
          { column: 'debt', value: '9', shap: -0.4 },
          { column: 'tenure', value: '1', shap: -0.3 },
          { column: 'late', value: '3', shap: -0.2 },
        ],
      },
    ]);
    // A column the explainer lists but the data lacks is no reason.
    expect(reasonCodes(table, [1], ['gone', ...columns], [[-5, ...values[0]]], scores, options)[0].reasons[0].column).toBe('income');
  });

  it('refuses more than four reasons, or none, with the exact message', () => {
    expect(MAX_REASONS).toBe(4);
    expect(() => reasonCodes(table, [1], columns, values, scores, { ...options, count: 5 })).toThrow(
      new ExplainerCompatibilityError('reason codes: 5 reasons asked for, but an adverse-action notice gives 1 to 4 principal reasons (Regulation B, 12 CFR 1002.9(b)(2): more than four is not likely to help the applicant). Ask for 4 or fewer.'),
    );
    expect(() => reasonCodes(table, [1], columns, values, scores, { ...options, count: 0 })).toThrow(/reason codes: 0 reasons asked for/);
  });

  it('counts rows where an excluded column would have been a reason, and compares the reasons of a second run', () => {
    const same = adverseActionReasons(table, { rows: [1, 2], columns, values }, { rows: [1, 2], columns, values, background: 'seeded sample of 100 rows of applicants.csv' }, scores, { ...options, confidence: 0.95 });
    expect(same.adverse_action).toMatchObject({ count: 4, excluded: ['sex', 'zip'], adverse_rows: 1, rows_with_excluded_factor: 1, first_reasons: [{ column: 'income', rows: 1 }] });
    expect(same.adverse_action.stability).toMatchObject({ rows: 1, stable: 1, share: 1, rerun: 'seeded sample of 100 rows of applicants.csv (the same values: this explainer draws nothing at random here, so the reasons cannot differ)' });
    // Another order of the same four reasons is stable; a reason that drops out is not.
    const shifted = [[-0.9, -0.8, -0.5, -0.4, -0.01, -0.2], values[1]];
    const moved = adverseActionReasons(table, { rows: [1, 2], columns, values }, { rows: [1, 2], columns, values: [[-0.9, -0.8, -0.5, -0.4, 0.3, -0.2], values[1]], background: 'b' }, scores, { ...options, confidence: 0.95 });
    expect(moved.adverse_action.stability).toMatchObject({ rows: 1, stable: 0, share: 0 });
    const reordered = adverseActionReasons(table, { rows: [1, 2], columns, values }, { rows: [1, 2], columns, values: shifted, background: 'b' }, scores, { ...options, confidence: 0.95 });
    expect(reordered.adverse_action.stability).toMatchObject({ stable: 1, rerun: 'b' });
    const failed = adverseActionReasons(table, { rows: [1, 2], columns, values }, 'The explanations would need more memory.', scores, { ...options, confidence: 0.95 });
    expect(failed.adverse_action.stability).toBeNull();
    expect(failed.adverse_action.stability_unavailable).toBe('The explanations would need more memory.');
  });

  it('in an Adult audit: reasons for the adverse explained rows, never sex, race or the declared proxy relationship, with their stability', async () => {
    const result = await runAudit(ort, {
      model: { fileName: 'adult_logreg.onnx', bytes: corpusBytes('adult_logreg.onnx') },
      data: { fileName: 'test.csv', bytes: fixtureBytes('adult/test.csv') },
      target: 'high_income',
      positiveLabel: '1',
      protectedAttributes: ['sex', 'race'],
      bootstrapResamples: 0,
      robustness: { proxies: { sex: 'relationship' } },
      explainer: { rows: 12, backgroundRows: 20 },
      missingSections: { robustness: 'off in this test', recourse: 'off in this test' },
    });
    const e = result.explanations!;
    const summary = e.adverse_action!;
    expect(summary.excluded).toEqual(['sex', 'race', 'relationship']);
    expect(summary.adverse_rows).toBe(e.reason_codes!.length);
    expect(summary.adverse_rows).toBeGreaterThan(5);
    expect(summary.rows_with_excluded_factor).toBeGreaterThan(0);
    for (const entry of e.reason_codes!) {
      expect(entry.score).toBeLessThan(result.threshold);
      expect(entry.reasons.length).toBeGreaterThan(0);
      expect(entry.reasons.length).toBeLessThanOrEqual(4);
      for (const reason of entry.reasons) {
        expect(['sex', 'race', 'relationship']).not.toContain(reason.column);
        expect(e.columns).toContain(reason.column);
        expect(reason.shap).toBeLessThan(0);
      }
    }
    const stability = summary.stability!;
    expect(stability.rows).toBe(summary.adverse_rows);
    expect(stability.share).toBe(stability.stable / stability.rows);
    expect(stability.interval!.low).toBeLessThanOrEqual(stability.share!);
    expect(stability.interval!.high).toBeGreaterThanOrEqual(stability.share!);
    expect(stability.rerun).toBe('seeded sample of 20 rows of test.csv');
  }, 60_000);

  it('plumbline explain refuses --reason-codes above four', async () => {
    await expect(
      explainModel(ort, { model: { fileName: 'adult_logreg.onnx', bytes: corpusBytes('adult_logreg.onnx') }, data: { fileName: 'test.csv', bytes: fixtureBytes('adult/test.csv') }, rows: 1, backgroundRows: 5, positiveLabel: '1', reasons: { count: 6, adverse: 'negative', threshold: 0.5, excluded: ['sex'] } }),
    ).rejects.toThrow('reason codes: 6 reasons asked for');
  });
});
