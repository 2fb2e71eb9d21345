/**
 * A categorical column's dictionary: its texts in the order first met, each with its code,
 * and in front of the `Map` a table that finds a category from the cell's bytes without
 * making its string (slicing and hashing a new string per cell was a sixth of the reading
 * time of a categorical file).
 */
import type { CellText } from './cell-text';

export class Categories {
  private map = new Map<string, number>();
  private texts: string[] = [];
  // Open addressing on an FNV-1a hash of an ASCII cell's bytes: slot = code + 1 (0 empty).
  private slots = new Int32Array(64);
  private slotHashes = new Int32Array(64);
  private slotsUsed = 0;

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
    let high = 0;
    for (let i = from; i < to; i++) {
      const b = bytes[i];
      high |= b;
      hash = Math.imul(hash ^ b, 0x01000193);
    }
    // Not ASCII: by its string (the slots compare a text's characters with the cell's bytes).
    if (high >= 128) return this.codeOf(cells.of(bytes, from, to));
    const mask = this.slots.length - 1;
    let at = hash & mask;
    for (let entry = this.slots[at]; entry !== 0; entry = this.slots[at]) {
      if (this.slotHashes[at] === hash && sameText(this.texts[entry - 1], bytes, from, to)) return entry - 1;
      at = (at + 1) & mask;
    }
    // Not seen by this table: the dictionary may hold it (pushed as a string), else a new code.
    const code = this.codeOf(cells.of(bytes, from, to));
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

/** Whether `candidate` is the ASCII bytes `bytes[from, to)`. */
function sameText(candidate: string, bytes: Uint8Array, from: number, to: number): boolean {
  if (candidate.length !== to - from) return false;
  for (let i = 0; i < candidate.length; i++) if (candidate.charCodeAt(i) !== bytes[from + i]) return false;
  return true;
}
