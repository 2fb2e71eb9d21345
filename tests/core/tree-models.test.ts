import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../src/core/data/csv';
import type { NumericColumn } from '../../src/core/data/table';
import type { RegressionAuditResult } from '../../src/core/task/result';
import { AuditConfigError, ModelLoadError } from '../../src/core/base/errors';
import { openModel } from '../../src/core/model/classifier';
import { compileEnsemble, emptyTree, float32AtLeast, float64Above, MISSING, kernelMargins, kernelModelFor, marginsOf, treeKernel, readLightgbmText, readXgboostJson, treeMargin, type Tree, type TreeEnsemble } from '../../src/core/model/tree';
import { TREE_KERNEL_F32, TREE_KERNEL_F32S, TREE_KERNEL_F64 } from '../../src/core/model/tree-kernel-wasm';
import { Random } from '../../src/core/base/random';
import { expected, fixture, fixtureBytes, projectRoot } from '../support/fixtures';
import { FIXTURE_CASES } from '../support/fixture-cases';

/** The model corpus folder, and a file of it as an input file (name and bytes). */
const models = join(projectRoot, 'tests', 'models');
const read = (name: string) => ({ fileName: name, bytes: new Uint8Array(readFileSync(join(models, name))) });

/** The largest |ours − the library's| over two lists of numbers. */
function worstGap(ours: ArrayLike<number>, theirs: readonly number[]): number {
  let worst = 0;
  // Over the longer list: a value missing on either side is NaN, and fails the comparison.
  for (let i = 0; i < Math.max(ours.length, theirs.length); i++) worst = Math.max(worst, Math.abs(ours[i] - theirs[i]));
  return worst;
}

/** The largest |ours − the library's| over an explanation's values and its expected value (the library's bias). */
function worstShap(explained: { expected_value: number; values: number[][] }, contributions: number[][], bias: number): number {
  return explained.values.reduce((worst, row, i) => Math.max(worst, worstGap(row, contributions[i])), Math.abs(explained.expected_value - bias));
}

describe('XGBoost JSON models, scored by the project’s evaluator', () => {
  for (const testCase of FIXTURE_CASES.filter((c) => c.format === 'xgboost-json')) {
    it(`${testCase.name} matches xgboost's predictions within 1e-6`, async () => {
      const want = expected(testCase.expected);
      const table = parseCsv(readFileSync(fixture(testCase.data), 'utf8'), { fileName: testCase.data });
      const model = await openModel(ort, fixtureBytes(testCase.model), testCase.model);
      expect(model.summary.format).toBe('xgboost-json');
      const scores = await model.score(table);
      let worst = 0;
      scores.forEach((p, i) => (worst = Math.max(worst, Math.abs(p - want.predictions_p1[i]))));
      // xgboost sums leaves in float32; this evaluator in float64: ~1e-7 apart.
      expect(worst).toBeLessThan(1e-6);
    });
  }

  it('reads feature names, covers and the base score from the file', () => {
    const ensemble = readXgboostJson(fixtureBytes('german_credit/xgb_numeric.json'), 'xgb_numeric.json');
    expect(ensemble.featureNames).toEqual(expected('german_credit/xgb_numeric.expected.json').features);
    expect(ensemble.trees).toHaveLength(100);
    expect(ensemble.trees[0].cover).not.toBeNull();
    expect(ensemble.baseMargin).toBe(0);
  });

  it('reads the base score XGBoost 3.1 and later store as a list ("[5E-1]"), and refuses per-class values it would merge', async () => {
    const json = JSON.parse(readFileSync(fixture('german_credit/xgb_numeric.json'), 'utf8'));
    const bytes = (edit: (j: typeof json) => void) => {
      const copy = structuredClone(json);
      edit(copy);
      return new TextEncoder().encode(JSON.stringify(copy));
    };
    // The fixture's 0.5 written as a list gives xgboost's own predictions.
    const want = expected('german_credit/xgb_numeric.expected.json');
    const table = parseCsv(readFileSync(fixture('german_credit/test.csv'), 'utf8'), { fileName: 'test.csv' });
    const listed = await openModel(ort, bytes((j) => (j.learner.learner_model_param.base_score = '[5E-1]')), 'listed.json');
    const scores = await listed.score(table);
    expect(Math.max(...Array.from(scores, (p, i) => Math.abs(p - want.predictions_p1[i])))).toBeLessThan(1e-6);
    // Any value: the list reads as the number.
    const scalar = readXgboostJson(bytes((j) => (j.learner.learner_model_param.base_score = '2.5E-1')), 'scalar.json');
    expect(readXgboostJson(bytes((j) => (j.learner.learner_model_param.base_score = '[2.5E-1]')), 'listed.json').baseMargin).toBe(scalar.baseMargin);
    expect(scalar.baseMargin).toBe(Math.log(0.25 / 0.75));
    // A 3-class model: one value for every class cancels in the softmax; different values are refused.
    const mc3 = JSON.parse(readFileSync(join(projectRoot, 'tests/models/mc3_xgb.json'), 'utf8'));
    const withBase = (base: string) => {
      const copy = structuredClone(mc3);
      copy.learner.learner_model_param.base_score = base;
      return new TextEncoder().encode(JSON.stringify(copy));
    };
    expect(readXgboostJson(withBase('[5E-1,5E-1,5E-1]'), 'mc3.json').baseMargin).toBe(readXgboostJson(withBase('5E-1'), 'mc3.json').baseMargin);
    expect(() => readXgboostJson(withBase('[2E-1,5E-1,3E-1]'), 'mc3.json')).toThrow(
      new ModelLoadError('mc3.json: base_score "[2E-1,5E-1,3E-1]" (learner_model_param) holds 3 values, one per class, not all equal; this audit reads one base score for every class. Train with one, XGBClassifier(base_score=0.5), or export the model to ONNX.'),
    );
    expect(() => readXgboostJson(bytes((j) => (j.learner.learner_model_param.num_target = '2')), 'targets.json')).toThrow(
      new ModelLoadError('targets.json: a model of 2 targets (learner_model_param.num_target): one audit reads one target. Train one model per target, or audit a multiclass model (multi:softprob).'),
    );
  });

  it('refuses an early-stopped model holding more trees than its best iteration, and reads one sliced there', () => {
    const json = JSON.parse(readFileSync(fixture('german_credit/xgb_numeric.json'), 'utf8'));
    const withAttributes = (attributes: Record<string, string>) => new TextEncoder().encode(JSON.stringify({ ...json, learner: { ...json.learner, attributes } }));
    // As XGBClassifier(early_stopping_rounds=…) saves it: predict_proba uses 50 trees, Booster.predict all 100.
    expect(() => readXgboostJson(withAttributes({ best_iteration: '49', best_ntree_limit: '50' }), 'stopped.json')).toThrow(
      new ModelLoadError('stopped.json: the model was early-stopped at iteration 49 (learner.attributes.best_iteration) but holds 100 trees: XGBoost\'s predict_proba scores with the first 50, Booster.predict with all 100, and the file does not say which the deployed model uses. Save the model you deploy: model.get_booster()[: model.best_iteration + 1].save_model("model.json") for the early-stopped one, or a model trained without early stopping for all its trees.'),
    );
    expect(() => readXgboostJson(withAttributes({ best_ntree_limit: '60' }), 'limit.json')).toThrow('limit.json: the model was early-stopped at 60 trees (learner.attributes.best_ntree_limit) but holds 100 trees');
    // Sliced at the best iteration (booster[:best + 1] keeps best_ntree_limit), or stopped at the last tree: read as it is.
    expect(readXgboostJson(withAttributes({ best_ntree_limit: '100' }), 'sliced.json').trees).toHaveLength(100);
    expect(readXgboostJson(withAttributes({ best_iteration: '99' }), 'last.json').trees).toHaveLength(100);
  });

  it('reads a model trained on an array (no feature names) with the columns model.features lists, in training order', async () => {
    const json = JSON.parse(readFileSync(fixture('german_credit/xgb_numeric.json'), 'utf8'));
    const { feature_names: _names, feature_types: _types, ...learner } = json.learner;
    const bytes = new TextEncoder().encode(JSON.stringify({ ...json, learner }));
    const want = expected('german_credit/xgb_numeric.expected.json');
    const table = parseCsv(readFileSync(fixture('german_credit/test.csv'), 'utf8'), { fileName: 'test.csv' });
    // Without the columns named: the summary asks for them, and scoring is refused in words.
    const unnamed = await openModel(ort, bytes, 'array.json');
    expect(unnamed.summary.needsFeatureOrder).toBe(true);
    await expect(unnamed.score(table)).rejects.toThrow(new AuditConfigError('array.json: the model names no features (trained on an array: XGBoost calls them f0…f6). List its 7 columns in training order with model.features (--features a,b,…).'));
    const named = await openModel(ort, bytes, 'array.json', { features: want.features });
    const scores = await named.score(table);
    expect(Math.max(...Array.from(scores, (p, i) => Math.abs(p - want.predictions_p1[i])))).toBeLessThan(1e-6);
    expect(() => readXgboostJson(bytes, 'array.json', 'classifier', want.features!.slice(1))).toThrow(`array.json: the model names no features and takes 7; model.features lists 6 (${want.features!.slice(1).join(', ')}). List its 7 columns in training order.`);
  });

  it('says why a dart booster and a log-link objective are refused', () => {
    const json = JSON.parse(readFileSync(fixture('german_credit/xgb_numeric.json'), 'utf8'));
    // As XGBClassifier(booster="dart") saves it: the trees under gradient_booster.gbtree, beside weight_drop.
    const dart = { ...json, learner: { ...json.learner, gradient_booster: { name: 'dart', gbtree: json.learner.gradient_booster, weight_drop: [1] } } };
    expect(() => readXgboostJson(new TextEncoder().encode(JSON.stringify(dart)), 'dart.json')).toThrow(
      new ModelLoadError('dart.json: the XGBoost booster "dart" (its trees are weighted by the dropout it trained with) is not supported; only tree boosters (gbtree) can be audited. Train with booster="gbtree", or export the model to ONNX.'),
    );
    const poisson = { ...json, learner: { ...json.learner, objective: { name: 'count:poisson' } } };
    expect(() => readXgboostJson(new TextEncoder().encode(JSON.stringify(poisson)), 'poisson.json')).toThrow('poisson.json: the XGBoost objective "count:poisson" predicts exp(margin) (a log link), which this audit does not read');
  });

  it('refuses a tree with a cycle instead of looping forever (hostile file)', () => {
    const json = JSON.parse(readFileSync(fixture('german_credit/xgb_numeric.json'), 'utf8'));
    json.learner.gradient_booster.model.trees[3].left_children[1] = 0;
    expect(() => readXgboostJson(new TextEncoder().encode(JSON.stringify(json)), 'cycle.json')).toThrow(
      new ModelLoadError('cycle.json: tree 3 reaches node 0 twice (a cycle or shared node). The file is damaged; export the model again.'),
    );
    json.learner.gradient_booster.model.trees[3].left_children[1] = 3;
    json.learner.gradient_booster.model.trees[0].split_indices[0] = 99;
    expect(() => readXgboostJson(new TextEncoder().encode(JSON.stringify(json)), 'feature.json')).toThrow(
      new ModelLoadError('feature.json: tree 0 node 0 splits on feature 99, but the model declares 7 features. The file is damaged; export the model again.'),
    );
  });

  it('refuses a multiclass model whose trees name no class, and a non-model JSON', () => {
    const json = JSON.parse(readFileSync(fixture('german_credit/xgb_numeric.json'), 'utf8'));
    json.learner.learner_model_param.num_class = '3';
    json.learner.objective.name = 'multi:softprob';
    json.learner.gradient_booster.model.tree_info = json.learner.gradient_booster.model.tree_info.map(() => 7);
    expect(() => readXgboostJson(new TextEncoder().encode(JSON.stringify(json)), 'multi.json')).toThrow(
      new ModelLoadError('multi.json: the 3-class model\'s tree_info does not give a class from 0 to 2 for each of its 100 trees: it is damaged or was edited. Save the model again with save_model("model.json").'),
    );
    expect(() => readXgboostJson(new TextEncoder().encode('{"learner": {}}'), 'x.json')).toThrow(
      new ModelLoadError('x.json: this JSON is not an XGBoost model (no learner.gradient_booster.model.trees). Save the model with save_model("model.json").'),
    );
  });
});

