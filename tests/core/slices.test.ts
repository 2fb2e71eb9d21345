import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { runAudit, type AuditResult } from '../../src/core/audit';
import { evaluatePolicy, parsePolicy } from '../../src/core/config/policy';
import { expected, fixtureBytes, projectRoot } from '../support/fixtures';

// Underperforming slices of the German credit XGBoost model, against scikit-learn's
// roc_auc_score per slice (tests/statistics/build_slices.py → slices_german.json). The
// audit scores nothing itself here: the fixture's own predictions_p1 are a column of the
// data, so the AUCs compare exactly.
interface SliceReference {
  overall_roc_auc: number;
  columns: string[];
  slices: Record<string, Record<string, { n: number; roc_auc: number | null; auc_gap: number | null; underperforming: boolean }>>;
}
const reference = JSON.parse(readFileSync(join(projectRoot, 'tests/statistics/slices_german.json'), 'utf8')) as SliceReference;

function withScores(): Uint8Array {
  const p = expected('german_credit/xgb.expected.json').predictions_p1 as number[];
  const lines = new TextDecoder().decode(fixtureBytes('german_credit/test.csv')).trimEnd().split(/\r?\n/);
  return new TextEncoder().encode(`${[`${lines[0]},p`, ...lines.slice(1).map((line, i) => `${line},${p[i]}`)].join('\n')}\n`);
}

describe('underperforming slices (German credit, xgb predictions)', () => {
  let result: AuditResult;
  beforeAll(async () => {
    result = await runAudit(ort, { scoreColumn: 'p', data: { fileName: 'test_scored.csv', bytes: withScores() }, target: 'good_credit', protectedAttributes: ['gender'], slices: reference.columns, bootstrapResamples: 0, seed: 1 });
  });

  it('gives every slice the AUC and gap scikit-learn gives', () => {
    for (const column of reference.columns) {
      const got = result.slices[column].slices;
      expect(Object.keys(got).sort()).toEqual(Object.keys(reference.slices[column]).sort());
      for (const [slice, want] of Object.entries(reference.slices[column])) {
        expect(got[slice].n, `${column}=${slice}`).toBe(want.n);
        if (want.roc_auc === null) expect(got[slice].roc_auc).toBeNull();
        else {
          expect(Math.abs(got[slice].roc_auc! - want.roc_auc), `${column}=${slice}`).toBeLessThan(1e-12);
          expect(Math.abs(got[slice].auc_gap! - want.auc_gap!), `${column}=${slice}`).toBeLessThan(1e-12);
        }
        expect(got[slice].underperforming, `${column}=${slice}`).toBe(want.underperforming);
      }
    }
  });

  it('lists the underperforming slices worst first, as findings, and leaves out those under min_group_size', () => {
    const want = Object.entries(reference.slices)
      .flatMap(([column, slices]) => Object.entries(slices).filter(([, s]) => s.underperforming).map(([slice, s]) => ({ column, slice, gap: s.auc_gap! })))
      .sort((a, b) => b.gap - a.gap);
    expect(want.length).toBeGreaterThan(0);
    expect(result.slice_summary.underperforming.map((s) => `${s.column}=${s.slice}`)).toEqual(want.map((s) => `${s.column}=${s.slice}`));
    expect(result.slice_summary.underperforming_slice_count).toBe(want.length);
    const sized = Object.values(reference.slices).flatMap((slices) => Object.values(slices).filter((s) => s.n >= 30 && s.auc_gap !== null).map((s) => s.auc_gap!));
    expect(Math.abs(result.slice_summary.max_slice_auc_gap! - Math.max(...sized))).toBeLessThan(1e-12);
    // A slice of fewer than 30 rows with a larger gap is not flagged.
    const smallWorse = Object.values(reference.slices).flatMap((slices) => Object.values(slices)).some((s) => s.n < 30 && s.auc_gap !== null && s.auc_gap > Math.max(...sized));
    expect(smallWorse).toBe(true);
    const findings = result.data.findings.filter((f) => f.check === 'underperforming_slice');
    expect(findings.map((f) => f.column)).toEqual(want.map((s) => s.column));
    const first = result.slice_summary.underperforming[0];
    expect(findings[0].message).toBe(`${first.column} = ${first.slice} (${first.n} rows): ROC AUC ${first.roc_auc.toFixed(3)}, ${first.auc_gap.toFixed(3)} below the overall ${(first.roc_auc + first.auc_gap).toFixed(3)}: the model does markedly worse on this slice.`);
  });

  it('is gateable: max_slice_auc_gap and underperforming_slice_count', () => {
    const policy = parsePolicy(
      ['policy_name: slices', 'gates:', '  - name: gap', '    metric: max_slice_auc_gap', '    threshold: 0.1', '    comparison: less_equal', '    severity: error', '  - name: count', '    metric: underperforming_slice_count', '    threshold: 0', '    comparison: less_equal', '    severity: warning', ''].join('\n'),
      'slices.yaml',
    );
    const decision = evaluatePolicy(policy, 'h', result, { seedGiven: true, strict: false, manifestWritten: true, gitCommit: null, today: '2026-12-04', modelId: 'german' });
    expect(decision.gates.map((g) => [g.name, g.outcome, g.value])).toEqual([
      ['gap', 'FAIL', result.slice_summary.max_slice_auc_gap],
      ['count', 'WARN', result.slice_summary.underperforming_slice_count],
    ]);
    expect(decision.decision).toBe('FAIL');
  });
});
