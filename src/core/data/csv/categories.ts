/**
 * A categorical column's dictionary: its texts in the order first met, each with its code,
 * and in front of the `Map` a table that finds a category from the cell's UTF-8 bytes without
 * making its string (slicing and hashing a new string per cell was a sixth of the reading
 * time of a categorical file).
 */
import type { CellText } from './cell-text';

export class Categories {
  private map = new Map<string, number>();
  private texts: string[] = [];
  // Open addressing on an FNV-1a hash of a cell's bytes: slot = code + 1 (0 empty). A code
  // found by its bytes keeps them (`starts`, `lengths` into `pool`) to compare with.
  private slots = new Int32Array(64);
  private slotHashes = new Int32Array(64);
  private slotsUsed = 0;
  private pool = new Uint8Array(1024);
  private pooled = 0;
  private starts = new Int32Array(16);
  private lengths = new Int32Array(16);

  get size(): number {
    return this.texts.length;
  }

  /** The texts, in the order of their codes. */
  keys(): string[] {
    return this.texts;
  }

  /** The code of `text`, a new one when it is new. */
  codeOf(text: string): number {
    let code = this.map.get(text);
    if (code === undefined) {
      code = this.texts.length;
      this.map.set(text, code);
      this.texts.push(text);
    }
    return code;
  }

  /** The code of the cell `bytes[from, to)`. */
  byBytes(bytes: Uint8Array, from: number, to: number, cells: CellText): number {
    let hash = 0x811c9dc5;
    for (let i = from; i < to; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193);
    const mask = this.slots.length - 1;
    let at = hash & mask;
    for (let entry = this.slots[at]; entry !== 0; entry = this.slots[at]) {
      if (this.slotHashes[at] === hash && this.sameBytes(entry - 1, bytes, from, to)) return entry - 1;
      at = (at + 1) & mask;
    }
    // Not seen by its bytes: the dictionary may hold it (pushed as a string), else a new code.
    const text = cells.of(bytes, from, to);
    const code = this.codeOf(text);
    // U+FFFD is counted each time it is read: such a cell is decoded every time.
    if (text.includes('\uFFFD')) return code;
    this.keepBytes(code, bytes, from, to);
    this.slots[at] = code + 1;
    this.slotHashes[at] = hash;
    if (++this.slotsUsed * 2 > this.slots.length) this.growSlots();
    return code;
  }

  /** Lets go of every text. */
  clear(): void {
    this.map = new Map();
    this.texts = [];
    this.slots = new Int32Array(64);
    this.slotHashes = new Int32Array(64);
    this.slotsUsed = 0;
    this.pool = new Uint8Array(1024);
    this.pooled = 0;
    this.starts = new Int32Array(16);
    this.lengths = new Int32Array(16);
  }

  /** Whether the bytes kept for `code` are `bytes[from, to)`. */
  private sameBytes(code: number, bytes: Uint8Array, from: number, to: number): boolean {
    const n = to - from;
    if (this.lengths[code] !== n) return false;
    const pool = this.pool;
    const start = this.starts[code];
    for (let i = 0; i < n; i++) if (pool[start + i] !== bytes[from + i]) return false;
    return true;
  }

  /** Keeps `bytes[from, to)` as the bytes of `code` (a code has one byte form: decoding is one to one without U+FFFD). */
  private keepBytes(code: number, bytes: Uint8Array, from: number, to: number): void {
    if (code >= this.starts.length) {
      const size = Math.max(code + 1, this.starts.length * 2);
      const [starts, lengths] = [new Int32Array(size), new Int32Array(size)];
      starts.set(this.starts);
      lengths.set(this.lengths);
      [this.starts, this.lengths] = [starts, lengths];
    }
    const n = to - from;
    if (this.pooled + n > this.pool.length) {
      const pool = new Uint8Array(Math.max(this.pooled + n, this.pool.length * 2));
      pool.set(this.pool.subarray(0, this.pooled));
      this.pool = pool;
    }
    this.pool.set(bytes.subarray(from, to), this.pooled);
    this.starts[code] = this.pooled;
    this.lengths[code] = n;
    this.pooled += n;
  }

  private growSlots(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const hashes = new Int32Array(slots.length);
    const mask = slots.length - 1;
    for (let i = 0; i < this.slots.length; i++) {
      if (this.slots[i] === 0) continue;
      let at = this.slotHashes[i] & mask;
      while (slots[at] !== 0) at = (at + 1) & mask;
      slots[at] = this.slots[i];
      hashes[at] = this.slotHashes[i];
    }
    this.slots = slots;
    this.slotHashes = hashes;
  }
}