/**
 * An independent walk of tests/data/lightgbm-small.txt, written from LightGBM's documented
 * decision rules (not from the project's parser): numerical x <= t goes left; a missing
 * value under missing type NaN follows default_left; under Zero, NaN and 0 follow it; under
 * None, NaN is read as 0; a categorical split sends the categories in its bitset left.
 */
function walkByHand(a: number, b: number, c: number): number {
  let raw = 0;
  // Tree 0: a <= 1.5 (missing NaN, default left) → c in {1, 3} (bitset 10) ? 0.1 : 0.3; else -0.2
  const aLeft = Number.isNaN(a) ? true : a <= 1.5;
  if (aLeft) {
    const category = Number.isNaN(c) ? 0 : Math.trunc(c);
    raw += category === 1 || category === 3 ? 0.1 : 0.3;
  } else raw += -0.2;
  // Tree 1: b <= 0, missing type Zero, default right: NaN or 0 → 0.25
  raw += Number.isNaN(b) || b === 0 ? 0.25 : b <= 0 ? -0.5 : 0.25;
  // Tree 2: a <= -1, missing type None: NaN read as 0 → right
  raw += (Number.isNaN(a) ? 0 : a) <= -1 ? 0.7 : -0.7;
  return 1 / (1 + Math.exp(-1.5 * raw));
}

describe('LightGBM text models', () => {
  const bytes = new Uint8Array(readFileSync(join(projectRoot, 'tests/data/lightgbm-small.txt')));
  const csv = 'a,b,c,y\n1,1,1,1\n1,-1,2,0\n2,0,3,1\n,,,0\n-2,-3,3,1\n0,0,-1,0\n1.5,,1.9,1\n1.6,1,0,0\n';
  const table = parseCsv(csv, { fileName: 'small.csv' });

  it('scores rows like a hand walk of the trees (missing types, categorical bitsets, sigmoid)', async () => {
    const model = await openModel(ort, bytes, 'lightgbm-small.txt');
    expect(model.summary.format).toBe('lightgbm-text');
    const scores = await model.score(table);
    const columns = ['a', 'b', 'c'].map((name) => (table.columns.find((col) => col.name === name) as { values: Float64Array }).values);
    for (let i = 0; i < table.rowCount; i++) {
      expect(scores[i], `row ${i + 1}`).toBeCloseTo(walkByHand(columns[0][i], columns[1][i], columns[2][i]), 14);
    }
  });

  it('reads feature names and counts as covers', () => {
    const ensemble = readLightgbmText(bytes, 'lightgbm-small.txt');
    expect(ensemble.featureNames).toEqual(['a', 'b', 'c']);
    expect(ensemble.trees).toHaveLength(3);
    expect(Array.from(ensemble.trees[0].cover!)).toEqual([60, 40, 10, 20, 30]);
  });

  it('refuses a damaged tree and a regression objective', () => {
    const text = new TextDecoder().decode(bytes);
    expect(() => readLightgbmText(new TextEncoder().encode(text.replace('leaf_value=0.1 -0.2 0.3', 'leaf_value=0.1 -0.2')), 'bad.txt')).toThrow(
      new ModelLoadError('bad.txt: tree 0 is damaged (num_leaves 3 but 2 leaf values). Save the model again.'),
    );
    expect(() => readLightgbmText(new TextEncoder().encode(text.replace('objective=binary sigmoid:1.5', 'objective=regression')), 'reg.txt')).toThrow(
      new ModelLoadError('reg.txt: the LightGBM objective "regression" is a regression, and LightGBM regressors are not read yet: convert the model to ONNX (onnxmltools.convert_lightgbm) and audit that file as a regression (task: regression).'),
    );
    // A custom objective (a Python callable) writes none: said as such (it read 'the objective "missing"').
    expect(() => readLightgbmText(new TextEncoder().encode(text.replace('objective=binary sigmoid:1.5', 'objective=custom')), 'custom.txt')).toThrow(
      new ModelLoadError('custom.txt: the model was trained with a custom objective (the file names none), so it does not say how its raw output becomes a probability. Audit the probability your system computes from it as a score column (--score, data.score_column), or train the model with objective=binary or multiclass.'),
    );
  });
});

