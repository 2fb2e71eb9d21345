import type { AuditResult, InputFile } from './audit';
import type { AnyAuditResult } from './run';
import { evaluatePolicy, type Policy, type PolicyDecision } from './config/policy';
import { dateOf } from './config/policy-terms';
import { DEPENDENCY_VERSIONS } from './dependencies';
import { buildManifest, type FileFingerprint, type Manifest } from './manifest';
import { buildEvidencePack } from './report/evidence';
import { renderHtml } from './report/html';
import { modelCard } from './report/model-card';
import { renderPdf } from './report/pdf';

/**
 * How the numbers were computed, the same wherever the audit runs: the app's worker and
 * the CLI both score with onnxruntime-web's WASM build on one thread (or the project's own
 * tree evaluator), so the manifest — and the evidence pack holding it — does not depend on
 * the host. (The browser or Node version is shown by each host, not written into files.)
 */
export const AUDIT_RUNTIME = { environment: 'plumbline (app or CLI)', platform: 'webassembly', threads: 1 } as const;

/** What {@link auditOutputs} needs beyond the result: the run's facts and the files it read. */
export interface OutputContext {
  /** Base name of the files: `<base>.json`, `<base>.manifest.json`, `<base>.pdf`, … */
  base: string;
  /** Fingerprints of the inputs, by role: model, data, reference, config, policy, baseline. */
  files: Record<string, FileFingerprint>;
  /** The config and policy files themselves, copied into the evidence pack. */
  sources?: { config?: InputFile; policy?: InputFile };
  /** The policy the decision is made with (its file's SHA-256 in `files.policy`). */
  policy?: Policy | null;
  seedExplicit: boolean;
  strict: boolean;
  gitCommit: string | null;
  /** Whether the repository of `gitCommit` had uncommitted changes (hosts that asked git); absent otherwise. */
  gitDirty?: boolean;
  /** The time written into the manifest, reports and pack: SOURCE_DATE_EPOCH when given, else the clock. */
  epochSeconds: number;
  fromSourceDateEpoch: boolean;
  /** 'wasm', 'webgpu (…)' or 'none (score column)'. */
  backend: string;
  /** The config's metadata (model card). */
  metadata?: Record<string, string | number | boolean>;
  /** The reports' title (report.title). */
  title?: string;
  /** Whether the manifest is written where the audit's outputs go (false: the result went to stdout only); default true. */
  manifestWritten?: boolean;
  /** Apply the policy although it is not yet in effect or not for this model (--force-policy). */
  forcePolicy?: boolean;
  /** Which files to make beyond the result, manifest and decision (report.format / report.enabled, --no-pdf). */
  reports: { pdf: boolean; html: boolean; modelCard: boolean; pack: boolean };
}

/** Everything an audit writes. */
export interface AuditOutputs {
  /** The result, with its policy decision as a field (part of its digest). */
  result: AnyAuditResult;
  decision: PolicyDecision | null;
  manifest: Manifest;
  /** Every output file by name, as the host writes or downloads it. */
  files: Record<string, Uint8Array>;
}

/** The order of the inputs in every manifest, whichever order a host read them in. */
const INPUT_ORDER = ['model', 'data', 'reference', 'config', 'policy', 'baseline'];

/**
 * Which reports an audit config asks for: `report.enabled: false` (or the CLI's `--no-pdf`)
 * leaves the PDF out; `report.format: html` makes the HTML report without the PDF, `json`
 * neither. The model card and the evidence pack are always made.
 */
export function reportsOf(report: { enabled?: boolean; format?: string } | undefined, noPdf = false): OutputContext['reports'] {
  const enabled = report?.enabled !== false;
  const format = report?.format ?? 'pdf';
  return { pdf: enabled && format === 'pdf' && !noPdf, html: enabled && format !== 'json', modelCard: true, pack: true };
}

/**
 * The id policies and waivers match an audit by: the config's `metadata.model_id`, else the
 * model file's name, else the score column (`score column <name>`).
 */
export function auditedModelId(result: Pick<AuditResult, 'inputs'>, metadata: Record<string, unknown> | undefined): string | null {
  const id = metadata?.model_id;
  if (typeof id === 'string' || typeof id === 'number') return String(id);
  const model = result.inputs.model;
  if ('file' in model) return model.file;
  return `score column ${model.column}`;
}

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
  const reportInput = { result, manifest, createdAt: manifest.created, ...(decision ? { decision } : {}), ...(context.title ? { title: context.title } : {}) };
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
