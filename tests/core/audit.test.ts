import * as ort from 'onnxruntime-web';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Random } from '../../src/core/base/random';
import { describe, expect, it } from 'vitest';
import type { StoredDistribution } from '../../src/core/analyses/drift/stored';
import { dependenceChart } from '../../src/core/outputs/charts';
import { runAudit, type AuditRequest } from '../../src/core/audit';
import { AuditConfigError, CsvError, ModelLoadError } from '../../src/core/base/errors';
import { neighbourGaps, type NeighbourRunner } from '../../src/core/analyses/robustness/neighbours';
import { expected, fixtureBytes, projectRoot } from '../support/fixtures';
import { parseCsv } from '../../src/core/data/csv';
import { takeRows } from '../../src/core/data/table';
import { columnScores } from '../../src/core/audit/scoring';
import { toXgboostJson } from '../../src/core/model/export';
import { syntheticEnsemble } from '../../bench/synthetic';

ort.env.wasm.numThreads = 1;
const want = expected('compas/rf.expected.json');
const request = (overrides: Partial<AuditRequest> = {}): AuditRequest => ({
  model: { fileName: 'rf.onnx', bytes: fixtureBytes('compas/rf.onnx') },
  data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') },
  target: 'two_year_recid',
  protectedAttributes: ['race', 'sex'],
  features: want.features,
  ...overrides,
});

