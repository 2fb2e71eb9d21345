/**
 * The tree formats (XGBoost JSON, LightGBM text): their summary, and a classifier scored by
 * the project's own tree evaluator in float64 (large tables handed to the worker pool).
 */
import { AuditConfigError, closeMatches, ModelLoadError, quote } from '../base/errors';
import { allRows, findColumn, type Table } from '../data/table';
import { chooseClass, type ClassLabel } from './classes';
import { classEnsemble, compileEnsemble, ensembleColumn, hasLinearLeaves, kernelModelFor, looksLikeLightgbmText, looksLikeXgboostJson, marginsOf, readLightgbmText, readXgboostJson, transformMargin, type CompiledEnsemble, type TreeEnsemble } from './tree';
import { exp } from '../base/math';
import { treeRowsWorthPool, type Classifier, type ModelFormat, type ModelSummary, type ReopenableModel, type ScoreOptions, type TreeMarginRunner } from './classifier-types';
import { firstNonNumber } from '../data/csv/numbers';
import { onnxLogistic } from './onnx-tree-scoring';

function treeSummary(ensemble: TreeEnsemble, fileName: string, scoreConvention = ensemble.description): ModelSummary {
  const classes = ensemble.multiclass?.classes ?? 2;
  // Features some tree splits on by category (rules 2 and 3; 4 is ONNX's <=): their numbers are category codes.
  const coded = new Array<boolean>(ensemble.featureNames.length).fill(false);
  // XGBoost lists no feature's categories, only each split's: a code no split lists goes the unlisted way at every split, as an unseen one.
  const listed = ensemble.featureNames.map(() => new Set<number>());
  for (const tree of ensemble.trees) {
    for (let node = 0; node < tree.rule.length; node++) {
      if ((tree.rule[node] !== 2 && tree.rule[node] !== 3) || tree.left[node] < 0) continue;
      coded[tree.feature[node]] = true;
      for (const code of tree.categories[node] ?? []) listed[tree.feature[node]].add(code);
    }
  }
  return {
    format: ensemble.format,
    fileName,
    inputs: ensemble.featureNames.map((name, j) => {
      const known = ensemble.featureCategories?.[j];
      const pandas = ensemble.pandasCategories?.[j];
      return {
        name,
        valueKind: 'tensor',
        elementType: 'float64',
        shape: [null, 1],
        categories: pandas
          ? { values: [...pandas], from: "LightGBM pandas_categorical (the training DataFrame's categories; a cell is read as its position among them)", unknown: 'read as missing (NaN), as LightGBM reads a value not among a pandas column’s categories' }
          : known
            ? { values: known, from: 'LightGBM feature_infos (the categories seen in training)', unknown: 'sent down the branch of categories not listed at each split' }
            : ensemble.format === 'xgboost-json' && coded[j]
              ? { values: codesUpTo(listed[j]), from: "XGBoost's categorical splits (codes 0 to the highest code a split lists: the model was trained on codes 0…k−1, pandas' cat.codes)", unknown: 'sent down the branch of unlisted categories at every split (a value that is not a code from 0 to the highest listed suggests the column holds the categories themselves, not the codes the model was trained on: encode them as in training)' }
              : null,
        ...(coded[j] ? { categoryCodes: true as const } : {}),
      };
    }),
    outputs: [{ name: 'probability', valueKind: 'tensor', elementType: 'float64', shape: [null, classes === 2 ? 1 : classes] }],
    classLabels: null,
    classCount: classes,
    needsFeatureOrder: ensemble.unnamedFeatures === true,
    featureCount: ensemble.featureNames.length,
    producer: ensemble.format === 'xgboost-json' ? 'XGBoost' : 'LightGBM',
    operators: [],
    opsets: [],
    scoreConvention,
  };
}

/**
 * The codes an XGBoost categorical feature knows: 0 to the highest code a split lists. A split
 * lists only the categories that go one way (one, for a one-hot split), so a trained code may
 * be listed by none; every code up to the highest listed is one the model was trained on.
 */
function codesUpTo(listed: ReadonlySet<number>): number[] {
  const highest = Math.max(-1, ...[...listed].filter((code) => Number.isInteger(code) && code >= 0));
  return Array.from({ length: highest + 1 }, (_, code) => code);
}

