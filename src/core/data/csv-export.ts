/**
 * CSV written by Plumbline. A cell that a spreadsheet would read as a formula (starting
 * with =, +, -, @, tab or carriage return) gets a leading apostrophe, so an exported file
 * can never run anything when opened; cells with delimiters, quotes or newlines are quoted.
 */
export function csvCell(value: string | number | null | undefined): string {
  let text = value === null || value === undefined ? '' : String(value);
  if (typeof value !== 'number' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Rows of cells as CSV text (header first), with {@link csvCell}'s neutralisation. */
export function toCsv(header: string[], rows: (string | number | null | undefined)[][]): string {
  return [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\n') + '\n';
}
