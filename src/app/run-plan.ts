/**
 * Planning an audit run in the app: the core's plan of the set-up's config with the page's
 * memory budget, its stages' memory estimates (checked before anything runs), the request
 * sent to the worker, and the stages shown while it runs.
 */
import { auditMemoryPlan, browserMemory, checkAuditMemory, ConfigError, DEFAULT_STAGE_MEMORY_MB, planAudit, type AuditProgress, type BaselineResult, type StagePlan } from '../core';
import type { WorkerAuditRequest } from '../../workers/audit.worker';
import type { AuditSession } from './audit-session.svelte';
import { dataRef, type LoadedData } from './session-types';
import { memoryBudgetFromUrl } from './page-params';

/** The core's plan of an audit: the request, the sections it cannot run and why, the seed and metadata. */
export type AuditPlan = ReturnType<typeof planAudit>;

/**
 * The audit's stages with their memory estimates, from the loaded tables' sizes, the model
 * file and the settings: the core's own estimates (the CLI's budgets), before anything runs.
 */
export function memoryPlanOf(session: Pick<AuditSession, 'data' | 'model' | 'reference' | 'features'>, request: AuditPlan['request'], missingSections: Record<string, string>): StagePlan[] {
  if (!session.data) return [];
  const model = session.model;
  return auditMemoryPlan(
    { ...request, missingSections },
    {
      rows: session.data.rows,
      columns: session.data.columns.length,
      reference: session.reference ? { rows: session.reference.rows, columns: session.reference.columns.length } : null,
      modelBytes: model ? model.bytes.length : null,
      modelColumns: model ? (model.info.needsFeatureOrder ? session.features.length : model.info.inputs.length) : 0,
    },
  );
}

/**
 * The plan of the set-up's audit config, with the page's `?memory_budget_mb=` as every
 * stage's budget; refused (throws) before anything runs when a stage every audit needs is
 * over its budget, or a stage would not fit beside the tables.
 */
export function planRun(session: AuditSession): AuditPlan {
  // A reference the config names and the page did not load (refused, or not dropped) would leave drift out silently; the CLI reads it or stops.
  const named = session.config?.source.data;
  const key = named?.reference !== undefined ? 'reference' : named?.train !== undefined ? 'train' : null;
  if (session.config && key && !session.reference) {
    throw new ConfigError(`${session.config.name}: data.${key} names the reference ${named![key]}, which is not loaded here. Drop it with the other files, or remove data.${key} from the config to audit without drift.`);
  }
  const plan = planAudit(session.auditConfig(), session.config?.name ?? 'the set-up');
  // The page's ?memory_budget_mb= replaces the stage budget (limits.stage_memory_mb) for every stage.
  const fromUrl = memoryBudgetFromUrl();
  if (fromUrl !== null) plan.request.limits = { ...plan.request.limits, stageMemoryMb: fromUrl };
  const budgetMb = plan.request.limits?.stageMemoryMb ?? DEFAULT_STAGE_MEMORY_MB;
  // Refused before anything runs when a stage every audit needs is over its budget, or a stage would not fit beside the tables.
  checkAuditMemory(session.memoryPlan(plan.request, plan.missingSections), { memoryBytes: budgetMb * 2 ** 20, seconds: null }, {
    raise: 'limits.stage_memory_mb (or ?memory_budget_mb= in the page address)',
    host: browserMemory((globalThis.navigator as Navigator & { deviceMemory?: number } | undefined)?.deviceMemory),
  });
  return plan;
}

/** The request the worker runs: the plan's, with the files loaded here by reference, the baseline and the backend. */
export function workerRequestOf(session: AuditSession, plan: AuditPlan, data: LoadedData): WorkerAuditRequest {
  const { reference: _reference, ...request } = plan.request;
  return {
    ...request,
    ...(session.model ? { model: { fileName: session.model.name, bytes: session.model.bytes } } : {}),
    data: dataRef(data),
    ...(session.reference ? { reference: dataRef(session.reference) } : {}),
    missingSections: plan.missingSections,
    ...(session.baseline ? { baseline: { result: session.baseline.result as unknown as BaselineResult, file: session.baseline.name, sha256: session.baseline.sha256 } } : {}),
    ...(session.useWebGpu ? { backend: 'webgpu' as const } : {}),
  };
}

/** The stages shown after a progress report: a stage seen before (metrics runs before and after robustness) is updated where it is, the ones before it are done. */
export function nextStages(stages: AuditSession['stages'], progress: AuditProgress, now: number): AuditSession['stages'] {
  const at = stages.findIndex((s) => s.stage === progress.stage);
  const others = stages.map((s) => (s.stage === progress.stage ? s : { ...s, done: s.total }));
  if (at >= 0) others[at] = { ...others[at], done: progress.done, total: progress.total, now };
  else others.push({ stage: progress.stage, done: progress.done, total: progress.total, started: now, now });
  return others;
}
