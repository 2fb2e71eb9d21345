/**
 * Robustness of multiclass and regression models, in the binary audit's three tests:
 * demographic shift (rows reweighted so a group's share moves by ±δ, the metrics
 * recomputed), perturbation (seeded noise on the non-protected inputs, re-scored) and
 * counterfactual flips (only the protected attribute changed, re-scored). A "change" is a
 * different predicted class (multiclass) or, for a regression feeding a decision, a
 * different decision; every test also reports how far the output moved.
 */
import { sampleIndices } from '../data/sample';
import { filledColumn, findColumn, takeRows, type Column, type Table } from '../data/table';
import type { GroupIndex } from '../metrics/groups';
import { wilsonInterval, type Interval } from '../metrics/intervals';
import { Random } from '../base/random';
import { notShiftedNote, shiftScenarios, shiftWeights, type ShiftScenario } from '../analyses/robustness/shift';
import { numbersReadAsText, perturbedColumn, textNoiseNote } from '../analyses/robustness/stability';

/** Scores a table: one output per row (a regression's prediction), or C per row (class probabilities, row-major). */
export type TaskScorer = (table: Table) => Promise<Float64Array>;

/** What the tests compare, for one kind of model. */
export interface TaskOutputs {
  kind: 'multiclass' | 'regression';
  /** Outputs per row: C for multiclass, 1 for regression. */
  width: number;
  score: TaskScorer;
  /** The audited rows' outputs (as `score` gives them). */
  base: Float64Array;
  /** A regression's decision, when one is configured: positive when at or above (or at or below) the threshold. */
  decision?: { threshold: number; positive_when: 'above' | 'below' } | null;
  /** The model's inputs that take text (string inputs): a numeric column among them is perturbed as its texts. */
  textInputs?: ReadonlySet<string>;
  /** Inputs whose numbers are the model's category codes: swapped, not moved by noise (see codeInputsOf). */
  codeInputs?: ReadonlySet<string>;
}

/** Robustness of a multiclass or regression audit. */
export interface TaskRobustness {
  demographic_shift: { delta: number; baseline: Record<string, number | null>; scenarios: ShiftScenario[]; worst: { attribute: string; group: string; to: number; metric: string } | null; not_shifted?: string[] };
  /** The largest worsening under any shift: accuracy points (multiclass) or the relative rise of MAE or RMSE (regression). */
  max_shift_degradation: number | null;
  perturbation: { epsilon: number; rows: number; change_rate: number | null; change_rate_interval: Interval | null; mean_abs_change: number; max_abs_change: number }[];
  counterfactual_flips: { attribute: string; changed: string | null; applicable: boolean; reason?: string; change_rate: Record<string, number | null>; mean_abs_change: Record<string, number> }[];
  conventions: string;
}

/** Rows perturbed at most (a seeded sample of a larger file). */
export const PERTURBATION_ROWS = 100_000;
/** Model evaluations the flip test may use. */
const MAX_FLIP_SCORINGS = 5_000_000;

function argmax(values: Float64Array, i: number, width: number): number {
  let best = 0;
  for (let k = 1; k < width; k++) if (values[i * width + k] > values[i * width + best]) best = k;
  return best;
}

/** The row's decision or class (a number), or null for a regression without a decision. */
function outcomeOf(outputs: TaskOutputs, values: Float64Array, i: number): number | null {
  if (outputs.kind === 'multiclass') return argmax(values, i, outputs.width);
  const d = outputs.decision;
  if (!d) return null;
  return (d.positive_when === 'above' ? values[i] >= d.threshold : values[i] <= d.threshold) ? 1 : 0;
}

/** How far row i's output moved: |Δ p(its original class)| or |Δ prediction|. */
function moved(outputs: TaskOutputs, before: Float64Array, after: Float64Array, i: number): number {
  if (outputs.kind === 'regression') return Math.abs(after[i] - before[i]);
  const k = argmax(before, i, outputs.width);
  return Math.abs(after[i * outputs.width + k] - before[i * outputs.width + k]);
}

