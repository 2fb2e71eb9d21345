import type { AnyAuditResult } from '../audit/run';
import { evaluatePolicy } from '../config/policy';
import { dateOf } from '../config/policy-terms';
import { DEPENDENCY_VERSIONS } from './dependencies';
import { buildManifest } from './manifest';
import { buildEvidencePack } from './evidence';
import { renderHtml } from './html';
import { modelCard } from './model-card';
import { renderPdf } from './pdf';
import { AUDIT_RUNTIME, auditedModelId, type AuditOutputs, type OutputContext } from './context';

export { AUDIT_RUNTIME, auditedModelId, reportsOf, type AuditOutputs, type OutputContext } from './context';

/** The order of the inputs in every manifest, whichever order a host read them in. */
const INPUT_ORDER = ['model', 'data', 'reference', 'config', 'policy', 'baseline'];

const text = (value: string) => new TextEncoder().encode(value);
const json = (value: unknown) => text(`${JSON.stringify(value, null, 2)}\n`);

/**
 * Makes every output of an audit from its result: the policy decision (attached to the
 * result), the manifest, the result JSON, `policy_decision.json`, the PDF and HTML reports,
 * the model card and the evidence pack (all of them, the config and the policy, and
 * SHA256SUMS). The one place any host gets them from: the same inputs and time give the
 * same bytes in the app and the CLI.
 */
export function auditOutputs(audited: AnyAuditResult, context: OutputContext): AuditOutputs {
  const { base } = context;
  const decision = context.policy
    ? evaluatePolicy(context.policy, context.files.policy?.sha256 ?? '', audited, {
        seedGiven: context.seedExplicit,
        strict: context.strict,
        manifestWritten: context.manifestWritten ?? true,
        gitCommit: context.gitCommit,
        today: dateOf(context.epochSeconds),
        modelId: auditedModelId(audited, context.metadata),
        force: context.forcePolicy ?? false,
      })
    : null;
  const result: AnyAuditResult = decision ? { ...audited, policy_decision: decision } : audited;
  const ordered = Object.fromEntries(Object.entries(context.files).sort(([a], [b]) => (INPUT_ORDER.indexOf(a) + 1 || 99) - (INPUT_ORDER.indexOf(b) + 1 || 99)));
  const manifest = buildManifest(result, {
    files: ordered,
    seedExplicit: context.seedExplicit,
    dependencies: { ...DEPENDENCY_VERSIONS },
    runtime: { ...AUDIT_RUNTIME, backend: context.backend },
    strict: context.strict,
    gitCommit: context.gitCommit,
    ...(context.gitDirty !== undefined ? { gitDirty: context.gitDirty } : {}),
    epochSeconds: context.epochSeconds,
    fromSourceDateEpoch: context.fromSourceDateEpoch,
  });
  const files: Record<string, Uint8Array> = {
    [`${base}.json`]: json(result),
    [`${base}.manifest.json`]: json(manifest),
  };
  if (decision) files['policy_decision.json'] = json(decision);
  const reportInput = { result, manifest, digest: manifest.result_sha256, createdAt: manifest.created, ...(decision ? { decision } : {}), ...(context.title ? { title: context.title } : {}) };
  if (context.reports.pdf) files[`${base}.pdf`] = renderPdf(reportInput);
  if (context.reports.html) files[`${base}.html`] = text(renderHtml(reportInput));
  if (context.reports.modelCard) files[`${base}.model_card.md`] = text(modelCard(result, { metadata: context.metadata ?? {}, ...(decision ? { decision } : {}) }));
  if (context.reports.pack) {
    const packed: Record<string, Uint8Array> = { ...files };
    if (context.sources?.config) packed[`config-${context.sources.config.fileName}`] = context.sources.config.bytes;
    if (context.sources?.policy) packed[`policy-${context.sources.policy.fileName}`] = context.sources.policy.bytes;
    files[`${base}.evidence.zip`] = buildEvidencePack(packed, context.epochSeconds);
  }
  return { result, decision, manifest, files };
}
