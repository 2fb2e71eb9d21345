/**
 * The audited table's scores: a model's p(positive), checked to be probabilities and with
 * how each input was fed (fidelity), or a score column of the data; and what the result
 * records about where the scores came from.
 */
import type { DataProfile } from '../analyses/profile/profile';
import { fileRow, requireColumn, type Table } from '../data/table';
import { AuditConfigError, ModelLoadError, quote } from '../base/errors';
import { sha256Hex } from '../base/hash';
import type { ClassChoice } from '../model/classes';
import { fidelityFindings, inputFidelity, type InputFidelity } from '../model/fidelity';
import type { Classifier } from '../model/classifier';
import type { AuditRequest, RunOptions } from './request';
import type { AuditResult } from './result';
import { firstNonNumber } from '../data/csv/numbers';

/** Scores read from a column of the data (a score-only audit). */
export function columnScores(table: Table, name: string): { scores: Float64Array; probabilities: boolean } {
  const column = requireColumn(table, name, 'score');
  if (column.kind !== 'numeric') {
    throw new AuditConfigError(`${table.source}, column ${quote(name)}: a score column must hold numbers, but it holds text (${firstNonNumber(table, column)}).`);
  }
  if (column.missing > 0) {
    const first = column.values.findIndex((v) => Number.isNaN(v));
    throw new AuditConfigError(`${table.source}, column ${quote(name)}: ${column.missing} rows have no score (first: data row ${fileRow(table, first)}). Fill or remove them.`);
  }
  let probabilities = true;
  for (let i = 0; i < column.values.length; i++) {
    const v = column.values[i];
    if (v < 0 || v > 1) probabilities = false;
  }
  return { scores: column.values, probabilities };
}

/**
 * How far outside [0, 1] a model's probability may fall and still be read as float32
 * rounding: a forest of float32 leaf probabilities sums to 1.0000001, and a float32 sum of
 * a few hundred terms rounds by at most a few units of 6e-8 each. Such scores are clipped
 * to [0, 1] and counted in a finding.
 */
export const PROBABILITY_TOLERANCE = 1e-5;

/**
 * A model output that is not a probability for some rows would make every metric quietly
 * wrong: NaN is refused with the rows named; values outside [0, 1] by more than
 * {@link PROBABILITY_TOLERANCE} likewise. Values within it are clipped, and a finding says
 * how many and by how much.
 */
function checkScores(scores: Float64Array, modelFile: string, table: Table): DataProfile['findings'] {
  const dataFile = table.source;
  const bad: number[] = [];
  let count = 0;
  let clipped = 0;
  let furthest = 0;
  for (let i = 0; i < scores.length; i++) {
    const p = scores[i];
    if (p >= 0 && p <= 1) continue;
    if (p >= -PROBABILITY_TOLERANCE && p <= 1 + PROBABILITY_TOLERANCE) {
      clipped++;
      furthest = Math.max(furthest, p < 0 ? -p : p - 1);
      scores[i] = p < 0 ? 0 : 1;
      continue;
    }
    count++;
    if (bad.length < 5) bad.push(i);
  }
  if (count > 0) {
    const shown = bad.map((i) => `row ${fileRow(table, i)}: ${scores[i]}`).join(', ');
    throw new ModelLoadError(`${modelFile}: the model's output is not a probability for ${count} of ${scores.length} rows of ${dataFile} (${shown}${count > bad.length ? ', …' : ''}). Check the rows' inputs (missing values the model cannot take?) or the output the audit reads.`);
  }
  if (clipped === 0) return [];
  return [{ check: 'probability_rounding', severity: 'warning', message: `${modelFile}: ${clipped} of ${scores.length} scores fell outside [0, 1] by at most ${furthest.toExponential(1)} (float32 rounding in the model, within the tolerance of ${PROBABILITY_TOLERANCE}) and were clipped to [0, 1].` }];
}

/** The scores of the audited table and what the result records about them. */
export interface ScoredTable {
  scores: Float64Array;
  /** Findings about the scores and the model's inputs (clipped rounding, unseen categories, one-vs-rest). */
  scoreFindings: DataProfile['findings'];
  fidelity: InputFidelity | undefined;
  /** Whether the scores are probabilities (a model's are; a column's when all lie in [0, 1]). */
  probabilities: boolean;
  /** The model's input columns (null for a score column). */
  features: string[] | null;
  modelInputs: AuditResult['inputs']['model'];
}

/**
 * Refuses a feature list (model.features, --features) the model would not read as listed: a
 * model that names its inputs reads the columns of those names, so a partial or different
 * list was ignored (the same columns in another order change nothing: the names decide).
 */
