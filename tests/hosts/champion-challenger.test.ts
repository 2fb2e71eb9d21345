/**
 * Champion vs challenger through the command line, as a CI pipeline runs it: the German
 * credit logistic regression (champion, audited with its per-row predictions) against the
 * XGBoost challenger on the same rows, a relative gate, waivers, and `diff`.
 * The paired numbers are checked against numpy / scipy (tests/statistics/build_paired.py).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-in-process';
import { fixture, projectRoot } from '../support/fixtures';
import { gateNumber } from '../../src/core/outputs/decision-blocks';

const work = mkdtempSync(join(tmpdir(), 'plumbline-challenger-'));
const paired = JSON.parse(readFileSync(join(projectRoot, 'tests', 'statistics', 'paired.json'), 'utf8')).german_credit;

/** The command in this process; the audit is dated 2026-12-04 (SOURCE_DATE_EPOCH): waivers expire relative to it. */
function plumbline(args: string[]) {
  return runCli(args, { cwd: work, env: { SOURCE_DATE_EPOCH: '1796342400' } });
}

const config = (model: string, id: string) => `model:
  path: ${fixture(`german_credit/${model}`)}
data:
  test: ${fixture('german_credit/test.csv')}
  target: good_credit
  positive_label: 1
  protected_attributes: [gender]
random_seed: 3
audit_profile: quickstart
metadata:
  model_id: ${id}
`;
writeFileSync(join(work, 'champion.yaml'), config('logreg_zipmap.onnx', 'credit_logreg'));
writeFileSync(join(work, 'challenger.yaml'), config('xgb.onnx', 'credit_xgb'));
const gates = `policy_name: Promotion
gates:
  - {name: AUC must not drop, metric: roc_auc, threshold: 0.01, comparison: max_drop, severity: error}
  - {name: Parity must not rise, metric: demographic_parity_difference, threshold: 0.05, comparison: max_increase, severity: warning}
`;
writeFileSync(join(work, 'promotion.yaml'), gates);
const waiver = (expires: string) => `${gates}waivers:
  - {gate: AUC must not drop, model: "credit_*", reason: "recalibration planned", approved_by: CRO, expires: ${expires}}
`;
writeFileSync(join(work, 'waived.yaml'), waiver('2027-06-30'));
writeFileSync(join(work, 'expired.yaml'), waiver('2026-12-03'));