/**
 * A random tree grown to `maxDepth`: the root splits, every node below it with probability
 * `grows`. `value` draws a node's value; `split` draws a split's threshold (and rule and
 * missing type, XGBoost's by default), then its feature and default side are drawn.
 */
function randomTree(random: Random, maxDepth: number, features: number, grows: number, value: () => number, split: () => { threshold: number; rule?: number; missingType?: number }): Tree {
  const nodes: { feature: number; threshold: number; rule: number; missingType: number; left: number; right: number; defaultLeft: number; value: number }[] = [];
  const add = (depth: number): number => {
    const at = nodes.push({ feature: 0, threshold: 0, rule: 0, missingType: MISSING.defaultDirection, left: -1, right: -1, defaultLeft: 0, value: value() }) - 1;
    if (depth < maxDepth && (depth === 0 || random.next() < grows)) {
      Object.assign(nodes[at], split(), { feature: random.int(features), defaultLeft: random.int(2) });
      nodes[at].left = add(depth + 1);
      nodes[at].right = add(depth + 1);
    }
    return at;
  };
  add(0);
  const tree = emptyTree(nodes.length);
  nodes.forEach((n, i) => {
    tree.feature[i] = n.feature;
    tree.threshold[i] = n.threshold;
    tree.rule[i] = n.rule;
    tree.missingType[i] = n.missingType;
    tree.left[i] = n.left;
    tree.right[i] = n.right;
    tree.defaultLeft[i] = n.defaultLeft;
    tree.value[i] = n.value;
  });
  return tree;
}

