/**
 * Cells' texts from the bytes the fast path reads (UTF-8), counting the characters that were
 * not valid UTF-8 (read as U+FFFD, as the file's decoder reads them: a cell starts and ends
 * at an ASCII byte, which ends any broken sequence, so a cell decodes alone as it does within
 * the file).
 */
import { replacementsIn } from './dialect';

export class CellText {
  /** A cell's first character is data, even U+FEFF. */
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  /** U+FFFD read while {@link counting}. */
  replaced = 0;
  /** Off for bytes made from text already counted. */
  counting = true;

  /** The text of `bytes[from, to)`. */
  of(bytes: Uint8Array, from: number, to: number): string {
    if (to - from <= 32) {
      let ascii = true;
      for (let i = from; i < to; i++) if (bytes[i] >= 128) ascii = false;
      if (ascii) return String.fromCharCode.apply(null, bytes.subarray(from, to) as unknown as number[]);
    }
    const text = this.decoder.decode(bytes.subarray(from, to));
    if (this.counting) this.replaced += replacementsIn(text);
    return text;
  }

  /** The text of `bytes[from, to)`, not counted (it is read again, or was). */
  peek(bytes: Uint8Array, from: number, to: number): string {
    return this.decoder.decode(bytes.subarray(from, to));
  }
}
