/**
 * Which kind of audit a model and a target call for — binary, multiclass or regression —
 * and the truth each reads from the target column. The task is configured (`task:`,
 * `--task`) or inferred from the model and the target, and the result says which and why.
 */
import { findColumn, requireColumn, type Table } from '../data/table';
import { AuditConfigError, ModelLoadError, quote } from '../base/errors';
import { inspectModel, modelFormatOf } from '../model/classifier';
import type { ClassLabel } from '../model/classes';
import { onnxLooksLikeRegressor, xgboostObjective } from '../model/kind';
import { XGBOOST_REGRESSION_OBJECTIVES } from '../model/tree';
import type { AuditTask } from './result';
import { firstNonNumber } from '../data/csv/numbers';

/** The task an audit runs, and how it was chosen (in words, for the result). */
export interface TaskChoice {
  task: AuditTask;
  source: string;
  /** A binary audit inferred for a model that looks like a regressor (one numeric output, no classes): a refusal of its target says how to audit it as one. */
  regressionHint?: string;
}

/** What the choice reads from the request. */
export interface TaskRequest {
  task?: AuditTask;
  model?: { bytes: Uint8Array; fileName: string };
  scoreColumn?: string;
  target: string;
  positiveLabel?: string;
  /** model.class_labels: names the classes of a file that names none, and so how many there are. */
  classLabels?: readonly string[];
}

const TASKS: readonly AuditTask[] = ['binary', 'multiclass', 'regression'];

/** Whether the target holds numbers with more than two distinct values (a quantity, not two classes). */
function numericOutcome(table: Table, target: string): boolean {
  const column = findColumn(table, target);
  if (!column || column.kind !== 'numeric') return false;
  const seen = new Set<number>();
  for (const v of column.values) {
    if (!Number.isNaN(v)) seen.add(v);
    if (seen.size > 2) return true;
  }
  return false;
}

/** Why a model is not audited as a regression, and the fix: it is a classifier, or a regression of a kind not read (a LightGBM regressor, XGBoost count:poisson). */
function notRegressor(bytes: Uint8Array, format: string, objective: string | null): string {
  const classifier = 'Set task to binary or multiclass, or choose the regression model.';
  if (format === 'lightgbm-text') {
    const lightgbm = /^objective=(\S+)/m.exec(new TextDecoder().decode(bytes.subarray(0, 4096)))?.[1] ?? '';
    if (/^(binary|multiclass|multiclassova|cross_entropy|xentropy)$/.test(lightgbm)) return `is a classifier (objective ${lightgbm}). ${classifier}`;
    return `is a LightGBM model with the objective ${quote(lightgbm || 'missing')}: LightGBM regressors are not read yet. Convert the model to ONNX (onnxmltools.convert_lightgbm) and audit that file.`;
  }
  if (objective !== null && !/^(binary|multi):/.test(objective)) {
    return `has the XGBoost objective ${objective}, which is not a regression this audit reads (it reads ${XGBOOST_REGRESSION_OBJECTIVES.join(', ')}). Export the model to ONNX, or train it with one of those objectives.`;
  }
  return `is a classifier${objective ? ` (objective ${objective})` : ''}. ${classifier}`;
}

/**
 * The task of an audit. Configured: checked against the model (a regressor is not audited
 * as a classifier, nor the reverse). Inferred: an XGBoost regression objective, or an ONNX
 * model with one numeric output and no classes scored against a numeric target of more than
 * two values, is a regression; a model of more than two classes is multiclass — unless a
 * positive label is set, which keeps the one-vs-rest binary audit of that class; else binary.
 */