describe('the fast evaluator', () => {
  it('scores random unbalanced trees (full trees in WebAssembly up to depth 12 and in JavaScript up to depth 8, child arrays beyond) like a walk node by node, missing values and values on the thresholds included', () => {
    const random = new Random(20261122, 'tree-evaluator');
    const thresholds: number[] = [];
    // Trees that split with probability 0.7 below the root. Half the thresholds are float32
    // values (as XGBoost writes them), half any float64.
    const grow = (maxDepth: number, features: number): Tree =>
      randomTree(random, maxDepth, features, 0.7, () => Math.fround(random.normal()), () => {
        const threshold = random.next() < 0.5 ? Math.fround(random.normal()) : random.normal();
        thresholds.push(threshold);
        return { threshold };
      });
    // A cell: a normal value, a threshold or its float32 neighbours (where float32 rounding decides the side), or ±∞.
    const cell = (): number => {
      const u = random.next();
      if (u < 0.6 || thresholds.length === 0) return random.normal();
      if (u < 0.98) {
        const t = thresholds[random.int(thresholds.length)];
        return [t, Math.fround(t), float32AtLeast(t), t * (1 + 1e-9), t * (1 - 1e-9)][random.int(5)];
      }
      return random.next() < 0.5 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    };
    for (const maxDepth of [0, 1, 6, 8, 11, 14]) {
      const features = 5;
      thresholds.length = 0;
      const ensemble: TreeEnsemble = { format: 'xgboost-json', featureNames: Array.from({ length: features }, (_, j) => `x${j}`), baseMargin: 0.25, marginScale: 1, transform: 'logistic', description: 'random', trees: Array.from({ length: 40 }, () => grow(maxDepth, features)) };
      const compiled = compileEnsemble(ensemble);
      const inJs = compileEnsemble(ensemble, { wasm: false });
      expect(compiled.full !== null, `depth ${maxDepth}`).toBe(maxDepth <= 8);
      const rows = 5003;
      // The first block of 4,096 rows has no missing cell (the one-comparison kernel); in the second, every tenth is missing.
      // 907 rows in the second block: the WebAssembly kernel walks 904 eight at a time, the last 3 one by one.
      const columns = Array.from({ length: features }, () => Float64Array.from({ length: rows }, (_, i) => (i >= 4096 && random.next() < 0.1 ? Number.NaN : cell())));
      const all = Uint32Array.from({ length: rows }, (_, i) => i);
      const out = new Float64Array(rows);
      const outJs = new Float64Array(rows);
      marginsOf(ensemble, compiled, columns, all, out);
      marginsOf(ensemble, inJs, columns, all, outJs);
      expect(compiled.kernel != null, `depth ${maxDepth}: WebAssembly kernel`).toBe(maxDepth <= 12);
      expect(inJs.kernel ?? null).toBeNull();
      // What the worker pool does: the kernel's model copied to another thread, its own kernel made there.
      const sent = structuredClone(kernelModelFor(compiled, features));
      const outSent = new Float64Array(rows);
      if (sent) kernelMargins(treeKernel(sent, features)!, columns, all, outSent);
      else expect(maxDepth).toBeGreaterThan(12);
      // Rows without missing cells and not a multiple of eight (1,003 = 125 × 8 + 3), in another order.
      const some = Uint32Array.from({ length: 1003 }, (_, i) => (i * 7) % 4096);
      const outSome = new Float64Array(some.length);
      marginsOf(ensemble, compiled, columns, some, outSome);
      some.forEach((row, i) => expect(outSome[i], `depth ${maxDepth}, row ${row} (no missing)`).toBe(treeMargin(ensemble, Float64Array.from(columns, (c) => c[row]))));
      for (let i = 0; i < rows; i++) {
        const want = treeMargin(ensemble, Float64Array.from(columns, (c) => c[i]));
        expect(out[i], `depth ${maxDepth}, row ${i}`).toBe(want);
        expect(outJs[i], `depth ${maxDepth}, row ${i} (JavaScript)`).toBe(want);
        if (sent) expect(outSent[i], `depth ${maxDepth}, row ${i} (kernel model sent)`).toBe(want);
      }
    }
  });

  it('scores a model of 1,500 features in smaller blocks (at most 4 MiB of features each) like the walk node by node', () => {
    const random = new Random(20261122, 'wide-model');
    const features = 1500;
    // Ten trees of depth 3 on random features: XGBoost's rule, children in order.
    const trees = Array.from({ length: 10 }, () => {
      const tree = emptyTree(15);
      for (let i = 0; i < 7; i++) {
        tree.feature[i] = random.int(features);
        tree.threshold[i] = Math.fround(random.normal());
        tree.left[i] = 2 * i + 1;
        tree.right[i] = 2 * i + 2;
        tree.defaultLeft[i] = random.int(2);
      }
      for (let i = 7; i < 15; i++) tree.value[i] = Math.fround(random.normal());
      return tree;
    });
    const ensemble: TreeEnsemble = { format: 'xgboost-json', featureNames: Array.from({ length: features }, (_, j) => `x${j}`), baseMargin: -0.5, marginScale: 1, transform: 'logistic', description: 'wide', trees };
    const compiled = compileEnsemble(ensemble);
    const rows = 1600;
    const columns = Array.from({ length: features }, () => Float64Array.from({ length: rows }, () => (random.next() < 0.02 ? Number.NaN : random.normal())));
    const out = new Float64Array(rows);
    marginsOf(ensemble, compiled, columns, Uint32Array.from({ length: rows }, (_, i) => i), out);
    // 4 MiB over 1,500 float32 features: blocks of 699 rows (699 = 87 × 8 + 3).
    expect(compiled.kernel?.blockRows).toBe(699);
    for (let i = 0; i < rows; i++) expect(out[i], `row ${i}`).toBe(treeMargin(ensemble, Float64Array.from(columns, (c) => c[i])));
  });

  it('scores random LightGBM-rule trees (x <= split, missing to the default side or read as 0) in the float64 kernel like the walk node by node', () => {
    const random = new Random(20261122, 'lightgbm-kernel');
    const features = 6;
    const thresholds: number[] = [];
    // Trees that split with probability 0.75 below the root, on any float64 split value
    // (LightGBM writes doubles), sometimes exactly 0.
    const grow = (maxDepth: number): Tree =>
      randomTree(random, maxDepth, features, 0.75, () => random.normal(), () => {
        const threshold = random.next() < 0.1 ? 0 : random.normal();
        thresholds.push(threshold);
        return { threshold, rule: 1, missingType: random.next() < 0.5 ? MISSING.defaultDirection : MISSING.asZero };
      });
    // A cell: a normal value, a split value or the float64 just above or below it, ±0, ±∞.
    const cell = (): number => {
      const u = random.next();
      if (u < 0.5 || thresholds.length === 0) return random.normal();
      if (u < 0.95) {
        const t = thresholds[random.int(thresholds.length)];
        return [t, float64Above(t), -float64Above(-t)][random.int(3)];
      }
      return [0, -0, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY][random.int(4)];
    };
    for (const maxDepth of [1, 7, 12, 14]) {
      thresholds.length = 0;
      const ensemble: TreeEnsemble = { format: 'lightgbm-text', featureNames: Array.from({ length: features }, (_, j) => `x${j}`), baseMargin: 0, marginScale: 1, transform: 'logistic', description: 'random', trees: Array.from({ length: 30 }, () => grow(maxDepth)) };
      const compiled = compileEnsemble(ensemble);
      expect(compiled.kernelModel?.precision ?? null, `depth ${maxDepth}`).toBe(maxDepth <= 12 ? 64 : null);
      const rows = 4096 + 1003;
      // The first block without missing cells, the second with (every eighth).
      const columns = Array.from({ length: features }, () => Float64Array.from({ length: rows }, (_, i) => (i >= 4096 && random.next() < 0.125 ? Number.NaN : cell())));
      const out = new Float64Array(rows);
      marginsOf(ensemble, compiled, columns, Uint32Array.from({ length: rows }, (_, i) => i), out);
      for (let i = 0; i < rows; i++) expect(out[i], `depth ${maxDepth}, row ${i}`).toBe(treeMargin(ensemble, Float64Array.from(columns, (c) => c[i])));
    }
    // LightGBM's "Zero" missing type and categorical splits stay with the walk node by node.
    const zero = grow(3);
    zero.missingType[0] = MISSING.zeroDefaultDirection;
    expect(compileEnsemble({ format: 'lightgbm-text', featureNames: ['x0', 'x1', 'x2', 'x3', 'x4', 'x5'], baseMargin: 0, marginScale: 1, transform: 'logistic', description: 'zero', trees: [zero] }).kernelModel).toBeNull();
  });

  it('moves a LightGBM split value to the float64 just above it (x > split is x >= that)', () => {
    const random = new Random(20261122, 'float64-above');
    for (const t of [0, -0, 1, -1, 0.1, Number.MIN_VALUE, -Number.MIN_VALUE, Number.MAX_VALUE, -Number.MAX_VALUE, Number.NEGATIVE_INFINITY, ...Array.from({ length: 1000 }, () => random.normal() * 10 ** random.int(300))]) {
      const above = float64Above(t);
      expect(above > t, String(t)).toBe(true);
      // Nothing lies between: the midpoint rounds to one of the two.
      const middle = t / 2 + above / 2;
      expect(middle === t || middle === above || !Number.isFinite(middle), String(t)).toBe(true);
    }
    expect(float64Above(Number.POSITIVE_INFINITY)).toBeNaN();
    expect(float64Above(Number.NaN)).toBeNaN();
  });

  it('rounds a split value up to the float32 the kernel compares with', () => {
    const random = new Random(20261122, 'float32-at-least');
    const values = [0, -0, 0.1, -0.1, 1e-50, -1e-50, 3.5e38, -3.5e38, 2 ** -149, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, ...Array.from({ length: 2000 }, () => random.normal() * 10 ** random.int(10))];
    const below = (f: number): number => {
      // The float32 just below f.
      const view = new Float32Array([f]);
      const bits = new Uint32Array(view.buffer);
      if (f === 0) return -(2 ** -149);
      bits[0] += f > 0 ? -1 : 1;
      return view[0];
    };
    for (const t of values) {
      const up = float32AtLeast(t);
      expect(Math.fround(up), String(t)).toBe(up);
      expect(up >= t, String(t)).toBe(true);
      if (Number.isFinite(up) && up !== -Infinity) expect(below(up) < t, String(t)).toBe(true);
    }
    expect(float32AtLeast(Number.NaN)).toBeNaN();
  });

  it('keeps the WebAssembly kernels equal to their source (scripts/build-wasm.mjs)', async () => {
    const [{ kernelModuleSource }, { treeKernelWat }] = await Promise.all([import('../../scripts/build-wasm.mjs'), import('../../scripts/tree-kernel-wat.mjs')]);
    const [f32, f64, f32s] = [treeKernelWat('f32'), treeKernelWat('f64'), treeKernelWat('f32s')];
    expect(readFileSync(join(projectRoot, 'src/core/model/tree-kernel-f32.wat'), 'utf8')).toBe(f32);
    expect(readFileSync(join(projectRoot, 'src/core/model/tree-kernel-f64.wat'), 'utf8')).toBe(f64);
    expect(readFileSync(join(projectRoot, 'src/core/model/tree-kernel-f32s.wat'), 'utf8')).toBe(f32s);
    expect(await kernelModuleSource(f32, f64, f32s)).toBe(readFileSync(join(projectRoot, 'src/core/model/tree-kernel-wasm.ts'), 'utf8'));
    // Chromium compiles a module synchronously (new WebAssembly.Module) only up to 4 KB on a page's main thread.
    for (const module of [TREE_KERNEL_F32, TREE_KERNEL_F64, TREE_KERNEL_F32S]) expect(module.length).toBeLessThanOrEqual(4096);
  });
});

describe('XGBoost split values as float32 (xgb_hist_ties, tree_method hist: splits on data values such as 32.6)', () => {
  it('explains each row like xgboost pred_contribs, rows on a split going where xgboost sends them', async () => {
    const { explainModel } = await import('../../src/core/analyses/explain/explain');
    const want = JSON.parse(readFileSync(join(models, 'xgb_hist_ties.expected.json'), 'utf8')) as { shap: number[][] };
    const result = await explainModel(ort, { model: read('xgb_hist_ties.json'), data: read('xgb_hist_ties.csv'), rows: 40, method: 'tree-path' });
    expect(result.method).toBe('tree (path-dependent)');
    expect(result.columns).toEqual(['age', 'ratio', 'visits', 'balance']);
    let worst = 0;
    result.values.forEach((row, i) => {
      row.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - want.shap[i][j]))));
      // xgboost's last column is the bias: the expected margin.
      worst = Math.max(worst, Math.abs(result.expected_value - want.shap[i][4]));
    });
    // xgboost sums in float32.
    expect(worst).toBeLessThan(1e-5);
  });
});

