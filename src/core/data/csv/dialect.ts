/**
 * What a CSV's first bytes say about how to read it: the delimiter, and whether the text is
 * binary or UTF-16 rather than UTF-8 (refused, with the fix).
 */
import { CsvError } from '../../base/errors';

/** The delimiter among `,` `;` tab `|` that splits the first lines most consistently. */
export function detectDelimiter(text: string): string {
  const sample = text.slice(0, 64 * 1024).split(/\r?\n/).filter((line) => line.length > 0).slice(0, 20);
  let best = ',';
  let bestScore = -1;
  for (const delimiter of [',', ';', '\t', '|']) {
    const counts = sample.map((line) => line.split(delimiter).length - 1);
    if (counts.length === 0 || counts[0] === 0) continue;
    const consistent = counts.filter((count) => count === counts[0]).length;
    const score = consistent * 1000 + counts[0];
    if (score > bestScore) {
      bestScore = score;
      best = delimiter;
    }
  }
  return best;
}

/** Bytes at the start of a file searched for NUL (a binary file). */
export const NUL_WINDOW = 8192;
/** Characters at the start of a text the delimiter is detected on. */
export const DETECT_WINDOW = 64 * 1024;

/**
 * Whether text that holds NUL characters is UTF-16 read as UTF-8: ASCII in UTF-16 puts a
 * NUL in every other position (after each character in little-endian, before it in
 * big-endian). Returns the byte order, or null for other binary data.
 */
export function utf16Order(head: string): 'little-endian' | 'big-endian' | null {
  let even = 0;
  let odd = 0;
  for (let i = 0; i < head.length; i++) {
    if (head.charCodeAt(i) !== 0) continue;
    if (i % 2 === 0) even++;
    else odd++;
  }
  const half = head.length / 2;
  if (odd >= half * 0.5 && even <= half * 0.05) return 'little-endian';
  if (even >= half * 0.5 && odd <= half * 0.05) return 'big-endian';
  return null;
}

/** The message for a UTF-16 file (`bom`: the byte-order mark it starts with, when it has one). */
export function utf16Error(fileName: string, order: 'little-endian' | 'big-endian', bom = false): CsvError {
  const mark = order === 'little-endian' ? 'FF FE' : 'FE FF';
  return new CsvError(`${fileName}: the file is UTF-16 text (${order}${bom ? `, byte-order mark ${mark}` : ''}), and Plumbline reads CSV as UTF-8. UTF-16: save the file as UTF-8 (in Excel: Save As, CSV UTF-8) and load it again.`);
}

/** Bytes decoded to text at a time: the texts stay in V8's young generation (see CsvReader.push). */
const TEXT_PIECE = 64 * 1024;

/** Decodes `bytes` (a piece of a stream: `decoder` keeps a split character) `TEXT_PIECE` at a time, handing each text to `push`. */
export function decodeInPieces(decoder: TextDecoder, bytes: Uint8Array, push: (text: string) => void): void {
  for (let at = 0; at < bytes.length; at += TEXT_PIECE) push(decoder.decode(bytes.subarray(at, at + TEXT_PIECE), { stream: true }));
}

/** U+FFFD written in the file as such (its UTF-8 bytes EF BF BD): valid text, not a byte that could not be read. */
export function literalReplacements(bytes: Uint8Array): number {
  let count = 0;
  for (let i = bytes.indexOf(0xef); i >= 0 && i + 2 < bytes.length; i = bytes.indexOf(0xef, i + 1)) if (bytes[i + 1] === 0xbf && bytes[i + 2] === 0xbd) count++;
  return count;
}

/** U+FFFD in `text`: characters that were not valid in the file's encoding (and any the file holds as such, see {@link literalReplacements}). */
export function replacementsIn(text: string): number {
  let count = 0;
  for (let i = text.indexOf('\uFFFD'); i >= 0; i = text.indexOf('\uFFFD', i + 1)) count++;
  return count;
}