export function checkFeatureList(requested: readonly string[] | undefined, read: readonly string[], fileName: string): void {
  const columns = new Set(read);
  if (requested && (requested.length !== columns.size || requested.some((name) => !columns.has(name)))) {
    throw new AuditConfigError(`model.features (--features) lists ${requested.join(', ')}, but ${fileName} names its inputs itself and reads the columns ${read.join(', ')}; the list would be ignored. Remove it, or list exactly those columns.`);
  }
}

/**
 * Scores the table with the model (refusing more unseen categories than
 * `maxUnknownCategoryShare` allows), or reads the request's score column.
 */
export async function scoreTable(model: Classifier | null, choice: ClassChoice | null, table: Table, request: AuditRequest, options: RunOptions): Promise<ScoredTable> {
  const { onProgress, signal } = options;
  let scores: Float64Array;
  const scoreFindings: DataProfile['findings'] = [];
  let fidelity: InputFidelity | undefined;
  let probabilities = true;
  let features: string[] | null = null;
  let modelInputs: AuditResult['inputs']['model'];
  if (model && request.model) {
    features = model.features(table, request.features);
    checkFeatureList(request.features, features, request.model.fileName);
    scores = await model.score(table, { features: request.features, signal, onProgress: (done, total) => onProgress?.({ stage: 'score', done, total }) });
    scoreFindings.push(...checkScores(scores, request.model.fileName, table));
    fidelity = inputFidelity(model.summary, table, features, new Set(request.csv?.missingValues ?? []));
    const limit = request.maxUnknownCategoryShare;
    const worst = fidelity.inputs.filter((e) => e.unseen && limit !== undefined && e.unseen.share > limit).sort((a, b) => b.unseen!.share - a.unseen!.share)[0];
    if (worst) {
      throw new AuditConfigError(
        `${table.source}, column ${quote(worst.column)}: ${(worst.unseen!.share * 100).toFixed(1)}% of rows hold values ${request.model.fileName} never saw for input ${quote(worst.input)} (${worst.unseen!.top.length ? worst.unseen!.top.map((t) => JSON.stringify(t.value)).join(', ') : 'values of personal data, not shown'}), more than the ${(limit! * 100).toFixed(1)}% allowed (model.max_unknown_category_share${request.maxUnknownCategoryShareFromStrict ? ', the --strict default' : ''}). Check that the data is coded as the model was trained, or raise the limit.`,
      );
    }
    scoreFindings.push(...fidelityFindings(fidelity, request.model.fileName, request.data.fileName));
    const summary = model.summary;
    modelInputs = {
      file: request.model.fileName,
      sha256: sha256Hex(request.model.bytes),
      format: summary.format,
      producer: summary.producer,
      opsets: summary.opsets,
      operators: summary.operators,
      score_output: choice!.convention,
      classes: choice!.classes.map(String),
      positive_class: String(choice!.positive),
      one_vs_rest: choice!.oneVsRest,
    };
    if (choice!.oneVsRest) {
      scoreFindings.push({ check: 'one_vs_rest', severity: 'warning', message: `${request.model.fileName}: the model has ${choice!.classes.length} classes (${choice!.classes.join(', ')}); this audit scores class ${choice!.positive} against the other ${choice!.classes.length - 1} (one-vs-rest): every metric is about telling class ${choice!.positive} apart, and rows of the other classes count as negatives.` });
    }
  } else {
    const column = request.scoreColumn!;
    ({ scores, probabilities } = columnScores(table, column));
    // A raw score and no threshold: the default 0.5 is a probability's, meaningless on the score's own scale.
    const policy = request.thresholdPolicy;
    if (!probabilities && request.threshold === undefined && (!policy || (policy.policy === 'fixed' && policy.threshold === 0.5))) {
      let [low, high] = [Infinity, -Infinity];
      for (const v of scores) if (!Number.isNaN(v)) [low, high] = [Math.min(low, v), Math.max(high, v)];
      throw new AuditConfigError(`${table.source}, column ${quote(column)}: the scores run from ${Number(low.toPrecision(6))} to ${Number(high.toPrecision(6))}, not probabilities, and the threshold is the default 0.5 (a probability's). Set the decision threshold on the score's own scale: threshold: T (--threshold T), or a threshold policy (--threshold-policy).`);
    }
    modelInputs = {
      format: 'score-column',
      column,
      score_output: probabilities ? `column ${column} read as p(positive)` : `column ${column} read as a raw score (not a probability: log loss, Brier and calibration are not computed)`,
    };
  }
  return { scores, scoreFindings, fidelity, probabilities, features, modelInputs };
}
