/**
 * Resource limits of the audit's stages. Before a stage starts, its working memory is
 * estimated from the sizes it will use (rows, columns, background rows, coalitions) and
 * checked against the stage budget; a stage may also run under a time budget. A stage that
 * cannot finish within them throws a {@link ResourceLimitError} saying why and what to
 * change: the audit records it under `missing_sections` and completes the other sections.
 *
 * The memory budget is a setting (default 2 GiB), not a reading of the machine's free
 * memory, so the same inputs give the same result on every host. The time budget is off
 * unless asked for (`limits.stage_seconds`): with it, whether a section is present depends
 * on the machine's speed, which the result's settings record.
 */
import type { AuditProgress, AuditRequest } from './audit';
import { ResourceLimitError } from './errors';
import { RECOURSE_DEFAULTS } from './recourse/recourse';

/** The budget of every stage. */
export interface StageLimits {
  /** Working memory a stage may use, in bytes. */
  memoryBytes: number;
  /** Seconds a stage may run, or null for no time budget. */
  seconds: number | null;
}

/** Default memory budget of a stage (MiB). */
export const DEFAULT_STAGE_MEMORY_MB = 2048;

export const DEFAULT_LIMITS: StageLimits = { memoryBytes: DEFAULT_STAGE_MEMORY_MB * 2 ** 20, seconds: null };

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

/**
 * Throws when a stage's estimate is over its memory budget (before the stage starts).
 * `raise` names the setting that raises the budget (the app adds its `?memory_budget_mb=`).
 */
export function checkStageMemory(stage: string, estimate: StageEstimate, limits: StageLimits, raise = 'limits.stage_memory_mb'): void {
  if (estimate.bytes <= limits.memoryBytes) return;
  throw new ResourceLimitError(
    `${stage} would need about ${formatBytes(estimate.bytes)} of memory (${estimate.drivers}), more than the ${formatBytes(limits.memoryBytes)} a stage may use: ${estimate.fix}, or raise ${raise}.`,
  );
}

/**
 * Runs a stage under the user's signal and the stage's time budget. When the budget runs
 * out (and not the user's Cancel) the stage's own cancellation is turned into a
 * ResourceLimitError naming the budget and `fix`.
 */
export async function withStageBudget<T>(stage: string, limits: StageLimits, signal: AbortSignal | undefined, fix: string, run: (signal: AbortSignal | undefined) => Promise<T>): Promise<T> {
  if (limits.seconds === null) return run(signal);
  const budget = budgetSignal(limits.seconds, signal);
  try {
    // A stage that checks no signal cannot be stopped; one that finished keeps its result.
    return await run(budget.signal);
  } catch (error) {
    if (budget.timedOut() && !signal?.aborted) throw new ResourceLimitError(`${stage} did not finish within ${limits.seconds} s (limits.stage_seconds): ${fix}, or raise limits.stage_seconds.`);
    throw error;
  } finally {
    budget.dispose();
  }
}

/**
 * A signal that aborts with the parent or when `seconds` have passed. A timer alone is not
 * enough: a stage whose awaits all settle as microtasks (a WASM model scoring on this
 * thread) never lets the timer run, so the deadline is also checked whenever the stage
 * asks the signal (`throwIfAborted`, which every stage calls between batches).
 */
function budgetSignal(seconds: number, parent: AbortSignal | undefined): { signal: AbortSignal; timedOut(): boolean; dispose(): void } {
  const controller = new AbortController();
  const deadline = Date.now() + seconds * 1000;
  const timeUp = () => controller.abort(new ResourceLimitError(`the stage's ${seconds} s budget ran out`));
  const timer = setTimeout(timeUp, seconds * 1000);
  const signal = parent ? AbortSignal.any([parent, controller.signal]) : controller.signal;
  const check = signal.throwIfAborted.bind(signal);
  Object.defineProperty(signal, 'throwIfAborted', {
    value: () => {
      if (!controller.signal.aborted && Date.now() > deadline) timeUp();
      check();
    },
  });
  return { signal, timedOut: () => controller.signal.aborted, dispose: () => clearTimeout(timer) };
}

/** Bytes of one explained row in the result: the SHAP value and the cell, as numbers and as JSON text. */
const EXPLAINED_CELL_BYTES = 72;

