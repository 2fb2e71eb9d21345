/** Recognising model files by their bytes (cheap: no protobuf decoding). */
import { isXgboostUbjson } from '../base/limits-inputs';

/** Whether these bytes can be an ONNX model (a protobuf whose first field is ir_version). */
export function looksLikeOnnx(bytes: Uint8Array): boolean {
  return bytes.length > 16 && bytes[0] === 0x08 && bytes[1] > 0 && bytes[1] < 0x20;
}

/** Describes the first bytes of a file for "this is not a model" messages. */
export function describeBytes(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'the file is empty';
  if (isXgboostUbjson(bytes)) return 'an XGBoost model in UBJSON (.ubj, XGBoost 2.1\'s default): save it as JSON, booster.save_model("model.json")';
  const head = new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 40));
  if (/^[\x09\x0a\x0d\x20-\x7e]+$/.test(head)) return `it starts with the text ${JSON.stringify(head.slice(0, 30))}`;
  const hex = [...bytes.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return `it starts with the bytes ${hex}`;
}

