import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-in-process';
import { audit } from '../../src/api/node';
import { runAudit, type AuditRequest, type AuditResult } from '../../src/core/audit';
import { thresholdText } from '../../src/core/metrics/curves';
import { projectRoot } from '../support/fixtures';

// A threshold policy fitted on held-out data (data.validation) and applied to the audited
// file, against scikit-learn's roc_curve Youden threshold on the validation rows and its
// metrics on the audited rows (tests/statistics/build_validation_threshold.py).
const dir = join(projectRoot, 'tests/statistics');
const want = JSON.parse(readFileSync(join(dir, 'validation_threshold.json'), 'utf8'));
const file = (name: string) => ({ fileName: name, bytes: new Uint8Array(readFileSync(join(dir, name))) });
const base: AuditRequest = { scoreColumn: 'p', data: file('compas_audited.csv'), target: 'two_year_recid', protectedAttributes: ['race', 'sex'], bootstrapResamples: 0, seed: 1, thresholdPolicy: { policy: 'youden' } };

describe('threshold policies fitted on held-out data', () => {
  it('fits Youden on the validation file and reports the audited file at it, as scikit-learn does', async () => {
    const result = await runAudit(ort, { ...base, validation: file('compas_validation.csv') });
    expect(result.threshold_selection.threshold).toBe(want.threshold);
    expect(result.threshold_selection).toMatchObject({ chosen_on: 'compas_validation.csv', held_out: true });
    expect(Math.abs(result.performance.accuracy! - want.accuracy)).toBeLessThan(1e-12);
    expect(Math.abs(result.performance.recall! - want.recall)).toBeLessThan(1e-12);
    expect(Math.abs(result.performance.selection_rate! - want.selection_rate)).toBeLessThan(1e-12);
    expect(result.inputs.validation).toMatchObject({ file: 'compas_validation.csv', rows: want.validation_rows });
    expect(result.data.findings.some((f) => f.check === 'threshold_fitted_on_test')).toBe(false);
    expect(thresholdText(result.threshold_selection)).toBe(`${want.threshold}, chosen by Youden's J (max TPR − FPR) on the held-out validation file compas_validation.csv`);
  });

  it('fitted on the audited file itself, says so as a limitation', async () => {
    const result = await runAudit(ort, base);
    expect(result.threshold_selection.threshold).toBe(want.threshold_on_audited);
    expect(result.threshold_selection).toMatchObject({ chosen_on: 'compas_audited.csv', held_out: false });
    const finding = result.data.findings.find((f) => f.check === 'threshold_fitted_on_test');
    expect(finding?.message).toBe(`The threshold ${want.threshold_on_audited} was chosen by a policy on compas_audited.csv, the audited file itself: every metric at it is optimistic. Fit it on held-out data with data.validation (--validation FILE).`);
  });

  it('says "fixed" for a fixed threshold, naming no file', async () => {
    const result = await runAudit(ort, { ...base, thresholdPolicy: undefined, threshold: 0.5 });
    expect(result.threshold_selection).toMatchObject({ chosen_on: null, held_out: false });
    expect(thresholdText(result.threshold_selection)).toBe('0.5, fixed');
  });

  it('refuses a validation file with a fixed threshold, in the core and in the config', async () => {
    const message = 'data.validation (compas_validation.csv) is only used to fit a threshold policy, and the threshold is fixed at 0.5. Set threshold to a policy ({policy: youden}, {policy: selection_rate, target: R} or {policy: cost, cost_fp: A, cost_fn: B}), or remove data.validation.';
    await expect(runAudit(ort, { ...base, thresholdPolicy: undefined, validation: file('compas_validation.csv') })).rejects.toThrow(message);
    await expect(audit({ config: { data: { test: join(dir, 'compas_audited.csv'), validation: 'compas_validation.csv', target: 'two_year_recid', protected_attributes: ['race'], score_column: 'p' } } })).rejects.toThrow(/^the config object: data\.validation \(\S*compas_validation\.csv\) is only used to fit a threshold policy/);
  });

  it('is data.validation in a config and --validation on the command line, with the same threshold', async () => {
    const run = await audit({ config: { data: { test: join(dir, 'compas_audited.csv'), validation: join(dir, 'compas_validation.csv'), target: 'two_year_recid', protected_attributes: ['race'], score_column: 'p' }, threshold: { policy: 'youden' } } });
    expect((run.result as AuditResult).threshold_selection.threshold).toBe(want.threshold);
    expect(run.manifest.inputs.validation?.file).toBe('compas_validation.csv');
    const out = join(mkdtempSync(join(tmpdir(), 'plumbline-validation-')), 'audit.json');
    const cli = await runCli(['audit', '--score', 'p', '--data', join(dir, 'compas_audited.csv'), '--validation', join(dir, 'compas_validation.csv'), '--target', 'two_year_recid', '--protected', 'race', '--threshold-policy', 'youden', '--output', out]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(readFileSync(out, 'utf8')).threshold_selection.threshold).toBe(want.threshold);
  }, 60_000);
});
