/**
 * Memory estimates of the audit's stages: each stage's working memory from the sizes that
 * drive it (rows, columns, background rows, coalitions), with the sizes in words and what
 * the user can change to shrink it. The budget checks live in ./limits.
 */
import { formatSize } from './limits-inputs';

/** A stage's working memory, from the sizes that drive it. */
export interface StageEstimate {
  bytes: number;
  /** The sizes the estimate comes from, in words ("100 rows × 4,096 coalitions × …"). */
  drivers: string;
  /** What the user can change to shrink it. */
  fix: string;
}

const count = (n: number) => Math.round(n).toLocaleString('en-US');

/** Bytes in words: "3.9 GiB", "512 MiB", "96 KiB". */
export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(bytes < 10 * 2 ** 20 ? 1 : 0)} MiB`;
  return `${Math.max(1, Math.round(bytes / 2 ** 10))} KiB`;
}

/** Bytes of one explained row in the result: the SHAP value and the cell, as numbers and as JSON text. */
const EXPLAINED_CELL_BYTES = 72;

/** What to change when the explanations do not fit: the background (when the method uses one) or the rows explained. */
export function explainFix(rows: number, backgroundRows: number | null): string {
  const fewerRows = `explain fewer rows (explainer.rows, ${count(rows)} now)`;
  return backgroundRows === null ? fewerRows : `lower explainer.background_samples (${count(backgroundRows)} now) or ${fewerRows}`;
}

/**
 * The explanation stage: the SHAP values and cells kept in the result, and the method's own
 * working set — for KernelSHAP, the coalition table of the `rowsPerCall` explained rows the
 * model scores together.
 */
export function explainEstimate(method: 'tree' | 'tree-path' | 'kernel-exact' | 'kernel-sampled' | 'linear', rows: number, backgroundRows: number, columns: number, coalitions = 0, rowsPerCall = 1): StageEstimate {
  const kept = rows * (columns + 1) * EXPLAINED_CELL_BYTES;
  if (method === 'kernel-exact' || method === 'kernel-sampled') {
    // Every coalition × background row of the rows scored together is a row of a table the model
    // scores (8 bytes per cell, the model's float input, the score).
    const working = rowsPerCall * coalitions * backgroundRows * (columns * 12 + 8);
    return {
      bytes: kept + working,
      drivers: `${count(coalitions)} coalitions × ${count(backgroundRows)} background rows × ${columns} columns ${rowsPerCall === 1 ? 'per explained row' : `for each of ${count(rowsPerCall)} explained rows scored together`}, and ${count(rows)} explained rows kept`,
      fix: explainFix(rows, backgroundRows),
    };
  }
  const working = (rows + backgroundRows) * columns * 8;
  return {
    bytes: kept + working,
    drivers: `${count(rows)} explained rows and ${count(backgroundRows)} background rows × ${columns} columns`,
    fix: explainFix(rows, method === 'tree-path' || method === 'linear' ? null : backgroundRows),
  };
}

/**
 * The robustness stage: a copy of one model column and the scores of every row (the
 * counterfactual flips score the whole table with one column changed), the perturbed sample
 * (at most `perturbRows` rows of every model column) and the neighbour pool.
 */
export function robustnessEstimate(rows: number, modelColumns: number, perturbRows: number, poolRows: number): StageEstimate {
  const flips = rows * (8 + 8 + 1);
  const perturb = Math.min(rows, perturbRows) * (modelColumns * 8 + 16);
  const pool = Math.min(rows, poolRows) * (modelColumns * 8 + 16);
  return {
    bytes: flips + perturb + pool,
    drivers: `${count(rows)} rows × ${modelColumns} model columns`,
    fix: 'audit a sample of the rows (data.test_sample_size)',
  };
}

/** The recourse stage: each searched row's candidate table (at most `budget` candidates per row). */
export function recourseEstimate(rows: number, modelColumns: number, candidatesPerRow: number): StageEstimate {
  return {
    bytes: candidatesPerRow * (modelColumns * 12 + 8) + rows * (modelColumns * 8 + 64),
    drivers: `${count(rows)} searched rows, up to ${count(candidatesPerRow)} candidates each × ${modelColumns} model columns`,
    fix: `lower recourse.max_rows (${count(rows)} now)`,
  };
}

/** The drift stage: the reference's scores and its sorted columns for the KS and PSI bins. */
export function driftEstimate(referenceRows: number, rows: number, columns: number): StageEstimate {
  return {
    bytes: (referenceRows + rows) * (8 + 8) + Math.max(referenceRows, rows) * 8 * 2 + columns * 4096,
    drivers: `${count(referenceRows)} reference rows and ${count(rows)} audited rows`,
    fix: 'use a sample of the reference file',
  };
}

/** Bytes of one cell of a table in memory: a number, or a category code with room for its dictionary (as the loader's own check counts). */
const TABLE_CELL_BYTES = 8;

/**
 * The tables an audit holds from start to end: the test set (and its sample, a copy of the
 * sampled rows) and the reference. Held through every later stage.
 */
export function tablesEstimate(rows: number, columns: number, reference: { rows: number; columns: number } | null, sampleRows: number | null = null): StageEstimate {
  const sampled = sampleRows !== null && sampleRows < rows ? sampleRows : 0;
  return {
    bytes: (rows * columns + sampled * columns + (reference ? reference.rows * reference.columns : 0)) * TABLE_CELL_BYTES,
    drivers: `${count(rows)} rows × ${count(columns)} columns${sampled ? `, a sample of ${count(sampled)} rows` : ''}${reference ? `, and a reference of ${count(reference.rows)} rows × ${count(reference.columns)} columns` : ''}`,
    fix: 'keep only the columns the audit needs (target, protected attributes, model inputs) or split the file',
  };
}

/** Rows of the model's input sent to be scored at once, at most (the pool's largest block). */
const SCORING_BLOCK_ROWS = 65_536;
/** Bytes a model takes once opened, per byte of its file: the file, its decoded graph or trees, and the runtime's own copy. */
const MODEL_BYTES_FACTOR = 4;

/**
 * The scoring stage: every row's score and margin (two float64s), the model's input for one
 * block of rows with its copy to a pool worker, and the opened model. A score-column audit
 * (`modelBytes` null) only copies the column.
 */
export function scoreEstimate(rows: number, modelColumns: number, modelBytes: number | null): StageEstimate {
  if (modelBytes === null) return { bytes: rows * 8, drivers: `${count(rows)} rows of the score column`, fix: 'audit a sample of the rows (data.test_sample_size)' };
  const block = Math.min(rows, SCORING_BLOCK_ROWS) * modelColumns * 8 * 2;
  return {
    bytes: rows * 16 + block + modelBytes * MODEL_BYTES_FACTOR,
    drivers: `${count(rows)} rows × ${modelColumns} model inputs, and a ${formatSize(modelBytes)} model`,
    fix: 'audit a sample of the rows (data.test_sample_size)',
  };
}

/**
 * Bytes per row the metrics take whatever the groups: the labels, the sorted scores and their
 * radix-sort scratch, the sweep buckets, the curve's cut points and the data profile's
 * duplicate-row hashes.
 */
const METRICS_ROW_BYTES = 160;
/** Bytes per row of each grouping (protected attribute, intersection, slice): group code, row index lists, per-group ranks and DeLong placements. */
const GROUPING_ROW_BYTES = 32;

/**
 * The metrics stage: performance, calibration, fairness by each protected attribute, each
 * intersection and each slice, the data profile, and the ECE interval's simulation
 * (`resamples` draws × `bins` bins, the "bootstrap" of the config).
 */
export function metricsEstimate(rows: number, groupings: number, resamples: number, bins: number): StageEstimate {
  return {
    bytes: rows * (METRICS_ROW_BYTES + groupings * GROUPING_ROW_BYTES) + resamples * (bins * 16 + 8),
    drivers: `${count(rows)} rows × ${groupings} grouping${groupings === 1 ? '' : 's'} (protected attributes, intersections, slices), and ${count(resamples)} resamples × ${bins} calibration bins`,
    fix: `audit a sample of the rows (data.test_sample_size)${groupings > 1 ? ' or fewer intersections and slices (fairness.intersections, slices)' : ''}`,
  };
}
