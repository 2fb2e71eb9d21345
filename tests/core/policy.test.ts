import { describe, expect, it } from 'vitest';
import { evaluatePolicy, parsePolicy, type Policy } from '../../src/core/config/policy';
import { AuditConfigError, ConfigError } from '../../src/core/base/errors';
import { METRIC_CATALOG } from '../../src/core/metrics/catalog';
import { parseDataPolicy } from '../../src/core/data-check/gates';
import { gateNumber, gateValue } from '../../src/core/outputs/decision-blocks';

const result = {
  performance: { roc_auc: 0.75, accuracy: 0.8 },
  calibration: { expected_calibration_error: 0.05 },
  fairness: { race: { demographic_parity_difference: 0.2, min_group_size: 12 }, sex: { demographic_parity_difference: 0.1, min_group_size: 300 } },
  missing_sections: { robustness: 'the robustness analysis is not available in this version of Plumbline' },
};
const facts = { seedGiven: true, strict: false, manifestWritten: true, gitCommit: 'abc', today: '2026-12-04', modelId: 'credit_v3' };
const policy = (gates: Partial<Policy['gates'][number]>[], extra: Partial<Policy> = {}): Policy => ({
  policy_name: 'p',
  gates: gates.map((g, i) => ({ name: `g${i}`, metric: 'roc_auc', threshold: 0.75, comparison: 'greater_than', severity: 'error', ...g })),
  ...extra,
});
const outcomes = (p: Policy) => evaluatePolicy(p, 'hash', result, facts).gates.map((g) => g.outcome);

describe('policy gates', () => {
  it('compares at and around the threshold with every comparison', () => {
    // roc_auc is exactly 0.75
    expect(outcomes(policy([{ comparison: 'greater_than' }, { comparison: 'greater_equal' }, { comparison: 'less_than' }, { comparison: 'less_equal' }]))).toEqual(['FAIL', 'PASS', 'FAIL', 'PASS']);
    expect(outcomes(policy([{ threshold: 0.7499 }, { threshold: 0.7501, comparison: 'less_than' }]))).toEqual(['PASS', 'PASS']);
  });

  it('takes the worst attribute unless one is pinned, and says which', () => {
    const decision = evaluatePolicy(policy([{ metric: 'demographic_parity_difference', threshold: 0.15, comparison: 'less_than' }, { metric: 'demographic_parity_difference', attr: 'sex', threshold: 0.15, comparison: 'less_than' }]), 'h', result, facts);
    expect(decision.gates.map((g) => [g.outcome, g.attribute, g.value])).toEqual([['FAIL', 'race', 0.2], ['PASS', 'sex', 0.1]]);
  });

  it('refuses a gate pinned to an attribute the audit does not have (a typo made an unevaluated gate and a REVIEW)', () => {
    expect(() => evaluatePolicy(policy([{ name: 'Parity', metric: 'demographic_parity_difference', attr: 'Race', threshold: 0.15, comparison: 'less_than' }]), 'h', result, facts)).toThrow(
      new AuditConfigError('policy "p", gate "Parity": attr "Race" is not a protected attribute of this audit (attributes: race, sex); did you mean race? Name one of them, or leave attr out to gate the worst attribute.'),
    );
  });

  it('marks a metric that was not computed NOT_EVALUATED with the reason, and fails it in strict mode', () => {
    const p = policy([{ metric: 'max_shift_degradation', threshold: 0.1, comparison: 'less_than' }]);
    const lenient = evaluatePolicy(p, 'h', result, facts);
    expect(lenient.gates[0]).toMatchObject({ outcome: 'NOT_EVALUATED', reason: 'the robustness analysis is not available in this version of Plumbline' });
    // An error gate nobody could evaluate is not a pass.
    expect(lenient.decision).toBe('REVIEW');
    const strict = evaluatePolicy(p, 'h', result, { ...facts, strict: true });
    expect(strict.gates[0].outcome).toBe('FAIL');
    expect(strict.decision).toBe('FAIL');
  });

  it('decides REVIEW when only warnings fail, FAIL when an error fails', () => {
    expect(evaluatePolicy(policy([{ severity: 'warning', threshold: 0.9 }]), 'h', result, facts).decision).toBe('REVIEW');
    expect(evaluatePolicy(policy([{ severity: 'warning', threshold: 0.9 }, { threshold: 0.9 }]), 'h', result, facts).decision).toBe('FAIL');
    expect(evaluatePolicy(policy([{ threshold: 0.5 }]), 'h', result, facts).decision).toBe('PASS');
  });

  it('fails unmet reproducibility requirements', () => {
    const decision = evaluatePolicy(policy([{ threshold: 0.5 }], { reproducibility: { seed_required: true, strict_mode_required: true } }), 'h', result, { ...facts, seedGiven: false });
    expect(decision.decision).toBe('FAIL');
    expect(decision.reproducibility).toEqual([
      { requirement: 'seed_required', met: false, detail: 'no explicit random seed (random_seed / --seed)' },
      { requirement: 'strict_mode_required', met: false, detail: 'not run with --strict' },
    ]);
    // Said where every output shows it (a FAIL whose gates all passed gave no reason in the reports or the app).
    expect(decision.notices).toEqual([
      'Reproducibility requirement seed_required of the policy is not met: no explicit random seed (random_seed / --seed). The decision is FAIL whatever the gates.',
      'Reproducibility requirement strict_mode_required of the policy is not met: not run with --strict. The decision is FAIL whatever the gates.',
    ]);
    // A policy not yet in effect decides nothing (NOT_APPLIED): no notice says FAIL.
    const later = evaluatePolicy(policy([{ threshold: 0.5 }], { reproducibility: { seed_required: true }, effective_date: '2027-01-01' }), 'h', result, { ...facts, seedGiven: false });
    expect(later.decision).toBe('NOT_APPLIED');
    expect(later.notices.some((n) => n.startsWith('Reproducibility requirement'))).toBe(false);
  });
});