/** Rows per progress report of the tree evaluator. */
const TREE_BATCH_ROWS = 16384;

/** A binary ensemble whose margin is class 0's: every leaf and the base margin negated (sigmoid(−m) = 1 − p). */
function negatedEnsemble(ensemble: TreeEnsemble): TreeEnsemble {
  const trees = ensemble.trees.map((tree) => ({
    ...tree,
    value: tree.value.map((v) => -v),
    ...(tree.linear ? { linear: { constant: tree.linear.constant.map((v) => -v), features: tree.linear.features, coefficients: tree.linear.coefficients.map((c) => c.map((v) => -v)) } } : {}),
  }));
  return { ...ensemble, trees, baseMargin: -ensemble.baseMargin, description: `${ensemble.description}; for class 0 every leaf and the base margin are negated (p(0) = sigmoid(−margin))` };
}

/**
 * A classifier scored by the project's own tree evaluator, in float64. XGBoost and
 * LightGBM files name no classes: a binary model's output is p(class 1) (class 0 is scored
 * as its negated margin), a multiclass model's classes are 0…C−1, audited one-vs-rest for
 * the positive label (see {@link chooseClass}).
 */
export function treeClassifier(model: TreeEnsemble, fileName: string, runner?: TreeMarginRunner, positiveLabel?: ClassLabel, classLabels?: readonly string[]): Classifier {
  /**
   * p(class k) of every row from the classes' margins: the softmax (shifted by the largest
   * margin so no exp overflows), or for one-vs-all objectives (LightGBM multiclassova) each
   * class's own sigmoid, as the library predicts them.
   */
  const classProbability = (margins: Float64Array[], k: number): Float64Array => {
    const n = margins[0].length;
    const scores = new Float64Array(n);
    if (model.multiclass?.transform === 'logistic') {
      for (let i = 0; i < n; i++) scores[i] = 1 / (1 + exp(-model.marginScale * margins[k][i]));
      return scores;
    }
    if (model.multiclass?.transform === 'identity') return Float64Array.from(margins[k]);
    for (let i = 0; i < n; i++) {
      let max = Number.NEGATIVE_INFINITY;
      for (const m of margins) max = Math.max(max, m[i]);
      let sum = 0;
      for (const m of margins) sum += exp(m[i] - max);
      scores[i] = exp(margins[k][i] - max) / sum;
    }
    return scores;
  };
  const classes = model.multiclass?.classes ?? 1;
  const choice = chooseClass({ fileName, output: 'probability', labels: null, width: classes, positiveLabel, configured: classLabels });
  const ensemble = choice.complement ? negatedEnsemble(model) : model;
  // One margin per class for a multiclass model (each class's trees on their own).
  const parts = model.multiclass ? Array.from({ length: classes }, (_, k) => classEnsemble(model, k)) : [ensemble];
  const compiledParts: CompiledEnsemble[] = parts.map((part) => compileEnsemble(part));
  const features = (table: Table) => {
    if (model.unnamedFeatures) {
      const count = model.featureNames.length;
      const called = model.format === 'lightgbm-text' ? `LightGBM calls them Column_0…Column_${count - 1}` : `XGBoost calls them f0…f${count - 1}`;
      throw new AuditConfigError(`${fileName}: the model names no features (trained on an array: ${called}). List its ${count} columns in training order with model.features (--features a,b,…).`);
    }
    const names = table.columns.map((c) => c.name);
    const missing = model.featureNames.filter((name) => !findColumn(table, name));
    if (missing.length > 0) {
      const list = missing.slice(0, 5).map((name) => {
        const close = closeMatches(name, names);
        return `${quote(name)}${close.length ? ` (close: ${close.join(', ')})` : ''}`;
      });
      throw new AuditConfigError(`${fileName}: the model uses ${model.featureNames.length} feature columns and ${table.source} lacks ${missing.length}: ${list.join('; ')}${missing.length > 5 ? '; …' : ''}. Rename the columns or choose the matching data file.`);
    }
    for (const [j, name] of model.featureNames.entries()) {
      const column = findColumn(table, name)!;
      // A pandas category feature takes its categories' texts (its cells are looked up in them).
      if (column.kind !== 'numeric' && !model.pandasCategories?.[j]) {
        throw new AuditConfigError(`${table.source}, column ${quote(name)}: the model splits on numbers, but this column holds text (${firstNonNumber(table, column)}). Encode it as the model was trained (category codes).`);
      }
    }
    return [...model.featureNames];
  };
  /** The feature columns as the model reads them (its own missing value as NaN, pandas categories as their positions). */
  const inputColumns = (table: Table) => features(table).map((name, j) => ensembleColumn(model, j, findColumn(table, name)!));
  /** Margins of one part (a class's trees, or the whole binary model) for `rows`. */
  const partMargins = async (k: number, columns: Float64Array[], rows: Uint32Array, options: ScoreOptions): Promise<Float64Array> => {
    const part = parts[k];
    const compiled = compiledParts[k];
    if (runner && treeRowsWorthPool(rows.length, part.trees.length)) {
      return runner({ ensemble: part, kernelModel: kernelModelFor(compiled, columns.length), columns, rows }, { signal: options.signal, onProgress: (done, total) => options.onProgress?.((k * total + done) / parts.length, total) });
    }
    const margins = new Float64Array(rows.length);
    for (let start = 0; start < rows.length; start += TREE_BATCH_ROWS) {
      options.signal?.throwIfAborted();
      const end = Math.min(rows.length, start + TREE_BATCH_ROWS);
      marginsOf(part, compiled, columns, rows.subarray(start, end), margins.subarray(start, end));
      options.onProgress?.((k * rows.length + end) / parts.length, rows.length);
    }
    return margins;
  };
  const summary = treeSummary(model, fileName, `${choice.convention}: ${ensemble.description}`);
  return {
    summary,
    // TreeSHAP explains one margin of plain leaves: not a class of several (save a one-vs-rest
    // model's: p(class k) is the sigmoid of class k's trees alone), nor linear leaves.
    ensemble: hasLinearLeaves(model) ? null : !model.multiclass ? ensemble : model.multiclass.transform === 'logistic' ? oneVsRestEnsemble(model, choice.column) : model.multiclass.transform === 'softmax' && classes === 2 ? twoClassEnsemble(model, choice.column) : null,
    classChoice: async () => choice,
    features,
    async score(table, options = {}) {
      const columns = inputColumns(table);
      const rows = options.rows ?? allRows(table.rowCount);
      if (!model.multiclass) {
        const scores = await partMargins(0, columns, rows, options);
        for (let i = 0; i < scores.length; i++) scores[i] = transformMargin(ensemble, scores[i]);
        return scores;
      }
      const margins: Float64Array[] = [];
      for (let k = 0; k < classes; k++) margins.push(await partMargins(k, columns, rows, options));
      return classProbability(margins, choice.column);
    },
    async probabilities(table, options = {}) {
      const columns = inputColumns(table);
      const rows = options.rows ?? allRows(table.rowCount);
      if (!model.multiclass) {
        // A binary model: p(class 1) and its complement, in class order 0, 1.
        const margins = await partMargins(0, columns, rows, options);
        const values = new Float64Array(rows.length * 2);
        for (let i = 0; i < rows.length; i++) {
          const p = transformMargin(model, margins[i]);
          values[2 * i] = 1 - p;
          values[2 * i + 1] = p;
        }
        return { width: 2, values };
      }
      if (model.multiclass.transform === 'logistic') {
        // LightGBM multiclassova: each class its own sigmoid, as LightGBM's predict gives them; they do not sum to 1.
        throw new ModelLoadError(`${fileName}: a LightGBM multiclassova model scores each of its ${classes} classes with a sigmoid of its own, which do not sum to 1 (as LightGBM predicts them); a multiclass audit reads one probability distribution per row. Audit one class against the rest (positive_label: K, --positive-label K), or train the model with objective=multiclass.`);
      }
      const margins: Float64Array[] = [];
      for (let k = 0; k < classes; k++) margins.push(await partMargins(k, columns, rows, options));
      const values = new Float64Array(rows.length * classes);
      for (let k = 0; k < classes; k++) {
        const p = classProbability(margins, k);
        for (let i = 0; i < rows.length; i++) values[i * classes + k] = p[i];
      }
      return { width: classes, values };
    },
    release: async () => undefined,
  };
}
/**
 * Class k's trees of a one-vs-rest model (LightGBM multiclassova) as a binary ensemble: p(class
 * k) is the sigmoid of their sum alone (LightGBM's sigmoid parameter scaling it), whatever the
 * other classes' trees give, so TreeSHAP explains it as it explains a binary model.
 */