/** What to change when the explanations do not fit: the background (when the method uses one) or the rows explained. */
export function explainFix(rows: number, backgroundRows: number | null): string {
  const fewerRows = `explain fewer rows (explainer.rows, ${count(rows)} now)`;
  return backgroundRows === null ? fewerRows : `lower explainer.background_samples (${count(backgroundRows)} now) or ${fewerRows}`;
}

/** The explanation stage: the SHAP values and cells kept in the result, and the method's own working set. */
export function explainEstimate(method: 'tree' | 'tree-path' | 'kernel-exact' | 'kernel-sampled' | 'linear', rows: number, backgroundRows: number, columns: number, coalitions = 0): StageEstimate {
  const kept = rows * (columns + 1) * EXPLAINED_CELL_BYTES;
  if (method === 'kernel-exact' || method === 'kernel-sampled') {
    // One explained row at a time: every coalition × background row is a row of a table the model scores
    // (8 bytes per cell, the model's float input, the score).
    const working = coalitions * backgroundRows * (columns * 12 + 8);
    return {
      bytes: kept + working,
      drivers: `${count(coalitions)} coalitions × ${count(backgroundRows)} background rows × ${columns} columns per explained row, and ${count(rows)} explained rows kept`,
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

/** Rows of the robustness stage's perturbed sample and neighbour pool, at most (the audit's own caps). */
export const ROBUSTNESS_ROWS = { perturbation: 100_000, consistencyPool: 20_000 } as const;

/** The sizes of an audit's inputs, known before it starts (from the loaded tables and the model file). */
export interface AuditShape {
  /** Rows and columns of the test set. */
  rows: number;
  columns: number;
  /** Rows and columns of the reference, when one is given. */
  reference: { rows: number; columns: number } | null;
  /** Bytes of the model file; null for a score-column audit. */
  modelBytes: number | null;
  /** Columns the model reads. */
  modelColumns: number;
}

/** One stage of an audit with its memory estimate, in the order the stages run. */
export interface StagePlan {
  /** The stage as progress names it. */
  stage: AuditProgress['stage'];
  /** The stage in messages ("The metrics", "Robustness"). */
  name: string;
  /**
   * The optional section it makes (`missing_sections` key), or null for a stage every audit
   * needs (tables, scoring, metrics): over budget, such a stage refuses the audit; an
   * optional one is left out by the audit, saying why.
   */
  section: string | null;
  /** Null when the estimate is known only once the stage starts (the explainer picks its method then). */
  estimate: StageEstimate | null;
}

/** What of an audit request sizes its stages. */
export type AuditPlanRequest = Pick<AuditRequest, 'scoreColumn' | 'protectedAttributes' | 'sampleSize' | 'intersections' | 'slices' | 'bootstrapResamples' | 'calibrationBins' | 'explainer' | 'recourse' | 'missingSections' | 'referenceDistributions'>;

/**
 * Every stage of an audit with its memory estimate, from the request and the sizes of its
 * inputs, before anything runs: the same estimates the audit checks the optional stages
 * with (drift, robustness, recourse), and those of the stages every audit needs.
 */
export function auditMemoryPlan(request: AuditPlanRequest, shape: AuditShape): StagePlan[] {
  const rows = request.sampleSize !== undefined && request.sampleSize < shape.rows ? request.sampleSize : shape.rows;
  const attributes = request.protectedAttributes.length;
  const intersections = request.intersections?.length ?? (attributes * (attributes - 1)) / 2;
  const groupings = attributes + intersections + (request.slices?.length ?? attributes);
  const skipped = (key: string) => Boolean(request.missingSections?.[key]);
  const hasModel = shape.modelBytes !== null;
  const plan: StagePlan[] = [
    { stage: 'parse', name: 'The tables', section: null, estimate: tablesEstimate(shape.rows, shape.columns, shape.reference, request.sampleSize ?? null) },
    { stage: 'score', name: hasModel ? 'Scoring' : 'Reading the score column', section: null, estimate: scoreEstimate(rows, shape.modelColumns, shape.modelBytes) },
  ];
  if (shape.reference && !skipped('drift')) plan.push({ stage: 'drift', name: 'Drift', section: 'drift', estimate: driftEstimate(shape.reference.rows, rows, shape.reference.columns) });
  if (hasModel && !skipped('explainer')) {
    const explained = request.explainer?.rows ?? 100;
    const background = Math.min(request.explainer?.backgroundRows ?? 100, shape.reference?.rows ?? rows);
    const method = request.explainer?.method;
    // Known now only for the tree methods on the model's own columns; otherwise the explainer checks its estimate once it has chosen its method.
    const estimate = method === 'tree' ? explainEstimate('tree', Math.min(explained, rows), background, shape.modelColumns) : method === 'tree-path' ? explainEstimate('tree-path', Math.min(explained, rows), 0, shape.modelColumns) : null;
    plan.push({ stage: 'explain', name: 'The explanations', section: 'explainer', estimate });
  }
  plan.push({ stage: 'metrics', name: 'The metrics', section: null, estimate: metricsEstimate(rows, groupings, request.bootstrapResamples ?? 1000, request.calibrationBins ?? 10) });
  if (!skipped('robustness')) plan.push({ stage: 'robustness', name: 'Robustness', section: 'robustness', estimate: robustnessEstimate(rows, shape.modelColumns, ROBUSTNESS_ROWS.perturbation, ROBUSTNESS_ROWS.consistencyPool) });
  if (hasModel && !skipped('recourse')) {
    const maxRows = request.recourse?.maxRows ?? RECOURSE_DEFAULTS.maxRows;
    plan.push({ stage: 'recourse', name: 'Recourse', section: 'recourse', estimate: recourseEstimate(maxRows, shape.modelColumns, RECOURSE_DEFAULTS.callRows + RECOURSE_DEFAULTS.evaluations) });
  }
  return plan;
}

/** The memory a host lets one audit use in all (its tables and its largest stage together), and how to say it. */
export interface HostMemory {
  bytes: number;
  /** "this browser allows (half the 8 GiB of device memory it reports)". */
  what: string;
}

/**
 * What a browser tab may use: half the device memory it reports (browsers report at most
 * 8 GiB; 4 GiB is assumed when it says nothing). The worker refuses larger tables while
 * reading them, and an audit whose tables and largest stage together need more.
 */
export function browserMemory(deviceMemoryGiB: number | undefined): HostMemory {
  const device = Math.min(8, deviceMemoryGiB ?? 4);
  return { bytes: device * 2 ** 30 * 0.5, what: `this browser allows (half the ${device} GiB of device memory it reports${deviceMemoryGiB === undefined ? ', assumed' : ''})` };
}

/**
 * Checks an audit's plan before it starts. A stage every audit needs (tables, scoring,
 * metrics) over the stage budget refuses the audit with a {@link ResourceLimitError} naming
 * the stage, its estimate, the budget and the fix (the first such stage, in the order they
 * run). An optional stage over the budget is returned with the reason the audit will give
 * when it leaves it out. With `host`, a stage that would fit its budget but not beside the
 * tables the audit holds throughout refuses the audit too.
 */
export function checkAuditMemory(plan: StagePlan[], limits: StageLimits, options: { raise?: string; host?: HostMemory } = {}): { section: string; reason: string }[] {
  const leftOut: { section: string; reason: string }[] = [];
  const tables = plan.find((p) => p.stage === 'parse')?.estimate?.bytes ?? 0;
  for (const { name, section, estimate, stage } of plan) {
    if (!estimate) continue;
    try {
      checkStageMemory(name, estimate, limits, options.raise);
    } catch (error) {
      if (section === null) throw error;
      leftOut.push({ section, reason: (error as Error).message });
      continue;
    }
    const host = options.host;
    const total = stage === 'parse' ? tables : tables + estimate.bytes;
    if (host && total > host.bytes) {
      const beside = stage === 'parse' ? '' : ` beside the ${formatBytes(tables)} the tables hold`;
      throw new ResourceLimitError(`${name} would need about ${formatBytes(estimate.bytes)} of memory (${estimate.drivers})${beside}, more than the ${formatBytes(host.bytes)} ${host.what}: ${estimate.fix}, or run the plumbline CLI on a machine with more memory.`);
    }
  }
  return leftOut;
}

/** Work of the counterfactual flip test: one scoring of every row per value the changed column takes. */
export const MAX_FLIP_SCORINGS = 200_000_000;

/**
 * Limits on what an input may hold, checked before the work they would cause: a file is
 * size-checked before it is read, a cell or a row before it is kept, a protected
 * attribute's groups before any metric is computed. They are constants (not settings) so
 * every host refuses the same inputs; the README lists them.
 */
export const INPUT_LIMITS = {
  /** Characters of one CSV cell (a quote left open makes one cell of the rest of the file). */
  cellChars: 2 ** 20,
  /** Characters of one CSV record (row), however many columns share them. */
  rowChars: 16 * 2 ** 20,
  /** Columns of a data file. */
  columns: 20_000,
  /**
   * Groups (distinct values, missing counted as one) of a protected attribute. Statistical
   * power is computed against the reference group (`powerAgainstReference`), linear in the
   * groups.
   */
  protectedGroups: 1000,
  /** Groups of a numeric protected attribute (past this it is a measurement to bin, not groups). */
  numericProtectedGroups: 50,
  /** Cells (possible combinations) of one intersection of protected attributes. */
  intersectionCells: 100_000,
  /** Values of a slice column (numeric columns are cut at their quartiles instead). */
  sliceGroups: 1_000,
  /** Categories a stored or compared distribution lists one by one; the rest are pooled as `(other)`. */
  distributionCategories: 1_000,
  /** Characters of category names a stored or compared distribution lists; the rest are pooled as `(other)`. */
  distributionChars: 64 * 2 ** 10,
} as const;

/** Bytes the CLI reads of each kind of file, at most (a file over its cap is refused before it is read). */
export const FILE_LIMITS = {
  config: 2 ** 20,
  policy: 2 ** 20,
  model: 2 * 2 ** 30,
  'evidence pack': 2 * 2 ** 30,
  result: 2 ** 30,
  'policy decision': 16 * 2 ** 20,
  data: 2 * 2 ** 30,
} as const;

/** Sizes in words for messages: "812 bytes", "1.2 KB", "3.4 MB", "1.9 GB" (powers of 1,024). */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} byte${bytes === 1 ? '' : 's'}`;
  const [unit, scale] = bytes >= 2 ** 30 ? ['GB', 2 ** 30] : bytes >= 2 ** 20 ? ['MB', 2 ** 20] : ['KB', 2 ** 10];
  const value = bytes / scale;
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${unit}`;
}

/** Known kinds of binary file by their first bytes, for "not a … file" messages that quote nothing. */
const MAGIC: [kind: string, bytes: number[]][] = [
  ['a zip archive', [0x50, 0x4b, 0x03, 0x04]],
  ['a PDF document', [0x25, 0x50, 0x44, 0x46, 0x2d]],
  ['gzip-compressed data', [0x1f, 0x8b]],
  ['a program (ELF)', [0x7f, 0x45, 0x4c, 0x46]],
  ['a PNG image', [0x89, 0x50, 0x4e, 0x47]],
  ['a JPEG image', [0xff, 0xd8, 0xff]],
  ['an SQLite database', [0x53, 0x51, 0x4c, 0x69, 0x74, 0x65, 0x20, 0x66]],
  ['a Parquet table', [0x50, 0x41, 0x52, 0x31]],
  ['an Arrow table', [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]],
];

/**
 * What the first bytes of a file are, in a few words that quote none of them: "empty",
 * "UTF-16 text", "text", a known binary kind ("a zip archive"), or "binary". Used where a
 * file is not the kind its option names, so an error never shows a stranger's bytes (a
 * `model.path: /etc/shadow` must not print the start of that file).
 */
export function describeContent(head: Uint8Array): string {
  if (head.length === 0) return 'empty';
  for (const [kind, magic] of MAGIC) if (magic.every((b, i) => head[i] === b)) return kind;
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) return 'UTF-16 text';
  let control = 0;
  for (const b of head) {
    if (b === 0) return 'binary';
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) control++;
  }
  if (control > head.length / 100) return 'binary';
  // Text only when the bytes are UTF-8; a multi-byte character cut at the end of the window is left out.
  let end = head.length;
  let lead = end - 1;
  while (lead > 0 && end - lead < 4 && (head[lead] & 0xc0) === 0x80) lead--;
  if (head[lead] >= 0xc0) end = lead;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, end));
    return 'text';
  } catch {
    return 'binary';
  }
}