describe('which audits compute a metric', () => {
  it('gates accuracy_difference in a binary audit (its result holds it), and no _to_overall disparity in a multiclass one (none is computed)', async () => {
    const { metricValue } = await import('../../src/core/metrics/catalog');
    expect(metricValue({ performance: {}, calibration: {}, fairness: { race: { accuracy_difference: 0.5 } } }, 'accuracy_difference')).toEqual({ value: 0.5, attribute: 'race' });
    expect(METRIC_CATALOG.get('equalized_odds_difference_to_overall')!.tasks).toBeUndefined();
    expect(metricValue({ task: 'multiclass', performance: {}, calibration: {}, fairness: {} }, 'equalized_odds_difference_to_overall').reason).toMatch(/^equalized_odds_difference_to_overall is a binary metric and this is a multiclass audit/);
    // A null metric's own reason reaches the gate (it said "has no value in this audit").
    expect(metricValue({ task: 'regression', performance: { mape: null, null_reasons: { mape: '5 of 300 outcomes are ≤ 0' } }, calibration: {}, fairness: {} }, 'mape')).toEqual({ value: null, reason: 'mape has no value: 5 of 300 outcomes are ≤ 0' });
  });
});

describe('gate values as shown', () => {
  it('take the decimals it needs to sit on their side of the threshold (0.7441 read as passing >= 0.74409, which 0.744085 fails)', () => {
    expect(gateNumber({ comparison: 'greater_equal', threshold: 0.74409, value: 0.744085 })).toBe('0.74408');
    expect(gateNumber({ comparison: 'greater_equal', threshold: 0.7, value: 0.744085 })).toBe('0.7441');
    expect(gateNumber({ comparison: 'less_equal', threshold: 0.1, value: 0.10000004 })).toBe('0.10000004');
    expect(gateNumber({ comparison: 'greater_equal', threshold: 0.75, value: 0.75 })).toBe('0.7500');
    expect(gateNumber({ comparison: 'greater_equal', threshold: 30, value: 29 })).toBe('29');
    // A drop is the change's negative: a fall of 0.0123456 against an allowance of 0.01234.
    expect(gateNumber({ comparison: 'max_drop', threshold: 0.01234, value: -0.0123456 })).toBe('-0.01235');
    // A change that meets its allowance to 12 digits passes, and is shown at it (it showed -0.01000000000000001 beside PASS).
    expect(gateNumber({ comparison: 'max_drop', threshold: 0.01, value: 0.8 - 0.81 })).toBe('-0.0100');
    expect(gateNumber({ comparison: 'max_increase', threshold: 0.02, value: 0.05 - 0.03 })).toBe('0.0200');
    const policy: Policy = { policy_name: 'p', gates: [{ name: 'AUC', metric: 'roc_auc', threshold: 0.74409, comparison: 'greater_equal', severity: 'error' }] };
    const decision = evaluatePolicy(policy, 'h', { performance: { roc_auc: 0.744085 }, calibration: {}, fairness: {} }, { seedGiven: true, strict: false, manifestWritten: true, gitCommit: null, today: '2026-12-06', modelId: 'm' });
    expect(decision.gates[0].outcome).toBe('FAIL');
    expect(gateValue(decision.gates[0])).toBe('0.74408');
  });
});