function oneVsRestEnsemble(model: TreeEnsemble, k: number): TreeEnsemble {
  const part = classEnsemble(model, k);
  return { ...part, transform: 'logistic', marginScale: model.marginScale, description: `${model.description}; class ${k}'s trees alone (one-vs-rest)` };
}

/**
 * A softmax over two classes as a binary ensemble: p(class k) = softmax(m_k, m_j)_k =
 * sigmoid(m_k − m_j), so class k's trees with the other class's negated (and the difference
 * of their base margins) are one ensemble whose sum is p(class k)'s log-odds — an XGBoost
 * multi:softprob model of two classes, explained by TreeSHAP as a binary model is.
 */
function twoClassEnsemble(model: TreeEnsemble, k: number): TreeEnsemble {
  const own = classEnsemble(model, k);
  const other = negatedEnsemble(classEnsemble(model, 1 - k));
  return { ...own, trees: [...own.trees, ...other.trees], baseMargin: own.baseMargin + other.baseMargin, transform: 'logistic', marginScale: 1, description: `${model.description}; class ${k}'s trees and class ${1 - k}'s negated (p(class ${k}) = sigmoid of their sum)` };
}

/** The XGBoost JSON format (save_model("model.json")). */
export const xgboostFormat: ModelFormat = {
  id: 'xgboost-json',
  match: looksLikeXgboostJson,
  inspect: (bytes, fileName) => treeSummary(readXgboostJson(bytes, fileName), fileName),
  open: async (_ort, bytes, fileName, options) => opened({ ensemble: readXgboostJson(bytes, fileName, 'classifier', options?.features), fileName, positiveLabel: options?.positiveLabel, classLabels: options?.classLabels }, options?.treeMargins),
};
/** The LightGBM text format (save_model("model.txt")). */
export const lightgbmFormat: ModelFormat = {
  id: 'lightgbm-text',
  match: looksLikeLightgbmText,
  inspect: (bytes, fileName) => treeSummary(readLightgbmText(bytes, fileName), fileName),
  open: async (_ort, bytes, fileName, options) => opened({ ensemble: readLightgbmText(bytes, fileName, options?.features), fileName, positiveLabel: options?.positiveLabel, classLabels: options?.classLabels }, options?.treeMargins),
};

