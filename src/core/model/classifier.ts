/**
 * Opening a model file of any supported format: the formats tried in order by their bytes,
 * and the types and classifiers of each, re-exported from the modules beside this one.
 */
import { ModelLoadError } from '../base/errors';
import { describeBytes } from './sniff';
import type { OrtRuntime } from './onnx-scorer';
import type { Classifier, ModelFormat, ModelSummary, OpenOptions } from './classifier-types';
import { onnxFormat } from './onnx-format';
import { lightgbmFormat, xgboostFormat } from './tree-classifier';

export type { ModelFormatId, ModelInput, ModelSummary, ScoreOptions, Classifier, ModelFormat, OpenOptions, OnnxScoreRunner, ReopenableModel, TreeMarginRunner } from './classifier-types';
export { reopenableModel, reopenModel, treeClassifier } from './tree-classifier';

/** The model formats, tried in order by their magic bytes. */
export const MODEL_FORMATS: readonly ModelFormat[] = [onnxFormat, xgboostFormat, lightgbmFormat];

/** The format whose bytes these are, or a {@link ModelLoadError} saying what they look like. */
export function modelFormatOf(bytes: Uint8Array, fileName: string): ModelFormat {
  const format = MODEL_FORMATS.find((f) => f.match(bytes));
  if (format) return format;
  throw new ModelLoadError(
    `${fileName}: not a model file Plumbline can read (${describeBytes(bytes)}). Choose an ONNX model (.onnx), an XGBoost JSON model (save_model("model.json")) or a LightGBM text model (save_model("model.txt")).`,
  );
}

/** Whether bytes are a model file of a known format. */
export function isModelFile(bytes: Uint8Array): boolean {
  return MODEL_FORMATS.some((f) => f.match(bytes));
}

/** Describes a model file without creating a session. */
export function inspectModel(bytes: Uint8Array, fileName: string): ModelSummary {
  return modelFormatOf(bytes, fileName).inspect(bytes, fileName);
}

/** Opens a model file of any supported format as a binary classifier. */
export function openModel(ort: OrtRuntime, bytes: Uint8Array, fileName: string, options: OpenOptions = {}): Promise<Classifier> {
  return modelFormatOf(bytes, fileName).open(ort, bytes, fileName, options);
}
