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
import { driftEstimate, explainEstimate, formatBytes, metricsEstimate, recourseEstimate, robustnessEstimate, scoreEstimate, tablesEstimate, type StageEstimate } from './limits-estimates';

export { driftEstimate, explainEstimate, explainFix, formatBytes, metricsEstimate, recourseEstimate, robustnessEstimate, scoreEstimate, tablesEstimate, type StageEstimate } from './limits-estimates';
export { describeContent, FILE_LIMITS, formatSize, INPUT_LIMITS } from './limits-inputs';

/** The budget of every stage. */
export interface StageLimits {
  /** Working memory a stage may use, in bytes. */
  memoryBytes: number;
  /** Seconds a stage may run, or null for no time budget. */
  seconds: number | null;
}

/** Default memory budget of a stage (MiB). */
export const DEFAULT_STAGE_MEMORY_MB = 2048;

/** The budget of every stage unless the settings say otherwise: the default memory, no time budget. */
export const DEFAULT_LIMITS: StageLimits = { memoryBytes: DEFAULT_STAGE_MEMORY_MB * 2 ** 20, seconds: null };

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