export function chooseTask(request: TaskRequest, table: Table): TaskChoice {
  if (request.task !== undefined && !TASKS.includes(request.task)) {
    throw new AuditConfigError(`task: ${quote(String(request.task))} is not a task Plumbline audits. Set task to binary, multiclass or regression, or leave it out to infer it from the model and the target.`);
  }
  if (!request.model) {
    if (request.task && request.task !== 'binary') {
      throw new AuditConfigError(`task: ${request.task} needs the model file: a score column (${quote(request.scoreColumn ?? '')}) is audited as a binary classifier's p(positive). Give the model (--model / model.path), or leave task out.`);
    }
    return { task: 'binary', source: request.task ? 'configured (task: binary)' : 'a score column is audited as a binary classifier' };
  }
  const { bytes, fileName } = request.model;
  const format = modelFormatOf(bytes, fileName).id;
  const objective = format === 'xgboost-json' ? xgboostObjective(bytes) : null;
  const regressor = objective !== null ? XGBOOST_REGRESSION_OBJECTIVES.includes(objective) : format === 'onnx' ? onnxLooksLikeRegressor(bytes, fileName) : false;
  if (request.task === 'regression') {
    if (!regressor) throw new AuditConfigError(`task: regression, but ${fileName} ${notRegressor(bytes, format, objective)}`);
    return { task: 'regression', source: 'configured (task: regression)' };
  }
  if (regressor && objective !== null) {
    if (request.task) throw new AuditConfigError(`task: ${request.task}, but ${fileName} is a regressor (objective ${objective}): it predicts a number, not a class. Set task: regression (--task regression).`);
    // A target of two values under a regression objective: often a classifier trained with a custom objective (xgb.train(obj=…) saves reg:squarederror), whose output is a margin.
    const twoValues = findColumn(table, request.target) !== undefined && !numericOutcome(table, request.target);
    return { task: 'regression', source: `inferred: ${fileName} was trained with the regression objective ${objective}${twoValues ? `; the target ${quote(request.target)} holds two values at most — if the model is a classifier trained with a custom objective (saved as ${objective}), its output is a margin, not a prediction of the target, and these errors mean nothing` : ''}` };
  }
  // reg:logistic is read as a classifier's p(positive); against a target of shares it is a regression of a share, which no audit here reads.
  if (objective === 'reg:logistic' && request.task !== 'binary' && numericOutcome(table, request.target)) {
    throw new AuditConfigError(`${fileName} has the XGBoost objective reg:logistic, which is audited as a binary classifier's p(positive), and the target ${quote(request.target)} holds numbers of more than two values (shares?): a regression of a share is not audited. Audit it against the two-class outcome it predicts (--target), or audit its predictions as a score column (--score).`);
  }
  if (regressor && !request.task && numericOutcome(table, request.target)) {
    return { task: 'regression', source: `inferred: ${fileName} has one numeric output and names no classes, and the target ${quote(request.target)} holds numbers with more than two values (set task: binary if the output is a probability)` };
  }
  let classCount: number | null = null;
  try {
    classCount = inspectModel(bytes, fileName).classCount;
  } catch (error) {
    if (!(error instanceof ModelLoadError)) throw error;
  }
  // A file that does not say how many classes it scores (an ONNX probability tensor of no fixed width): the classes model.class_labels names.
  const fromLabels = classCount === null && request.classLabels !== undefined && request.classLabels.length > 0;
  if (fromLabels) classCount = request.classLabels!.length;
  const counted = fromLabels ? `model.class_labels names ${classCount} classes for ${fileName}` : `${fileName} has ${classCount} classes`;
  if (request.task === 'multiclass') {
    if (classCount !== null && classCount <= 2) throw new AuditConfigError(`task: multiclass, but ${fileName} has ${classCount} classes. Set task to binary (--task binary).`);
    return { task: 'multiclass', source: 'configured (task: multiclass)' };
  }
  if (request.task === 'binary') return { task: 'binary', source: 'configured (task: binary)' };
  if (classCount !== null && classCount > 2) {
    if (request.positiveLabel !== undefined) return { task: 'binary', source: `inferred: ${counted} and a positive label (${request.positiveLabel}) is set, so that class is audited against the rest (set task: multiclass for the audit of every class)` };
    return { task: 'multiclass', source: `inferred: ${counted} and no positive label is set (set a positive label or task: binary to audit one class against the rest)` };
  }
  if (regressor && !request.task) {
    return { task: 'binary', source: `inferred: ${fileName} has one numeric output and names no classes, read as p(positive) since the target ${quote(request.target)} holds two values at most`, regressionHint: `${fileName} has one numeric output and names no classes, so it is read as a binary classifier's p(positive) when the target holds two values at most; if it predicts a number, audit it as a regression (task: regression, --task regression).` };
  }
  return { task: 'binary', source: 'inferred: a classifier of two classes' };
}

/**
 * The class of every row, as an index into the model's classes (output order). The target's
 * values are matched to the class names as text ("1" and 1 are the same class); a blank
 * target or a value that is no class of the model is refused with the rows named.
 */
