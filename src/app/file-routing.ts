/**
 * Which kind of file the user dropped, recognised by its first bytes (not its name): an
 * evidence pack, a YAML config or policy, a Plumbline result, a model, or else a data file.
 */
import { looksLikeLightgbmText, looksLikeOnnx, looksLikeXgboostJson } from '../core';

/** Model files by their bytes: ONNX protobuf, XGBoost JSON, LightGBM text. */
export const isModelBytes = (bytes: Uint8Array) => looksLikeOnnx(bytes) || looksLikeXgboostJson(bytes) || looksLikeLightgbmText(bytes);

/** A Plumbline result JSON, PDF or HTML report (XGBoost JSON models have no "performance"). */
export function looksLikeResult(bytes: Uint8Array): boolean {
  const head = new TextDecoder().decode(bytes.subarray(0, 2048));
  if (head.startsWith('%PDF-') || /^\s*<!doctype html/i.test(head)) return true;
  return /^\s*\{/.test(head) && head.includes('"tool"') && head.includes('"plumbline"');
}

/** Configs first: their CSV options (delimiter, missing values, dtypes) decide how the data files are read. */
export function configsFirst(files: Iterable<File>): File[] {
  return [...files].sort((a, b) => Number(!/\.ya?ml$/i.test(a.name)) - Number(!/\.ya?ml$/i.test(b.name)));
}

/** What a dropped file is, from its name and first 4096 bytes. */
export type FileKind = 'pack' | 'yaml' | 'result' | 'model' | 'data';

/** The kind of a file: a zip is an evidence pack, unless it is named as a model (then it is refused as one). */
export function fileKind(name: string, head: Uint8Array): FileKind {
  if (head[0] === 0x50 && head[1] === 0x4b && !/\.onnx$/i.test(name)) return 'pack';
  if (/\.ya?ml$/i.test(name)) return 'yaml';
  if (looksLikeResult(head)) return 'result';
  if (isModelBytes(head) || /\.(onnx|model)$/i.test(name)) return 'model';
  return 'data';
}
