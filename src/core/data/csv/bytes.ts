/**
 * A CSV reader's bytes: once the header and the dialect are known, records are read from the
 * bytes themselves by the fast path (fast.ts: no text made for most cells), an unfinished
 * record carried as bytes to the next chunk; the file's head, and bytes the fast path gives
 * up on (a stray quote, a lone CR, a record over {@link MAX_CARRY}), are decoded and read as
 * text, the reader's way for everything unusual. Both give the same table for well-formed
 * records; for text papaparse reads its own way (a quote closed before something other than
 * the delimiter or the line end) the text path cuts segments only at the record ends
 * papaparse itself would find (quotes.ts), so that where the chunks fall does not change them.
 */
import { CellText, singleByteTable } from './cell-text';
import { decodeInPieces, literalReplacements, replacementsIn } from './dialect';
import { FastRows, type FastRead } from './fast';

/** What the front needs of the reader it feeds (CsvReader). */
export interface ByteTarget {
  push(text: string): void;
  readonly fastReady: boolean;
  handOver(): string | undefined;
  readFast(bytes: Uint8Array, final: boolean): FastRead | null;
}

/** Bytes the fast path reads at a time (its field arrays stay small). */
const WINDOW = 256 * 1024;
/**
 * The most bytes of an unfinished record carried as bytes: a longer one is read as text,
 * which follows a long record's quotes piece by piece (each chunk with a line feed scans
 * the carried bytes again).
 */
export const MAX_CARRY = WINDOW;
const ENCODER = new TextEncoder();

/**
 * Text back to the bytes it was read from: UTF-8 ({@link textBytes}), or a single-byte
 * encoding's own bytes, each character one byte from the decoder's table (undefined for a
 * character the table lacks: the text is then read as text).
 */
function encoderFor(encoding: string): (text: string) => Uint8Array | undefined {
  const table = singleByteTable(encoding);
  if (table === null) return textBytes;
  const byteOf = new Int16Array(65536).fill(-1);
  // U+FFFD stands for every byte the encoding leaves undefined: it gives none back.
  for (let byte = 0; byte < 256; byte++) if (table.charCodeAt(byte) !== 0xfffd) byteOf[table.charCodeAt(byte)] = byte;
  return (text) => {
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const byte = byteOf[text.charCodeAt(i)];
      if (byte < 0) return undefined;
      bytes[i] = byte;
    }
    return bytes;
  };
}

export class ByteFront {
  readonly cells: CellText;
  readonly fast: FastRows;
  /** Text back to the file's bytes (undefined where it cannot be), for the fast path. */
  readonly bytesOf: (text: string) => Uint8Array | undefined;
  /** Whether the bytes are read as bytes now; the unfinished record's bytes, then, in the pieces they came in. */
  private reading = false;
  private carry: Uint8Array[] = [];
  private carried = 0;
  /** Decodes the bytes read as text; the last byte it was given (≥ 0x80: it may hold part of a character). */
  private decoder: TextDecoder;
  private lastByte = 0;
  /** The decoded bytes' end when it starts U+FFFD's bytes (EF, or EF BF). */
  private markStart = new Uint8Array(0);
  private decodedReplaced = 0;

  constructor(private readonly target: ByteTarget, private readonly encoding = 'utf-8') {
    this.cells = new CellText(encoding);
    this.fast = new FastRows(this.cells);
    this.decoder = new TextDecoder(encoding);
    this.bytesOf = encoderFor(encoding);
  }

  /** The text's first character is data, even U+FEFF (a later slice of a file). */
  keepMark(): void {
    this.decoder = new TextDecoder(this.encoding, { ignoreBOM: true });
  }

  /** Characters not valid UTF-8 in the bytes read (read as U+FFFD). */
  get replaced(): number {
    return this.decodedReplaced + this.cells.replaced;
  }

  /** Whether the bytes so far end where a record ends; undefined while they are read as text. */
  get endsOnRecord(): boolean | undefined {
    return this.reading ? this.carried === 0 : undefined;
  }