export function classTarget(table: Table, target: string, classes: readonly string[], classesSource: string): Int32Array {
  const column = requireColumn(table, target, 'target', 'Choose the column that holds the true class.');
  const index = new Map(classes.map((c, k) => [c, k]));
  const labels = new Int32Array(table.rowCount);
  const blank: number[] = [];
  const unknown = new Map<string, number[]>();
  for (let i = 0; i < table.rowCount; i++) {
    let value: string | null;
    if (column.kind === 'numeric') value = Number.isNaN(column.values[i]) ? null : String(column.values[i]);
    else value = column.codes[i] < 0 ? null : column.dictionary[column.codes[i]];
    if (value === null) {
      blank.push(i + 1);
      continue;
    }
    const k = index.get(value);
    if (k === undefined) {
      const rows = unknown.get(value) ?? unknown.set(value, []).get(value)!;
      rows.push(i + 1);
      continue;
    }
    labels[i] = k;
  }
  if (blank.length) {
    throw new AuditConfigError(`${table.source}, column ${quote(target)}: ${blank.length} row${blank.length === 1 ? ' has' : 's have'} no target value (data rows ${blank.slice(0, 5).join(', ')}${blank.length > 5 ? ', …' : ''}). Fill or remove them before the audit.`);
  }
  if (unknown.size) {
    const shown = [...unknown].slice(0, 5).map(([value, rows]) => `${quote(value)} (${rows.length} row${rows.length === 1 ? '' : 's'}, first data row ${rows[0]})`);
    const numbered = classesSource.startsWith('output numbers');
    throw new AuditConfigError(
      `${table.source}, column ${quote(target)}: ${shown.join(', ')}${unknown.size > 5 ? ', …' : ''} ${unknown.size === 1 ? 'is not a class' : 'are not classes'} of the model, whose classes are ${classes.join(', ')} (${classesSource}). ${numbered ? 'Name the classes in the model’s output order with model.class_labels (--class-labels A,B,C).' : 'Check that the target is coded as the model was trained.'}`,
    );
  }
  return labels;
}

/**
 * The class names of a multiclass model in output order: the model's own labels, else the
 * configured `model.class_labels` (one per output), else the output numbers 0…C−1.
 */
export function classNames(fileName: string, modelLabels: readonly ClassLabel[] | null, width: number, configured?: readonly string[]): { classes: string[]; source: string } {
  if (configured) {
    if (configured.length !== width) throw new AuditConfigError(`model.class_labels names ${configured.length} classes (${configured.join(', ')}), but ${fileName} gives ${width} probabilities per row. Name one class per output, in the model's output order.`);
    if (new Set(configured).size !== configured.length) throw new AuditConfigError(`model.class_labels names a class twice (${configured.join(', ')}). Name each class once, in the model's output order.`);
    if (modelLabels) {
      const own = modelLabels.map(String);
      if (own.some((label, k) => label !== configured[k])) throw new AuditConfigError(`model.class_labels (${configured.join(', ')}) differ from the classes ${fileName} names (${own.join(', ')}). Remove model.class_labels: the model's own labels are used.`);
    }
    return { classes: [...configured], source: 'model.class_labels, in the model’s output order' };
  }
  if (modelLabels) return { classes: modelLabels.map(String), source: `the class labels ${fileName} names, in output order` };
  return { classes: Array.from({ length: width }, (_, k) => String(k)), source: `output numbers: ${fileName} names no classes, so they are 0…${width - 1} in training order` };
}

/** The outcome of every row of a regression audit: numbers, none blank. */
export function regressionTarget(table: Table, target: string): Float64Array {
  const column = requireColumn(table, target, 'target', 'Choose the column that holds the true outcome.');
  if (column.kind !== 'numeric') {
    throw new AuditConfigError(`${table.source}, column ${quote(target)}: a regression target must hold numbers, but it holds text (${firstNonNumber(table, column)}). Choose the outcome column, or audit a classifier with task: multiclass.`);
  }
  if (column.missing > 0) {
    const rows: number[] = [];
    for (let i = 0; i < table.rowCount && rows.length < 5; i++) if (Number.isNaN(column.values[i])) rows.push(i + 1);
    throw new AuditConfigError(`${table.source}, column ${quote(target)}: ${column.missing} row${column.missing === 1 ? ' has' : 's have'} no target value (data rows ${rows.join(', ')}${column.missing > rows.length ? ', …' : ''}). Fill or remove them before the audit.`);
  }
  return column.values;
}