describe('an XGBoost JSON saved through the native API', () => {
  it('says that blank cells are read as missing and that the file does not record its DMatrix\'s missing value (a DMatrix(missing=0) model was audited without a word)', () => {
    const native = readXgboostJson(fixtureBytes('german_credit/xgb_numeric.json'), 'xgb_numeric.json');
    expect(native.description).toContain('; blank cells are read as missing (the DMatrix default): the file, saved without the scikit-learn wrapper, does not record the value its DMatrix took as missing');
    // The wrapper records it: no such word.
    expect(readXgboostJson(read('xgb_binary.json').bytes, 'xgb_binary.json').description).not.toContain('DMatrix default');
  });
});

describe('a LightGBM model trained on a numpy array (features Column_0…)', () => {
  it('takes its columns from model.features, in training order, and scores and explains as LightGBM does (it was refused, and --features did not help)', async () => {
    const { explainModel } = await import('../../src/core/analyses/explain/explain');
    const want = JSON.parse(readFileSync(join(models, 'lgbm_numpy.expected.json'), 'utf8')) as { features: string[]; p_positive: number[]; contributions: number[][]; expected_value: number };
    const table = parseCsv(readFileSync(join(models, 'lgbm_numpy.csv'), 'utf8'), { fileName: 'lgbm_numpy.csv' });
    const unnamed = await openModel(ort, read('lgbm_numpy.txt').bytes, 'lgbm_numpy.txt');
    await expect(unnamed.score(table)).rejects.toThrow('lgbm_numpy.txt: the model names no features (trained on an array: LightGBM calls them Column_0…Column_3). List its 4 columns in training order with model.features (--features a,b,…).');
    const model = await openModel(ort, read('lgbm_numpy.txt').bytes, 'lgbm_numpy.txt', { features: want.features });
    expect(worstGap(await model.score(table), want.p_positive)).toBeLessThan(1e-12);
    const explained = await explainModel(ort, { model: read('lgbm_numpy.txt'), data: read('lgbm_numpy.csv'), features: want.features, rows: 100, method: 'tree-path' });
    expect(worstShap(explained, want.contributions, want.expected_value)).toBeLessThan(1e-9);
    await expect(openModel(ort, read('lgbm_numpy.txt').bytes, 'lgbm_numpy.txt', { features: ['age', 'income'] })).rejects.toThrow("lgbm_numpy.txt: the model names no features (LightGBM's Column_0…Column_3) and takes 4; model.features lists 2 (age, income). List its 4 columns in training order.");
  });
});

describe('LightGBM with a sigmoid other than 1', () => {
  it('names its TreeSHAP values the trees\' sum, not the log-odds (they are sigmoid × it)', async () => {
    const { explainModel } = await import('../../src/core/analyses/explain/explain');
    const text = readFileSync(join(models, 'lgbm_categorical_nan.txt'), 'utf8').replace(/^objective=binary sigmoid:1$/m, 'objective=binary sigmoid:2');
    expect(text).toMatch(/^objective=binary sigmoid:2$/m);
    const explained = await explainModel(ort, { model: { fileName: 'sigmoid2.txt', bytes: new TextEncoder().encode(text) }, data: read('lgbm_categorical_nan.csv'), rows: 3, method: 'tree-path' });
    expect(explained.output).toBe("raw score (the trees' sum; the log-odds are 2 × it, LightGBM's sigmoid 2, before the logistic)");
  });
});

describe('LightGBM split thresholds of inf (a "missing or not" split of a model trained on blanks)', () => {
  it('reads C\'s inf as +∞, and scores and explains as LightGBM does (the file was refused as damaged: "splits at NaN")', async () => {
    const { explainModel } = await import('../../src/core/analyses/explain/explain');
    const want = JSON.parse(readFileSync(join(models, 'lgbm_inf_threshold.expected.json'), 'utf8')) as { inf_thresholds: number; p_positive: number[]; contributions: number[][]; expected_value: number };
    expect(want.inf_thresholds).toBeGreaterThan(0);
    const model = await openModel(ort, read('lgbm_inf_threshold.txt').bytes, 'lgbm_inf_threshold.txt');
    const table = parseCsv(readFileSync(join(models, 'lgbm_inf_threshold.csv'), 'utf8'), { fileName: 'lgbm_inf_threshold.csv' });
    expect(worstGap(await model.score(table), want.p_positive)).toBeLessThan(1e-12);
    const explained = await explainModel(ort, { model: read('lgbm_inf_threshold.txt'), data: read('lgbm_inf_threshold.csv'), rows: 300, method: 'tree-path' });
    expect(worstShap(explained, want.contributions, want.expected_value)).toBeLessThan(1e-9);
  });
});

describe('LightGBM category splits and a blank category (lgbm_categorical_nan: trained without blanks, missing type None)', () => {
  it('sends the blank right at every category split, as LightGBM predicts and explains it (it was read as category 0)', async () => {
    const { explainModel } = await import('../../src/core/analyses/explain/explain');
    const want = JSON.parse(readFileSync(join(models, 'lgbm_categorical_nan.expected.json'), 'utf8')) as { p_positive: number[]; contributions: number[][]; expected_value: number };
    const model = await openModel(ort, read('lgbm_categorical_nan.txt').bytes, 'lgbm_categorical_nan.txt');
    const table = parseCsv(readFileSync(join(models, 'lgbm_categorical_nan.csv'), 'utf8'), { fileName: 'lgbm_categorical_nan.csv' });
    const scores = await model.score(table);
    const region = (table.columns.find((c) => c.name === 'region') as NumericColumn).values;
    expect(region.filter((v) => Number.isNaN(v)).length).toBe(130);
    expect(worstGap(scores, want.p_positive)).toBeLessThan(1e-12);
    const explained = await explainModel(ort, { model: read('lgbm_categorical_nan.txt'), data: read('lgbm_categorical_nan.csv'), rows: 600, method: 'tree-path' });
    expect(worstShap(explained, want.contributions, want.expected_value)).toBeLessThan(1e-9);
  });
});

