import * as ort from 'onnxruntime-web';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { runAudit } from '../../src/core/audit';
import { parseAuditConfig } from '../../src/core/config/audit-config';
import { planAudit } from '../../src/core/config/plan';
import { parseCsv } from '../../src/core/data/csv';
import { AuditConfigError, ConfigError } from '../../src/core/base/errors';
import { wilsonInterval } from '../../src/core/metrics/intervals';
import { treeClassifier } from '../../src/core/model/classifier';
import { emptyTree, type TreeEnsemble } from '../../src/core/model/tree';
import { columnRules, isAgeLike, recourse } from '../../src/core/analyses/recourse';
import { fixtureBytes } from '../support/fixtures';
import { corpusBytes } from '../support/model-corpus';

/** One tree on `income`: below 50 → margin −2 (adverse), else +2. The other columns are read but ignored. */
function incomeModel(): TreeEnsemble {
  const tree = emptyTree(3);
  tree.feature[0] = 0;
  tree.threshold[0] = 50;
  tree.left[0] = 1;
  tree.right[0] = 2;
  tree.value[1] = -2;
  tree.value[2] = 2;
  return { format: 'xgboost-json', featureNames: ['income', 'zip', 'age_years'], trees: [tree], baseMargin: 0, marginScale: 1, transform: 'logistic', description: 'test' };
}

const lines = Array.from({ length: 200 }, (_, i) => `${i % 100},${(i * 7) % 13},${20 + (i % 50)},${i % 2 ? 'F' : 'M'}`);
const table = parseCsv(`income,zip,age_years,sex\n${lines.join('\n')}\n`, { fileName: 'people.csv' });
const classifier = treeClassifier(incomeModel(), 'income.json');
const inputs = ['income', 'zip', 'age_years'];
const options = { threshold: 0.5, adverse: 'negative' as const, immutable: [], protectedAttributes: ['sex'], monotone: {}, seed: 3 };

