/**
 * What a host hands the outputs bundle (bundle.ts) besides the result, and the small
 * decisions it takes from a config: which reports, which model id. Kept apart from the
 * bundle, which loads the PDF writer, so hosts read these without loading jsPDF.
 */
import type { AuditResult, InputFile } from '../audit';
import type { AnyAuditResult } from '../audit/run';
import type { Policy, PolicyDecision } from '../config/policy';
import type { FileFingerprint, Manifest } from './manifest';

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
 * The id policies and waivers match an audit by: the config's `metadata.model_id` (or, for a
 * result read back, the one it recorded in `settings.model_id`), else the model file's name,
 * else the score column (`score column <name>`).
 */
export function auditedModelId(result: Pick<AuditResult, 'inputs'> & { settings?: { model_id?: string } }, metadata: Record<string, unknown> | undefined): string | null {
  const id = metadata?.model_id ?? result.settings?.model_id;
  if (typeof id === 'string' || typeof id === 'number') return String(id);
  const model = result.inputs.model;
  if ('file' in model) return model.file;
  return `score column ${model.column}`;
}

/**
 * A binary audit's class counts in words: the positive label's and the other rows'. The
 * result keys them 0/1 (negative/positive), which a reader pairs with the model's class
 * numbers, where class 0 may be the positive label (positive_label: 0, or class names).
 */
export function binaryClassCounts(result: Pick<AuditResult, 'data' | 'settings'>): string {
  const counts = result.data.target.counts as Record<string, number>;
  // An audit without labels counts none.
  if (counts['1'] === undefined && counts['0'] === undefined) return 'not counted (no labels)';
  return `${counts['1'] ?? 0} positive (${String(result.settings.positive_label)}), ${counts['0'] ?? 0} negative (the other labels)`;
}