/**
 * The tree classifiers opened from a file, by the classifier object itself (a wrapper made
 * from one, by spreading it, is not among them): the model a pool's thread opens again, or
 * (an ONNX classifier, see {@link reopenableWhen}) what says whether there is one yet.
 */
const reopenable = new WeakMap<Classifier, () => ReopenableModel | null>();

/** A tree classifier of the trees read from a file, noted as {@link reopenable}. */
function opened(model: ReopenableModel, runner?: TreeMarginRunner): Classifier {
  const trees = treeClassifier(model.ensemble, model.fileName, runner, model.positiveLabel, model.classLabels);
  // An ONNX classifier's column: the kernel's float32 margin, then onnxruntime's post-transform.
  const output = model.onnxPostTransform === 'LOGISTIC' ? onnxLogistic : null;
  const classifier: Classifier = output ? { ...trees, score: async (table, options) => (await trees.score(table, options)).map(output) } : trees;
  reopenable.set(classifier, () => model);
  return classifier;
}

/** Notes `classifier` (an ONNX tree classifier) as one a pool's thread may open again whenever `model` gives a model. */
export function reopenableWhen(classifier: Classifier, model: () => ReopenableModel | null): void {
  reopenable.set(classifier, model);
}

/**
 * The trees, file name and positive label `classifier` was opened with, when a pool's thread
 * may open it again and score as it does: a tree classifier opened by {@link openModel} (XGBoost JSON,
 * LightGBM text), or an ONNX tree classifier the kernel scores. Null for every other
 * classifier, and for any object built from one (a regression's scorer, a class of a
 * multiclass model): those are scored where they are.
 */
export function reopenableModel(classifier: Classifier): ReopenableModel | null {
  return reopenable.get(classifier)?.() ?? null;
}

/** Opens again, on this thread, a model {@link reopenableModel} gave (its scores computed here). */
export function reopenModel(model: ReopenableModel): Classifier {
  return opened(model);
}
