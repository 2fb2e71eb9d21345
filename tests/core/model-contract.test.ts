import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { runAudit, type AuditResult } from '../../src/core/audit';
import { runAnyAudit } from '../../src/core/audit/run';
import { AuditConfigError } from '../../src/core/base/errors';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { expected, fixture, fixtureBytes } from '../support/fixtures';
import { explainModel } from '../../src/core/analyses/explain/explain';
import { openModel } from '../../src/core/model/classifier';
import { toOnnx, toXgboostJson } from '../../src/core/model/export';
import { parseJsonWithNonFinite, emptyTree, transformMargin, treeMargin, type Tree, type TreeEnsemble } from '../../src/core/model/tree';
import { parseCsv } from '../../src/core/data/csv';
import { Random } from '../../src/core/base/random';
import { CORPUS, corpusBytes } from '../support/model-corpus';

/** A tree of `n` nodes grown at random (each node a leaf or a split of a random feature), without recursion. */
function bigTree(random: Random, n: number, features: number): Tree {
  const tree = emptyTree(n);
  let next = 1;
  const open = [0];
  while (open.length && next + 2 <= n) {
    const node = open.splice(random.int(open.length), 1)[0];
    tree.feature[node] = random.int(features);
    tree.threshold[node] = Math.fround(random.normal());
    tree.defaultLeft[node] = random.int(2);
    tree.left[node] = next;
    tree.right[node] = next + 1;
    open.push(next, next + 1);
    next += 2;
  }
  for (let i = 0; i < n; i++) if (tree.left[i] < 0) tree.value[i] = Math.fround(random.normal() / 10);
  return { ...tree, feature: tree.feature.subarray(0, next), threshold: tree.threshold.subarray(0, next), left: tree.left.subarray(0, next), right: tree.right.subarray(0, next), defaultLeft: tree.defaultLeft.subarray(0, next), value: tree.value.subarray(0, next), rule: tree.rule.subarray(0, next), missingType: tree.missingType.subarray(0, next), categories: tree.categories.slice(0, next) };
}

/** A chain: every split's right child is a leaf, its left child the next split. */
function chainTree(depth: number): Tree {
  const tree = emptyTree(2 * depth + 1);
  for (let d = 0; d < depth; d++) {
    const node = 2 * d;
    tree.threshold[node] = Math.fround(depth - d);
    tree.left[node] = node + 2;
    tree.right[node] = node + 1;
    tree.value[node + 1] = Math.fround(d / depth);
  }
  return tree;
}

