/**
 * SHAP explanations of multiclass and regression models. Tree ensembles: interventional
 * TreeSHAP of each class's margin (multiclass; see explain/class-treeshap) or of the
 * prediction (regression) against background rows — a row is explained for its predicted
 * class, and, when its label is another class, for that class too (why it was not chosen).
 * Other models: KernelSHAP of the predicted class's probability, or of the prediction.
 */
import { findColumn, type Table } from '../data/table';
import { ExplainerCompatibilityError, quote } from '../base/errors';
import { gather } from '../base/rows';
import { classTreeShap } from '../analyses/explain/class-treeshap';
import { cellVectors, checkFinite, chooseRows } from '../analyses/explain/explain';
import { exactKernelShap, MAX_EXACT_KERNEL_COLUMNS, sampledCoalitions, sampledKernelShap } from '../analyses/explain/kernelshap';
import { checkStageMemory, explainEstimate, type StageEstimate } from '../base/limits';
import { globalImportance } from '../analyses/explain/outputs';
import type { ShapValues, TreeShapRunner } from '../analyses/explain/treeshap';
import { allRows } from '../data/table';
import type { Classifier, ScoreOptions } from '../model/classifier';
import type { TreeEnsemble } from '../model/tree';
import type { TaskExplanations } from './result';

/** What is explained and against what. */
export interface TaskExplainInput {
  table: Table;
  background: Table;
  columns: string[];
  rows: number;
  backgroundRows: number;
  seed: number;
  features?: string[];
  signal?: AbortSignal;
  treeShap?: TreeShapRunner;
  /** The stage's memory budget (limits.stage_memory_mb), checked before the work starts. */
  memoryBytes?: number;
}

/** Refuses an explanation whose estimate passes the stage's memory budget, as a binary audit's explainer does. */
function checkBudget(input: TaskExplainInput, estimate: StageEstimate): void {
  if (input.memoryBytes !== undefined) checkStageMemory('The explanations', estimate, { memoryBytes: input.memoryBytes, seconds: null });
}

/** Checks KernelSHAP's estimate for `rows` explained rows against the budget; whether it samples coalitions (past {@link MAX_EXACT_KERNEL_COLUMNS} columns). */
function kernelBudget(input: TaskExplainInput, rows: number, backgroundRows: number): boolean {
  const sampled = input.columns.length > MAX_EXACT_KERNEL_COLUMNS;
  checkBudget(input, explainEstimate(sampled ? 'kernel-sampled' : 'kernel-exact', rows, backgroundRows, input.columns.length, sampled ? sampledCoalitions(input.columns.length) : 2 ** input.columns.length));
  return sampled;
}

/** A multiclass model as the explainer needs it. */
export interface MulticlassModel {
  classes: string[];
  /** The ensemble of C margins, when the model is trees the project reads. */
  ensemble: TreeEnsemble | null;
  /** Predicted class and label (indices) of every row. */
  predicted: Int32Array;
  labels: Int32Array;
  /** p(class k) of the given rows (for KernelSHAP). */
  classScore(k: number): Classifier['score'];
  base: Classifier;
}

function checkColumns(input: TaskExplainInput): void {
  for (const name of input.columns) {
    if (!findColumn(input.background, name)) throw new ExplainerCompatibilityError(`${input.background.source}: the background lacks the model column ${quote(name)}. Use a reference file with the same columns as the data.`);
  }
}

function backgroundText(input: TaskExplainInput, count: number): string {
  return `seeded sample of ${count} rows of ${input.background.source}`;
}

/** A classifier whose score is another function (KernelSHAP explains `score`). */
function scoring(base: Classifier, score: Classifier['score']): Classifier {
  return { ...base, score, ensemble: null };
}

async function kernel(model: Classifier, input: TaskExplainInput, rows: Uint32Array, bgRows: Uint32Array): Promise<{ shap: ShapValues; method: TaskExplanations['method'] }> {
  const sampled = kernelBudget(input, rows.length, bgRows.length);
  if (sampled) {
    return { shap: await sampledKernelShap(model, input.columns, input.table, rows, input.background, bgRows, { seed: input.seed, features: input.features, signal: input.signal }), method: 'kernel (sampled)' };
  }
  return { shap: await exactKernelShap(model, input.columns, input.table, rows, input.background, bgRows, { features: input.features, signal: input.signal }), method: 'kernel (exact)' };
}

/** Explains a regression model's prediction of the first rows. */
export async function explainRegression(model: Classifier, ensemble: TreeEnsemble | null, input: TaskExplainInput): Promise<TaskExplanations> {
  checkColumns(input);
  const rows = allRows(Math.min(input.table.rowCount, input.rows));
  const bgRows = chooseRows(input.background.rowCount, input.backgroundRows, 'sample', input.seed);
  let shap: ShapValues;
  let method: TaskExplanations['method'];
  if (ensemble) {
    checkBudget(input, explainEstimate('tree', rows.length, bgRows.length, input.columns.length));
    [shap] = await classTreeShap(ensemble, cellVectors(input.table, input.columns, rows, ensemble), { background: cellVectors(input.background, input.columns, bgRows, ensemble), signal: input.signal, run: input.treeShap });
    method = 'tree (interventional)';
  } else {
    ({ shap, method } = await kernel(model, input, rows, bgRows));
  }
  checkFinite(shap, model.summary.fileName, method.startsWith('kernel'));
  const values = shap.values.map((v) => Array.from(v));
  return {
    method,
    output: 'the prediction, in the target’s units',
    columns: input.columns,
    rows: Array.from(rows, (r) => r + 1),
    values,
    expected_values: values.map(() => shap.expectedValue),
    background: backgroundText(input, bgRows.length),
    local_accuracy_error: shap.localAccuracyError,
    global_importance: globalImportance(input.columns, values),
  };
}