/** Weighted metrics under a reweighting: accuracy and macro recall (multiclass), MAE and RMSE (regression). */
function weighted(outputs: TaskOutputs, truth: Float64Array, weights: Float64Array): Record<string, number | null> {
  let total = 0;
  if (outputs.kind === 'regression') {
    let abs = 0;
    let squares = 0;
    for (let i = 0; i < truth.length; i++) {
      const e = outputs.base[i] - truth[i];
      abs += weights[i] * Math.abs(e);
      squares += weights[i] * e * e;
      total += weights[i];
    }
    return total === 0 ? { mae: null, rmse: null } : { mae: abs / total, rmse: Math.sqrt(squares / total) };
  }
  const C = outputs.width;
  const hit = new Float64Array(C);
  const support = new Float64Array(C);
  let correct = 0;
  for (let i = 0; i < truth.length; i++) {
    const y = truth[i];
    const ok = argmax(outputs.base, i, C) === y ? weights[i] : 0;
    correct += ok;
    hit[y] += ok;
    support[y] += weights[i];
    total += weights[i];
  }
  const recalls = Array.from(support, (s, k) => (s > 0 ? hit[k] / s : null)).filter((r): r is number => r !== null);
  return { accuracy: total === 0 ? null : correct / total, balanced_accuracy: recalls.length ? recalls.reduce((a, b) => a + b, 0) / recalls.length : null };
}

/** Reweights rows so each group's share moves by ±δ (see shiftScenarios): accuracy points lost (multiclass), or the relative rise of MAE and RMSE (regression, so units do not decide the worst). */
function shift(outputs: TaskOutputs, truth: Float64Array, attributes: GroupIndex[], delta: number, minRows: number): Pick<TaskRobustness, 'demographic_shift' | 'max_shift_degradation'> {
  const { baseline, scenarios, worst, max, notShifted } = shiftScenarios(
    truth.length,
    attributes,
    delta,
    (scenario) => weighted(outputs, truth, shiftWeights(truth.length, scenario)),
    (_metric, before, value) => (outputs.kind === 'multiclass' ? before - value : before === 0 ? null : value / before - 1),
    minRows,
  );
  return { demographic_shift: { delta, baseline, scenarios, worst, ...(notShifted.length ? { not_shifted: notShifted } : {}) }, max_shift_degradation: max };
}

/**
 * The three robustness tests of a multiclass or regression model. `truth` holds class
 * indices (multiclass) or outcomes (regression); `inputs` the non-protected model columns.
 */
export async function taskRobustness(
  outputs: TaskOutputs,
  table: Table,
  truth: Float64Array,
  attributes: GroupIndex[],
  modelColumns: string[],
  options: { inputs: string[]; epsilons: number[]; delta: number; seed: number; confidence: number; minGroupSize: number; proxies?: Record<string, string>; signal?: AbortSignal },
): Promise<TaskRobustness> {
  const shifted = shift(outputs, truth, attributes, options.delta, options.minGroupSize);
  // Perturbation: seeded noise on the non-protected inputs of (a sample of) the rows.
  let noisyTable = table;
  let base = outputs.base;
  if (table.rowCount > PERTURBATION_ROWS) {
    const rows = sampleIndices(table.rowCount, PERTURBATION_ROWS, options.seed, 'robustness/noise-rows');
    noisyTable = takeRows(table, rows);
    base = Float64Array.from({ length: rows.length * outputs.width }, (_, j) => outputs.base[rows[Math.floor(j / outputs.width)] * outputs.width + (j % outputs.width)]);
  }
  const rows = noisyTable.rowCount;
  const perturbation: TaskRobustness['perturbation'] = [];
  for (const epsilon of options.epsilons) {
    options.signal?.throwIfAborted();
    const random = new Random(options.seed, `robustness/noise/${epsilon}`);
    const after = await outputs.score({ ...noisyTable, columns: noisyTable.columns.map((c) => (options.inputs.includes(c.name) ? perturbedColumn(c, epsilon, random, outputs.textInputs, outputs.codeInputs) : c)) });
    let changes = 0;
    let sum = 0;
    let max = 0;
    const decided = outcomeOf(outputs, base, 0) !== null;
    for (let i = 0; i < rows; i++) {
      if (decided && outcomeOf(outputs, base, i) !== outcomeOf(outputs, after, i)) changes++;
      const m = moved(outputs, base, after, i);
      sum += m;
      if (m > max) max = m;
    }
    perturbation.push({ epsilon, rows, change_rate: decided ? changes / rows : null, change_rate_interval: decided ? wilsonInterval(changes, rows, options.confidence) : null, mean_abs_change: sum / rows, max_abs_change: max });
  }
  const flips: TaskRobustness['counterfactual_flips'] = [];
  for (const index of attributes) {
    options.signal?.throwIfAborted();
    flips.push(await counterfactual(outputs, table, index, modelColumns, options.proxies?.[index.attribute]));
  }
  const changeWord = outputs.kind === 'multiclass' ? 'a different predicted class' : outputs.decision ? 'a different decision' : 'no decision is configured, so only the size of the change';
  return {
    ...shifted,
    perturbation,
    counterfactual_flips: flips,
    conventions: `Shift: each group's share moved by ±${options.delta} (clamped to [0.01, 0.99]) by reweighting rows; degradation = ${outputs.kind === 'multiclass' ? 'accuracy and balanced accuracy lost (a share of rows, 0.03 = 3 points)' : 'the relative rise of MAE and RMSE (0.1 = 10% worse)'}; positive means worse.${notShiftedNote(options.minGroupSize, shifted.demographic_shift.not_shifted ?? [])} Perturbation: seeded noise ε·sd·N(0,1) on numeric non-protected model inputs (whole-number columns rounded), categories swapped with probability ε${textNoiseNote(numbersReadAsText(table, options.inputs, outputs.textInputs))}${table.rowCount > PERTURBATION_ROWS ? `, on a seeded sample of ${PERTURBATION_ROWS} rows` : ''}. A change is ${changeWord}; the size is |Δ ${outputs.kind === 'multiclass' ? 'p(the originally predicted class)' : 'prediction'}|. Counterfactual flips: only the protected attribute (or its declared proxy) set to each other value, re-scored, per group.`,
  };
}