describe('LightGBM trained on pandas category columns (lgbm_pandas_cat: pandas_categorical in the file)', () => {
  it('reads each cell as its position in the training categories, as LightGBM predicts and explains it (a rating of 1 was fed as code 1)', async () => {
    const { explainModel } = await import('../../src/core/analyses/explain/explain');
    const { runAudit } = await import('../../src/core/audit');
    const want = JSON.parse(readFileSync(join(models, 'lgbm_pandas_cat.expected.json'), 'utf8')) as { p_positive: number[]; contributions: number[][]; bias: number };
    const model = await openModel(ort, read('lgbm_pandas_cat.txt').bytes, 'lgbm_pandas_cat.txt');
    expect(model.summary.inputs.map((input) => input.categories?.values ?? null)).toEqual([null, [1, 2, 3, 4, 5], ['Brest', 'Lille', 'Lyon', 'Nice', 'Paris']]);
    const table = parseCsv(readFileSync(join(models, 'lgbm_pandas_cat.csv'), 'utf8'), { fileName: 'lgbm_pandas_cat.csv' });
    const scores = await model.score(table);
    expect(worstGap(scores, want.p_positive)).toBeLessThan(1e-12);
    const explained = await explainModel(ort, { model: read('lgbm_pandas_cat.txt'), data: read('lgbm_pandas_cat.csv'), rows: 1000, method: 'tree-path' });
    expect(worstShap(explained, want.contributions, want.bias)).toBeLessThan(1e-9);
    // A city the model never saw is unseen (and scored as LightGBM scores it: missing).
    const lines = readFileSync(join(models, 'lgbm_pandas_cat.csv'), 'utf8').trimEnd().split('\n').slice(1);
    const nantes = lines.filter((line) => line.split(',')[2] === 'Nantes').length;
    const result = await runAudit(ort, { model: read('lgbm_pandas_cat.txt'), data: read('lgbm_pandas_cat.csv'), target: 'y', protectedAttributes: ['sex'], bootstrapResamples: 0, missingSections: { explainer: 'off', robustness: 'off', recourse: 'off' } });
    const city = result.input_fidelity!.inputs.find((input) => input.input === 'city')!;
    expect(city.unseen!.count).toBe(nantes);
    expect(city.unseen!.share).toBeCloseTo(nantes / lines.length, 12);
    expect(result.input_fidelity!.inputs.find((input) => input.input === 'rating')!.unseen?.count ?? 0).toBe(0);
  }, 60_000);

  it('refuses a category of booleans, naming it (cells are matched as texts or numbers)', () => {
    const text = readFileSync(join(models, 'lgbm_pandas_cat.txt'), 'utf8').replace('[[1, 2, 3, 4, 5],', '[[false, true],');
    expect(() => readLightgbmText(new TextEncoder().encode(text), 'flags.txt')).toThrow(
      new ModelLoadError('flags.txt: a pandas category column of the model has the category false (pandas_categorical), neither a text nor a number, which this audit does not match cells against. Train with that column as numbers (0/1 for a flag) or texts, not a category of booleans.'),
    );
  });

  it('refuses a file whose category lists cannot be matched to its inputs (an ordered category column)', () => {
    const text = readFileSync(join(models, 'lgbm_pandas_cat.txt'), 'utf8').replace('[categorical_feature: 1,2]', '[categorical_feature: 2]');
    expect(() => readLightgbmText(new TextEncoder().encode(text), 'ordered.txt')).toThrow(
      new ModelLoadError('ordered.txt: the model was trained on 2 pandas category columns (pandas_categorical) but declares 1 categorical feature (2), so which categories belong to which input is not in the file (an ordered category column, or a categorical_feature list naming other columns, does this). Train with unordered pandas categories and categorical_feature left at auto, or with the category codes as numbers.'),
    );
    // Lists matched to the wrong inputs: the 5 cities' list given to the rating (codes up to 4) fits; a 3-value list does not.
    const swapped = readFileSync(join(models, 'lgbm_pandas_cat.txt'), 'utf8').replace('[[1, 2, 3, 4, 5], ["Brest", "Lille", "Lyon", "Nice", "Paris"]]', '[["Brest", "Lille", "Lyon", "Nice", "Paris"], [1, 2, 3]]');
    expect(() => readLightgbmText(new TextEncoder().encode(swapped), 'swapped.txt')).toThrow(/^swapped\.txt: the categories pandas_categorical gives input 3 \(3 of them\) do not cover the codes its splits use \(up to 4\)/);
  });
});

describe('an ONNX model with a bool input (onnx_bool: is_member as a bool tensor)', () => {
  it('reads the flags exports write (Y/N, t/f, yes/no, 1/0) as onnxruntime is given them, and refuses a blank or another value (each was fed false)', async () => {
    const want = JSON.parse(readFileSync(join(models, 'onnx_bool.expected.json'), 'utf8')) as { p_positive: number[] };
    const model = await openModel(ort, read('onnx_bool.onnx').bytes, 'onnx_bool.onnx');
    const csv = readFileSync(join(models, 'onnx_bool_yn.csv'), 'utf8');
    const spelled = (yes: string, no: string) => csv.replace(/,Y,/g, `,${yes},`).replace(/,N,/g, `,${no},`);
    for (const [yes, no] of [['Y', 'N'], ['t', 'f'], ['Yes', 'no'], ['1', '0'], ['TRUE', 'False']]) {
      const scores = await model.score(parseCsv(spelled(yes, no), { fileName: 'flags.csv' }));
      let worst = 0;
      scores.forEach((p, i) => (worst = Math.max(worst, Math.abs(p - want.p_positive[i]))));
      expect(worst, `${yes}/${no}`).toBeLessThan(1e-6);
    }
    const lines = csv.split('\n');
    const blank = [lines[0], lines[1].replace(/,[YN],/, ',,'), ...lines.slice(2)].join('\n');
    await expect(model.score(parseCsv(blank, { fileName: 'blank.csv' }))).rejects.toThrow(
      new AuditConfigError('blank.csv, row 1, column "is_member": the value is missing, but the model\'s input "is_member" takes true or false (bool) and has no missing-value handling. Write it as true/false, t/f, yes/no, y/n or 1/0, and impute or drop rows without it.'),
    );
    const other = [lines[0], lines[1], lines[2].replace(/,[YN],/, ',maybe,'), ...lines.slice(3)].join('\n');
    await expect(model.score(parseCsv(other, { fileName: 'other.csv' }))).rejects.toThrow(
      new AuditConfigError('other.csv, row 2, column "is_member": the value holds "maybe", but the model\'s input "is_member" takes true or false (bool) and has no missing-value handling. Write it as true/false, t/f, yes/no, y/n or 1/0.'),
    );
    await model.release();
  });

  it('is explained from the flags as the model reads them: Y/N give the values 1/0 give (they were NaN, and the PDF\'s chart broke)', async () => {
    const { explainModel } = await import('../../src/core/analyses/explain/explain');
    const csv = readFileSync(join(models, 'onnx_bool_yn.csv'), 'utf8');
    const explain = (text: string) => explainModel(ort, { model: read('onnx_bool.onnx'), data: { fileName: 'flags.csv', bytes: new TextEncoder().encode(text) }, rows: 40, method: 'auto' });
    const [yn, ones] = await Promise.all([explain(csv), explain(csv.replace(/,Y,/g, ',1,').replace(/,N,/g, ',0,'))]);
    expect(yn.method).toBe('linear (interventional)');
    expect(yn.values).toEqual(ones.values);
    expect(yn.expected_value).toBe(ones.expected_value);
    // Linear SHAP moves by the coefficient between a Y row and an N row: 2.5, the graph's weight of is_member for class 1.
    const at = yn.columns.indexOf('is_member');
    const y = yn.values.find((_, i) => yn.data![i][at] === 'Y')![at];
    const n = yn.values.find((_, i) => yn.data![i][at] === 'N')![at];
    expect(y - n).toBeCloseTo(2.5, 12);
  });
});

describe('an XGBoost model trained with missing=-999 (xgb_missing999: the scikit-learn wrapper stores it)', () => {
  it('reads a cell of -999 as missing, as predict_proba and pred_contribs do (it was scored as the number -999)', async () => {
    const { explainModel } = await import('../../src/core/analyses/explain/explain');
    const want = JSON.parse(readFileSync(join(models, 'xgb_missing999.expected.json'), 'utf8')) as { p_positive: number[]; contributions: number[][]; bias: number };
    const model = await openModel(ort, read('xgb_missing999.json').bytes, 'xgb_missing999.json');
    expect(model.summary.scoreConvention).toContain('a cell of -999 is read as missing, as the model was trained (missing=-999, learner.attributes.scikit_learn)');
    const table = parseCsv(readFileSync(join(models, 'xgb_missing999.csv'), 'utf8'), { fileName: 'xgb_missing999.csv' });
    const scores = await model.score(table);
    // xgboost sums in float32.
    expect(worstGap(scores, want.p_positive)).toBeLessThan(1e-6);
    const explained = await explainModel(ort, { model: read('xgb_missing999.json'), data: read('xgb_missing999.csv'), rows: 800, method: 'tree-path' });
    expect(worstShap(explained, want.contributions, want.bias)).toBeLessThan(1e-5);
  });

  it('audits the -999 cells as missing throughout (profile, robustness, recourse), the AUC that of predict_proba', async () => {
    const { runAudit } = await import('../../src/core/audit');
    const want = JSON.parse(readFileSync(join(models, 'xgb_missing999.expected.json'), 'utf8')) as { p_positive: number[] };
    const result = await runAudit(ort, { model: read('xgb_missing999.json'), data: read('xgb_missing999.csv'), target: 'y', protectedAttributes: ['sex'], bootstrapResamples: 0 });
    const labels = parseCsv(readFileSync(join(models, 'xgb_missing999.csv'), 'utf8'), { fileName: 'x.csv' }).columns.find((c) => c.name === 'y') as NumericColumn;
    let pairs = 0;
    let wins = 0;
    want.p_positive.forEach((p, i) => {
      if (labels.values[i] !== 1) return;
      want.p_positive.forEach((q, j) => {
        if (labels.values[j] !== 0) return;
        pairs++;
        wins += p > q ? 1 : p === q ? 0.5 : 0;
      });
    });
    expect(result.performance.roc_auc).toBeCloseTo(wins / pairs, 6);
    expect(result.data.columns.find((c) => c.name === 'debt')!.missing).toBe(140);
    // The oracle of "missing throughout": the same rows with those cells blank give the same robustness and recourse.
    const blanks = new TextEncoder().encode(readFileSync(join(models, 'xgb_missing999.csv'), 'utf8').replace(/,-999\.0,/g, ',,'));
    const blank = await runAudit(ort, { model: read('xgb_missing999.json'), data: { fileName: 'xgb_missing999.csv', bytes: blanks }, target: 'y', protectedAttributes: ['sex'], bootstrapResamples: 0 });
    expect(result.robustness!.perturbation).toEqual(blank.robustness!.perturbation);
    expect(result.recourse!.rows).toEqual(blank.recourse!.rows);
    expect(result.performance).toEqual(blank.performance);
  });
});

