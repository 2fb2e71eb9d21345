/**
 * The result JSON a Plumbline PDF carries in its XMP metadata: how it is written and read
 * back (without jsPDF, so reading a report back loads no PDF writer).
 */
/** XMP namespace under which the result JSON travels inside the PDF. */
export const RESULT_NAMESPACE = 'https://plumbline.invalid/ns/result/1.0/';

/** Standard base64 of bytes. */
export function base64(bytes: Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += alphabet[(n >> 18) & 63] + alphabet[(n >> 12) & 63] + (i + 1 < bytes.length ? alphabet[(n >> 6) & 63] : '=') + (i + 2 < bytes.length ? alphabet[n & 63] : '=');
  }
  return out;
}

/** Reads the result JSON back out of a Plumbline PDF report, or null when it holds none. */
export function resultFromPdf(bytes: Uint8Array): unknown {
  const embedded = embeddedInPdf(bytes);
  return embedded ? JSON.parse(embedded.json) : null;
}

/** The byte values of an ASCII text. */
const ascii = (text: string) => Uint8Array.from(text, (c) => c.charCodeAt(0));
const OPEN = ascii('<plumbline:result');
const CLOSE = ascii('</plumbline:result>');
const DIGEST = ascii('result-sha256:');
/** Each byte's base64 value; -1 for '=' and every byte outside the alphabet. */
const BASE64 = (() => {
  const table = new Int8Array(256).fill(-1);
  for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) table[c.charCodeAt(0)] = i;
  return table;
})();
const isSpace = (b: number) => b === 32 || (b >= 9 && b <= 13);
const isHex = (b: number) => (b >= 48 && b <= 57) || (b >= 97 && b <= 102);

/** Where `pattern` next occurs in `bytes` from `from`, or -1. */
function find(bytes: Uint8Array, pattern: Uint8Array, from: number): number {
  for (let i = bytes.indexOf(pattern[0], from); i >= 0 && i + pattern.length <= bytes.length; i = bytes.indexOf(pattern[0], i + 1)) {
    let k = 1;
    while (k < pattern.length && bytes[i + k] === pattern[k]) k++;
    if (k === pattern.length) return i;
  }
  return -1;
}

/**
 * The result JSON text embedded in a Plumbline PDF (in its XMP metadata, base64) and the
 * result digest its keywords record, or null when the PDF holds none. Reads the bytes as
 * they are (a report is most of a megabyte: no decoding of the whole file to text).
 */
export function embeddedInPdf(bytes: Uint8Array): { json: string; digest: string | null } | null {
  // The first <plumbline:result …> whose content up to its closing tag is base64 and white space.
  let content: Uint8Array | null = null;
  for (let at = find(bytes, OPEN, 0); at >= 0 && !content; at = find(bytes, OPEN, at + 1)) {
    const gt = bytes.indexOf(62 /* > */, at + OPEN.length);
    if (gt < 0) break;
    let end = gt + 1;
    while (end < bytes.length && (BASE64[bytes[end]] >= 0 || bytes[end] === 61 /* = */ || isSpace(bytes[end]))) end++;
    if (end > gt + 1 && find(bytes.subarray(end, end + CLOSE.length), CLOSE, 0) === 0) content = bytes.subarray(gt + 1, end);
  }
  if (!content) return null;
  const clean = new Uint8Array(content.length);
  let length = 0;
  for (let i = 0; i < content.length; i++) if (!isSpace(content[i])) clean[length++] = content[i];
  const value = (i: number) => (i < length ? BASE64[clean[i]] : -1);
  const out = new Uint8Array(Math.ceil(length / 4) * 3);
  let n = 0;
  for (let i = 0; i < length; i += 4) {
    const v = (value(i) << 18) | (value(i + 1) << 12) | ((value(i + 2) & 63) << 6) | (value(i + 3) & 63);
    out[n++] = (v >> 16) & 255;
    if (i + 2 >= length || clean[i + 2] !== 61) out[n++] = (v >> 8) & 255;
    if (i + 3 >= length || clean[i + 3] !== 61) out[n++] = v & 255;
  }
  let digest: string | null = null;
  for (let at = find(bytes, DIGEST, 0); at >= 0 && digest === null; at = find(bytes, DIGEST, at + 1)) {
    const hex = bytes.subarray(at + DIGEST.length, at + DIGEST.length + 64);
    if (hex.length === 64 && hex.every(isHex)) digest = String.fromCharCode(...hex);
  }
  return { json: new TextDecoder().decode(out.subarray(0, n)), digest };
}
