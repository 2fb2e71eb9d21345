/**
 * The fast path's field finder: the fields of well-formed CSV bytes, found by scanning them,
 * kept as boundaries in typed arrays reused from segment to segment (no row arrays, no field
 * strings). UTF-8 puts no byte under 0x80 inside a multi-byte character, so the delimiter,
 * quotes and line ends found among the bytes are the text's own.
 */

/** Field and row boundaries of the bytes last scanned. */
export class FieldScanner {
  /** Where each field starts and ends in the bytes (inside its quotes when quoted). */
  starts = new Int32Array(4096);
  ends = new Int32Array(4096);
  /** 0 plain, 1 quoted, 2 quoted with `""` inside. */
  quoted = new Uint8Array(4096);
  /** For each row, the index of the field after its last. */
  rowEnds = new Int32Array(1024);
  /** Bytes of the complete rows found by the last {@link scan}. */
  consumed = 0;

  /**
   * The complete rows of `bytes` (fields split by the byte `D`, lines ended by CRLF when
   * `crlf`, else LF), or −1. It handles the common dialect — one-character delimiter, the
   * file's line ending, fields quoted as a whole — and gives up (returning −1) on anything
   * else: a stray quote, text after a closing quote, a lone CR. Unless `final`, a last row
   * the bytes do not end (no line end yet, a quote still open, a closing quote or a CR as
   * the last byte: the next byte decides) is left for the next call ({@link consumed} stops
   * before it); when `final`, the end of the bytes ends the last row.
   */
  scan(bytes: Uint8Array, D: number, crlf: boolean, final: boolean): number {
    const n = bytes.length;
    let fields = 0;
    let rows = 0;
    let pos = 0;
    this.consumed = 0;
    rowsLoop: while (pos < n) {
      // One row: fields up to the line end.
      for (;;) {
        if (fields === this.starts.length) this.growFields();
        let c = bytes[pos];
        if (c === 34) {
          let q = pos + 1;
          let escaped = false;
          for (;;) {
            q = bytes.indexOf(34, q);
            if (q < 0 || (q + 1 >= n && !final)) {
              if (q < 0 && final) return -1;
              break rowsLoop;
            }
            if (bytes[q + 1] === 34) {
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
          c = bytes[pos];
          if (!(pos >= n || c === D || c === 10 || c === 13)) return -1;
        } else {
          let end = pos;
          while (end < n) {
            c = bytes[end];
            if (c === D || c === 10 || c === 13 || c === 34) break;
            end++;
          }
          if (end < n && c === 34) return -1;
          this.starts[fields] = pos;
          this.ends[fields] = end;
          this.quoted[fields++] = 0;
          pos = end;
        }
        if (pos >= n) {
          if (!final) break rowsLoop;
          break;
        }
        if (c === D) {
          pos++;
          if (pos >= n) {
            if (!final) break rowsLoop;
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
          if (!crlf) return -1;
          if (pos + 1 >= n && !final) break rowsLoop;
          if (bytes[pos + 1] !== 10) return -1;
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
      this.consumed = pos;
    }
    // Fields past the last row's end belong to a row left for the next call.
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
