/**
 * An audit's memory plan: every stage with its estimate, from the request and the sizes of
 * its inputs, checked before anything runs (base/limits.ts holds the stage budgets and the
 * estimates themselves).
 */
import type { AuditProgress, AuditRequest } from './request';
import { ResourceLimitError } from '../base/errors';
import { RECOURSE_DEFAULTS } from '../analyses/recourse';
import { checkStageMemory, ROBUSTNESS_ROWS, type StageLimits } from '../base/limits';
import { driftEstimate, explainEstimate, formatBytes, metricsEstimate, recourseEstimate, robustnessEstimate, scoreEstimate, tablesEstimate, type StageEstimate } from '../base/limits-estimates';

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

