/**
 * Limits on what an input may hold and on the bytes read of each kind of file, and how a
 * size or a file's first bytes are put in words for the messages that refuse them.
 */

/**
 * Limits on what an input may hold, checked before the work they would cause: a file is
 * size-checked before it is read, a cell or a row before it is kept, a protected
 * attribute's groups before any metric is computed. They are constants (not settings) so
 * every host refuses the same inputs; the README lists them.
 */
export const INPUT_LIMITS = {
  /** Characters of one CSV cell (a quote left open makes one cell of the rest of the file). */
  cellChars: 2 ** 20,
  /** Characters of one CSV record (row), however many columns share them. */
  rowChars: 16 * 2 ** 20,
  /** Columns of a data file. */
  columns: 20_000,
  /**
   * Groups (distinct values, missing counted as one) of a protected attribute. Statistical
   * power is computed against the reference group (`powerAgainstReference`), linear in the
   * groups.
   */
  protectedGroups: 1000,
  /** Groups of a numeric protected attribute (past this it is a measurement to bin, not groups). */
  numericProtectedGroups: 50,
  /** Cells (possible combinations) of one intersection of protected attributes. */
  intersectionCells: 100_000,
  /** Values of a slice column (numeric columns are cut at their quartiles instead). */
  sliceGroups: 1_000,
  /** Categories a stored or compared distribution lists one by one; the rest are pooled as `(other)`. */
  distributionCategories: 1_000,
  /** Characters of category names a stored or compared distribution lists; the rest are pooled as `(other)`. */
  distributionChars: 64 * 2 ** 10,
} as const;

/** Bytes the CLI reads of each kind of file, at most (a file over its cap is refused before it is read). */
export const FILE_LIMITS = {
  config: 2 ** 20,
  policy: 2 ** 20,
  model: 2 * 2 ** 30,
  'evidence pack': 2 * 2 ** 30,
  result: 2 ** 30,
  'policy decision': 16 * 2 ** 20,
  data: 2 * 2 ** 30,
} as const;

/** Sizes in words for messages: "812 bytes", "1.2 KB", "3.4 MB", "1.9 GB" (powers of 1,024). */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} byte${bytes === 1 ? '' : 's'}`;
  const [unit, scale] = bytes >= 2 ** 30 ? ['GB', 2 ** 30] : bytes >= 2 ** 20 ? ['MB', 2 ** 20] : ['KB', 2 ** 10];
  const value = bytes / scale;
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${unit}`;
}

/** Known kinds of binary file by their first bytes, for "not a … file" messages that quote nothing. */
/** Whether bytes start as XGBoost's UBJSON model does: an object ({) whose first key, after a length marker, is "learner" or "version". */
export function isXgboostUbjson(head: Uint8Array): boolean {
  if (head[0] !== 0x7b || ![0x4c, 0x55, 0x69, 0x49, 0x6c].includes(head[1])) return false;
  const text = String.fromCharCode(...head.subarray(0, 40));
  return /^\{[LUiIl][\s\S]{1,9}(learner|version)/.test(text);
}

const MAGIC: [kind: string, bytes: number[]][] = [
  ['a zip archive', [0x50, 0x4b, 0x03, 0x04]],
  ['a PDF document', [0x25, 0x50, 0x44, 0x46, 0x2d]],
  ['gzip-compressed data', [0x1f, 0x8b]],
  ['a program (ELF)', [0x7f, 0x45, 0x4c, 0x46]],
  ['a PNG image', [0x89, 0x50, 0x4e, 0x47]],
  ['a JPEG image', [0xff, 0xd8, 0xff]],
  ['an SQLite database', [0x53, 0x51, 0x4c, 0x69, 0x74, 0x65, 0x20, 0x66]],
  ['a Parquet table', [0x50, 0x41, 0x52, 0x31]],
  ['an Arrow table', [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31]],
];

/**
 * What the first bytes of a file are, in a few words that quote none of them: "empty",
 * "UTF-16 text", "text", a known binary kind ("a zip archive"), or "binary". Used where a
 * file is not the kind its option names, so an error never shows a stranger's bytes (a
 * `model.path: /etc/shadow` must not print the start of that file).
 */
export function describeContent(head: Uint8Array): string {
  if (head.length === 0) return 'empty';
  if (isXgboostUbjson(head)) return 'an XGBoost model in UBJSON (.ubj, XGBoost 2.1\'s default): save it as JSON, booster.save_model("model.json")';
  for (const [kind, magic] of MAGIC) if (magic.every((b, i) => head[i] === b)) return kind;
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) return 'UTF-16 text';
  let control = 0;
  for (const b of head) {
    if (b === 0) return 'binary';
    if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) control++;
  }
  if (control > head.length / 100) return 'binary';
  // Text only when the bytes are UTF-8; a multi-byte character cut at the end of the window is left out.
  let end = head.length;
  let lead = end - 1;
  while (lead > 0 && end - lead < 4 && (head[lead] & 0xc0) === 0x80) lead--;
  if (head[lead] >= 0xc0) end = lead;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, end));
    return 'text';
  } catch {
    return 'binary';
  }
}
