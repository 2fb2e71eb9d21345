import { describe, expect, it } from 'vitest';
import { evaluatePolicy, parsePolicy, type Policy } from '../../src/core/config/policy';
import { ConfigError } from '../../src/core/errors';

const result = {
  performance: { roc_auc: 0.75, accuracy: 0.8 },
  calibration: { expected_calibration_error: 0.05 },
  fairness: { race: { demographic_parity_difference: 0.2, min_group_size: 12 }, sex: { demographic_parity_difference: 0.1, min_group_size: 300 } },
  missing_sections: { robustness: 'the robustness analysis is not available in this version of Plumbline' },
};
const facts = { seedGiven: true, strict: false, manifestWritten: true, gitCommit: 'abc' };
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

  it('marks a metric that was not computed NOT_EVALUATED with the reason, and fails it in strict mode', () => {
    const p = policy([{ metric: 'max_shift_degradation', threshold: 0.1, comparison: 'less_than' }]);
    const lenient = evaluatePolicy(p, 'h', result, facts);
    expect(lenient.gates[0]).toMatchObject({ outcome: 'NOT_EVALUATED', reason: 'the robustness analysis is not available in this version of Plumbline' });
    expect(lenient.decision).toBe('PASS');
    const strict = evaluatePolicy(p, 'h', result, { ...facts, strict: true });
    expect(strict.gates[0].outcome).toBe('FAIL');
    expect(strict.decision).toBe('FAIL');
  });

  it('decides WARN when only warnings fail, FAIL when an error fails', () => {
    expect(evaluatePolicy(policy([{ severity: 'warning', threshold: 0.9 }]), 'h', result, facts).decision).toBe('WARN');
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
  });
});

describe('policy files', () => {
  const gate = (extra: string) => `policy_name: p\ngates:\n  - name: g\n    metric: roc_auc\n    threshold: 0.7\n    comparison: greater_than\n    severity: error\n${extra}`;

  it('refuses an unknown metric id, listing the valid ids', () => {
    expect(() => parsePolicy(gate('').replace('metric: roc_auc', 'metric: roc_auk'), 'gates.yaml')).toThrow(/^gates\.yaml: gates\[0\] \("g"\): unknown metric: "roc_auk" \(did you mean roc_auc\?\)\. Valid ids: accuracy, balanced_accuracy/);
  });

  it('refuses unknown keys and wrong types, naming the path', () => {
    expect(() => parsePolicy(gate('    severty: error\n'), 'gates.yaml')).toThrow(
      new ConfigError('gates.yaml: gates[0].severty: unknown key (did you mean severity?); known keys: name, metric, attr, threshold, comparison, severity, clause, rationale'),
    );
    expect(() => parsePolicy(gate('').replace('comparison: greater_than', 'comparison: bigger'), 'gates.yaml')).toThrow(
      new ConfigError('gates.yaml: gates[0].comparison: "bigger" is not one of greater_than, greater_equal, less_than, less_equal'),
    );
    expect(() => parsePolicy(gate('').replace('threshold: 0.7', 'threshold: high'), 'gates.yaml')).toThrow(new ConfigError('gates.yaml: gates[0].threshold: expected a number, got the text "high"'));
  });

  it('reports malformed YAML with its line and column', () => {
    expect(() => parsePolicy('policy_name: p\ngates:\n  - name: "unclosed\n    metric: roc_auc\n', 'gates.yaml')).toThrow(/^gates\.yaml:\d+:\d+: Missing closing "quote/);
    expect(() => parsePolicy('policy_name: p\npolicy_name: q\ngates: []\n', 'dup.yaml')).toThrow(/^dup\.yaml:2:1: Map keys must be unique/);
  });
});
