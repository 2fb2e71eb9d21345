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
import { ResourceLimitError } from './errors';
import { formatBytes, type StageEstimate } from './limits-estimates';

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

/** Work of the counterfactual flip test: one scoring of every row per value the changed column takes. */
export const MAX_FLIP_SCORINGS = 200_000_000;