/** Sets the attribute (or its proxy) of every row to each other value and re-scores: per group, the share whose outcome changes and the mean size of the change. */
async function counterfactual(outputs: TaskOutputs, table: Table, index: GroupIndex, modelColumns: string[], proxy?: string): Promise<TaskRobustness['counterfactual_flips'][number]> {
  const attribute = index.attribute;
  const changedName = modelColumns.includes(attribute) ? attribute : proxy && modelColumns.includes(proxy) ? proxy : null;
  const column = changedName ? findColumn(table, changedName) : undefined;
  if (!column || !changedName) {
    return { attribute, changed: null, applicable: false, reason: `the model does not read ${attribute}${proxy ? ` or its declared proxy ${proxy}` : ''}, so changing it alone cannot change an output (possible proxies are listed in the data section; declare one with robustness.proxies)`, change_rate: {}, mean_abs_change: {} };
  }
  const values = column.kind === 'categorical' ? column.dictionary.map((_, code) => code) : [...new Set(Array.from(column.values).filter((v) => !Number.isNaN(v)))];
  if (values.length * table.rowCount > MAX_FLIP_SCORINGS) {
    return { attribute, changed: changedName, applicable: false, reason: `changing ${changedName} to each of its ${values.length} values would score all ${table.rowCount} rows ${values.length} times, more than the ${MAX_FLIP_SCORINGS} model evaluations this test may use: declare a proxy with fewer values (robustness.proxies)`, change_rate: {}, mean_abs_change: {} };
  }
  const changed = new Uint8Array(table.rowCount);
  const size = new Float64Array(table.rowCount);
  const decided = outcomeOf(outputs, outputs.base, 0) !== null;
  for (const value of values) {
    const replaced = filledColumn(column, value, table.rowCount);
    const after = await outputs.score({ ...table, columns: table.columns.map((c) => (c.name === changedName ? replaced : c)) });
    for (let i = 0; i < table.rowCount; i++) {
      if (decided && outcomeOf(outputs, outputs.base, i) !== outcomeOf(outputs, after, i)) changed[i] = 1;
      size[i] = Math.max(size[i], moved(outputs, outputs.base, after, i));
    }
  }
  const change_rate: Record<string, number | null> = {};
  const mean_abs_change: Record<string, number> = {};
  index.groups.forEach((group, g) => {
    const rows = index.rows[g];
    let c = 0;
    let s = 0;
    for (const row of rows) {
      c += changed[row];
      s += size[row];
    }
    change_rate[group] = decided && rows.length ? c / rows.length : null;
    mean_abs_change[group] = rows.length ? s / rows.length : 0;
  });
  return { attribute, changed: changedName, applicable: true, change_rate, mean_abs_change };
}
