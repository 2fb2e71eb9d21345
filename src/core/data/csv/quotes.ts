/**
 * Following quotes through CSV text to find where records end, the way papaparse reads
 * them: a quote opens a field only at the field's start, `""` inside is an escaped quote,
 * and a quote closes the field only before the delimiter or the file's own line end.
 */

/** Where following stopped: the offset reached in the text, whether that is inside quotes, and the last record end found (−1: none). */
export interface QuoteState {
  pos: number;
  inQuotes: boolean;
  cut: number;
}

/**
 * Follows quotes through `text` from `state.pos`, updating `state`; record ends are noted as
 * `base` + their offset in `text`. `newline`: the file's line end, when known (in a CRLF file a
 * lone LF is part of a field, not a record end).
 * Following stops before a quote whose meaning the next piece of text decides.
 */
export function followQuotes(text: string, base: number, state: QuoteState, delimiter: string | undefined, newline: '\n' | '\r\n' | undefined): void {
  const crlf = newline === '\r\n';
  let { pos, inQuotes, cut } = state;
  for (;;) {
    const quote = text.indexOf('"', pos);
    const end = quote < 0 ? text.length : quote;
    if (!inQuotes && end > pos) {
      let newline = text.lastIndexOf('\n', end - 1);
      if (crlf) while (newline >= pos && text.charCodeAt(newline - 1) !== 13) newline = newline > 0 ? text.lastIndexOf('\n', newline - 1) : -1;
      if (newline >= pos) cut = base + newline;
    }
    if (quote < 0) {
      pos = text.length;
      break;
    }
    if (inQuotes) {
      if (quote + 1 >= text.length) {
        pos = quote; // is it `""` or the closing quote? The next piece says.
        break;
      }
      if (text.charCodeAt(quote + 1) === 34) pos = quote + 2;
      else {
        // Like papaparse, a quote closes the field only before the delimiter or a line
        // end (spaces allowed between); elsewhere it is a stray quote inside the field.
        let next = quote + 1;
        while (text.charCodeAt(next) === 32) next++;
        if (next >= text.length) {
          pos = quote;
          break;
        }
        const after = text[next];
        if (crlf && after === '\r' && next + 1 >= text.length) {
          pos = quote; // CR then LF? The next piece says.
          break;
        }
        // The file's own line end (papaparse's newline): in an LF file a CR after a quote is
        // data, and so is a lone LF in a CRLF file; while the line end is not known (a
        // declared delimiter), either, as papaparse guesses it from the text it is given.
        const lineEnd = newline === undefined ? after === '\n' || after === '\r' : crlf ? after === '\r' && text[next + 1] === '\n' : after === '\n';
        if (after === delimiter || lineEnd) inQuotes = false;
        pos = quote + 1;
      }
    } else {
      const before = quote === 0 ? '\n' : text[quote - 1];
      if (before === '\n' || before === '\r' || before === delimiter) inQuotes = true;
      pos = quote + 1;
    }
  }
  state.pos = pos;
  state.inQuotes = inQuotes;
  state.cut = cut;
}