describe('policy files', () => {
  const gate = (extra: string) => `policy_name: p\ngates:\n  - name: g\n    metric: roc_auc\n    threshold: 0.7\n    comparison: greater_than\n    severity: error\n${extra}`;

  it('refuses an unknown metric id, listing the valid ids', () => {
    expect(() => parsePolicy(gate('').replace('metric: roc_auc', 'metric: roc_auk'), 'gates.yaml')).toThrow(/^gates\.yaml: gates\[0\] \("g"\): unknown metric: "roc_auk" \(did you mean roc_auc\?\)\. Valid ids: accuracy, balanced_accuracy/);
  });

  it('refuses an empty applies_to and a misspelt review date (each turned a policy off silently)', () => {
    expect(() => parsePolicy(`applies_to: []\n${gate('')}`, 'gates.yaml')).toThrow(new ConfigError('gates.yaml: applies_to: needs at least 1 item'));
    expect(() => parsePolicy(`review_cycle:\n  next_reveiw: 2020-01-01\n${gate('')}`, 'gates.yaml')).toThrow(
      new ConfigError('gates.yaml: review_cycle.next_reveiw: unknown key (did you mean next_review?); known keys: next_review, frequency, owner'),
    );
    expect(parsePolicy(`review_cycle:\n  frequency: quarterly\n  next_review: 2027-04-01\n  owner: Chief Risk Officer\n${gate('')}`, 'gates.yaml').review_cycle?.next_review).toBe('2027-04-01');
  });

  it('refuses unknown keys and wrong types, naming the path', () => {
    expect(() => parsePolicy(gate('    severty: error\n'), 'gates.yaml')).toThrow(
      new ConfigError('gates.yaml: gates[0].severty: unknown key (did you mean severity?); known keys: name, metric, attr, threshold, comparison, severity, clause, rationale'),
    );
    expect(() => parsePolicy(gate('').replace('comparison: greater_than', 'comparison: bigger'), 'gates.yaml')).toThrow(
      new ConfigError('gates.yaml: gates[0].comparison: "bigger" is not one of greater_than, greater_equal, less_than, less_equal, max_drop, max_increase'),
    );
    expect(() => parsePolicy(gate('').replace('threshold: 0.7', 'threshold: high'), 'gates.yaml')).toThrow(new ConfigError('gates.yaml: gates[0].threshold: expected a number, got the text "high"'));
  });

  it('refuses attr on a metric not measured per attribute (it was accepted and dropped), and two gates of one name', () => {
    expect(() => parsePolicy(gate('    attr: race\n'), 'gates.yaml')).toThrow(
      new ConfigError(
        'gates.yaml: gates[0] ("g"): attr "race" pins a protected attribute, but roc_auc is not measured per attribute (the fairness metrics are: ' +
          [...METRIC_CATALOG.values()].filter((m) => m.section === 'fairness').slice(0, 8).map((m) => m.id).join(', ') +
          ', …). Remove attr, or gate a metric measured per attribute.',
      ),
    );
    expect(parsePolicy(gate('    attr: race\n').replace('metric: roc_auc', 'metric: demographic_parity_difference'), 'gates.yaml').gates[0].attr).toBe('race');
    const twice = `${gate('')}  - name: g\n    metric: brier_score\n    threshold: 0.2\n    comparison: less_equal\n    severity: error\n`;
    expect(() => parsePolicy(twice, 'gates.yaml')).toThrow(new ConfigError('gates.yaml: gates[1] is named "g", as gates[0] is: waivers and the decision name gates by name. Give each gate a name of its own.'));
  });

  it('refuses a threshold outside what its metric can be: a percentage for a share could never pass, or never fail', () => {
    const with_ = (metric: string, threshold: number, comparison: string) => gate('').replace('metric: roc_auc', `metric: ${metric}`).replace('threshold: 0.7', `threshold: ${threshold}`).replace('comparison: greater_than', `comparison: ${comparison}`);
    expect(() => parsePolicy(with_('roc_auc', 75, 'greater_equal'), 'gates.yaml')).toThrow(
      new ConfigError('gates.yaml: gates[0] ("g"): threshold 75 is outside what roc_auc can be (from 0 to 1), so the gate could never pass. Write it as a share: 0.75 for 75%.'),
    );
    expect(() => parsePolicy(with_('demographic_parity_difference', 10, 'less_equal'), 'gates.yaml')).toThrow(
      new ConfigError('gates.yaml: gates[0] ("g"): threshold 10 is outside what demographic_parity_difference can be (from 0 to 1), so the gate could never fail. Write it as a share: 0.1 for 10%.'),
    );
    expect(() => parsePolicy(with_('roc_auc', 5, 'max_drop'), 'gates.yaml')).toThrow(
      new ConfigError('gates.yaml: gates[0] ("g"): threshold 5 is outside what roc_auc can change by (at most 1: it runs from 0 to 1), so the gate could never fail. Write it as a share: 0.05 for 5%.'),
    );
    // MAPE is a share with no upper bound: a bound of 200% or more reads as a percentage; below it, a share.
    expect(() => parsePolicy(with_('mape', 20, 'less_equal'), 'gates.yaml')).toThrow(
      new ConfigError('gates.yaml: gates[0] ("g"): mape is a share of the outcome (0.2 is 20%), so threshold 20 is 2,000%, a percentage written as a share? Write it as a share: 0.2 for 20% (thresholds of 200% and more are refused as percentages).'),
    );
    expect(parsePolicy(with_('mape', 1.5, 'less_equal'), 'gates.yaml').gates[0].threshold).toBe(1.5);
    expect(() => parsePolicy(with_('mae', -1, 'less_equal'), 'gates.yaml')).toThrow(
      new ConfigError("gates.yaml: gates[0] (\"g\"): threshold -1 is outside what mae can be (from 0 up), so the gate could never pass. Give a threshold in the metric's units."),
    );
    expect(() => parsePolicy(with_('roc_auc', 1, 'greater_than'), 'gates.yaml')).toThrow(new ConfigError('gates.yaml: gates[0] ("g"): roc_auc cannot be more than 1 (it runs from 0 to 1), so the gate could never pass. Use greater_equal, or another threshold.'));
    expect(() => parsePolicy(with_('demographic_parity_difference', 0, 'less_than'), 'gates.yaml')).toThrow(new ConfigError('gates.yaml: gates[0] ("g"): demographic_parity_difference cannot be less than 0 (it runs from 0 to 1), so the gate could never pass. Use less_equal, or another threshold.'));
    expect(() => parsePolicy(with_('demographic_parity_ratio', 1.25, 'greater_equal'), 'gates.yaml')).toThrow(/could never pass\. Give a threshold in the metric's units\.$/);
    // In range, at its ends, and metrics beyond 0 to 1.
    for (const [metric, threshold, comparison] of [['roc_auc', 1, 'greater_equal'], ['demographic_parity_ratio', 0.8, 'greater_equal'], ['brier_score', 1.5, 'less_equal'], ['r2', -3, 'greater_equal'], ['min_group_size', 30, 'greater_equal'], ['max_psi', 0.25, 'less_equal'], ['max_slice_auc_gap', -0.05, 'greater_equal'], ['log_loss', 0.1, 'max_increase'], ['max_shift_degradation', 5, 'less_equal']] as const) {
      expect(parsePolicy(with_(metric, threshold, comparison), 'gates.yaml').gates[0].threshold, metric).toBe(threshold);
    }
    // A data policy's shares and counts, the same way.
    expect(() => parseDataPolicy(with_('max_missing_share', 5, 'less_equal'), 'data.yaml')).toThrow(
      new ConfigError('data.yaml: gates[0] ("g"): threshold 5 is outside what max_missing_share can be (from 0 to 1), so the gate could never fail. Write it as a share: 0.05 for 5%.'),
    );
    expect(() => parseDataPolicy(with_('n_rows', -1, 'greater_equal'), 'data.yaml')).toThrow(/threshold -1 is outside what n_rows can be \(from 0 up\), so the gate could never fail\./);
    expect(parseDataPolicy(with_('data_age_days', -3, 'greater_equal'), 'data.yaml').gates[0].threshold).toBe(-3);
  });

  it('reports malformed YAML with its line and column', () => {
    expect(() => parsePolicy('policy_name: p\ngates:\n  - name: "unclosed\n    metric: roc_auc\n', 'gates.yaml')).toThrow(/^gates\.yaml:\d+:\d+: Missing closing "quote/);
    expect(() => parsePolicy('policy_name: p\npolicy_name: q\ngates: []\n', 'dup.yaml')).toThrow(/^dup\.yaml:2:1: Map keys must be unique/);
  });
});

describe('waivers', () => {
  const waived = (expires: string, model = 'credit_*') =>
    policy([{ name: 'Minimum AUC', threshold: 0.8 }], { waivers: [{ gate: 'Minimum AUC', model, reason: 'retraining in Q1', approved_by: 'CRO', expires }] });

  it('turns a failing error gate into WAIVED and the decision into REVIEW while the waiver holds', () => {
    const decision = evaluatePolicy(waived('2027-06-30'), 'h', result, facts);
    expect(decision.gates[0]).toMatchObject({ outcome: 'WAIVED', value: 0.75, waiver: { reason: 'retraining in Q1', approved_by: 'CRO', expires: '2027-06-30' } });
    expect(decision.decision).toBe('REVIEW');
    expect(decision.waivers.map((w) => w.status)).toEqual(['in_use']);
    expect(decision.notices).toEqual(['Gate "Minimum AUC" failed and is waived: retraining in Q1 (approved by CRO, expires 2027-06-30).']);
  });

  it('holds through its expiry day and does nothing the day after, saying it expired', () => {
    expect(evaluatePolicy(waived('2026-12-04'), 'h', result, facts).decision).toBe('REVIEW');
    const expired = evaluatePolicy(waived('2026-12-03'), 'h', result, facts);
    expect(expired.gates[0]).toMatchObject({ outcome: 'FAIL', waiver_expired: 'waiver approved by CRO expired on 2026-12-03' });
    expect(expired.decision).toBe('FAIL');
    expect(expired.waivers.map((w) => w.status)).toEqual(['expired']);
    expect(expired.notices).toEqual(['Gate "Minimum AUC" failed; its waiver approved by CRO expired on 2026-12-03, so it no longer applies.']);
  });

  it('names a model without metadata.model_id by its file name or, as the registry files it, the name without the extension', () => {
    // Before: the registry filed rf.onnx as "rf", and a waiver or applies_to written for "rf" did nothing (the gate FAILed, the policy was NOT_APPLIED).
    const file = { ...facts, modelId: 'rf.onnx' };
    expect(evaluatePolicy(waived('2027-06-30', 'rf'), 'h', result, file).decision).toBe('REVIEW');
    expect(evaluatePolicy(waived('2027-06-30', 'rf.onnx'), 'h', result, file).decision).toBe('REVIEW');
    expect(evaluatePolicy(policy([{ threshold: 0.5 }], { applies_to: ['rf'] }), 'h', result, file).terms.applies).toBe(true);
    // An id set in metadata is matched as written.
    expect(evaluatePolicy(policy([{ threshold: 0.5 }], { applies_to: ['credit'] }), 'h', result, { ...facts, modelId: 'credit.v3' }).terms.applies).toBe(false);
  });

  it('applies only to the models its glob matches, and is not needed when the gate passes', () => {
    expect(evaluatePolicy(waived('2027-06-30', 'fraud_*'), 'h', result, facts)).toMatchObject({ decision: 'FAIL', waivers: [{ status: 'other_model' }] });
    expect(evaluatePolicy(waived('2027-06-30', 'credit_v?'), 'h', result, facts).decision).toBe('REVIEW');
    const passing = policy([{ name: 'Minimum AUC', threshold: 0.5 }], { waivers: [{ gate: 'Minimum AUC', model: '*', reason: 'r', approved_by: 'CRO', expires: '2027-01-01' }] });
    expect(evaluatePolicy(passing, 'h', result, facts)).toMatchObject({ decision: 'PASS', waivers: [{ status: 'not_needed' }] });
  });

  it('refuses a waiver for a gate the policy lacks, and a date that is not YYYY-MM-DD', () => {
    const text = (gate: string, expires: string) =>
      `policy_name: p\ngates:\n  - {name: Minimum AUC, metric: roc_auc, threshold: 0.7, comparison: greater_than, severity: error}\nwaivers:\n  - {gate: ${gate}, model: "credit_*", reason: r, approved_by: CRO, expires: ${expires}}\n`;
    expect(parsePolicy(text('Minimum AUC', '2027-06-30'), 'p.yaml').waivers).toEqual([{ gate: 'Minimum AUC', model: 'credit_*', reason: 'r', approved_by: 'CRO', expires: '2027-06-30' }]);
    expect(() => parsePolicy(text('Min AUC', '2027-06-30'), 'p.yaml')).toThrow(new ConfigError('p.yaml: waivers[0].gate "Min AUC" names no gate of this policy (gates: "Minimum AUC").'));
    expect(() => parsePolicy(text('Minimum AUC', '2027-02-30'), 'p.yaml')).toThrow(new ConfigError('p.yaml: waivers[0].expires must be a date written YYYY-MM-DD, got "2027-02-30".'));
  });
});

describe('policy terms', () => {
  it('does not apply a policy before its effective date unless forced, and says so', () => {
    const p = policy([{ threshold: 0.9 }], { effective_date: '2027-01-01' });
    const early = evaluatePolicy(p, 'h', result, facts);
    expect(early.decision).toBe('NOT_APPLIED');
    expect(early.gates[0].outcome).toBe('FAIL');
    expect(early.notices).toEqual(['Policy "p" takes effect on 2027-01-01 (this audit is dated 2026-12-04): its gates are shown for information and not applied (force it with --force-policy).']);
    expect(evaluatePolicy(p, 'h', result, { ...facts, force: true }).decision).toBe('FAIL');
    expect(evaluatePolicy(p, 'h', result, { ...facts, today: '2027-01-01' }).decision).toBe('FAIL');
  });

  it('applies only to the models applies_to names, and warns when the review is overdue', () => {
    const p = policy([{ threshold: 0.5 }], { applies_to: ['fraud_*'], citation: 'SR 11-7', review_cycle: { frequency: 'quarterly', next_review: '2026-10-01' } });
    const decision = evaluatePolicy(p, 'h', result, facts);
    expect(decision.decision).toBe('NOT_APPLIED');
    // review_cycle's frequency is recorded, as its description says (it appeared in no output).
    expect(decision.terms).toEqual({ effective_date: null, applies_to: ['fraud_*'], citation: 'SR 11-7', next_review: '2026-10-01', review_frequency: 'quarterly', in_effect: true, applies: false, forced: false, model_id: 'credit_v3' });
    expect(decision.notices).toEqual([
      'Policy "p" applies to "fraud_*", not to model "credit_v3": its gates are shown for information and not applied (force it with --force-policy).',
      'Policy "p" was due for review on 2026-10-01 (64 days before this audit): it may be out of date.',
    ]);
    expect(evaluatePolicy({ ...p, applies_to: ['credit_*'] }, 'h', result, facts).decision).toBe('PASS');
  });
});

describe('relative gates', () => {
  const comparison = {
    baseline: { file: 'champion.json', sha256: 'x', model: null, model_sha256: null, data: null, data_sha256: null, seed: 0 },
    paired: false,
    unpaired_reason: 'r',
    resamples: 0,
    seed_change: null,
    metrics: [
      { id: 'roc_auc', attribute: null, baseline: 0.77, current: 0.75, change: -0.02, interval: null, p_value: null, method: 'm' },
      { id: 'demographic_parity_difference', attribute: 'race', baseline: 0.19, current: 0.2, change: 0.01, interval: null, p_value: null, method: 'm' },
      { id: 'demographic_parity_difference', attribute: 'sex', baseline: 0.07, current: 0.1, change: 0.03, interval: null, p_value: null, method: 'm' },
    ],
  };
  const withBaseline = { ...result, comparison };

  it('fails max_drop when the metric fell by more than allowed, and max_increase on the worst attribute', () => {
    const p = policy([
      { name: 'AUC drop', comparison: 'max_drop', threshold: 0.01 },
      { name: 'AUC drop loose', comparison: 'max_drop', threshold: 0.05 },
      { name: 'Parity rise', metric: 'demographic_parity_difference', comparison: 'max_increase', threshold: 0.02 },
      { name: 'Parity rise race', metric: 'demographic_parity_difference', attr: 'race', comparison: 'max_increase', threshold: 0.02 },
    ]);
    const decision = evaluatePolicy(p, 'h', withBaseline, facts);
    expect(decision.gates.map((g) => [g.outcome, g.attribute, g.value, g.baseline_value, g.current_value])).toEqual([
      ['FAIL', null, -0.02, 0.77, 0.75],
      ['PASS', null, -0.02, 0.77, 0.75],
      ['FAIL', 'sex', 0.03, 0.07, 0.1],
      ['PASS', 'race', 0.01, 0.19, 0.2],
    ]);
  });

  it('is NOT_EVALUATED when one audit lacks an attribute the other has, unless another already fails (a challenger audited without age_group passed)', () => {
    const lacking = (sexChange: number) => ({
      ...withBaseline,
      comparison: {
        ...comparison,
        metrics: [
          { ...comparison.metrics[2], change: sexChange, current: 0.07 + sexChange },
          { id: 'demographic_parity_difference', attribute: 'age_group', baseline: 0.207, current: null, change: null, interval: null, p_value: null, method: 'no value in this audit' },
        ],
      },
    });
    const gate = { name: 'Parity rise', metric: 'demographic_parity_difference', comparison: 'max_increase' as const, threshold: 0.02 };
    expect(evaluatePolicy(policy([gate]), 'h', lacking(0.01), facts).gates[0]).toMatchObject({
      outcome: 'NOT_EVALUATED',
      reason: 'demographic_parity_difference[age_group] has a value in the baseline and none in this audit, so the worst change across the attributes is not known: audit both with the same protected attributes and sections, or pin the gate to one (attr)',
    });
    expect(evaluatePolicy(policy([gate]), 'h', lacking(0.03), facts).gates[0]).toMatchObject({ outcome: 'FAIL', attribute: 'sex' });
    expect(evaluatePolicy(policy([{ ...gate, attr: 'sex' }]), 'h', lacking(0.01), facts).gates[0].outcome).toBe('PASS');
    // No value on either side: said so (it read "no value in both this audit and the baseline" when one side had it).
    expect(evaluatePolicy(policy([{ ...gate, metric: 'equal_opportunity_difference' }]), 'h', lacking(0.01), facts).gates[0].reason).toBe('equal_opportunity_difference has no value in this audit or in the baseline');
  });

  it('passes a change of exactly the allowance, though its difference rounds past it', () => {
    const exact = { ...withBaseline, comparison: { ...comparison, metrics: [{ ...comparison.metrics[0], baseline: 0.81, current: 0.8, change: 0.8 - 0.81 }] } };
    expect(0.8 - 0.81).toBeLessThan(-0.01);
    expect(evaluatePolicy(policy([{ comparison: 'max_drop', threshold: 0.01 }]), 'h', exact, facts).gates[0].outcome).toBe('PASS');
    expect(evaluatePolicy(policy([{ comparison: 'max_drop', threshold: 0.0099 }]), 'h', exact, facts).gates[0].outcome).toBe('FAIL');
  });

  it('is NOT_EVALUATED without a baseline, and refuses a negative allowance', () => {
    expect(evaluatePolicy(policy([{ comparison: 'max_drop', threshold: 0.01 }]), 'h', result, facts).gates[0]).toMatchObject({
      outcome: 'NOT_EVALUATED',
      reason: 'a relative gate (max_drop) needs a baseline result: audit with --baseline RESULT',
    });
    // A bound on the wrong side of the metric's direction fails a better model.
    const backwards = 'policy_name: p\ngates:\n  - {name: g, metric: brier_score, threshold: 0.0001, comparison: max_drop, severity: error}\n';
    expect(() => parsePolicy(backwards, 'p.yaml')).toThrow(new ConfigError('p.yaml: gates[0] ("g"): max_drop on brier_score, where lower is better, bounds how much it may improve and fails a better model. Use max_increase to bound how much it may worsen.'));
    expect(parsePolicy(backwards.replace('max_drop', 'max_increase'), 'p.yaml').gates[0].comparison).toBe('max_increase');
    expect(parsePolicy(backwards.replace('brier_score', 'selection_rate'), 'p.yaml').gates[0].comparison).toBe('max_drop');
    const text = 'policy_name: p\ngates:\n  - {name: g, metric: roc_auc, threshold: -0.01, comparison: max_drop, severity: error}\n';
    expect(() => parsePolicy(text, 'p.yaml')).toThrow(new ConfigError(`p.yaml: gates[0] ("g"): a max_drop threshold is the largest change allowed, in the metric's units, and cannot be negative (got -0.01).`));
  });
});

describe("the README's policy example", () => {
  it('is a valid policy (attr on AUC made it invalid once the check came)', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const block = /### Policy gates[^\n]*\n+```yaml\n([\s\S]*?)```/.exec(readme)![1];
    const policy = parsePolicy(block, 'README.md');
    expect(policy.gates.map((g) => g.name)).toEqual(['Minimum AUC', 'AUC must not drop', 'Parity by race']);
  });
});

describe('a disparity that fails through groups too small to judge', () => {
  it('says which small groups it turns on and the value over the others (selection rates counted from the file); a pass says nothing', async () => {
    const ort = await import('onnxruntime-web');
    const { runAudit } = await import('../../src/core/audit');
    // Groups A and B of 200 rows with close selection rates, C of 3 rows all selected.
    const rows: [string, number, number][] = [];
    for (let i = 0; i < 200; i++) rows.push(['A', i < 100 ? 0.9 : 0.1, i % 2]);
    for (let i = 0; i < 200; i++) rows.push(['B', i < 110 ? 0.9 : 0.1, i % 2]);
    for (let i = 0; i < 3; i++) rows.push(['C', 0.9, i % 2]);
    const csv = `group,score,y\n${rows.map((r) => r.join(',')).join('\n')}\n`;
    const result = await runAudit(ort, { scoreColumn: 'score', threshold: 0.5, data: { fileName: 'small.csv', bytes: new TextEncoder().encode(csv) }, target: 'y', protectedAttributes: ['group'], bootstrapResamples: 0, missingSections: { explainer: 'off', robustness: 'off' } });
    const rate = (g: string) => rows.filter((r) => r[0] === g && r[1] >= 0.5).length / rows.filter((r) => r[0] === g).length;
    const p = policy([{ name: 'Parity', metric: 'demographic_parity_difference', threshold: 0.1, comparison: 'less_equal' }, { name: 'Parity (loose)', metric: 'demographic_parity_difference', threshold: 0.6, comparison: 'less_equal' }]);
    const decision = evaluatePolicy(p, 'h', result, facts);
    expect(decision.gates[0]).toMatchObject({ outcome: 'FAIL', attribute: 'group', value: rate('C') - rate('A'), small_groups: { groups: [{ name: 'C', n: 3 }], value_without: rate('B') - rate('A') } });
    expect(decision.notices).toContain(`Gate "Parity" (demographic_parity_difference ${Number((rate('C') - rate('A')).toPrecision(4))} on group) turns on groups of fewer than 30 rows (fairness.min_group_size): group = C (3 rows), whose rates are too uncertain to judge on their own; over the other groups it is ${Number((rate('B') - rate('A')).toPrecision(4))}.`);
    // A gate the large groups fail too (0.05 > 0.04) does not turn on the small group: no notice.
    const tight = evaluatePolicy(policy([{ name: 'Tight', metric: 'demographic_parity_difference', threshold: 0.04, comparison: 'less_equal' }]), 'h', result, facts);
    expect(tight.gates[0].outcome).toBe('FAIL');
    expect(tight.gates[0]).not.toHaveProperty('small_groups');
    expect(tight.notices).toEqual([]);
    // The loose gate passes over every group: nothing to say.
    expect(decision.gates[1].outcome).toBe('PASS');
    expect(decision.gates[1]).not.toHaveProperty('small_groups');
    expect(decision.notices.filter((n) => n.includes('turns on groups'))).toHaveLength(1);
  });
});

describe('a gate whose unit changes with the task', () => {
  it('says, in a regression audit, that max_shift_degradation is a relative rise of the error', () => {
    const regression = { task: 'regression', performance: {}, calibration: {}, fairness: {}, robustness: { max_shift_degradation: 0.0287 } };
    const decision = evaluatePolicy(policy([{ name: 'Shift', metric: 'max_shift_degradation', threshold: 0.05, comparison: 'less_equal' }]), 'h', regression, facts);
    expect(decision.gates[0]).toMatchObject({ outcome: 'PASS', value: 0.0287 });
    expect(decision.notices).toEqual(['Gate "Shift": max_shift_degradation of a regression is the relative rise of its MAE or RMSE under the demographic shift (2.87% worse), not a drop of a share as in a binary audit.']);
    // A binary audit's reads as the catalog says: no notice.
    expect(evaluatePolicy(policy([{ name: 'Shift', metric: 'max_shift_degradation', threshold: 0.05, comparison: 'less_equal' }]), 'h', { ...result, robustness: { max_shift_degradation: 0.03 } }, facts).notices).toEqual([]);
  });
});