describe("a regression's reference, for an XGBoost model trained with missing=-999", () => {
  it('reads the reference\'s -999 cells as missing too: its drift equals that of the same reference with those cells blank', async () => {
    const { runAnyAudit } = await import('../../src/core/audit/run');
    // reg_xgb.json as the scikit-learn wrapper writes a model trained with missing=-999.
    const model = new TextEncoder().encode(readFileSync(join(models, 'reg_xgb.json'), 'utf8').replace('\\"missing\\": NaN', '\\"missing\\": -999'));
    const csv = readFileSync(join(models, 'reg.csv'), 'utf8');
    const lines = csv.trimEnd().split('\n');
    const column = lines[0].split(',').indexOf('duration_months');
    const withCell = (cell: string) => new TextEncoder().encode([lines[0], ...lines.slice(1).map((line, i) => (i % 4 === 0 ? line.split(',').map((v, j) => (j === column ? cell : v)).join(',') : line))].join('\n') + '\n');
    const audit = (reference: Uint8Array) =>
      runAnyAudit(ort, { model: { fileName: 'reg_xgb.json', bytes: model }, data: { fileName: 'reg.csv', bytes: new TextEncoder().encode(csv) }, reference: { fileName: 'ref.csv', bytes: reference }, target: 'credit_amount', protectedAttributes: ['gender'], bootstrapResamples: 0, missingSections: { explainer: 'off', robustness: 'off', recourse: 'off' } }) as Promise<RegressionAuditResult>;
    const [sentinel, blank] = await Promise.all([audit(withCell('-999')), audit(withCell(''))]);
    expect(blank.drift!.columns.find((c) => c.column === 'duration_months')!.bins.find((b) => b.label === 'missing')!.reference).toBeGreaterThan(0.2);
    expect(sentinel.drift).toEqual(blank.drift);
  }, 60_000);
});

describe('a model missing value of 0 (XGBClassifier(missing=0)) on a protected attribute the model reads', () => {
  it('keeps the attribute\'s groups (group 0 became "(missing)"); the other inputs\' zeros are missing', async () => {
    const { withModelMissing } = await import('../../src/core/audit/inputs');
    const table = parseCsv('gender,x,y\n0,0,1\n1,2,0\n0,3,1\n', { fileName: 't.csv' });
    const read = withModelMissing(table, { value: 0, inputs: ['gender', 'x'] }, { protectedAttributes: ['gender'] });
    expect(Array.from((read.columns[0] as NumericColumn).values)).toEqual([0, 1, 0]);
    expect(Array.from((read.columns[1] as NumericColumn).values)).toEqual([Number.NaN, 2, 3]);
    expect(read.columns[1].missing).toBe(1);
  });
});

describe('a LightGBM cross_entropy_lambda model', () => {
  it('is refused, naming what it predicts (λ, not a probability); it was audited as 1 − e^−λ, described as sigmoid', async () => {
    const text = readFileSync(join(models, 'lgbm_decision_types.txt'), 'utf8').replace(/^objective=.*$/m, 'objective=cross_entropy_lambda');
    await expect(openModel(ort, new TextEncoder().encode(text), 'xentlambda.txt')).rejects.toThrow(
      new ModelLoadError('xentlambda.txt: the LightGBM objective "cross_entropy_lambda" predicts λ = log(1 + e^margin), an intensity that can exceed 1, not a probability to audit at a threshold. Audit the probability your system uses as a score column (--score, data.score_column), or train the model with objective=binary or cross_entropy.'),
    );
  });
});

describe('a LightGBM multiclassova model (lgbm_ova: German credit housing, classes 0, 1, 2, each its own sigmoid)', () => {
  const want = () => JSON.parse(readFileSync(join(models, 'lgbm_ova.expected.json'), 'utf8')) as { p: number[][]; contributions: number[][][]; expected_value: number[] };
  const table = () => parseCsv(readFileSync(join(models, 'lgbm_ova.csv'), 'utf8'), { fileName: 'lgbm_ova.csv' });

  it('is refused as multiclass with the fix: its classes\' sigmoids do not sum to 1 (it said "sum to 1.0157, not 1: margins?")', async () => {
    const model = await openModel(ort, read('lgbm_ova.txt').bytes, 'lgbm_ova.txt', { positiveLabel: 0 });
    await expect(model.probabilities!(table())).rejects.toThrow(
      new ModelLoadError('lgbm_ova.txt: a LightGBM multiclassova model scores each of its 3 classes with a sigmoid of its own, which do not sum to 1 (as LightGBM predicts them); a multiclass audit reads one probability distribution per row. Audit one class against the rest (positive_label: K, --positive-label K), or train the model with objective=multiclass.'),
    );
  });

  it('audited for one class against the rest, scores it and explains it by TreeSHAP as LightGBM does (it was refused: "a softmax over every class\'s trees")', async () => {
    const { explainModel } = await import('../../src/core/analyses/explain/explain');
    const expected = want();
    const rows = table();
    for (const k of [0, 2]) {
      const model = await openModel(ort, read('lgbm_ova.txt').bytes, 'lgbm_ova.txt', { positiveLabel: k });
      expect(worstGap(await model.score(rows), expected.p.map((p) => p[k]))).toBeLessThan(1e-12);
      const path = await explainModel(ort, { model: read('lgbm_ova.txt'), data: read('lgbm_ova.csv'), rows: 300, method: 'tree-path', positiveLabel: String(k) });
      expect(path.output).toBe('log-odds (raw margin, before the logistic)');
      expect(worstShap(path, expected.contributions[k], expected.expected_value[k])).toBeLessThan(1e-9);
      // Interventional values add up to LightGBM's own log-odds of p(class k), row by row.
      const interventional = await explainModel(ort, { model: read('lgbm_ova.txt'), data: read('lgbm_ova.csv'), rows: 50, method: 'tree', positiveLabel: String(k) });
      const logOdds = expected.p.slice(0, 50).map((p) => Math.log(p[k] / (1 - p[k])));
      expect(worstGap(interventional.values.map((v) => v.reduce((a, b) => a + b, interventional.expected_value)), logOdds)).toBeLessThan(1e-9);
    }
  });
});