describe('runAudit end to end on compas/rf.onnx', () => {
  it('matches rf.expected.json within 1e-6 (float32 model, float64 reference)', async () => {
    const result = await runAudit(ort, request());
    expect(result.n).toBe(want.n);
    for (const [key, value] of Object.entries(want.performance)) {
      expect(Math.abs((result.performance as unknown as Record<string, number>)[key] - value), key).toBeLessThan(1e-6);
    }
    expect(Math.abs(result.calibration.expected_calibration_error! - want.calibration.expected_calibration_error)).toBeLessThan(1e-6);
    expect(Math.abs(result.calibration.maximum_calibration_error! - want.calibration.maximum_calibration_error)).toBeLessThan(1e-6);
    // A fixture without protected groups would make this loop assert nothing.
    expect(Object.keys(want.fairness).length, 'protected attributes in the reference').toBeGreaterThan(0);
    for (const [attribute, fairness] of Object.entries(want.fairness)) {
      for (const [group, metrics] of Object.entries(fairness.groups)) {
        for (const [key, value] of Object.entries(metrics)) {
          const mine = result.fairness[attribute].groups[group][key] as number | null;
          if (value === null) expect(mine, `${attribute}.${group}.${key}`).toBeNull();
          else expect(Math.abs(mine! - value), `${attribute}.${group}.${key}`).toBeLessThan(1e-6);
        }
      }
      for (const key of ['demographic_parity_difference', 'demographic_parity_ratio', 'equal_opportunity_difference', 'equalized_odds_difference', 'min_group_size']) {
        expect(Math.abs((result.fairness[attribute][key] as number) - (fairness[key] as number)), `${attribute}.${key}`).toBeLessThan(1e-6);
      }
    }
  });

  it('flags groups under the minimum size and says why a rate is undefined', async () => {
    const result = await runAudit(ort, request());
    const native = result.fairness.race.groups['Native American'];
    expect(native.insufficient_samples).toBe(true);
    expect(native.tpr).toBeNull();
    expect(native.null_reasons.tpr).toBe('no actual positives in the group');
    expect(result.fairness.race.groups['African-American'].insufficient_samples).toBe(false);
  });

  it('gives byte-identical JSON on two runs', async () => {
    const [a, b] = await Promise.all([runAudit(ort, request()), runAudit(ort, request())]);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('searches the consistency check\'s neighbours on the host\'s threads while the metrics are computed, with the same result; within the robustness stage when a stage has a time budget', async () => {
    // A host's runner (here in this thread, answered a task later), logging when it is asked and what it answered.
    const log: string[] = [];
    const runner: NeighbourRunner = async (job) => {
      log.push('neighbours');
      await new Promise((resolve) => setTimeout(resolve, 0));
      return neighbourGaps({ ...job, from: 0, to: job.exclude.length });
    };
    const onProgress = (p: { stage: string; done: number }) => void (p.done === 0 && log.push(p.stage));
    const alone = await runAudit(ort, request());
    const ahead = await runAudit(ort, request(), { neighbours: runner, onProgress });
    expect(log.indexOf('neighbours')).toBeLessThan(log.indexOf('metrics'));
    expect(JSON.stringify(ahead)).toBe(JSON.stringify(alone));
    expect(ahead.robustness!.consistency!.consistency).not.toBeNull();
    log.length = 0;
    const budgeted = await runAudit(ort, request({ limits: { stageSeconds: 600 } }), { neighbours: runner, onProgress });
    expect(log.indexOf('neighbours')).toBeGreaterThan(log.indexOf('robustness'));
    expect(JSON.stringify(budgeted.robustness)).toBe(JSON.stringify(alone.robustness));
  });

  it('says when data.test_sample_size is not below the file\'s rows: every row audited, no sample (recorded null)', async () => {
    const file = { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') };
    const result = await runAudit(ort, { scoreColumn: 'decile_score', threshold: 5, data: file, target: 'two_year_recid', protectedAttributes: ['race'], sampleSize: 5000, bootstrapResamples: 0, missingSections: { explainer: 'off', robustness: 'off' } });
    const rows = parseCsv(new TextDecoder().decode(file.bytes), { fileName: 'test.csv' }).rowCount;
    expect(result.data.rows).toBe(rows);
    expect(result.settings.test_sample_size).toBeNull();
    expect(result.data.findings.filter((f) => f.check === 'sample_not_drawn')).toEqual([{ check: 'sample_not_drawn', severity: 'warning', message: `data.test_sample_size is 5,000, but test.csv has ${rows.toLocaleString('en-US')} rows: every row is audited, no sample drawn.` }]);
  });

  it('finds a perfectly inverted score column (AUC 0) inverted, as it finds one of AUC 0.01', async () => {
    const lines = Array.from({ length: 200 }, (_, i) => `${i < 100 ? 1 : 0},${((i + 0.5) / 200).toFixed(4)},${i % 2 ? 'a' : 'b'}`);
    const result = await runAudit(ort, { scoreColumn: 'score', threshold: 0.5, data: { fileName: 'inverted.csv', bytes: new TextEncoder().encode(`y,score,g\n${lines.join('\n')}\n`) }, target: 'y', protectedAttributes: ['g'], bootstrapResamples: 0, missingSections: { explainer: 'off', robustness: 'off' } });
    expect(result.performance.roc_auc).toBe(0);
    expect(result.performance.intervals!.roc_auc!.high).toBeLessThan(0.05);
    expect(result.data.findings.map((f) => f.check)).toContain('inverted_scores');
  });

  it('refuses a target coded 1/2 for a model of classes 0/1 (its 2s were counted as class 0 and its 1s read as class 1: AUC 0.26 for 0.74)', async () => {
    const [header, ...lines] = new TextDecoder().decode(fixtureBytes('compas/test.csv')).trim().split('\n');
    const at = header.split(',').indexOf('two_year_recid');
    const recoded = lines.map((line) => line.split(',').map((cell, j) => (j === at ? String(Number(cell) + 1) : cell)).join(','));
    const twos = recoded.map((line) => line.split(',')[at]).map((cell, i) => [cell, i] as const).filter(([cell]) => cell === '2');
    await expect(runAudit(ort, request({ data: { fileName: 'coded12.csv', bytes: new TextEncoder().encode(`${header}\n${recoded.join('\n')}\n`) } }))).rejects.toThrow(
      new AuditConfigError(`coded12.csv, column "two_year_recid": "2" (${twos.length.toLocaleString('en-US')} rows, first data row ${twos[0][1] + 1}) is not a class of the model, whose classes are 0, 1 (named in rf.onnx), so the audit cannot tell which class its rows are. Code the target with the model's classes (0, 1).`),
    );
  });

  it('records the settings that change what it reads and searches: how the files were read, the recourse settings, how the task was chosen', async () => {
    const { runAnyAudit } = await import('../../src/core/audit/run');
    const result = (await runAnyAudit(ort, request({ csv: { missingValues: ['Other', 'NA'], delimiter: ',' }, recourse: { costs: { priors_count: 5 }, maxRows: 20 }, bootstrapResamples: 0, missingSections: { explainer: 'off', robustness: 'off' } }))) as Awaited<ReturnType<typeof runAudit>>;
    expect(result.settings.read_options).toEqual({ delimiter: ',', missing_values: ['Other', 'NA'] });
    expect(result.settings.recourse_settings).toEqual({ costs: { priors_count: 5 }, max_rows: 20 });
    expect(result.settings.task_source).toBe('inferred: a classifier of two classes');
    // Not given, not written.
    const plain = await runAudit(ort, { scoreColumn: 'decile_score', threshold: 5, data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') }, target: 'two_year_recid', protectedAttributes: ['race'], bootstrapResamples: 0, missingSections: { explainer: 'off', robustness: 'off' } });
    expect(plain.settings).not.toHaveProperty('read_options');
    expect(plain.settings).not.toHaveProperty('recourse_settings');
    expect(plain.settings.task_source).toBe('a score column is audited as a binary classifier');
  });

  it('refuses recourse settings beside recourse.enabled: false, and records a score column\'s beside why no recourse is searched for it', async () => {
    const scoreColumn = { scoreColumn: 'decile_score', threshold: 5, data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') }, target: 'two_year_recid', protectedAttributes: ['race'], recourse: { costs: { priors_count: 2 }, maxRows: 50 }, bootstrapResamples: 0, missingSections: { explainer: 'off', robustness: 'off' } };
    const scored = await runAudit(ort, scoreColumn);
    // Recorded, beside why no recourse was searched (they were accepted and left no trace).
    expect(scored.settings.recourse_settings).toEqual({ costs: { priors_count: 2 }, max_rows: 50 });
    expect(scored.missing_sections.recourse).toBe('a score-column audit has no model to search counterfactuals with');
    await expect(runAudit(ort, request({ recourse: { perRow: 2 }, missingSections: { recourse: 'turned off (recourse.enabled: false)' } }))).rejects.toThrow(
      new AuditConfigError('recourse.max_counterfactuals is set, but no recourse is searched: turned off (recourse.enabled: false). Remove it, or turn recourse on.'),
    );
  });

  it('refuses robustness.shift and robustness.noise beside robustness turned off (they were dropped without a word), in every kind of audit', async () => {
    const { runAnyAudit } = await import('../../src/core/audit/run');
    const off = { robustness: { shift: 0.2, noise: [0.1] }, missingSections: { robustness: 'turned off (robustness.enabled: false)' } };
    await expect(runAudit(ort, request(off))).rejects.toThrow(
      new AuditConfigError('robustness.shift, robustness.noise are set, but robustness is not measured: turned off (robustness.enabled: false). Remove them, or turn robustness on.'),
    );
    const models = join(projectRoot, 'tests', 'models');
    const file = (name: string) => ({ fileName: name, bytes: new Uint8Array(readFileSync(join(models, name))) });
    await expect(runAnyAudit(ort, { model: file('reg_xgb.json'), data: file('reg.csv'), target: 'credit_amount', protectedAttributes: ['gender'], robustness: { shift: 0.2 }, missingSections: { robustness: 'turned off (robustness.enabled: false)' } })).rejects.toThrow(
      'robustness.shift is set, but robustness is not measured: turned off (robustness.enabled: false). Remove it, or turn robustness on.',
    );
    // Proxies are read by recourse too: they stay.
    await expect(runAudit(ort, request({ robustness: { proxies: { race: 'priors_count' } }, missingSections: { robustness: 'turned off (robustness.enabled: false)', explainer: 'off', recourse: 'off' } }))).resolves.toBeDefined();
  });

  it('refuses drift settings with no reference to measure drift against (they were read nowhere)', async () => {
    const { runAnyAudit } = await import('../../src/core/audit/run');
    await expect(runAnyAudit(ort, request({ driftBins: 5, driftThresholds: { minor: 0.05, major: 0.3 } }))).rejects.toThrow(
      new AuditConfigError('drift.psi_bins and drift.psi_minor / psi_major are set, but no reference is given, so no drift is measured. Give the reference the data drifts from (data.reference / --reference FILE, or --reference-result RESULT), or remove them.'),
    );
  });

  it('refuses a CSV without the target column, naming close matches', async () => {
    const csv = new TextEncoder().encode('age,priors_count,juv_fel_count,juv_misd_count,juv_other_count,race,sex,two_year\n30,1,0,0,0,Asian,Male,1\n');
    await expect(runAudit(ort, request({ data: { fileName: 'no-target.csv', bytes: csv } }))).rejects.toThrow(
      new AuditConfigError('no-target.csv: no target column "two_year_recid" (close matches: two_year). Choose the column that holds the true outcome, or, for a batch scored before any outcome is known, audit it without labels (--no-labels / data.unlabelled: true).'),
    );
  });

  it('refuses a file that is not ONNX, saying what its bytes look like', async () => {
    await expect(runAudit(ort, request({ model: { fileName: 'model.onnx', bytes: fixtureBytes('compas/test.csv') } }))).rejects.toThrow(
      new ModelLoadError('model.onnx: not a model file Plumbline can read (it starts with the text "sex,race,age,age_cat,juv_fel_c"). Choose an ONNX model (.onnx), an XGBoost JSON model (save_model("model.json")) or a LightGBM text model (save_model("model.txt")).'),
    );
  });

  it('refuses feature columns that do not fit the model input', async () => {
    await expect(runAudit(ort, request({ features: ['age', 'priors_count'] }))).rejects.toThrow(
      new AuditConfigError('rf.onnx: input "float_input" takes 5 columns, but 2 were chosen (age, priors_count). Choose exactly 5 columns in the order the model was trained on.'),
    );
    await expect(runAudit(ort, request({ features: undefined }))).rejects.toThrow(
      new AuditConfigError('rf.onnx: the model takes one input "float_input" of 5 columns and does not name them. List the 5 feature columns in the order the model was trained on (--features / model.features).'),
    );
  });

  it('refuses per-column inputs the data lacks, listing them with their types', async () => {
    await expect(
      runAudit(ort, request({ model: { fileName: 'xgb.onnx', bytes: fixtureBytes('german_credit/xgb.onnx') }, features: undefined })),
    ).rejects.toThrow(/^xgb\.onnx: the model expects 10 input columns and test\.csv lacks \d+: "duration_months" \(int64\)/);
  });

  it('refuses a protected attribute the data lacks and a non-binary target', async () => {
    await expect(runAudit(ort, request({ protectedAttributes: ['rac'] }))).rejects.toThrow(new AuditConfigError('test.csv: no protected attribute column "rac" (close matches: race).'));
    await expect(runAudit(ort, request({ target: 'priors_count' }))).rejects.toThrow(/^test\.csv, column "priors_count": the target has \d+ values \(0, 1, 2, 3, 4, 5, …\); a binary audit needs two/);
  });
});

describe('personal data in the audited file', () => {
  it('keeps none of its values in the result — top values, stored distribution, drift — and says so in a finding (1,004 e-mail addresses were stored)', async () => {
    const withPersonal = (bytes: Uint8Array, offset: number) => {
      const lines = new TextDecoder().decode(bytes).trim().split('\n');
      const first = ['Anna', 'Boris', 'Chen', 'Dara', 'Emil', 'Fatima', 'Goran', 'Hana', 'Ivan', 'Jola', 'Kofi', 'Lena'];
      const last = ['Meyer', 'Novak', 'Okafor', 'Petrov', 'Quinn', 'Rossi', 'Silva', 'Tanaka', 'Ueda', 'Varga', 'Weber'];
      const rows = lines.slice(1).map((line, i) => `${line},person${i + offset}@example.org,${first[i % first.length]} ${last[(i * 7) % last.length]}`);
      return new TextEncoder().encode(`${lines[0]},email,full_name\n${rows.join('\n')}\n`);
    };
    const result = await runAudit(ort, {
      data: { fileName: 'test.csv', bytes: withPersonal(fixtureBytes('compas/test.csv'), 0) },
      reference: { fileName: 'train.csv', bytes: withPersonal(fixtureBytes('compas/train.csv'), 100_000) },
      scoreColumn: 'decile_score', threshold: 5, target: 'two_year_recid', protectedAttributes: ['race'], bootstrapResamples: 0, missingSections: { explainer: 'off', robustness: 'off' },
    });
    const text = JSON.stringify(result);
    expect(text).not.toContain('@example.org');
    expect(text).not.toContain('Anna Meyer');
    expect(result.data.findings.filter((f) => f.check === 'personal_data').map((f) => [f.column, f.severity])).toEqual([['email', 'error'], ['full_name', 'error']]);
    expect(result.data.findings.find((f) => f.check === 'personal_data' && f.column === 'email')!.message).toBe('email likely holds personal data (email in 1852 rows, 100.0% of its values; by its values and column name): remove or pseudonymise it before the file is shared or used for training. Its values are left out of the result (profile, stored distributions, drift, explained rows, reason codes) and recourse does not change it.');
    expect(result.drift!.conventions).toContain(' Not compared: email, full_name, which likely hold personal data (their values are left out of the result).');
    expect(Object.keys((result.data as unknown as { distributions: object }).distributions)).not.toContain('email');
    expect(result.drift!.columns.map((c) => c.column)).not.toContain('email');
    expect(result.drift!.columns.map((c) => c.column)).toContain('priors_count');
    expect(result.data.columns.find((c) => c.name === 'email')).toMatchObject({ name: 'email', distinct: 1852 });
    // Personal data in the reference alone (the audited file pseudonymised it) is not compared either: its values went into drift.
    const pseudonymised = new TextEncoder().encode(new TextDecoder().decode(withPersonal(fixtureBytes('compas/test.csv'), 0)).replace(/person(\d+)@example\.org/g, 'h$1').replace(/,[A-Z][a-z]+ [A-Z][a-z]+$/gm, ',x'));
    const hashed = await runAudit(ort, { ...(({ data: { fileName: 'test.csv', bytes: pseudonymised } }) as const), reference: { fileName: 'train.csv', bytes: withPersonal(fixtureBytes('compas/train.csv'), 100_000) }, scoreColumn: 'decile_score', threshold: 5, target: 'two_year_recid', protectedAttributes: ['race'], bootstrapResamples: 0, missingSections: { explainer: 'off', robustness: 'off' } });
    expect(JSON.stringify(hashed)).not.toContain('@example.org');
    expect(hashed.drift!.columns.map((c) => c.column)).not.toContain('email');
    // A column personal in the reference (all e-mails), and here too few to tell alone (40% e-mails, the rest "none"): its values are kept nowhere either.
    const contact = (bytes: Uint8Array, share: number) => {
      const lines = new TextDecoder().decode(bytes).trim().split('\n');
      return new TextEncoder().encode([`${lines[0]},contact`, ...lines.slice(1).map((line, i) => `${line},${(i % 10) / 10 < share ? `someone${i}@mail.example` : 'none'}`)].join('\n'));
    };
    const mixed = await runAudit(ort, { data: { fileName: 'test.csv', bytes: contact(fixtureBytes('compas/test.csv'), 0.4) }, reference: { fileName: 'train.csv', bytes: contact(fixtureBytes('compas/train.csv'), 1) }, scoreColumn: 'decile_score', threshold: 5, target: 'two_year_recid', protectedAttributes: ['race'], bootstrapResamples: 0, missingSections: { explainer: 'off', robustness: 'off' } });
    expect(JSON.stringify(mixed)).not.toContain('@mail.example');
    // Nor as groups, though only the reference shows it (its addresses named 120 groups).
    await expect(runAudit(ort, { data: { fileName: 'test.csv', bytes: contact(fixtureBytes('compas/test.csv'), 0.4) }, reference: { fileName: 'train.csv', bytes: contact(fixtureBytes('compas/train.csv'), 1) }, scoreColumn: 'decile_score', threshold: 5, target: 'two_year_recid', protectedAttributes: ['race', 'contact'], bootstrapResamples: 0, missingSections: { explainer: 'off', robustness: 'off' } })).rejects.toThrow(
      /^data\.protected_attributes: "contact" likely holds personal data \(email, by its values\)/,
    );
    // A sample holds what the whole file holds: a column of 50% e-mails is personal in every sample drawn from it (a sample under half kept them as top values).
    for (const seed of [0, 1, 2, 3, 4, 5, 6, 7]) {
      const sampled = await runAudit(ort, { data: { fileName: 'test.csv', bytes: contact(fixtureBytes('compas/test.csv'), 0.5) }, scoreColumn: 'decile_score', threshold: 5, target: 'two_year_recid', protectedAttributes: ['race'], sampleSize: 40, seed, bootstrapResamples: 0, missingSections: { explainer: 'off', robustness: 'off' } });
      expect(JSON.stringify(sampled), `seed ${seed}`).not.toContain('@mail.example');
    }
    expect(mixed.data.findings.find((f) => f.check === 'personal_data' && f.column === 'contact')!.message).toMatch(new RegExp(`^contact holds personal data in the reference train\\.csv \\(email in ${new TextDecoder().decode(fixtureBytes('compas/train.csv')).trim().split('\n').length - 1} rows there; by its values\\), and so likely here too\\. Its values are left out`));
    // A column only named like personal data, with none of its values (a blank telephone), is compared as any column.
    const blank = new TextEncoder().encode(new TextDecoder().decode(fixtureBytes('compas/test.csv')).trim().split('\n').map((line, i) => `${line},${i === 0 ? 'telephone' : ''}`).join('\n'));
    const plain = await runAudit(ort, { data: { fileName: 'test.csv', bytes: blank }, scoreColumn: 'decile_score', threshold: 5, target: 'two_year_recid', protectedAttributes: ['race'], bootstrapResamples: 0, missingSections: { explainer: 'off', robustness: 'off' } });
    expect(plain.data.findings.filter((f) => f.check === 'personal_data')).toEqual([]);
  });

  it('counts the unseen values of a category input of personal data without listing them (an e-mail category input listed the addresses, in the finding and the refusal too)', async () => {
    const models = join(projectRoot, 'tests', 'models');
    const file = (name: string) => ({ fileName: name, bytes: new Uint8Array(readFileSync(join(models, name))) });
    const request = { model: file('lgbm_email_category.txt'), data: file('lgbm_email_category.csv'), target: 'y', protectedAttributes: ['g'], bootstrapResamples: 0 };
    const result = await runAudit(ort, request);
    // 30 of the 200 rows hold client120…client149, which the model (trained on client0…client119) never saw: counted from the CSV's own construction.
    expect(result.input_fidelity!.inputs.find((e) => e.column === 'email')!.unseen).toEqual({ count: 30, share: 0.15, top: [] });
    expect(JSON.stringify(result)).not.toContain('@bank.example');
    await expect(runAudit(ort, { ...request, maxUnknownCategoryShare: 0.1 })).rejects.toThrow(/values of personal data, not shown/);
  });

  it('keeps no cell of a model input of personal data in the explained rows, and recourse does not change it', async () => {
    const ensemble = syntheticEnsemble(20, 3, 3);
    ensemble.featureNames = ['phone', 'x1', 'x2'];
    // The trees split on the phone numbers' own scale, so the phone is among the strongest reasons the model has.
    for (const tree of ensemble.trees) tree.feature.forEach((f, i) => f === 0 && tree.left[i] >= 0 && (tree.threshold[i] = 4155555000 + Math.round(tree.threshold[i] * 2000)));
    const rows = Array.from({ length: 400 }, (_, i) => `${4155550000 + ((i * 7919) % 9999)},${((i * 37) % 100) / 10 - 5},${((i * 53) % 100) / 10 - 5},${i % 2},${i % 3 === 0 ? 'a' : 'b'}`);
    const data = { fileName: 'calls.csv', bytes: new TextEncoder().encode(`phone,x1,x2,y,g\n${rows.join('\n')}\n`) };
    const result = await runAudit(ort, { model: { fileName: 'm.json', bytes: new TextEncoder().encode(toXgboostJson(ensemble)) }, data, target: 'y', protectedAttributes: ['g'], bootstrapResamples: 0, explainer: { rows: 20, backgroundRows: 20 }, recourse: { maxRows: 20 } });
    expect(result.data.findings.some((f) => f.check === 'personal_data' && f.column === 'phone')).toBe(true);
    const e = result.explanations as unknown as { columns: string[]; data: unknown[][] };
    const k = e.columns.indexOf('phone');
    expect(e.data.every((row) => row[k] === '(personal data, not kept)')).toBe(true);
    expect(JSON.stringify(result)).not.toMatch(/41555\d{5}/);
    expect(result.recourse!.columns.find((r) => r.column === 'phone')).toMatchObject({ changes: 'never' });
    // Nor a reason code (it listed 30 phone numbers as the applicants' values), while other columns are.
    const reasons = (result.explanations as unknown as { reason_codes: { reasons: { column: string }[] }[] }).reason_codes.flatMap((r) => r.reasons.map((x) => x.column));
    expect(reasons.length).toBeGreaterThan(0);
    expect(reasons).not.toContain('phone');
    expect(Math.max(...e.columns.map((_, j) => 0), ...(result.explanations as unknown as { values: number[][] }).values.map((v) => Math.abs(v[k])))).toBeGreaterThan(0);
    // Nor a partial-dependence grid, whose points are the column's own values: refused (plumbline explain --pdp phone listed 11 numbers).
    const { explainModel } = await import('../../src/core/analyses/explain/explain');
    await expect(explainModel(ort, { model: { fileName: 'm.json', bytes: new TextEncoder().encode(toXgboostJson(ensemble)) }, data, rows: 5, partialDependence: ['phone'] })).rejects.toThrow(
      'calls.csv: "phone" likely holds personal data, and partial dependence would list its values as the grid. Choose another column (--pdp).',
    );
    // Written as text, the model's refusal names its row, not its value (the message goes to terminals and CI logs).
    const written = { fileName: 'calls.csv', bytes: new TextEncoder().encode(`phone,x1,x2,y,g\n${rows.map((r, i) => r.replace(/^\d+/, `+1 (415) 555-${String(1000 + i).slice(-4)}`)).join('\n')}\n`) };
    await expect(runAudit(ort, { model: { fileName: 'm.json', bytes: new TextEncoder().encode(toXgboostJson(ensemble)) }, data: written, target: 'y', protectedAttributes: ['g'], bootstrapResamples: 0 })).rejects.toThrow(
      'calls.csv, column "phone": the model splits on numbers, but this column holds text (row 1: text (a value of personal data, not shown)). Encode it as the model was trained (category codes).',
    );
    // Declared numeric, a value that looks like personal data is named by its kind, not quoted.
    await expect(runAudit(ort, { scoreColumn: 'x1', threshold: 0, data: written, target: 'y', protectedAttributes: ['g'], bootstrapResamples: 0, csv: { dtypes: { phone: 'numeric' } } })).rejects.toThrow(
      'calls.csv, column "phone": declared numeric but holds a value that looks like personal data (phone, not shown). Fix the value or declare the column categorical.',
    );
    // As the target, its values would name the classes: refused.
    await expect(runAudit(ort, { scoreColumn: 'x1', threshold: 0, data, target: 'phone', protectedAttributes: ['g'], bootstrapResamples: 0 })).rejects.toThrow(/^data\.target: "phone" likely holds personal data/);
    // As groups (a protected attribute, a slice) it would name every group by a person's value: refused.
    await expect(runAudit(ort, { model: { fileName: 'm.json', bytes: new TextEncoder().encode(toXgboostJson(ensemble)) }, data, target: 'y', protectedAttributes: ['g'], slices: ['phone'], bootstrapResamples: 0 })).rejects.toThrow(
      new AuditConfigError('fairness.slice_columns: "phone" likely holds personal data (phone, by its values and column name), and its values would name the groups of every table in the result. Group by a coarser column (a region for a phone number, none for a name), or pseudonymise it first.'),
    );
  });
});

describe('score-only audits (no model file)', () => {
  it('measures the score column\'s drift as the prediction\'s, not as a feature\'s (it was counted in drifted_feature_share)', async () => {
    const audit = { data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') }, reference: { fileName: 'train.csv', bytes: fixtureBytes('compas/train.csv') }, scoreColumn: 'decile_score', threshold: 5, target: 'two_year_recid', protectedAttributes: ['race'], bootstrapResamples: 0, missingSections: { explainer: 'off', robustness: 'off' } };
    const { drift } = await runAudit(ort, audit);
    expect(drift!.prediction!.column).toBe('decile_score');
    expect(drift!.columns.map((c) => c.column)).not.toContain('decile_score');
    expect(drift!.columns.map((c) => c.column)).toContain('priors_count');
    expect(drift!.drifted_feature_share).toBe(drift!.columns.filter((c) => c.level === 'major').length / drift!.columns.length);
    // Against the distributions its audit of train.csv stored, alike.
    const train = await runAudit(ort, { ...audit, data: audit.reference, reference: undefined });
    const data = train.data as unknown as { distributions: Record<string, StoredDistribution>; prediction_distribution: StoredDistribution };
    const referenceDistributions = { source: 'stored distributions of train.json', distributions: data.distributions, prediction: data.prediction_distribution, target: 'two_year_recid', scoredBy: 'column decile_score' };
    const batch = (await runAudit(ort, { ...audit, reference: undefined, referenceDistributions })).drift!;
    expect(batch.prediction!.column).toBe('decile_score');
    expect(batch.columns.map((c) => c.column)).not.toContain('decile_score');
    expect(batch.columns.map((c) => c.column)).toContain('priors_count');
  });

  it('audits COMPAS decile_score as a raw score, with no probability metrics', async () => {
    const result = await runAudit(ort, { data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') }, scoreColumn: 'decile_score', threshold: 5, target: 'two_year_recid', protectedAttributes: ['race', 'sex'], bootstrapResamples: 50 });
    // Independent pairwise computation of the same numbers from the CSV.
    const lines = new TextDecoder().decode(fixtureBytes('compas/test.csv')).trim().split('\n');
    const header = lines[0].split(',');
    const rows = lines.slice(1).map((line) => line.split(','));
    const score = rows.map((r) => Number(r[header.indexOf('decile_score')]));
    const label = rows.map((r) => Number(r[header.indexOf('two_year_recid')]));
    const selected = score.filter((s) => s >= 5).length;
    expect(result.performance.selection_rate).toBe(selected / rows.length);
    let pairs = 0;
    let wins = 0;
    score.forEach((s, i) => {
      if (label[i] !== 1) return;
      score.forEach((t, j) => {
        if (label[j] !== 0) return;
        pairs++;
        wins += s > t ? 1 : s === t ? 0.5 : 0;
      });
    });
    expect(result.performance.roc_auc).toBeCloseTo(wins / pairs, 12);
    expect(result.performance.log_loss).toBeNull();
    expect(result.calibration.expected_calibration_error).toBeNull();
    expect(result.inputs.model).toEqual({ format: 'score-column', column: 'decile_score', score_output: 'column decile_score read as a raw score (not a probability: log loss, Brier and calibration are not computed)' });
    expect(result.threshold_sweep.thresholds[0]).toBe(1);
    expect(result.threshold_sweep.thresholds[100]).toBe(10);
  });

  it('leaves the audited score column out of the leakage check (it separates the target by design), not a copy of it', async () => {
    const random = new Random(3, 'leakage-score');
    const lines = ['g,p,p_copy,y'];
    for (let i = 0; i < 400; i++) {
      const y = i % 2;
      const p = (y ? 0.6 : 0.05) + random.next() * 0.35;
      lines.push(`${i % 3 ? 'a' : 'b'},${p},${p},${y}`);
    }
    const result = await runAudit(ort, { data: { fileName: 'scores.csv', bytes: new TextEncoder().encode(lines.join('\n')) }, scoreColumn: 'p', target: 'y', protectedAttributes: ['g'], bootstrapResamples: 0 });
    expect(result.performance.roc_auc).toBe(1);
    expect(result.data.leakage).toEqual([{ feature: 'p_copy', roc_auc: 1 }]);
    expect(result.data.findings.filter((f) => f.check === 'leakage').map((f) => f.column)).toEqual(['p_copy']);
  });

  it('refuses a raw score with no threshold (0.5 on a decile score selected every row, silently)', async () => {
    await expect(runAudit(ort, { data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') }, scoreColumn: 'decile_score', target: 'two_year_recid', protectedAttributes: ['race'], bootstrapResamples: 0 })).rejects.toThrow(
      new AuditConfigError('test.csv, column "decile_score": the scores run from 1 to 10, not probabilities, and the threshold is the default 0.5 (a probability\'s). Set the decision threshold on the score\'s own scale: threshold: T (--threshold T), or a threshold policy (--threshold-policy).'),
    );
  });

  it('refuses recourse and robustness settings naming no column of the data (a misspelt immutable column was ignored, and the column changed)', async () => {
    const base = { data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') }, scoreColumn: 'decile_score', threshold: 5, target: 'two_year_recid', protectedAttributes: ['race', 'sex'], bootstrapResamples: 0 };
    // Recourse settings are a model audit's (a score column's are refused as idle, above).
    const model = { model: { fileName: 'rf.onnx', bytes: fixtureBytes('compas/rf.onnx') }, features: want.features, scoreColumn: undefined, threshold: undefined };
    await expect(runAudit(ort, { ...base, ...model, recourse: { immutable: ['prior_count'] } })).rejects.toThrow(new AuditConfigError('test.csv: no recourse.immutable column "prior_count" (close matches: priors_count). Name columns of the data in recourse.immutable.'));
    await expect(runAudit(ort, { ...base, ...model, recourse: { costs: { nonexist: 5 } } })).rejects.toThrow(new AuditConfigError('test.csv: no recourse.costs column "nonexist". Name columns of the data in recourse.costs.'));
    await expect(runAudit(ort, { ...base, robustness: { proxies: { race: 'nonexist' } } })).rejects.toThrow(new AuditConfigError('test.csv: no robustness.proxies column "nonexist". Name columns of the data in robustness.proxies.'));
    await expect(runAudit(ort, { ...base, robustness: { proxies: { age_cat: 'age' } } })).rejects.toThrow(
      new AuditConfigError('robustness.proxies: "age_cat" is not a protected attribute (race, sex); a proxy is declared for one. Key each proxy by the protected attribute it stands in for.'),
    );
  });

  it('refuses a feature list a model that names its inputs would ignore (it ran on the model\'s own columns, exit 0)', async () => {
    await expect(
      runAudit(ort, { model: { fileName: 'xgb_numeric.json', bytes: fixtureBytes('german_credit/xgb_numeric.json') }, data: { fileName: 'test.csv', bytes: fixtureBytes('german_credit/test.csv') }, target: 'good_credit', protectedAttributes: ['gender'], features: ['age', 'credit_amount'], bootstrapResamples: 0 }),
    ).rejects.toThrow(
      new AuditConfigError('model.features (--features) lists age, credit_amount, but xgb_numeric.json names its inputs itself and reads the columns duration_months, credit_amount, installment_rate, residence_years, age, existing_credits, people_liable; the list would be ignored. Remove it, or list exactly those columns.'),
    );
  });

  it('needs exactly one of a model and a score column', async () => {
    const data = { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') };
    await expect(runAudit(ort, { data, target: 'two_year_recid', protectedAttributes: ['race'] })).rejects.toThrow(
      'No model and no score column: choose a model file, or name the column that holds the scores (--score / data.score_column).',
    );
    await expect(runAudit(ort, { data, scoreColumn: 'score_text', target: 'two_year_recid', protectedAttributes: ['race'] })).rejects.toThrow(
      'test.csv, column "score_text": a score column must hold numbers, but it holds text (row 1: "Low").',
    );
  });

  it('names the file\'s row of a sampled table, and a text outside the sample as such', () => {
    const table = parseCsv(`score\n${['0.1', '0.2', '0.3', '0.4', '0.5', '0.6', '0.7', 'high', '', '0.9'].join('\n')}\n`, { fileName: 'scores.csv' });
    const sampled = (rows: number[]) => ({ ...takeRows(table, Uint32Array.from(rows)), rowsOf: Uint32Array.from(rows) });
    expect(() => columnScores(sampled([3, 7]), 'score')).toThrow(new AuditConfigError('scores.csv, column "score": a score column must hold numbers, but it holds text (row 8: "high").'));
    expect(() => columnScores(sampled([0, 1]), 'score')).toThrow(new AuditConfigError('scores.csv, column "score": a score column must hold numbers, but it holds text ("high", in a row the audit did not sample).'));
    // A sample of a sample still names the file's rows.
    const blanks = parseCsv('score\n0.1\n0.2\nNA\n0.4\n', { fileName: 'scores.csv' });
    const twice = takeRows({ ...takeRows(blanks, Uint32Array.of(1, 2, 3)), rowsOf: Uint32Array.of(1, 2, 3) }, Uint32Array.of(1, 2));
    expect(() => columnScores(twice, 'score')).toThrow(new AuditConfigError('scores.csv, column "score": 1 rows have no score (first: data row 3). Fill or remove them.'));
  });

  it('names the first cell that is not a number when a column of numbers reads as text', async () => {
    // Before, the message quoted the column's first text, here "0.2", which is a number. "N/A" is a missing-value token, not text.
    const audit = (cells: string[]) => {
      const text = `score,y,g\n${cells.map((cell, i) => `${cell},${i % 2},${i % 3 ? 'a' : 'b'}`).join('\n')}\n`;
      return runAudit(ort, { data: { fileName: 'scores.csv', bytes: new TextEncoder().encode(text) }, scoreColumn: 'score', target: 'y', protectedAttributes: ['g'] });
    };
    await expect(audit(['0.2', 'N/A', '0.7', 'high', 'x'])).rejects.toThrow(new AuditConfigError('scores.csv, column "score": a score column must hold numbers, but it holds text (row 4: "high").'));
    // pandas writes an infinite float as "inf"; a number too large for a double ("1e400") is read as text too.
    await expect(audit(['0.2', '0.7', '0.1', '-inf', '0.4'])).rejects.toThrow(
      new AuditConfigError('scores.csv, column "score": a score column must hold numbers, but it holds text (row 4: "-inf": an infinite number, which the audit cannot use; leave such cells blank (missing) or cap them).'),
    );
    await expect(audit(['0.2', '1e400', '0.1', '0.4'])).rejects.toThrow(
      new AuditConfigError('scores.csv, column "score": a score column must hold numbers, but it holds text (row 2: "1e400": a number past the largest double (1.8e308), which the audit cannot use; leave such cells blank (missing) or cap them).'),
    );
    await expect(audit(['0.2', '0.7', '?', '0.4'])).rejects.toThrow(
      new AuditConfigError('scores.csv, column "score": a score column must hold numbers, but it holds text (row 3: "?": a missing-value marker? List it in data.missing_values (--missing-values) to read it as missing).'),
    );
    await expect(audit(['0.2', 'True', '0.1', '0.4'])).rejects.toThrow('(row 2: "True": a boolean; a model that takes numbers reads it as 1/0: write the column as 1/0)');
    await expect(audit(['0.2', '"0,7"', '0.1', '0.4'])).rejects.toThrow(
      new AuditConfigError('scores.csv, column "score": a score column must hold numbers, but it holds text (row 2: "0,7": a decimal comma? Numbers are read with a decimal point (12.5): export the file so).'),
    );
    await expect(audit(['0.2', '9007199254740993', '0.1', '0.4'])).rejects.toThrow(
      new AuditConfigError('scores.csv, column "score": a score column must hold numbers, but it holds text (row 2: "9007199254740993": a whole number from 2^53 on, read as text because a double cannot hold every such number (an identifier? data.dtypes numeric reads it rounded)).'),
    );
  });
});

describe('explanations in the audit', () => {
  it('explains the first rows with local accuracy, and says why a score-column audit has none', async () => {
    const result = await runAudit(ort, request({ bootstrapResamples: 0, explainer: { rows: 10, backgroundRows: 50 } }));
    expect(result.explanations!.method).toBe('tree (interventional)');
    expect(result.explanations!.values).toHaveLength(10);
    expect(result.explanations!.local_accuracy_error).toBeLessThan(1e-9);
    expect(result.explanations!.global_importance[0].column).toBe('priors_count');
    // Each explained row's column values come along (for dependence plots): the CSV's own cells.
    const lines = new TextDecoder().decode(fixtureBytes('compas/test.csv')).trim().split('\n');
    const header = lines[0].split(',');
    const e = result.explanations!;
    e.rows.forEach((row, r) => {
      const cells = lines[row].split(',');
      e.columns.forEach((column, j) => expect(String(e.data![r][j])).toBe(cells[header.indexOf(column)]));
    });
    const chart = dependenceChart(result, 'priors_count')!;
    expect(chart.series[0].points).toEqual(e.rows.map((_, r) => ({ x: e.data![r][e.columns.indexOf('priors_count')], y: e.values[r][e.columns.indexOf('priors_count')] })));
    const scoreOnly = await runAudit(ort, { data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') }, scoreColumn: 'decile_score', threshold: 5, target: 'two_year_recid', protectedAttributes: ['race'], bootstrapResamples: 0 });
    expect(scoreOnly.explanations).toBeUndefined();
    expect(scoreOnly.missing_sections.explainer).toBe('a score-column audit has no model to explain');
  });
});

describe('hostile outputs and encodings', () => {
  it('refuses a model output that is not a probability, naming the rows (never a quietly wrong report)', async () => {
    // The network has no missing-value handling: a blank age gives NaN out.
    const lines = new TextDecoder().decode(fixtureBytes('compas/test.csv')).trim().split('\n');
    const age = lines[0].split(',').indexOf('age');
    for (const row of [3, 7]) {
      const cells = lines[row].split(',');
      cells[age] = '';
      lines[row] = cells.join(',');
    }
    const data = { fileName: 'blank-age.csv', bytes: new TextEncoder().encode(lines.join('\n')) };
    await expect(runAudit(ort, request({ model: { fileName: 'mlp.onnx', bytes: fixtureBytes('compas/mlp.onnx') }, data }))).rejects.toThrow(
      new ModelLoadError("mlp.onnx: the model's output is not a probability for 2 of 1852 rows of blank-age.csv (row 3: NaN, row 7: NaN). Check the rows' inputs (missing values the model cannot take?) or the output the audit reads."),
    );
  });

  it('refuses a Windows-1252 file read as UTF-8 (two names would merge), and reads it in the encoding the config gives', async () => {
    // Müller, Mäller, Müller, Mäller in Windows-1252 (Excel's "CSV (Comma delimited)"): as UTF-8 both names are "M\uFFFDller".
    const encode = (text: string) => Uint8Array.from(text, (char) => ({ ü: 0xfc, ä: 0xe4 })[char] ?? char.charCodeAt(0));
    const bytes = encode('p,y,g\n0.2,0,Müller\n0.7,1,Mäller\n0.6,1,Müller\n0.1,0,Mäller\n');
    const request = { data: { fileName: 'latin1.csv', bytes }, scoreColumn: 'p', target: 'y', protectedAttributes: ['g'], bootstrapResamples: 0 };
    await expect(runAudit(ort, request)).rejects.toThrow(
      new CsvError(
        'latin1.csv: not UTF-8 text: row 1, column "g" reads "M\uFFFDller", where U+FFFD (\uFFFD) marks what UTF-8 cannot read (4 places in the file). Names that differ in such a letter (Müller, Mäller) would read as one group or category. Say the file\'s encoding with data.encoding (--encoding): windows-1252 for Excel\'s "CSV (Comma delimited)" on Windows and most Western European exports; or save the file as "CSV UTF-8" and load it again.',
      ),
    );
    // Python: b'M\xfcller'.decode('cp1252') == 'Müller'; each group its own two rows.
    const result = await runAudit(ort, { ...request, csv: { encoding: 'windows-1252' } });
    expect(Object.fromEntries(Object.entries(result.fairness.g.groups).map(([name, group]) => [name, group.n]))).toEqual({ Müller: 2, Mäller: 2 });
    // Any WHATWG label of an allowed encoding, in any case (a config's "Latin1", cp1252, utf8).
    const { encodingName } = await import('../../src/core/data/csv/options');
    expect(['Latin1', 'CP1252', 'iso-8859-1', 'windows-1252'].map(encodingName)).toEqual(['windows-1252', 'windows-1252', 'windows-1252', 'windows-1252']);
    expect([encodingName('UTF8'), encodingName('shift_jis'), encodingName('nonsense')]).toEqual(['utf-8', null, null]);
    await expect(runAudit(ort, { ...request, csv: { encoding: 'shift_jis' } })).rejects.toThrow(/^latin1\.csv: the encoding "shift_jis" is not one a CSV file can be read in here\. Use utf-8 or a single-byte encoding: windows-1252, /);
  });
});