describe('what recourse may change', () => {
  it('tells age-like names by their words', () => {
    for (const name of ['age', 'Age', 'age_group', 'applicant_age', 'ApplicantAge', 'ageInYears', 'dob', 'DOB', 'year_of_birth', 'birthdate', 'BirthYear']) expect(isAgeLike(name), name).toBe(true);
    for (const name of ['mortgage', 'percentage', 'wage', 'page_views', 'usage', 'dobermann_owner', 'years_employed']) expect(isAgeLike(name), name).toBe(false);
  });

  it('by default changes numeric inputs that are not protected, a proxy or age-like, and says why for each input', () => {
    const rules = columnRules(table, inputs, { ...options, proxies: [{ column: 'zip', attribute: 'sex', source: 'detected', measure: 'correlation_ratio', value: 0.61 }] });
    expect(rules).toEqual([
      { column: 'income', changes: 'numeric', reason: 'numeric model input', range: [4, 94] },
      { column: 'zip', changes: 'never', reason: 'error-level proxy of sex (correlation ratio 0.61); name it in recourse.actionable to allow changes' },
      { column: 'age_years', changes: 'never', reason: 'age-like: a person cannot change it' },
    ]);
    const declared = columnRules(table, inputs, { ...options, proxies: [{ column: 'zip', attribute: 'sex', source: 'declared' }], actionable: ['zip', 'income'], immutable: ['income'] });
    expect(declared.map((r) => [r.column, r.reason])).toEqual([
      ['income', 'recourse.immutable'],
      ['zip', 'recourse.actionable (a declared proxy of sex (robustness.proxies), changed because the config allows it)'],
      ['age_years', 'not in recourse.actionable'],
    ]);
  });

  it('searches a seeded sample when there are more adverse rows than max_rows, with the share’s Wilson interval', async () => {
    const scores = await classifier.score(table);
    const report = await recourse(classifier, table, scores, inputs, ['sex'], { ...options, maxRows: 40, confidence: 0.9 });
    expect(report.adverse_rows).toBe(100);
    expect(report.rows_searched).toBe(40);
    expect(report.selection).toBe('seeded sample');
    const feasible = report.rows.filter((r) => r.counterfactuals.length).length;
    expect(report.recourse_feasible_interval).toEqual(wilsonInterval(feasible, 40, 0.9));
    // Only income decides; it moves up to at most its 95th percentile and costs its percentile move.
    for (const entry of report.rows) {
      for (const cf of entry.counterfactuals) {
        expect(cf.changes.map((c) => c.column)).toEqual(['income']);
        expect(Number(cf.changes[0].to)).toBeGreaterThanOrEqual(50);
        expect(Number(cf.changes[0].to)).toBeLessThanOrEqual(94);
        expect(cf.cost).toBeCloseTo((cf.changes[0].percentile_to! - cf.changes[0].percentile_from!) / 100, 2);
      }
    }
    expect(await recourse(classifier, table, scores, inputs, ['sex'], { ...options, maxRows: 40, confidence: 0.9 })).toEqual(report);
    const other = await recourse(classifier, table, scores, inputs, ['sex'], { ...options, maxRows: 40, seed: 4 });
    expect(other.rows.map((r) => r.row)).not.toEqual(report.rows.map((r) => r.row));
    const all = await recourse(classifier, table, scores, inputs, ['sex'], { ...options, maxRows: 100 });
    expect(all.selection).toBe('all adverse rows');
    expect(all.recourse_feasible_share).toBe(1);
  });

  it('refuses recourse columns that are not model inputs, categories for a number, and categories the data lacks, with exact messages', () => {
    expect(() => columnRules(table, inputs, { ...options, actionable: ['incme'] })).toThrow(
      new AuditConfigError('recourse.actionable: "incme" is not a model input (did you mean income?); the model reads income, zip, age_years. Name model inputs only.'),
    );
    expect(() => columnRules(table, inputs, { ...options, categoricalChanges: ['sex'] })).toThrow(
      new AuditConfigError('recourse.categorical_changes: "sex" is not a model input; the model reads income, zip, age_years. Name model inputs only.'),
    );
    expect(() => columnRules(table, inputs, { ...options, categoricalChanges: { income: ['high'] } })).toThrow(
      new AuditConfigError('recourse.categorical_changes: "income" is numeric in people.csv; a number moves within its observed 5th to 95th percentiles. Name it in recourse.actionable instead.'),
    );
    // Costs, directions and immutables of columns the model does not read, or that never change, were accepted and ignored.
    expect(() => columnRules(table, inputs, { ...options, costs: { salary: 5 } })).toThrow(new AuditConfigError('recourse.costs: "salary" is not a model input; the model reads income, zip, age_years. Name model inputs only.'));
    expect(() => columnRules(table, inputs, { ...options, monotone: { sex: 'increase_only' } })).toThrow(new AuditConfigError('recourse.monotone: "sex" is not a model input; the model reads income, zip, age_years. Name model inputs only.'));
    expect(() => columnRules(table, inputs, { ...options, immutable: ['sex'] })).toThrow(new AuditConfigError('recourse.immutable: "sex" is not a model input; the model reads income, zip, age_years. Name model inputs only.'));
    expect(() => columnRules(table, inputs, { ...options, costs: { age_years: 5 } })).toThrow(new AuditConfigError('recourse.costs: "age_years" is never changed (age-like: a person cannot change it), so its cost would never apply. Remove it, or name it in recourse.actionable to let it change.'));
    const adult = parseCsv(new TextDecoder().decode(fixtureBytes('adult/test.csv')), { fileName: 'test.csv' });
    expect(() => columnRules(adult, ['workclass'], { ...options, categoricalChanges: { workclass: ['Private', 'Self-emp'] } })).toThrow(
      new AuditConfigError('recourse.categorical_changes.workclass: "Self-emp" is not a value of workclass in test.csv (did you mean Self-emp-inc, Self-emp-not-inc?); its values are ?, Federal-gov, Local-gov, Never-worked, Private, Self-emp-inc, Self-emp-not-inc, State-gov, Without-pay.'),
    );
  });

  /** The adult logistic regression's audit with these recourse settings (explanations and robustness off). */
  const adultWith = (recourse: NonNullable<Parameters<typeof runAudit>[1]['recourse']>) =>
    runAudit(ort, {
      model: { fileName: 'adult_logreg.onnx', bytes: corpusBytes('adult_logreg.onnx') },
      data: { fileName: 'test.csv', bytes: fixtureBytes('adult/test.csv') },
      target: 'high_income',
      positiveLabel: '1',
      protectedAttributes: ['sex'],
      bootstrapResamples: 0,
      missingSections: { explainer: 'off in this test', robustness: 'off in this test' },
      recourse,
    });

  it('refuses an audit whose recourse settings name no column of the data (it left recourse out and exited 0)', async () => {
    const auditWith = (actionable: string[]) => adultWith({ actionable });
    await expect(auditWith(['hours'])).rejects.toThrow(new AuditConfigError('test.csv: no recourse.actionable column "hours" (close matches: hours_per_week). Name columns of the data in recourse.actionable.'));
    // A column of the data the model does not read: refused too (it left recourse out, exit 0).
    await expect(auditWith(['high_income'])).rejects.toThrow(/^recourse\.actionable: "high_income" is not a model input; the model reads age, workclass, /);
  }, 60_000);

  it('refuses a category made actionable, a direction for a category, and a rule the search would refuse, before the audit (recourse was left out, exit 0, or changed categories any way)', async () => {
    const auditWith = (recourse: NonNullable<Parameters<typeof runAudit>[1]['recourse']>) => adultWith({ maxRows: 5, ...recourse });
    await expect(auditWith({ actionable: ['hours_per_week', 'workclass'] })).rejects.toThrow(
      new AuditConfigError('recourse.actionable: "workclass" is categorical in test.csv, and a category changes only where recourse.categorical_changes allows it. Name it there (with the values it may take) instead.'),
    );
    await expect(auditWith({ categoricalChanges: ['workclass'], monotone: { workclass: 'increase_only' } })).rejects.toThrow(
      new AuditConfigError('recourse.monotone: "workclass" is categorical, and a category has no direction to keep. Remove it; recourse.categorical_changes names the values it may move to.'),
    );
    // The rules' own refusals surface before the section runs (the section was left out with exit 0).
    await expect(auditWith({ costs: { age: 2 } })).rejects.toThrow(/^recourse\.costs: "age" is never changed \(age-like: a person cannot change it\)/);
    await expect(auditWith({ categoricalChanges: { workclass: ['Self-emp'] } })).rejects.toThrow(/^recourse\.categorical_changes\.workclass: "Self-emp" is not a value of workclass in test\.csv/);
  }, 60_000);

  it('refuses a config that makes a protected attribute actionable, with the exact message', () => {
    const config = (recourse: Record<string, unknown>) => parseAuditConfig(stringify({ model: { path: 'm.onnx' }, data: { test: 't.csv', target: 'y', protected_attributes: ['sex', 'race'] }, recourse }), 'audit.yaml');
    expect(() => planAudit(config({ actionable: ['hours', 'sex'] }), 'audit.yaml')).toThrow(
      new ConfigError('audit.yaml: recourse.actionable: sex is a protected attribute (data.protected_attributes), which recourse never changes; remove it from the list.'),
    );
    expect(() => planAudit(config({ categorical_changes: { race: ['White'], sex: ['Male'] } }), 'audit.yaml')).toThrow(
      new ConfigError('audit.yaml: recourse.categorical_changes: race, sex are protected attributes (data.protected_attributes), which recourse never changes; remove them from the list.'),
    );
    expect(planAudit(config({ actionable: ['hours'], categorical_changes: ['workclass'] }), 'audit.yaml').request.recourse).toMatchObject({ actionable: ['hours'], categoricalChanges: ['workclass'] });
  });
});
