/**
 * The facts of an audit run in the app that its outputs bundle records: the files it read,
 * the policy, the seed, the time and the backend (see core/outputs).
 */
import { reportsOf, sha256Hex, type AnyAuditResult, type OutputContext, type planAudit } from '../core';
import type { AuditSession } from './audit-session.svelte';

/** What of the session the outputs bundle records. */
export type OutputFacts = Pick<AuditSession, 'model' | 'data' | 'reference' | 'config' | 'policy' | 'forcePolicy'>;

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
  const configFile = session.config ? { fileName: session.config.name, bytes: encode(session.config.text) } : undefined;
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

/** How the result's model was scored, when WebGPU was asked for. */
export function executionOf(result: AnyAuditResult): string | undefined {
  const model = result.inputs.model;
  return 'execution' in model ? model.execution : undefined;
}
