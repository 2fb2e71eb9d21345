/**
 * What a file a user gives is, from its first bytes (its name only where the bytes cannot
 * tell): an evidence pack, a YAML config or policy, a Plumbline result (its JSON, or a PDF
 * or HTML report holding it), a model (a format of the model registry), or else data (its
 * format is decided by the data reader from the same bytes). The app routes dropped files
 * with it.
 */
import { isModelFile } from '../model/classifier';

/** What a given file is. */
export type FileKind = 'pack' | 'yaml' | 'result' | 'model' | 'data';

/** A Plumbline result JSON, PDF or HTML report, from the first 2 KB (XGBoost JSON models have no "tool": "plumbline"). */
export function looksLikeResult(head: Uint8Array): boolean {
  const text = new TextDecoder().decode(head.subarray(0, 2048));
  if (text.startsWith('%PDF-') || /^\s*<!doctype html/i.test(text)) return true;
  return /^\s*\{/.test(text) && text.includes('"tool"') && text.includes('"plumbline"');
}

/** The kind of a file from its name and first bytes: a zip is an evidence pack, unless it is named as a model (then it is refused as one). */
export function fileKind(name: string, head: Uint8Array): FileKind {
  if (head[0] === 0x50 && head[1] === 0x4b && !/\.onnx$/i.test(name)) return 'pack';
  if (/\.ya?ml$/i.test(name)) return 'yaml';
  if (looksLikeResult(head)) return 'result';
  if (isModelFile(head) || /\.(onnx|model)$/i.test(name)) return 'model';
  return 'data';
}
