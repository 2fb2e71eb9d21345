import { AuditConfigError, quote } from '../base/errors';
import { requireColumn, type Table } from '../data/table';
import { refusePersonalGroups } from '../data/pii';
import { sameLabel, type ClassLabel } from '../model/classes';

/** The target column turned into 0/1 labels, with the convention used. */
export interface BinaryTarget {
  labels: Uint8Array;
  positiveLabel: string;
  negativeLabel: string;
  /** How the positive label was chosen, in words. */
  convention: string;
}

/** A model's classes, which every target value must be one of (see {@link binaryTarget}). */
export interface ModelClasses {
  fileName: string;
  classes: readonly ClassLabel[];
  /** Whether the file names them (else they are the numbers 0…C−1 in training order). */
  named: boolean;
}

/**
 * Refuses target values that are no class of the model: a target coded 1/2 for a model of
 * classes 0/1 had its 2s counted as the other class, and 1 read as the model's class 1
 * (an AUC of 0.26 for 0.74). A boolean target (True/False) is 1/0 to a model that names no
 * classes, as training codes it.
 */
function checkModelClasses(table: Table, target: string, distinct: string[], model: ModelClasses): void {
  const boolean = (value: string) => !model.named && /^(true|false)$/i.test(value.trim());
  const strangers = distinct.filter((value) => !boolean(value) && !model.classes.some((c) => sameLabel(value, c)));
  if (strangers.length === 0) return;
  const column = requireColumn(table, target, 'target');
  const shown = strangers.slice(0, 5).map((value) => {
    let rows = 0;
    let first = -1;
    for (let i = 0; i < table.rowCount; i++) {
      const text = column.kind === 'numeric' ? String(column.values[i]) : column.dictionary[column.codes[i]];
      if (text === value && rows++ === 0) first = i;
    }
    return `${quote(value)} (${rows.toLocaleString('en-US')} row${rows === 1 ? '' : 's'}, first data row ${first + 1})`;
  });
  const classes = model.classes.map(String).join(', ');
  const whose = model.named ? `named in ${model.fileName}` : `${model.fileName} names no classes, so they are ${classes} in training order`;
  throw new AuditConfigError(
    `${table.source}, column ${quote(target)}: ${shown.join(', ')}${strangers.length > 5 ? ', …' : ''} ${strangers.length === 1 ? 'is not a class' : 'are not classes'} of the model, whose classes are ${classes} (${whose}), so the audit cannot tell which class ${strangers.length === 1 ? 'its rows are' : 'their rows are'}. Code the target with the model's classes (${classes})${model.named ? '' : ", or name the model's classes in output order as the target writes them with model.class_labels (--class-labels A,B: class 0 first)"}.`,
  );
}

/**
 * What {@link binaryTarget} reads from the model's class choice: one-vs-rest for a model of
 * more than two classes, and the classes every target value must be.
 */
export function classOptions(choice: { classes: readonly ClassLabel[]; named: boolean; oneVsRest: boolean } | null, fileName: string | undefined): { oneVsRest?: string[]; modelClasses?: ModelClasses } {
  if (!choice) return {};
  return { ...(choice.oneVsRest ? { oneVsRest: choice.classes.map(String) } : {}), modelClasses: { fileName: fileName ?? 'the model', classes: choice.classes, named: choice.named } };
}

/**
 * Reads a binary target. The positive label is the one given; without one, a 0/1 target
 * takes 1 as positive (and says so). Other labels need an explicit positive label: the
 * positive class is never guessed from order. With `oneVsRest` (the model's classes, more
 * than two), the target may hold several classes: the positive one against all the rest.
 */
export function binaryTarget(table: Table, target: string, positiveLabel?: string | number, options: { oneVsRest?: string[]; positiveFrom?: string; modelClasses?: ModelClasses } = {}): BinaryTarget {
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
    // A target of personal data (phone numbers, names) is refused as such, its values not quoted.
    refusePersonalGroups(table, [['data.target', [column.name]]]);
    throw new AuditConfigError(`${table.source}, column ${quote(target)}: the target has ${distinct.length} values (${distinct.slice(0, 6).join(', ')}${distinct.length > 6 ? ', …' : ''}); a binary audit needs two. Choose a binary target or recode it.`);
  }
  if (options.modelClasses) checkModelClasses(table, target, distinct, options.modelClasses);
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