  /** The next bytes. */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (!this.reading) this.start();
    if (this.reading) this.read(chunk);
    else this.decode(chunk);
  }

  /** Ends the bytes: what the decoder holds, or the unfinished record's bytes, read as text. */
  end(): void {
    if (this.reading) this.stop(this.takeCarry());
    this.pushText(this.decoder.decode());
  }

  /** Runs `read` on bytes made from text already counted (their U+FFFD are not counted again). */
  uncounted<T>(read: () => T): T {
    this.cells.counting = false;
    try {
      return read();
    } finally {
      this.cells.counting = true;
    }
  }

  private decode(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    decodeInPieces(this.decoder, bytes, (text) => this.pushText(text));
    if (this.decoder.encoding === 'utf-8') {
      // U+FFFD the file holds as such (EF BF BD), its bytes maybe split over the pieces, is not counted.
      const joined = this.markStart.length ? concatBytes([this.markStart, bytes]) : bytes;
      this.decodedReplaced -= literalReplacements(joined);
      const n = joined.length;
      this.markStart = n >= 2 && joined[n - 2] === 0xef && joined[n - 1] === 0xbf ? joined.slice(n - 2) : joined[n - 1] === 0xef ? joined.slice(n - 1) : new Uint8Array(0);
    }
    this.lastByte = bytes[bytes.length - 1];
  }

  private pushText(text: string): void {
    this.decodedReplaced += replacementsIn(text);
    this.target.push(text);
  }

  /** Bytes from here on where the reader can take them: its unfinished record carried as bytes (the decoder holds nothing). */
  private start(): void {
    if (this.lastByte >= 128 || !this.target.fastReady) return;
    const rest = this.target.handOver();
    if (rest === undefined) return;
    const restBytes = rest ? this.bytesOf(rest) : new Uint8Array(0);
    if (!restBytes) {
      // Cannot be read as bytes again (a lone surrogate): the reader reads on as text.
      this.target.push(rest);
      return;
    }
    this.carry = restBytes.length ? [restBytes] : [];
    this.carried = this.carry[0]?.length ?? 0;
    this.reading = true;
  }

  /** The bytes of `rest` (they start at a record) read as text from here on. */
  private stop(rest: Uint8Array): void {
    this.reading = false;
    if (rest.length > 0) this.decode(rest);
  }

  /** The carried bytes (or `carried`), then `extra`, as one array; none carried after. */
  private takeCarry(extra?: Uint8Array, carried?: Uint8Array): Uint8Array {
    const parts = [...(carried ? [carried] : this.carry), ...(extra ? [extra] : [])];
    this.carry = [];
    this.carried = 0;
    return concatBytes(parts);
  }

  /** Reads the complete records of the carried bytes and `chunk`, a window at a time; carries the rest. */
  private read(chunk: Uint8Array): void {
    // No line feed, no record ends here: carried as it is (a copy: a host may reuse its buffer).
    if (chunk.indexOf(10) < 0) {
      if (this.carried + chunk.length > MAX_CARRY) this.stop(this.takeCarry(chunk));
      else {
        this.carry.push(chunk.slice());
        this.carried += chunk.length;
      }
      return;
    }
    let bytes = chunk;
    let at = 0;
    if (this.carried > 0) {
      // The carried record and the chunk's first window, joined; the rest read in place.
      const take = Math.min(chunk.length, WINDOW);
      const head = this.takeCarry(chunk.subarray(0, take));
      const read = this.target.readFast(head, false);
      if (!read) {
        this.stop(head);
        this.decode(chunk.subarray(take));
        return;
      }
      // The carried bytes hold one unfinished record: the rows read end in the chunk.
      if (read.used > 0) at = read.used - (head.length - take);
      else bytes = take < chunk.length ? this.takeCarry(chunk.subarray(take), head) : head;
    }
    while (at < bytes.length) {
      const end = Math.min(bytes.length, at + WINDOW);
      const read = this.target.readFast(bytes.subarray(at, end), false);
      if (!read) {
        this.stop(bytes.subarray(at));
        return;
      }
      if (read.used > 0) at += read.used;
      else if (end === bytes.length) break; // an unfinished record
      else {
        // A record longer than the window: read as text, which holds long records and refuses those over the row limit.
        this.stop(bytes.subarray(at));
        return;
      }
    }
    if (bytes.length - at > MAX_CARRY) this.stop(bytes.subarray(at));
    else if (at < bytes.length) {
      this.carry = [bytes.slice(at)];
      this.carried = bytes.length - at;
    }
  }
}

/** The UTF-8 bytes of `text`, or undefined where they would not give it back (a lone surrogate) or the host cannot tell. */
export function textBytes(text: string): Uint8Array | undefined {
  return (text as unknown as { isWellFormed?: () => boolean }).isWellFormed?.() ? ENCODER.encode(text) : undefined;
}

/** The pieces as one array (the piece itself when there is one). */
export function concatBytes(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
