/**
 * The fast path's field finder: the fields of a well-formed CSV segment, found by scanning
 * its characters, kept as boundaries in typed arrays reused from segment to segment (no row
 * arrays, no field strings).
 */

/** Field and row boundaries of the segment last scanned. */
export class FieldScanner {
  /** Where each field starts and ends in the segment (inside its quotes when quoted). */
  starts = new Int32Array(4096);
  ends = new Int32Array(4096);
  /** 0 plain, 1 quoted, 2 quoted with `""` inside. */
  quoted = new Uint8Array(4096);
  /** For each row, the index of the field after its last. */
  rowEnds = new Int32Array(1024);

  /**
   * The rows of `segment` (fields split by the character `D`, lines ended by CRLF when
   * `crlf`, else LF), or −1. It handles the common dialect — one-character delimiter, the
   * file's line ending, fields quoted as a whole — and gives up (returning −1) on anything
   * else: a stray quote, text after a closing quote, a lone CR.
   */
  scan(segment: string, D: number, crlf: boolean): number {
    const n = segment.length;
    let fields = 0;
    let rows = 0;
    let pos = 0;
    while (pos < n) {
      // One row: fields up to the line end.
      for (;;) {
        if (fields === this.starts.length) this.growFields();
        let c = segment.charCodeAt(pos);
        if (c === 34) {
          let q = pos + 1;
          let escaped = false;
          for (;;) {
            q = segment.indexOf('"', q);
            if (q < 0) return -1;
            if (segment.charCodeAt(q + 1) === 34) {
              escaped = true;
              q += 2;
              continue;
            }
            break;
          }
          this.starts[fields] = pos + 1;
          this.ends[fields] = q;
          this.quoted[fields++] = escaped ? 2 : 1;
          pos = q + 1;
          c = segment.charCodeAt(pos);
          if (!(pos >= n || c === D || c === 10 || c === 13)) return -1;
        } else {
          let end = pos;
          while (end < n) {
            c = segment.charCodeAt(end);
            if (c === D || c === 10 || c === 13 || c === 34) break;
            end++;
          }
          if (end < n && c === 34) return -1;
          this.starts[fields] = pos;
          this.ends[fields] = end;
          this.quoted[fields++] = 0;
          pos = end;
        }
        if (pos >= n) break;
        if (c === D) {
          pos++;
          if (pos >= n) {
            // A delimiter ends the text: one more, empty field.
            if (fields === this.starts.length) this.growFields();
            this.starts[fields] = pos;
            this.ends[fields] = pos;
            this.quoted[fields++] = 0;
            break;
          }
          continue;
        }
        // The line end must be the file's own.
        if (c === 13) {
          if (!crlf || segment.charCodeAt(pos + 1) !== 10) return -1;
          pos += 2;
        } else {
          if (crlf) return -1;
          pos++;
        }
        break;
      }
      if (rows === this.rowEnds.length) {
        const grown = new Int32Array(rows * 2);
        grown.set(this.rowEnds);
        this.rowEnds = grown;
      }
      this.rowEnds[rows++] = fields;
    }
    return rows;
  }

  /** Twice the room for fields, keeping those found. */
  private growFields(): void {
    const size = this.starts.length * 2;
    const [starts, ends, quoted] = [new Int32Array(size), new Int32Array(size), new Uint8Array(size)];
    starts.set(this.starts);
    ends.set(this.ends);
    quoted.set(this.quoted);
    [this.starts, this.ends, this.quoted] = [starts, ends, quoted];
  }
}
