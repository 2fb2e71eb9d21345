/**
 * The facts of an audit run in the app that its outputs bundle records: the files it read,
 * the policy, the seed, the time and the backend (see core/outputs).
 */
import { planAudit, reportsOf, sha256Hex, type AnyAuditResult, type AuditConfig, type OutputContext } from '../core';
import { stringify } from 'yaml';
import type { AuditSession } from './audit-session.svelte';

/** What of the session the outputs bundle records. */
export type OutputFacts = Pick<AuditSession, 'model' | 'data' | 'reference' | 'config' | 'policy' | 'forcePolicy' | 'auditConfig'>;

/**
 * The facts of an audit run here for the outputs bundle: the files it read (the config
 * and policy as dropped), the policy, whether the seed was given, the time (the page's
 * `?source_date_epoch=` when given, as the CLI's SOURCE_DATE_EPOCH, else the clock).
 */
export function outputContext(session: OutputFacts, result: AnyAuditResult, plan: ReturnType<typeof planAudit>): OutputContext {
  const files: OutputContext['files'] = {};
  if (session.model && result.inputs.model.format !== 'score-column') files.model = { file: session.model.name, sha256: result.inputs.model.sha256 };
  if (session.data) files.data = { file: session.data.name, sha256: result.inputs.data.sha256 };
  if (session.reference) files.reference = { file: session.reference.name, sha256: session.reference.sha256 };
  const encode = (text: string) => new TextEncoder().encode(text);
  // The config the audit ran: the dropped file while the set-up plans the same audit from it,
  // else the set-up's own config (a pack recorded the dropped file after its threshold and
  // positive label were changed here, and the CLI ran that file to another result).
  const setup = session.auditConfig();
  const configFile = !session.config
    ? undefined
    : plansAlike(session.config.source, setup, plan)
      ? { fileName: session.config.name, bytes: encode(session.config.text) }
      : { fileName: session.config.name.replace(/(\.ya?ml)?$/i, '.setup.yaml'), bytes: encode(stringify(setup)) };
  const policyFile = session.policy ? { fileName: session.policy.name, bytes: encode(session.policy.text) } : undefined;
  if (configFile) files.config = { file: configFile.fileName, sha256: sha256Hex(configFile.bytes) };
  if (policyFile) files.policy = { file: policyFile.fileName, sha256: session.policy!.sha256 };
  if ('comparison' in result && result.comparison) files.baseline = { file: result.comparison.baseline.file, sha256: result.comparison.baseline.sha256 };
  const epoch = new URLSearchParams(globalThis.location?.search ?? '').get('source_date_epoch');
  const fromEpoch = epoch !== null && /^\d+$/.test(epoch);
  const execution = executionOf(result);
  return {
    base: 'report',
    files,
    sources: { ...(configFile ? { config: configFile } : {}), ...(policyFile ? { policy: policyFile } : {}) },
    policy: session.policy?.policy ?? null,
    seedExplicit: plan.seedExplicit,
    strict: false,
    gitCommit: null,
    epochSeconds: fromEpoch ? Number(epoch) : Math.floor(Date.now() / 1000),
    fromSourceDateEpoch: fromEpoch,
    backend: result.inputs.model.format === 'score-column' ? 'none (score column)' : execution?.startsWith('webgpu') ? 'webgpu' : 'wasm',
    metadata: plan.metadata,
    ...(session.config?.source.report?.title ? { title: session.config.source.report.title } : {}),
    forcePolicy: session.forcePolicy,
    reports: reportsOf(session.config?.source.report),
  };
}

/**
 * Whether the set-up plans the audit the dropped config plans, its paths read as the files
 * loaded here: the same request (a fixed threshold the set-up writes out is the policy's
 * own), the same sections left out, the same metadata.
 */
function plansAlike(source: AuditConfig, setup: AuditConfig, plan: ReturnType<typeof planAudit>): boolean {
  // A reference the file names and the set-up lacks (or the reverse) is another audit.
  if ((source.data?.train ?? source.data?.reference) === undefined !== ((setup.data?.train ?? setup.data?.reference) === undefined)) return false;
  const asLoaded: AuditConfig = { ...source, data: { ...source.data, test: setup.data?.test }, ...(source.model || setup.model ? { model: { ...source.model, ...(setup.model?.path ? { path: setup.model.path } : {}) } } : {}) };
  for (const key of ['train', 'reference'] as const) if (asLoaded.data![key] !== undefined) asLoaded.data![key] = setup.data?.train ?? setup.data?.reference;
  let dropped: ReturnType<typeof planAudit>;
  try {
    dropped = planAudit(asLoaded, 'dropped');
  } catch {
    return false;
  }
  const same = (a: ReturnType<typeof planAudit>) => JSON.stringify({ request: { ...a.request, threshold: undefined }, missing: a.missingSections, metadata: a.metadata });
  return same(dropped) === same(plan);
}

/** How the result's model was scored, when WebGPU was asked for. */
export function executionOf(result: AnyAuditResult): string | undefined {
  const model = result.inputs.model;
  return 'execution' in model ? model.execution : undefined;
}
