/**
 * The texts a column keeps beside its values while rows arrive: only cells whose stored
 * value does not give their text back (see {@link KeptTexts}), as row and code in growing
 * Int32Arrays, the few distinct texts stored once.
 */
import type { KeptTexts } from '../table';

/** A column's kept texts while its rows arrive. */
export class KeptTextsBuilder {
  private rows = new Int32Array(0);
  private codes = new Int32Array(0);
  private count = 0;
  private readonly dictionary = new Map<string, number>();

  /** Keeps `raw` as row `row`'s text. */
  keepText(row: number, raw: string): void {
    this.keepCode(row, this.codeOf(raw));
  }

  private codeOf(raw: string): number {
    let code = this.dictionary.get(raw);
    if (code === undefined) {
      code = this.dictionary.size;
      // A flat copy: a slice of a 1 MB piece of the file would keep the whole piece alive.
      this.dictionary.set((' ' + raw).slice(1), code);
    }
    return code;
  }

  /** Notes a kept text by its code: an index into the dictionary, or −d for the number's toFixed(d) (see KeptTexts). */
  keepCode(row: number, code: number): void {
    if (this.count === this.rows.length) {
      const size = Math.max(16, this.count * 2);
      const rows = new Int32Array(size);
      const codes = new Int32Array(size);
      rows.set(this.rows);
      codes.set(this.codes);
      this.rows = rows;
      this.codes = codes;
    }
    this.rows[this.count] = row;
    this.codes[this.count++] = code;
  }

  /** Texts noted as a number's toFixed(d), written out from `numbers` (a column that stops being numeric keeps no numbers to give them). */
  spellFixed(numbers: Float64Array): void {
    for (let k = 0; k < this.count; k++) {
      const code = this.codes[k];
      if (code < 0) this.codes[k] = this.codeOf(numbers[this.rows[k]].toFixed(-code));
    }
  }

  /** The kept texts of the rows so far, as they stand (for a slice read on a thread; see slice.ts). */
  snapshot(): KeptTexts | undefined {
    if (this.count === 0) return undefined;
    return { rows: this.rows.slice(0, this.count), codes: this.codes.slice(0, this.count), dictionary: [...this.dictionary.keys()] };
  }

  /** Appends a later slice's kept texts, its rows counted from `offset`. */
  append(texts: KeptTexts, offset: number): void {
    const codes = texts.dictionary.map((text) => this.codeOf(text));
    for (let k = 0; k < texts.rows.length; k++) {
      const code = texts.codes[k];
      this.keepCode(texts.rows[k] + offset, code < 0 ? code : codes[code]);
    }
  }

  /** The kept texts for the built column (undefined when there are none); the builder is left empty. */
  take(): KeptTexts | undefined {
    const texts = this.snapshot();
    this.rows = new Int32Array(0);
    this.codes = new Int32Array(0);
    this.count = 0;
    this.dictionary.clear();
    return texts;
  }
}
