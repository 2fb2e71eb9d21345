import { parseCsv } from './data/csv';
import { findColumn, type Table } from './data/table';
import { AuditConfigError, closeMatches, quote } from './errors';
import { sha256Hex } from './hash';
import { calibration, type CalibrationSummary } from './metrics/calibration';
import { attributeFairness, type AttributeFairness } from './metrics/fairness';
import { groupIndex } from './metrics/groups';
import { binaryTarget } from './metrics/labels';
import { performance, type PerformanceMetrics } from './metrics/performance';
import { openOnnxClassifier, planInputs, scoreOnnx, type OrtRuntime } from './model/onnx-scorer';
import type { OnnxModelInfo } from './model/onnx-graph';
import { TOOL_VERSION } from './version';

/** A file the user supplied, as bytes plus the name shown in messages. */
export interface InputFile {
  fileName: string;
  bytes: Uint8Array;
}

/** What to audit and how. */
export interface AuditRequest {
  model: InputFile;
  data: InputFile;
  target: string;
  protectedAttributes: string[];
  /** Column order for a model with one [N, F] input; ignored for per-column inputs. */
  features?: string[];
  positiveLabel?: string;
  /** Decision threshold on p(positive); predicted positive when score >= threshold. Default 0.5. */
  threshold?: number;
  /** Seed of every random choice (none is made yet; recorded for the manifest). Default 0. */
  seed?: number;
  /** Confidence level of every interval. Default 0.95. */
  confidence?: number;
  /** Equal-width calibration bins. Default 10. */
  calibrationBins?: number;
  /** Groups smaller than this are flagged `insufficient_samples`. Default 30. */
  minGroupSize?: number;
  /** Write p(positive) of every row into the result (`predictions_p1`). */
  includePredictions?: boolean;
}

/** The settings an audit actually used, after defaults. */
export interface AuditSettings {
  target: string;
  positive_label: string;
  positive_label_convention: string;
  protected_attributes: string[];
  features: string[] | null;
  threshold: number;
  threshold_policy: 'fixed';
  seed: number;
  confidence: number;
  calibration_bins: number;
  min_group_size: number;
}

/** The audit result; key names and nesting follow the fixtures' `.expected.json`. */
export interface AuditResult {
  tool: { name: 'plumbline'; version: string };
  inputs: {
    model: { file: string; sha256: string; format: 'onnx'; producer: string; opsets: OnnxModelInfo['opsets']; operators: string[]; score_output: string };
    data: { file: string; sha256: string; rows: number; columns: number };
  };
  settings: AuditSettings;
  threshold: number;
  n: number;
  performance: PerformanceMetrics;
  calibration: CalibrationSummary;
  fairness: Record<string, AttributeFairness>;
  predictions_p1?: number[];
}

/** Progress of a running audit. */
export interface AuditProgress {
  stage: 'parse' | 'score' | 'metrics';
  done: number;
  total: number;
}

/** Options of {@link runAudit} that are about the run, not the audit. */
export interface RunOptions {
  onProgress?: (progress: AuditProgress) => void;
  signal?: AbortSignal;
  sessionOptions?: Parameters<OrtRuntime['InferenceSession']['create']>[1];
}

function validateColumns(table: Table, request: AuditRequest): void {
  if (request.protectedAttributes.length === 0) {
    throw new AuditConfigError('No protected attribute chosen. Name at least one column (e.g. --protected race,sex) so fairness can be audited.');
  }
  for (const attribute of request.protectedAttributes) {
    if (!findColumn(table, attribute)) {
      const close = closeMatches(attribute, table.columns.map((c) => c.name));
      throw new AuditConfigError(`${table.source}: no protected attribute column ${quote(attribute)}${close.length ? ` (close matches: ${close.join(', ')})` : ''}.`);
    }
  }
  if (request.protectedAttributes.includes(request.target)) {
    throw new AuditConfigError(`The target ${quote(request.target)} is also listed as a protected attribute. Choose different columns.`);
  }
}

/** Reads, scores and audits: the whole pipeline the worker and the CLI share. */
export async function runAudit(ort: OrtRuntime, request: AuditRequest, options: RunOptions = {}): Promise<AuditResult> {
  const { onProgress, signal } = options;
  const threshold = request.threshold ?? 0.5;
  if (!(threshold >= 0 && threshold <= 1)) {
    throw new AuditConfigError(`The threshold must be a number between 0 and 1, got ${request.threshold}.`);
  }
  onProgress?.({ stage: 'parse', done: 0, total: request.data.bytes.length });
  const text = new TextDecoder('utf-8').decode(request.data.bytes);
  const table = parseCsv(text, { fileName: request.data.fileName });
  onProgress?.({ stage: 'parse', done: request.data.bytes.length, total: request.data.bytes.length });
  const target = binaryTarget(table, request.target, request.positiveLabel);
  validateColumns(table, request);
  signal?.throwIfAborted();

  const model = await openOnnxClassifier(ort, request.model.bytes, request.model.fileName, { sessionOptions: options.sessionOptions });
  const plan = planInputs(model, table, request.features);
  const scores = await scoreOnnx(ort, model, table, plan, {
    signal,
    onProgress: (done, total) => onProgress?.({ stage: 'score', done, total }),
  });
  await model.session.release();

  onProgress?.({ stage: 'metrics', done: 0, total: 1 });
  const settings: AuditSettings = {
    target: request.target,
    positive_label: target.positiveLabel,
    positive_label_convention: target.convention,
    protected_attributes: [...request.protectedAttributes],
    features: plan.kind === 'matrix' ? plan.features : null,
    threshold,
    threshold_policy: 'fixed',
    seed: request.seed ?? 0,
    confidence: request.confidence ?? 0.95,
    calibration_bins: request.calibrationBins ?? 10,
    min_group_size: request.minGroupSize ?? 30,
  };
  const metrics = auditScores(table, target.labels, scores, settings);
  onProgress?.({ stage: 'metrics', done: 1, total: 1 });
  return {
    tool: { name: 'plumbline', version: TOOL_VERSION },
    inputs: {
      model: {
        file: request.model.fileName,
        sha256: sha256Hex(request.model.bytes),
        format: 'onnx',
        producer: [model.info.producerName, model.info.producerVersion].filter(Boolean).join(' '),
        opsets: model.info.opsets,
        operators: model.info.operators,
        score_output: model.probabilityOutput.convention,
      },
      data: { file: request.data.fileName, sha256: sha256Hex(request.data.bytes), rows: table.rowCount, columns: table.columns.length },
    },
    settings,
    ...metrics,
    ...(request.includePredictions ? { predictions_p1: Array.from(scores) } : {}),
  };
}

/** Performance, calibration and fairness of given scores: pure, synchronous, no model. */
export function auditScores(table: Table, labels: Uint8Array, scores: Float64Array, settings: AuditSettings) {
  const options = { threshold: settings.threshold, confidence: settings.confidence, minGroupSize: settings.min_group_size, bins: settings.calibration_bins };
  const fairness: Record<string, AttributeFairness> = {};
  for (const attribute of settings.protected_attributes) {
    fairness[attribute] = attributeFairness(labels, scores, groupIndex(table, attribute), options);
  }
  return {
    threshold: settings.threshold,
    n: table.rowCount,
    performance: performance(labels, scores, settings.threshold, settings.confidence),
    calibration: calibration(labels, scores, { bins: settings.calibration_bins, confidence: settings.confidence }),
    fairness,
  };
}