describe('an XGBoost multi:softprob model of two classes (xgb_softprob2: German credit, blanks)', () => {
  it('explains p(class k) by TreeSHAP as xgboost does: class k\'s margin minus the other\'s (it was refused as "a softmax over every class\'s trees")', async () => {
    const { explainModel } = await import('../../src/core/analyses/explain/explain');
    const want = JSON.parse(readFileSync(join(models, 'xgb_softprob2.expected.json'), 'utf8')) as { p: number[][]; contributions: number[][][]; bias: number[][] };
    const table = parseCsv(readFileSync(join(models, 'xgb_softprob2.csv'), 'utf8'), { fileName: 'xgb_softprob2.csv' });
    for (const k of [0, 1]) {
      const model = await openModel(ort, read('xgb_softprob2.json').bytes, 'xgb_softprob2.json', { positiveLabel: k });
      expect(worstGap(await model.score(table), want.p.map((p) => p[k]))).toBeLessThan(1e-6);
      const explained = await explainModel(ort, { model: read('xgb_softprob2.json'), data: read('xgb_softprob2.csv'), rows: 300, method: 'tree-path', positiveLabel: String(k) });
      expect(explained.output).toBe('log-odds (raw margin, before the logistic)');
      // xgboost explains each class's margin (float32); p(class k)'s log-odds are their difference.
      const difference = want.contributions[k].map((row, i) => row.map((v, j) => v - want.contributions[1 - k][i][j]));
      expect(worstShap(explained, difference, want.bias[k][0] - want.bias[1 - k][0])).toBeLessThan(1e-5);
    }
  });
});

describe('path-dependent TreeSHAP of one class of a multiclass model', () => {
  it('says why it cannot (p(class) is a softmax over every class\'s trees) and what to use instead', async () => {
    const { explainModel } = await import('../../src/core/analyses/explain/explain');
    // It blamed the file format: "needs a tree ensemble whose trees read the model's own inputs, but this model is xgboost-json".
    await expect(explainModel(ort, { model: read('mc3_xgb.json'), data: read('mc3_xgb.csv'), rows: 3, method: 'tree-path', positiveLabel: '2' })).rejects.toThrow(
      "mc3_xgb.json: the path-dependent TreeSHAP explainer explains one ensemble's sum, and this model's p(class) for one class against the rest is a softmax over every class's trees. Use the kernel explainer (--method kernel, exact up to 12 columns), or audit the model as multiclass (no positive label), whose TreeSHAP explains each class's margin.",
    );
  });
});

describe('path-dependent TreeSHAP of trees without node covers', () => {
  it('says what to use instead, in words for an audit config and for plumbline explain alike (it named only explain\'s --method flag)', async () => {
    const { explainModel } = await import('../../src/core/analyses/explain/explain');
    const want = expected('compas/rf.expected.json');
    await expect(explainModel(ort, { model: { fileName: 'rf.onnx', bytes: fixtureBytes('compas/rf.onnx') }, data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') }, features: want.features, rows: 3, method: 'tree-path' })).rejects.toThrow(
      'rf.onnx: path-dependent TreeSHAP needs node covers (sample counts), which this file does not carry (sklearn-onnx exports have none). Use interventional TreeSHAP with a background (explainer.type: tree in an audit config; --method tree for plumbline explain).',
    );
  });
});

describe('category codes of an XGBoost model (enable_categorical)', () => {
  it('are swapped, not moved by noise, left out of distances, and not moved by recourse (they were treated as amounts)', async () => {
    const { runAudit } = await import('../../src/core/audit');
    const { perturbedColumn, codeInputsOf } = await import('../../src/core/analyses/robustness/stability');
    const bytes = new Uint8Array(readFileSync(join(models, 'xgb_categorical.json')));
    const json = JSON.parse(readFileSync(join(models, 'xgb_categorical.json'), 'utf8').replace(/\bNaN\b/g, 'null'));
    // The file's own feature_types: "c" marks the categorical features.
    const coded = (json.learner.feature_names as string[]).filter((_, j) => json.learner.feature_types[j] === 'c');
    expect(coded.length).toBeGreaterThan(0);
    const model = await openModel(ort, bytes, 'xgb_categorical.json');
    expect([...codeInputsOf(model.summary)].sort()).toEqual([...coded].sort());
    const data = new Uint8Array(readFileSync(join(models, 'xgb_categorical.csv')));
    const result = await runAudit(ort, { model: { fileName: 'xgb_categorical.json', bytes }, data: { fileName: 'xgb_categorical.csv', bytes: data }, target: 'high_income', positiveLabel: '1', protectedAttributes: ['sex', 'race'], bootstrapResamples: 0, recourse: { maxRows: 20 }, missingSections: { explainer: 'off' } });
    for (const name of coded) {
      const rule = result.recourse!.columns.find((c) => c.column === name)!;
      expect(rule.changes, name).toBe('never');
      expect(result.robustness!.consistency!.columns, name).not.toContain(name);
      for (const row of result.recourse!.rows) for (const c of row.counterfactuals) expect(c.changes.map((x) => x.column)).not.toContain(name);
    }
    // The codes known are 0 to the highest any split of the file lists (a split lists one side only: a trained code may be listed by none).
    const feature = json.learner.feature_names.indexOf(coded[0]);
    const listed = (json.learner.gradient_booster.model.trees as { split_indices: number[]; categories: number[]; categories_nodes: number[]; categories_segments: number[]; categories_sizes: number[] }[]).flatMap((tree) =>
      tree.categories_nodes.flatMap((node, k) => (tree.split_indices[node] === feature ? tree.categories.slice(tree.categories_segments[k], tree.categories_segments[k] + tree.categories_sizes[k]) : [])),
    );
    expect(model.summary.inputs.find((input) => input.name === coded[0])!.categories!.values).toEqual(Array.from({ length: Math.max(...listed) + 1 }, (_, code) => code));
    // Their codes are the categories' fidelity knows: none unseen. A column of the categories themselves (10, 20, …) is named (it was scored as codes without a word).
    for (const name of coded) expect(result.input_fidelity!.inputs.find((e) => e.input === name)!.unseen!.count, name).toBe(0);
    const csv = readFileSync(join(models, 'xgb_categorical.csv'), 'utf8');
    const header = csv.split('\n')[0].split(',');
    const at = header.indexOf(coded[0]);
    const raw = csv.split('\n').map((line, i) => (i === 0 || line === '' ? line : line.split(',').map((v, j) => (j === at && v !== '' ? String(Number(v) * 10 + 10) : v)).join(','))).join('\n');
    const rawResult = await runAudit(ort, { model: { fileName: 'xgb_categorical.json', bytes }, data: { fileName: 'raw.csv', bytes: new TextEncoder().encode(raw) }, target: 'high_income', positiveLabel: '1', protectedAttributes: ['sex'], bootstrapResamples: 0, missingSections: { explainer: 'off', robustness: 'off', recourse: 'off' } });
    const unseen = rawResult.input_fidelity!.inputs.find((e) => e.input === coded[0])!.unseen!;
    expect(unseen.share).toBeGreaterThan(0.5);
    expect(rawResult.data.findings.find((f) => f.check === 'unseen_category' && f.column === coded[0])!.severity).toBe('error');
    // A perturbed code column holds only codes the file holds.
    const table = parseCsv(readFileSync(join(models, 'xgb_categorical.csv'), 'utf8'), { fileName: 'xgb_categorical.csv' });
    const column = table.columns.find((c) => c.name === coded[0]) as NumericColumn;
    const observed = new Set(Array.from(column.values).filter((v) => !Number.isNaN(v)));
    const swapped = perturbedColumn(column, 0.5, new Random(1, 'test'), undefined, new Set(coded)) as NumericColumn;
    expect(swapped.kind).toBe('numeric');
    expect(Array.from(swapped.values).filter((v) => !Number.isNaN(v)).every((v) => observed.has(v))).toBe(true);
    expect(Array.from(swapped.values).some((v, i) => v !== column.values[i] && !Number.isNaN(v))).toBe(true);
    await model.release();
  }, 60_000);
});
