import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-in-process';
import { expected, fixture } from '../support/fixtures';

const work = mkdtempSync(join(tmpdir(), 'plumbline-config-'));
const want = expected('compas/rf.expected.json');

/** The command in this process, in the work folder. */
function plumbline(args: string[], env: Record<string, string> = {}) {
  return runCli(args, { cwd: work, env });
}

const config = `model:
  path: ${fixture('compas/rf.onnx')}
  features: [${want.features!.join(', ')}]
data:
  test: ${fixture('compas/test.csv')}
  target: two_year_recid
  positive_label: 1
  protected_attributes: [race, sex]
random_seed: 42
audit_profile: quickstart
`;
writeFileSync(join(work, 'audit.yaml'), config);
const gate = (name: string, metric: string, threshold: number, comparison: string, severity: string, attr = '') =>
  `  - name: "${name}"\n    metric: ${metric}\n${attr ? `    attr: ${attr}\n` : ''}    threshold: ${threshold}\n    comparison: ${comparison}\n    severity: ${severity}\n    clause: "Policy §${name.length}"\n`;
const policy = (gates: string) => `policy_name: "Test policy"\nversion: "1.0"\ngates:\n${gates}`;

describe('plumbline audit --config with --policy-gates', () => {
  it('exits 1 when an error gate fails, writing policy_decision.json with values, thresholds and clauses', async () => {
    writeFileSync(join(work, 'strict.yaml'), policy(gate('Minimum AUC', 'roc_auc', want.performance.roc_auc + 0.001, 'greater_than', 'error') + gate('Parity', 'demographic_parity_difference', 0.1, 'less_than', 'warning', 'sex')));
    const run = (await plumbline(['audit', '--config', 'audit.yaml', '--policy-gates', 'strict.yaml', '--output', 'out1/result.json']));
    expect(run.code).toBe(1);
    const decision = JSON.parse(readFileSync(join(work, 'out1', 'policy_decision.json'), 'utf8'));
    expect(decision.decision).toBe('FAIL');
    expect(decision.policy_name).toBe('Test policy');
    expect(decision.policy_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(decision.gates[0]).toMatchObject({ name: 'Minimum AUC', metric: 'roc_auc', outcome: 'FAIL', severity: 'error', clause: 'Policy §11' });
    expect(Math.abs(decision.gates[0].value - want.performance.roc_auc)).toBeLessThan(1e-6);
    expect(decision.gates[1]).toMatchObject({ outcome: 'WARN', attribute: 'sex' });
    expect(run.stderr).toContain(`FAIL          Minimum AUC: roc_auc = ${want.performance.roc_auc.toFixed(4)}, needs >`);
  });

  it('exits 0 with decision REVIEW when only warnings fail', async () => {
    writeFileSync(join(work, 'warn.yaml'), policy(gate('Minimum AUC', 'roc_auc', 0.7, 'greater_than', 'error') + gate('Parity', 'demographic_parity_difference', 0.1, 'less_than', 'warning')));
    const run = (await plumbline(['audit', '--config', 'audit.yaml', '--policy-gates', 'warn.yaml', '--output', 'out2/result.json']));
    expect(run.code).toBe(0);
    expect(JSON.parse(readFileSync(join(work, 'out2', 'policy_decision.json'), 'utf8')).decision).toBe('REVIEW');
  });

  it('gives byte-identical result JSON and manifests on two runs with SOURCE_DATE_EPOCH', async () => {
    const env = { SOURCE_DATE_EPOCH: '1700000000', GIT_COMMIT: 'test' };
    for (const out of ['a', 'b']) expect((await plumbline(['audit', '--config', 'audit.yaml', '--output', `${out}/result.json`], env)).code).toBe(0);
    for (const file of ['result.json', 'result.manifest.json']) expect(readFileSync(join(work, 'b', file), 'utf8')).toBe(readFileSync(join(work, 'a', file), 'utf8'));
    const manifest = JSON.parse(readFileSync(join(work, 'a', 'result.manifest.json'), 'utf8'));
    expect(manifest.created).toBe('2023-11-14T22:13:20.000Z');
    expect(manifest.random_seed).toBe(42);
    expect(Object.keys(manifest.derived_seeds)).toEqual(['calibration/ece']);
    expect(Object.keys(manifest.inputs)).toEqual(['model', 'data', 'config']);
    expect(manifest.dependencies['onnxruntime-web']).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('lets flags override the config', async () => {
    const run = (await plumbline(['audit', '--config', 'audit.yaml', '--threshold', '0.3', '--seed', '7', '--output', 'out3/result.json']));
    expect(run.code).toBe(0);
    const result = JSON.parse(readFileSync(join(work, 'out3', 'result.json'), 'utf8'));
    expect(result.threshold).toBe(0.3);
    expect(result.settings.seed).toBe(7);
    expect(result.settings.bootstrap_resamples).toBe(200);
  });

  it('--threshold-policy chooses the threshold on the data (it used to be ignored)', async () => {
    const run = (await plumbline(['audit', '--config', 'audit.yaml', '--threshold-policy', 'selection_rate:0.3', '--output', 'out-policy/result.json']));
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(readFileSync(join(work, 'out-policy', 'result.json'), 'utf8'));
    expect(result.threshold_selection.policy).toEqual({ policy: 'selection_rate', target: 0.3 });
    expect(result.threshold_selection.chosen_on).toBe('test.csv');
    expect(result.threshold).toBe(result.threshold_selection.threshold);
    // The chosen threshold selects close to 30% of the rows (ties in the scores allow no closer).
    expect(Math.abs(result.performance.selection_rate - 0.3)).toBeLessThan(0.02);
    expect((await plumbline(['audit', '--config', 'audit.yaml', '--threshold', '0.4', '--threshold-policy', 'youden'])).stderr).toBe('plumbline: give either --threshold or --threshold-policy, not both.\n');
  });

  it('refuses an output it would not write, a seed past the config\'s range and two references, and lets --reference or --reference-result replace the config\'s train (4294967297 ran as seed 1; --reference-result was ignored)', async () => {
    expect((await plumbline(['audit', '--score', 'decile_score', '--threshold', '5', '--class-labels', 'no,yes', '--data', fixture('compas/test.csv'), '--target', 'two_year_recid', '--protected', 'race'])).stderr).toBe('plumbline: --class-labels applies to a model file, and a score-column audit has none. Remove it.\n');
    // A threshold flag replaces the config's fairness.threshold (flags win), and a file naming its reference twice by the same path is read.
    writeFileSync(join(work, 'fair.yaml'), config.replace('random_seed: 42', `random_seed: 42\nfairness:\n  threshold: 0.4`).replace('  target:', `  train: ${fixture('compas/train.csv')}\n  reference: ${fixture('compas/train.csv')}\n  target:`));
    const flagWins = await plumbline(['audit', '--config', 'fair.yaml', '--threshold', '0.3', '--bootstrap', '0', '--output', 'out-fair/result.json']);
    expect(flagWins.code, flagWins.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(work, 'out-fair', 'result.json'), 'utf8')).threshold).toBe(0.3);
    expect((await plumbline(['audit', '--config', 'audit.yaml', '--output', 'report.html'])).stderr).toBe('plumbline: --output report.html: name the PDF report (REPORT.pdf, which writes the HTML report, model card and evidence pack beside it) or the result alone (RESULT.json).\n');
    expect((await plumbline(['audit', '--config', 'audit.yaml', '--seed', '4294967297'])).stderr).toBe('plumbline: --seed must be a whole number from 0 to 4294967295, got 4294967297.\n');
    writeFileSync(join(work, 'with-train.yaml'), config.replace('  target:', `  train: ${fixture('compas/train.csv')}\n  target:`));
    expect((await plumbline(['audit', '--config', 'with-train.yaml', '--reference', fixture('compas/test.csv'), '--reference-result', 'old.json'])).stderr).toBe('plumbline: give either --reference-result or --reference, not both: drift is measured against one.\n');
    const replaced = await plumbline(['audit', '--config', 'with-train.yaml', '--reference', fixture('compas/test.csv'), '--bootstrap', '0', '--output', 'out-ref/result.json']);
    expect(replaced.code, replaced.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(work, 'out-ref', 'result.json'), 'utf8')).reference_data.file).toBe('test.csv');
    const stored = await plumbline(['audit', '--config', 'with-train.yaml', '--reference-result', 'out-ref/result.json', '--bootstrap', '0', '--output', 'out-stored/result.json']);
    expect(stored.code, stored.stderr).toBe(0);
    const fromStored = JSON.parse(readFileSync(join(work, 'out-stored', 'result.json'), 'utf8'));
    expect(fromStored.reference_data).toBeUndefined();
    expect(fromStored.drift.reference).toContain('result.json');
    // The same model's stored scores give prediction drift; another model's are not compared with this one's (its PSI read as the batch's drift).
    expect(fromStored.drift.prediction).toBeDefined();
    expect(fromStored.drift.conventions).toContain(' Label drift: not measured against stored distributions (give the reference file, --reference, for it).');
    const other = await plumbline(['audit', '--config', 'with-train.yaml', '--model', fixture('compas/rf_v5.onnx'), '--reference-result', 'out-ref/result.json', '--bootstrap', '0', '--output', 'out-other/result.json']);
    expect(other.code, other.stderr).toBe(0);
    const fromOther = JSON.parse(readFileSync(join(work, 'out-other', 'result.json'), 'utf8'));
    expect(fromOther.drift.prediction).toBeUndefined();
    expect(fromOther.drift.prediction_not_measured).toBe(
      `the reference (stored distributions of result.json) holds the scores of the model with SHA-256 ${fromStored.inputs.model.sha256.slice(0, 12)}…, this audit those of the model with SHA-256 ${fromOther.inputs.model.sha256.slice(0, 12)}…: prediction drift compares one model's scores over time. Audit the reference with this model to store its scores.`,
    );
  });

  it('--strict refuses a config without an explicit positive label', async () => {
    writeFileSync(join(work, 'loose.yaml'), config.replace('  positive_label: 1\n', ''));
    const run = (await plumbline(['audit', '--config', 'loose.yaml', '--strict']));
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('plumbline: loose.yaml: --strict needs an explicit data.positive_label (--positive-label), so the audit cannot depend on defaults.\n');
  });

  it('exits 2 for a malformed config, naming line and column', async () => {
    writeFileSync(join(work, 'broken.yaml'), 'data:\n  test: [a, b\n');
    const run = (await plumbline(['audit', '--config', 'broken.yaml']));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^plumbline: broken\.yaml:\d+:\d+: /);
  });
});

