import { AuditConfigError, quote } from '../base/errors';
import { requireColumn, type Table } from '../data/table';
import { sameLabel } from '../model/classes';

/** The target column turned into 0/1 labels, with the convention used. */
export interface BinaryTarget {
  labels: Uint8Array;
  positiveLabel: string;
  negativeLabel: string;
  /** How the positive label was chosen, in words. */
  convention: string;
}

/**
 * Reads a binary target. The positive label is the one given; without one, a 0/1 target
 * takes 1 as positive (and says so). Other labels need an explicit positive label: the
 * positive class is never guessed from order. With `oneVsRest` (the model's classes, more
 * than two), the target may hold several classes: the positive one against all the rest.
 */
export function binaryTarget(table: Table, target: string, positiveLabel?: string | number, options: { oneVsRest?: string[]; positiveFrom?: string } = {}): BinaryTarget {
  const column = requireColumn(table, target, 'target', 'Choose the column that holds the true outcome, or, for a batch scored before any outcome is known, audit it without labels (--no-labels / data.unlabelled: true).');
  if (column.missing > 0) {
    const rows: number[] = [];
    for (let i = 0; i < table.rowCount && rows.length < 5; i++) {
      if (column.kind === 'numeric' ? Number.isNaN(column.values[i]) : column.codes[i] < 0) rows.push(i + 1);
    }
    throw new AuditConfigError(`${table.source}, column ${quote(target)}: ${column.missing} row${column.missing === 1 ? ' has' : 's have'} no target value (data rows ${rows.join(', ')}${column.missing > rows.length ? ', …' : ''}). Fill or remove them before the audit.`);
  }
  const distinct = column.kind === 'numeric' ? [...new Set(column.values)].sort((a, b) => a - b).map(String) : [...column.dictionary].sort();
  if (distinct.length > 2 && !options.oneVsRest) {
    throw new AuditConfigError(`${table.source}, column ${quote(target)}: the target has ${distinct.length} values (${distinct.slice(0, 6).join(', ')}${distinct.length > 6 ? ', …' : ''}); a binary audit needs two. Choose a binary target or recode it.`);
  }
  let positive: string;
  let convention: string;
  if (positiveLabel !== undefined) {
    positive = String(positiveLabel);
    // The same label written otherwise ("1.0" for 1, as the model's labels are matched): the target's own spelling.
    const same = distinct.filter((value) => sameLabel(value, positive));
    if (!distinct.includes(positive) && same.length === 1) positive = same[0];
    if (!distinct.includes(positive)) {
      throw new AuditConfigError(`${table.source}, column ${quote(target)}: the positive label ${quote(positive)} does not occur in the target (values: ${distinct.join(', ')}). Set the positive label to one of them.`);
    }
    const from = options.positiveFrom ?? 'as configured';
    convention = options.oneVsRest
      ? `positive label ${positive} (${from}), one-vs-rest: rows of the other classes (${distinct.filter((v) => v !== positive).join(', ')}) count as negatives`
      : `positive label ${positive} (${from})`;
  } else if (distinct.every((v) => v === '0' || v === '1')) {
    positive = '1';
    convention = 'positive label 1 (0/1 target, no positive label configured)';
  } else {
    throw new AuditConfigError(`${table.source}, column ${quote(target)}: the target's values are ${distinct.join(', ')}; say which one is the positive outcome (--positive-label / data.positive_label).`);
  }
  const labels = new Uint8Array(table.rowCount);
  if (column.kind === 'numeric') for (let i = 0; i < labels.length; i++) labels[i] = String(column.values[i]) === positive ? 1 : 0;
  else {
    const code = column.dictionary.indexOf(positive);
    for (let i = 0; i < labels.length; i++) labels[i] = column.codes[i] === code ? 1 : 0;
  }
  const others = distinct.filter((v) => v !== positive);
  const negative = others.length > 1 ? `not ${positive}` : (others[0] ?? '(absent)');
  return { labels, positiveLabel: positive, negativeLabel: negative, convention };
}
