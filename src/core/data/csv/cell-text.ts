/**
 * Cells' texts from the bytes the fast path reads (UTF-8, or the single-byte encoding the
 * file is declared in), counting the characters that could not be read (read as U+FFFD, as
 * the file's decoder reads them: a cell starts and ends at an ASCII byte, which ends any
 * broken sequence, so a cell decodes alone as it does within the file).
 */
import { literalReplacements, replacementsIn } from './dialect';

/**
 * The 256 characters of a single-byte encoding, byte by byte; null for UTF-8. Decoded with
 * `stream: true`: Node 20's one-shot windows-1252 decoder reads 0x80–0x9F as Latin-1's
 * control characters (0x80 as U+0080, not €), its streaming one as the WHATWG table does.
 */
export function singleByteTable(encoding: string): string | null {
  const decoder = new TextDecoder(encoding);
  if (decoder.encoding === 'utf-8') return null;
  const table = decoder.decode(Uint8Array.from({ length: 256 }, (_, byte) => byte), { stream: true });
  if (table.length !== 256) throw new Error(`${encoding} is not a single-byte encoding`);
  return table;
}

export class CellText {
  /** A cell's first character is data, even U+FEFF. */
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  /** A single-byte encoding's characters (see {@link singleByteTable}); null for UTF-8. */
  private readonly table: string | null;
  /** U+FFFD read while {@link counting}. */
  replaced = 0;
  /** Off for bytes made from text already counted. */
  counting = true;

  constructor(encoding = 'utf-8') {
    this.table = singleByteTable(encoding);
  }

  /** The text of `bytes[from, to)`. */
  of(bytes: Uint8Array, from: number, to: number): string {
    if (to - from <= 32) {
      let ascii = true;
      for (let i = from; i < to; i++) if (bytes[i] >= 128) ascii = false;
      if (ascii) return String.fromCharCode.apply(null, bytes.subarray(from, to) as unknown as number[]);
    }
    const text = this.peek(bytes, from, to);
    if (this.counting) {
      const replaced = replacementsIn(text);
      if (replaced > 0) this.replaced += replaced - (this.table === null ? literalReplacements(bytes.subarray(from, to)) : 0);
    }
    return text;
  }

  /** The text of `bytes[from, to)`, not counted (it is read again, or was). */
  peek(bytes: Uint8Array, from: number, to: number): string {
    const table = this.table;
    if (table === null) return this.decoder.decode(bytes.subarray(from, to));
    let text = '';
    for (let i = from; i < to; i++) text += table[bytes[i]];
    return text;
  }
}