describe('the model contract', () => {
  it('regression (issue 20, case 6): a forest of half a million nodes (the issue\'s was 460k) loads and scores as onnxruntime does', async () => {
    const random = new Random(2026, 'big-forest');
    const features = ['a', 'b', 'c', 'd'];
    const ensemble: TreeEnsemble = { format: 'onnx', featureNames: features, trees: [...Array.from({ length: 50 }, () => bigTree(random, 10_001, 4))], baseMargin: 0, marginScale: 1, transform: 'logistic', description: 'random' };
    expect(ensemble.trees.reduce((n, t) => n + t.left.length, 0)).toBeGreaterThan(500_000);
    const bytes = toOnnx(ensemble);
    const rows = ['a,b,c,d,y,g', ...Array.from({ length: 200 }, (_, i) => `${random.normal()},${random.normal()},${random.normal()},${(i % 50) * 60},${i % 2},${i % 3 ? 'x' : 'z'}`)].join('\n');
    const table = parseCsv(rows, { fileName: 'rows.csv' });
    const model = await openModel(ort, bytes, 'forest.onnx');
    try {
      // onnxruntime scores the file itself (the classifier's session); the trees Plumbline read
      // from it (for TreeSHAP) must give the same probabilities through the project's own walk.
      const scores = await model.score(table, { features });
      const trees = model.ensemble!;
      expect(trees.trees.length).toBe(50);
      expect(trees.trees.reduce((n, t) => n + t.left.length, 0)).toBe(ensemble.trees.reduce((n, t) => n + t.left.length, 0));
      let worst = 0;
      for (let r = 0; r < 200; r++) {
        const x = Float64Array.from(table.columns.slice(0, 4), (c) => (c as { values: Float64Array }).values[r]);
        worst = Math.max(worst, Math.abs(scores[r] - transformMargin(trees, treeMargin(trees, x))));
      }
      expect(worst).toBeLessThan(1e-6);
    } finally {
      await model.release();
    }
  }, 120_000);

  it('loads, scores and explains a tree 3,000 splits deep (no recursion grows with the model)', async () => {
    const chain: TreeEnsemble = { format: 'xgboost-json', featureNames: ['a', 'b', 'c', 'd'], trees: [chainTree(3000)], baseMargin: 0, marginScale: 1, transform: 'logistic', description: 'chain' };
    const rows = ['a,b,c,d,y,g', ...Array.from({ length: 50 }, (_, i) => `${i * 61},1,2,3,${i % 2},${i % 3 ? 'x' : 'z'}`)].join('\n');
    const data = { fileName: 'rows.csv', bytes: new TextEncoder().encode(rows) };
    const result = await runAudit(ort, { model: { fileName: 'chain.json', bytes: new TextEncoder().encode(toXgboostJson(chain)) }, data, target: 'y', protectedAttributes: ['g'], includePredictions: true, bootstrapResamples: 0, explainer: { rows: 5, backgroundRows: 5 }, missingSections: { robustness: 'off', recourse: 'off' } });
    // Row i has a = 61·i. Split d (threshold 3000 − d) sends a < 3000 − d on down the chain,
    // so the row leaves at d = 3000 − a, into a leaf holding d / 3000; a = 0 runs to the end (0).
    result.predictions_p1!.forEach((p, i) => {
      const leaf = i === 0 ? 0 : Math.fround((3000 - 61 * i) / 3000);
      expect(Math.abs(p - 1 / (1 + Math.exp(-leaf)))).toBeLessThan(1e-12);
    });
    expect(result.missing_sections.explainer).toBeUndefined();
  }, 60_000);

  it('regression (issue 20, case 7): reads the bare NaN and Infinity literals XGBoost writes', () => {
    const parsed = parseJsonWithNonFinite('{"a": [NaN, -Infinity, Infinity, 1.5], "s": "NaN stays text"}') as { a: unknown[]; s: string };
    expect(Float64Array.from(parsed.a as number[])).toEqual(Float64Array.from([Number.NaN, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 1.5]));
    expect(parsed.s).toBe('NaN stays text');
  });

  it('regression (issue 20, case 8): method auto explains a Scaler → LinearClassifier model with one [N, F] input, exactly (local accuracy against onnxruntime)', async () => {
    const entry = CORPUS.find((e) => e.regression === 'issue20-case8')!;
    const data = { fileName: 'test.csv', bytes: corpusBytes(entry.data) };
    const explained = await explainModel(ort, { model: { fileName: entry.model, bytes: corpusBytes(entry.model) }, data, method: 'auto', features: entry.settings.features!, rows: 20 });
    expect(explained.method).toBe('linear (interventional)');
    expect(explained.columns).toEqual(entry.settings.features);
    // Σ SHAP + expected value = the log-odds of the model's own (float32) output.
    expect(explained.local_accuracy_error).toBeLessThan(1e-5);
    // Inside an audit the section is there, not quietly dropped.
    const result = await runAudit(ort, { model: { fileName: entry.model, bytes: corpusBytes(entry.model) }, data, target: entry.settings.target, protectedAttributes: entry.settings.protected, features: entry.settings.features!, bootstrapResamples: 0, explainer: { rows: 10 }, missingSections: { robustness: 'off', recourse: 'off' } });
    expect(result.missing_sections.explainer).toBeUndefined();
    expect(result.explanations?.method).toBe('linear (interventional)');
  }, 60_000);

  it('explains an sklearn-onnx pipeline exactly per raw column: a Scaler over the numbers\' Concat, one-hot encoders, a Normalizer after the classifier', async () => {
    const entry = CORPUS.find((e) => e.id === 'adult-logreg-unseen-na-empty')!;
    const data = { fileName: 'adult_unseen.csv', bytes: corpusBytes(entry.data) };
    const explained = await explainModel(ort, { model: { fileName: entry.model, bytes: corpusBytes(entry.model) }, data, method: 'auto', rows: 30 });
    expect(explained.method).toBe('linear (interventional)');
    expect(explained.columns).toContain('workclass');
    expect(explained.columns).toContain('age');
    // Σ SHAP + expected value = the log-odds of onnxruntime's own output, cells with unseen values, "NA" and blanks included.
    expect(explained.local_accuracy_error).toBeLessThan(1e-5);
  }, 60_000);

  it('regression (issue 20, case 1): a positive label of 0 scores p(class 0), and explanations follow the class', async () => {
    const entry = CORPUS.find((e) => e.id === 'german-logreg-string-labels-no')!;
    const model = { fileName: entry.model, bytes: corpusBytes(entry.model) };
    const data = { fileName: 'test.csv', bytes: corpusBytes(entry.data) };
    const [no, yes] = await Promise.all(
      ['no', 'yes'].map((label) => runAudit(ort, { model, data, target: 'good_credit', positiveLabel: label, protectedAttributes: ['gender'], includePredictions: true, bootstrapResamples: 0, explainer: { rows: 5 }, missingSections: { robustness: 'off', recourse: 'off' } })),
    );
    // The two audits see the same model from the two sides: p(no) = 1 − p(yes), AUCs equal.
    no.predictions_p1!.forEach((p, i) => expect(Math.abs(p + yes.predictions_p1![i] - 1)).toBeLessThan(1e-6));
    expect(Math.abs(no.performance.roc_auc! - yes.performance.roc_auc!)).toBeLessThan(1e-12);
    expect(no.inputs.model.format !== 'score-column' && no.inputs.model.score_output).toBe("probabilities[:, 0] = p(class no), chosen by the model's class labels (no, yes)");
    // SHAP values of class no are those of class yes, negated.
    no.explanations!.values[0].forEach((v, j) => expect(Math.abs(v + yes.explanations!.values[0][j])).toBeLessThan(1e-8));
  }, 60_000);

  it('reads a model that names no classes for a text target only when model.class_labels says which label is class 1', async () => {
    // xgb_numeric.json learned good_credit 1 = good; the same rows with the target written as words.
    const want = expected('german_credit/xgb_numeric.expected.json');
    const csv = readFileSync(fixture('german_credit/test.csv'), 'utf8');
    const worded = (yes: string, no: string) => {
      const [header, ...rows] = csv.trim().split('\n');
      const at = header.split(',').indexOf('good_credit');
      return new TextEncoder().encode([header, ...rows.map((row) => row.split(',').map((cell, k) => (k === at ? (cell === '1' ? yes : no) : cell)).join(','))].join('\n'));
    };
    const model = { fileName: 'xgb_numeric.json', bytes: fixtureBytes('german_credit/xgb_numeric.json') };
    const audit = (data: Uint8Array, positiveLabel: string, classLabels?: string[]) =>
      runAnyAudit(ort, { model, data: { fileName: 'worded.csv', bytes: data }, target: 'good_credit', positiveLabel, ...(classLabels ? { classLabels } : {}), protectedAttributes: ['gender'], includePredictions: true, bootstrapResamples: 0, missingSections: { explainer: 'off', robustness: 'off', recourse: 'off' } }) as Promise<AuditResult>;
    // Before, "bad" was read as p(bad) = the model's p(class 1) = p(good): every metric inverted.
    await expect(audit(worded('good', 'bad'), 'bad')).rejects.toThrow(
      new AuditConfigError('xgb_numeric.json: the model names no classes, so its single output is p(class 1) of a target coded 0/1 in training; the positive label "bad" is not 0 or 1, and the file does not say which label was class 1. Name the two classes in output order with model.class_labels (--class-labels A,B: class 0 first, e.g. the order of sklearn\'s LabelEncoder, sorted), or code the target 0/1.'),
    );
    const bad = await audit(worded('good', 'bad'), 'bad', ['bad', 'good']);
    bad.predictions_p1!.forEach((p, i) => expect(Math.abs(p - (1 - want.predictions_p1[i]))).toBeLessThan(1e-6));
    expect(Math.abs(bad.performance.roc_auc! - want.performance.roc_auc)).toBeLessThan(1e-9);
    expect(bad.inputs.model.format !== 'score-column' && bad.inputs.model.score_output).toBe('probability read as p(class good), score = 1 − it for class bad, from model.class_labels (bad, good)');
    const good = await audit(worded('good', 'bad'), 'good', ['bad', 'good']);
    good.predictions_p1!.forEach((p, i) => expect(Math.abs(p - want.predictions_p1[i])).toBeLessThan(1e-6));
    expect(good.data.findings.some((f) => f.check === 'inverted_scores')).toBe(false);
    expect(good.settings.positive_label_convention).toBe('positive label good (as configured)');
    // No positive label given: the label is the model's class 1, and the convention says so (it said "as configured").
    const plain = (await runAnyAudit(ort, { model, data: { fileName: 'test.csv', bytes: fixtureBytes('german_credit/test.csv') }, target: 'good_credit', protectedAttributes: ['gender'], bootstrapResamples: 0, missingSections: { explainer: 'off', robustness: 'off', recourse: 'off' } })) as AuditResult;
    expect(plain.settings.positive_label_convention).toBe("positive label 1 (the model's positive class; no positive label configured)");
    // The class names typed the wrong way round: the audit runs (the file cannot tell), its AUC 1 − sklearn's, and a finding says so.
    const swapped = await runAnyAudit(ort, { model, data: { fileName: 'worded.csv', bytes: worded('good', 'bad') }, target: 'good_credit', positiveLabel: 'good', classLabels: ['good', 'bad'], protectedAttributes: ['gender'], bootstrapResamples: 0, missingSections: { explainer: 'off', robustness: 'off', recourse: 'off' } }) as AuditResult;
    expect(Math.abs(swapped.performance.roc_auc! - (1 - want.performance.roc_auc))).toBeLessThan(1e-9);
    const inverted = swapped.data.findings.find((f) => f.check === 'inverted_scores')!;
    expect(inverted.severity).toBe('error');
    expect(inverted.message).toMatch(/^ROC AUC 0\.\d{3} \(interval 0\.\d{3}–0\.\d{3}\) is below 0\.5: the scores rank the positive label \(good\) below the other rows\. Check that the class names/);
    // A boolean target: True is class 1, as a bool target trains; False is its complement.
    const falsy = await audit(worded('True', 'False'), 'False');
    falsy.predictions_p1!.forEach((p, i) => expect(Math.abs(p - (1 - want.predictions_p1[i]))).toBeLessThan(1e-6));
    expect(Math.abs(falsy.performance.roc_auc! - want.performance.roc_auc)).toBeLessThan(1e-9);
    await expect(audit(worded('good', 'bad'), 'bad', ['bad', 'good', 'other'])).rejects.toThrow(
      new AuditConfigError("model.class_labels names 3 classes (bad, good, other), but xgb_numeric.json gives one probability, of class 1, per row: name its two classes, class 0 first, in the model's output order."),
    );
    // plumbline explain takes the same class names: SHAP of p(bad) is SHAP of p(good) negated.
    const explain = (positiveLabel: string) => explainModel(ort, { model, data: { fileName: 'worded.csv', bytes: worded('good', 'bad') }, method: 'tree', rows: 5, target: 'good_credit', positiveLabel, classLabels: ['bad', 'good'] });
    const [shapBad, shapGood] = await Promise.all([explain('bad'), explain('good')]);
    shapBad.values[0].forEach((v, j) => expect(Math.abs(v + shapGood.values[0][j])).toBeLessThan(1e-9));
    // A column listed twice in model.features is refused: the model would read it in two places.
    const { feature_names: _names, feature_types: _types, ...learner } = JSON.parse(new TextDecoder().decode(model.bytes)).learner;
    const array = { fileName: 'array.json', bytes: new TextEncoder().encode(JSON.stringify({ ...JSON.parse(new TextDecoder().decode(model.bytes)), learner })) };
    const doubled = [want.features![0], ...want.features!.slice(0, -1)];
    await expect(runAnyAudit(ort, { model: array, data: { fileName: 'test.csv', bytes: fixtureBytes('german_credit/test.csv') }, target: 'good_credit', features: doubled, protectedAttributes: ['gender'] })).rejects.toThrow(
      new AuditConfigError(`model.features names "${doubled[0]}" twice (${doubled.join(', ')}). List each column once, in the order the model was trained on.`),
    );
    // A model that names its classes keeps them: other names are refused.
    const entry = CORPUS.find((e) => e.id === 'german-logreg-string-labels-no')!;
    await expect(
      runAnyAudit(ort, { model: { fileName: 'strlabels.onnx', bytes: corpusBytes(entry.model) }, data: { fileName: 'test.csv', bytes: corpusBytes(entry.data) }, target: 'good_credit', positiveLabel: 'no', classLabels: ['yes', 'no'], protectedAttributes: ['gender'] }),
    ).rejects.toThrow("model.class_labels (yes, no) differ from the classes strlabels.onnx names (no, yes). Remove model.class_labels: the model's own labels are used.");
  }, 60_000);

  it('takes a positive label written otherwise than the target ("1.0" for 1), as the model\'s labels are matched', async () => {
    const { binaryTarget } = await import('../../src/core/metrics/labels');
    const table = parseCsv('y\n1\n0\n1\n', { fileName: 'y.csv' });
    for (const label of ['1.0', 1, '1', ' 1']) expect(Array.from(binaryTarget(table, 'y', label).labels), String(label)).toEqual([1, 0, 1]);
    expect(Array.from(binaryTarget(table, 'y', '0.0').labels)).toEqual([0, 1, 0]);
    expect(() => binaryTarget(table, 'y', '2')).toThrow('y.csv, column "y": the positive label "2" does not occur in the target (values: 0, 1). Set the positive label to one of them.');
  });

  it('refuses a positive label the model does not know, naming its labels', async () => {
    const entry = CORPUS.find((e) => e.id === 'german-logreg-string-labels-no')!;
    await expect(
      runAudit(ort, { model: { fileName: 'strlabels.onnx', bytes: corpusBytes(entry.model) }, data: { fileName: 'test.csv', bytes: corpusBytes(entry.data) }, target: 'good_credit', positiveLabel: '1', protectedAttributes: ['gender'] }),
    ).rejects.toThrow('strlabels.onnx: the positive label "1" is not one of the model\'s class labels (no, yes). Set data.positive_label (--positive-label) to one of them.');
  });

  it('regression (issue 20, case 3): a configured missing token the model knows as a category is fed as the token and said so; unseen values are counted and gateable', async () => {
    const entry = CORPUS.find((e) => e.id === 'adult-logreg-unseen-na-empty')!;
    const base = { model: { fileName: 'adult_logreg.onnx', bytes: corpusBytes(entry.model) }, data: { fileName: 'adult_unseen.csv', bytes: corpusBytes(entry.data) }, target: 'high_income', protectedAttributes: ['sex'], bootstrapResamples: 0, missingSections: { explainer: 'off', robustness: 'off', recourse: 'off' } };
    const result = await runAudit(ort, { ...base, csv: { missingValues: ['', '?'] } });
    const workclass = result.input_fidelity!.inputs.find((e) => e.input === 'workclass')!;
    expect(workclass.categories_known).toBe(9);
    expect(result.data.findings.some((f) => f.check === 'missing_token_is_category' && f.column === 'workclass')).toBe(workclass.missing_tokens_fed_as_categories.length > 0);
    expect(result.input_fidelity!.unknown_category_share).toBeGreaterThan(0);
    await expect(runAudit(ort, { ...base, maxUnknownCategoryShare: 0.001 })).rejects.toThrow(/more than the 0\.1% allowed \(model\.max_unknown_category_share\)/);
  }, 60_000);
});

describe('an ONNX classifier whose predicted label, cast to float, is its first output (onnx_label_first)', () => {
  it('is scored by its probabilities, not its 0/1 labels (the label output was read as p: AUC 0.73 for 0.82)', async () => {
    const root = join(__dirname, '..', 'models');
    const want = JSON.parse(readFileSync(join(root, 'onnx_label_first.expected.json'), 'utf8')) as { p_positive: number[] };
    const model = await openModel(ort, new Uint8Array(readFileSync(join(root, 'onnx_label_first.onnx'))), 'onnx_label_first.onnx');
    const table = parseCsv(readFileSync(join(root, 'onnx_label_first.csv'), 'utf8'), { fileName: 'onnx_label_first.csv' });
    await model.classChoice(table, ['a', 'b', 'c', 'd']);
    const scores = await model.score(table, { features: ['a', 'b', 'c', 'd'] });
    let worst = 0;
    scores.forEach((p, i) => (worst = Math.max(worst, Math.abs(p - want.p_positive[i]))));
    expect(worst).toBeLessThan(1e-6);
    await model.release();
  });
});