describe('other commands', () => {
  it('validate-config tells configs from policies', async () => {
    writeFileSync(join(work, 'ok-policy.yaml'), policy(gate('AUC', 'roc_auc', 0.7, 'greater_than', 'error')));
    const run = (await plumbline(['validate-config', 'audit.yaml', 'ok-policy.yaml']));
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('audit.yaml: valid audit config (profile quickstart)\nok-policy.yaml: valid policy "Test policy" with 1 gate\n');
    writeFileSync(join(work, 'bad-policy.yaml'), policy(gate('AUC', 'roc_acu', 0.7, 'greater_than', 'error')));
    expect((await plumbline(['validate-config', 'bad-policy.yaml'])).code).toBe(2);
  });

  it('diff exits 1 when a gate outcome changed between two audits', async () => {
    writeFileSync(join(work, 'accuracy.yaml'), policy(gate('Accuracy', 'accuracy', 0.69, 'greater_than', 'warning')));
    (await plumbline(['audit', '--config', 'audit.yaml', '--policy-gates', 'accuracy.yaml', '--output', 'd1/result.json']));
    (await plumbline(['audit', '--config', 'audit.yaml', '--threshold', '0.9', '--policy-gates', 'accuracy.yaml', '--output', 'd2/result.json']));
    const same = (await plumbline(['diff', 'd1/result.json', 'd1/result.json']));
    expect(same).toMatchObject({ code: 0, stdout: 'no differences\n' });
    const changed = (await plumbline(['diff', 'd1/result.json', 'd2/result.json']));
    expect(changed.code).toBe(1);
    expect(changed.stdout).toContain('gate "Accuracy": PASS → WARN');
    expect(changed.stdout).toMatch(/^accuracy: 0\.694384 → /m);
  });

  it('refuses flags that act only with another, given alone (each changed nothing, without a word)', async () => {
    const base = ['audit', '--score', 'decile_score', '--threshold', '5', '--data', fixture('compas/test.csv'), '--target', 'two_year_recid', '--protected', 'race'];
    const out = mkdtempSync(join(tmpdir(), 'plumbline-flags-'));
    expect(await plumbline([...base, '--no-pdf', '--output', join(out, 'result.json')])).toMatchObject({ code: 2, stderr: "plumbline: --no-pdf leaves the PDF out of a report's files: it needs --output REPORT.pdf (a result.json output, or none, writes no PDF anyway).\n" });
    expect(await plumbline([...base, '--force-policy'])).toMatchObject({ code: 2, stderr: 'plumbline: --force-policy applies a policy outside its terms (its dates or models): give the policy (--policy-gates FILE).\n' });
    expect(await plumbline([...base, '--explain-failures'])).toMatchObject({ code: 2, stderr: 'plumbline: --explain-failures explains the failed gates of a policy: give the policy (--policy-gates FILE).\n' });
    // A config asking for no report beside an output that names one (the model card and pack were written all the same).
    const config = join(out, 'no-report.yaml');
    writeFileSync(config, `data: {test: ${fixture('compas/test.csv')}, score_column: decile_score, target: two_year_recid, protected_attributes: [race]}\nthreshold: 5\nreport: {format: json}\n`);
    expect(await plumbline(['audit', '--config', config, '--output', join(out, 'report.pdf')])).toMatchObject({ code: 2, stderr: `plumbline: report.format: json asks for no report, but --output names one (${join(out, 'report.pdf')}). Name the result alone (RESULT.json), or remove report.format.\n` });
  });

  it('list metrics names every gate metric id', async () => {
    const run = (await plumbline(['list', 'metrics']));
    expect(run.code).toBe(0);
    for (const id of ['roc_auc', 'expected_calibration_error', 'demographic_parity_difference', 'equalized_odds_difference', 'equal_opportunity_difference', 'min_group_size', 'statistical_power']) {
      expect(run.stdout).toMatch(new RegExp(`^${id} `, 'm'));
    }
  });
});