/** Explains each of the first rows for its predicted class (and its label's class when that differs). */
export async function explainMulticlass(model: MulticlassModel, input: TaskExplainInput): Promise<TaskExplanations> {
  checkColumns(input);
  const rows = allRows(Math.min(input.table.rowCount, input.rows));
  const bgRows = chooseRows(input.background.rowCount, input.backgroundRows, 'sample', input.seed);
  const C = model.classes.length;
  const predicted = Int32Array.from(gather(model.predicted, rows));
  const labels = Int32Array.from(gather(model.labels, rows));
  const rowValues: number[][] = [];
  const expected: number[] = [];
  const denied: NonNullable<TaskExplanations['denied']> = [];
  let localError = 0;
  let method: TaskExplanations['method'];
  let output: string;
  let classImportance: TaskExplanations['class_importance'];
  if (model.ensemble) {
    // A row's values for every class are held: C times the binary estimate's.
    checkBudget(input, explainEstimate('tree', rows.length * model.classes.length, bgRows.length, input.columns.length));
    const perClass = await classTreeShap(model.ensemble, cellVectors(input.table, input.columns, rows, model.ensemble), { background: cellVectors(input.background, input.columns, bgRows, model.ensemble), signal: input.signal, run: input.treeShap });
    for (let i = 0; i < rows.length; i++) {
      const shap = perClass[predicted[i]];
      rowValues.push(Array.from(shap.values[i]));
      expected.push(shap.expectedValue);
      if (labels[i] !== predicted[i]) {
        const other = perClass[labels[i]];
        denied.push({ row: rows[i] + 1, class: model.classes[labels[i]], values: Array.from(other.values[i]), expected_value: other.expectedValue });
      }
    }
    localError = Math.max(...perClass.map((s) => s.localAccuracyError));
    classImportance = Object.fromEntries(model.classes.map((c, k) => [c, globalImportance(input.columns, perClass[k].values.map((v) => Array.from(v)))]));
    method = 'tree (interventional)';
    // A forest averaging class shares (ONNX post_transform NONE) explains each class's probability itself.
    output = model.ensemble.multiclass?.transform === 'identity' ? 'each class’s probability (the forest’s averaged share of the class), for the row’s predicted class' : 'each class’s margin (log-odds before the softmax), for the row’s predicted class';
  } else {
    // KernelSHAP of p(predicted class): the rows of each predicted class together.
    const byRow = new Array<{ values: number[]; expected: number }>(rows.length);
    method = 'kernel (exact)';
    // Checked for every explained row at once (each class's call below holds some of them).
    kernelBudget(input, rows.length, bgRows.length);
    for (let k = 0; k < C; k++) {
      const mine = rows.filter((_, i) => predicted[i] === k);
      if (mine.length === 0) continue;
      const explained = await kernel(scoring(model.base, model.classScore(k)), input, Uint32Array.from(mine), bgRows);
      method = explained.method;
      localError = Math.max(localError, explained.shap.localAccuracyError);
      let j = 0;
      rows.forEach((_, i) => {
        if (predicted[i] === k) byRow[i] = { values: Array.from(explained.shap.values[j++]), expected: explained.shap.expectedValue };
      });
    }
    for (const entry of byRow) {
      rowValues.push(entry.values);
      expected.push(entry.expected);
    }
    output = 'p(predicted class), the model’s probability of the row’s predicted class';
  }
  checkFinite({ values: rowValues, expectedValue: expected.every(Number.isFinite) ? 0 : Number.NaN, columns: input.columns }, model.base.summary.fileName, method.startsWith('kernel'));
  return {
    method,
    output,
    columns: input.columns,
    rows: Array.from(rows, (r) => r + 1),
    classes: Array.from(predicted, (k) => model.classes[k]),
    values: rowValues,
    expected_values: expected,
    ...(model.ensemble ? { denied } : {}),
    background: backgroundText(input, bgRows.length),
    local_accuracy_error: localError,
    global_importance: globalImportance(input.columns, rowValues),
    ...(classImportance ? { class_importance: classImportance } : {}),
  };
}

/** `p(class k)` as a score function, from a classifier's probabilities. */
export function classScoreOf(base: Classifier, k: number): Classifier['score'] {
  return async (table: Table, options?: ScoreOptions) => {
    const { width, values } = await base.probabilities!(table, options);
    const n = values.length / width;
    return Float64Array.from({ length: n }, (_, i) => values[i * width + k]);
  };
}