describe('champion vs challenger', () => {
  it('pairs the challenger with the champion on the same rows and fails a relative gate with exit 1', async () => {
    expect((await plumbline(['audit', '--config', 'champion.yaml', '--predictions', '--output', 'champion/result.json'])).code).toBe(0);
    const run = (await plumbline(['audit', '--config', 'challenger.yaml', '--baseline', 'champion/result.json', '--policy-gates', 'promotion.yaml', '--output', 'challenger/result.json']));
    expect(run.code).toBe(1);
    const result = JSON.parse(readFileSync(join(work, 'challenger', 'result.json'), 'utf8'));
    expect(result.comparison.paired).toBe(true);
    const auc = result.comparison.metrics.find((m: { id: string }) => m.id === 'roc_auc');
    expect(Math.abs(auc.change - paired.delong.difference)).toBeLessThan(1e-6);
    expect(Math.abs(auc.interval.low - paired.delong.low)).toBeLessThan(1e-6);
    expect(Math.abs(auc.p_value - paired.delong.p_value)).toBeLessThan(1e-6);
    const accuracy = result.comparison.metrics.find((m: { id: string }) => m.id === 'accuracy');
    expect(Math.abs(accuracy.p_value - paired.mcnemar.p_value)).toBeLessThan(1e-12);
    const gate = result.policy_decision.gates[0];
    expect(gate).toMatchObject({ outcome: 'FAIL', comparison: 'max_drop' });
    expect(run.stderr).toContain(`FAIL          AUC must not drop: change in roc_auc = ${gateNumber(gate)} (baseline ${gate.baseline_value.toPrecision(4)} → ${gate.current_value.toPrecision(4)}), needs a drop of at most 0.01`);
    expect(run.stderr).toContain('decision: FAIL');
  });

  it('exits 0 with REVIEW under a valid waiver, and 1 once it has expired, saying so', async () => {
    const waived = (await plumbline(['audit', '--config', 'challenger.yaml', '--baseline', 'champion/result.json', '--policy-gates', 'waived.yaml', '--output', 'waived/result.json']));
    expect(waived.code).toBe(0);
    const decision = JSON.parse(readFileSync(join(work, 'waived', 'policy_decision.json'), 'utf8'));
    expect(decision.decision).toBe('REVIEW');
    const gate = decision.gates[0];
    // The comparison with the baseline comes first on stderr; the decision's lines end it, exactly.
    expect(waived.stderr).toContain('plumbline: Compared with the baseline result.json');
    expect(waived.stderr.slice(waived.stderr.indexOf('WAIVED '))).toBe(
      `WAIVED        AUC must not drop: change in roc_auc = ${gateNumber(gate)} (baseline ${gate.baseline_value.toPrecision(4)} → ${gate.current_value.toPrecision(4)}), needs a drop of at most 0.01; waived by CRO until 2027-06-30: recalibration planned; look at comparison.metrics for the change and its interval\ndecision: REVIEW\n`,
    );
    const expired = (await plumbline(['audit', '--config', 'challenger.yaml', '--baseline', 'champion/result.json', '--policy-gates', 'expired.yaml', '--output', 'expired/result.json']));
    expect(expired.code).toBe(1);
    expect(expired.stderr.slice(expired.stderr.indexOf('FAIL '))).toBe(
      `FAIL          AUC must not drop: change in roc_auc = ${gateNumber(gate)} (baseline ${gate.baseline_value.toPrecision(4)} → ${gate.current_value.toPrecision(4)}), needs a drop of at most 0.01; waiver approved by CRO expired on 2026-12-03; look at comparison.metrics for the change and its interval\ndecision: FAIL\n`,
    );
  });

  it('diff gates the challenger against the champion: exit 1 when a relative gate fails', async () => {
    const run = (await plumbline(['diff', 'champion/result.json', 'challenger/result.json', '--policy-gates', 'promotion.yaml']));
    expect(run.code).toBe(1);
    // The challenger's result holds the paired comparison against this very champion file.
    expect(run.stdout).toContain('changes (paired tests on the same rows):');
    // The line's numbers are scikit-learn's AUCs and numpy's DeLong interval and p (paired.json).
    const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(6)}`;
    const d = paired.delong;
    expect(run.stdout).toContain(`roc_auc: ${paired.auc_a.toFixed(6)} → ${paired.auc_b.toFixed(6)} (${signed(d.difference)}, 95% CI ${signed(d.low)} to ${signed(d.high)}, p = ${d.p_value.toPrecision(3)})\n`);
    expect(run.stdout).toContain(`gate "AUC must not drop" (max_drop 0.01): FAIL, change ${d.difference.toFixed(6)}`);
    expect(run.stdout).toContain('policy "Promotion" decision for challenger/result.json: FAIL');
    const loose = (await plumbline(['diff', 'champion/result.json', 'challenger/result.json', '--policy-gates', 'waived.yaml']));
    expect(loose.code).toBe(0);
  });

  it('diff judges a challenger audited without a policy under its config\'s metadata.model_id, which the result records (it took the file name: scoped policies and waivers missed it)', async () => {
    expect((await plumbline(['audit', '--config', 'challenger.yaml', '--baseline', 'champion/result.json', '--output', 'plain/result.json'])).code).toBe(0);
    expect(JSON.parse(readFileSync(join(work, 'plain', 'result.json'), 'utf8')).settings.model_id).toBe('credit_xgb');
    // A policy for credit_* models applies (it was NOT_APPLIED, exit 0, for "xgb.onnx").
    writeFileSync(join(work, 'scoped.yaml'), `${gates}applies_to: ["credit_*"]\n`);
    const scoped = await plumbline(['diff', 'champion/result.json', 'plain/result.json', '--policy-gates', 'scoped.yaml']);
    expect(scoped.code).toBe(1);
    expect(scoped.stdout).toContain('policy "Promotion" decision for plain/result.json: FAIL');
    // A waiver for credit_* models holds (it missed "xgb.onnx": FAIL, exit 1).
    const waived = await plumbline(['diff', 'champion/result.json', 'plain/result.json', '--policy-gates', 'waived.yaml']);
    expect(waived.code).toBe(0);
    expect(waived.stdout).toContain('policy "Promotion" decision for plain/result.json: REVIEW');
  });

  it('diff --strict fails an error gate it cannot evaluate, as audit --strict does (it had no --strict: REVIEW, exit 0)', async () => {
    // No drift was measured (no reference): an error gate on max_psi cannot be evaluated.
    writeFileSync(join(work, 'drift.yaml'), 'policy_name: Drift\ngates:\n  - {name: Stable inputs, metric: max_psi, threshold: 0.2, comparison: less_equal, severity: error}\n');
    const lenient = await plumbline(['diff', 'champion/result.json', 'challenger/result.json', '--policy-gates', 'drift.yaml']);
    expect(lenient.code).toBe(0);
    expect(lenient.stdout).toContain('policy "Drift" decision for challenger/result.json: REVIEW');
    const strict = await plumbline(['diff', 'champion/result.json', 'challenger/result.json', '--policy-gates', 'drift.yaml', '--strict']);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain('policy "Drift" decision for challenger/result.json: FAIL');
    expect(await plumbline(['diff', 'champion/result.json', 'challenger/result.json', '--strict'])).toMatchObject({ code: 2, stderr: "plumbline: --strict acts on a policy's gates: give the policy with --policy-gates P.\n" });
  });
});
