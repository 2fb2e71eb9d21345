/**
 * Text read but not yet parsed, kept as the pieces it came in. A record that spans many
 * pieces (a field of 100 MB on one line) is joined once, when it is parsed: appending to
 * one string and scanning it at every piece made V8 flatten the growing string each time,
 * and such a line took a minute instead of a second.
 */
export class PendingText {
  private parts: string[] = [];
  /** Characters held. */
  length = 0;

  /** Appends the next piece. */
  add(text: string): void {
    this.parts.push(text);
    this.length += text.length;
  }

  /** All of it, as one string. */
  text(): string {
    if (this.parts.length > 1) this.parts = [this.parts.join('')];
    return this.parts[0] ?? '';
  }

  /** The text from offset `from` on (usually within the last piece or two). */
  tail(from: number): string {
    let i = this.parts.length;
    let covered = 0;
    const need = this.length - from;
    while (i > 0 && covered < need) covered += this.parts[--i].length;
    if (i === this.parts.length) return '';
    const head = this.parts[i].slice(covered - need);
    return i === this.parts.length - 1 ? head : head + this.parts.slice(i + 1).join('');
  }

  /** Removes and returns the first `n` characters. */
  take(n: number): string {
    const all = this.text();
    this.parts = n < all.length ? [all.slice(n)] : [];
    this.length -= n;
    return all.slice(0, n);
  }
}
