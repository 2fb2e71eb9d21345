import { AuditConfigError, quote } from '../base/errors';

/** A class label as a model names it (ONNX `classlabels_*`), or as a user writes it. */
export type ClassLabel = string | number;

/**
 * Which of a model's outputs is the audited score p(positive), chosen by the class's label,
 * never by its position when the model names its classes.
 */
export interface ClassChoice {
  /** The output column read. */
  column: number;
  /** True when the score is 1 − that column (a single-column output read for class 0). */
  complement: boolean;
  /** The model's classes in output column order (numbered 0…C−1 when it names none). */
  classes: ClassLabel[];
  /** Whether the model file names its classes. */
  named: boolean;
  /** The positive class, as the model names it. */
  positive: ClassLabel;
  /** More than two classes: the positive class is audited against all the others. */
  oneVsRest: boolean;
  /** How the score was read, in words (for every report). */
  convention: string;
}

/** Whether a user's label and a model's label are the same class: equal texts, or equal numbers ("1", 1, "1.0"). */
export function sameLabel(a: ClassLabel, b: ClassLabel): boolean {
  if (String(a) === String(b)) return true;
  const [x, y] = [typeof a === 'number' ? a : Number(a), typeof b === 'number' ? b : Number(b)];
  return String(a).trim() !== '' && String(b).trim() !== '' && Number.isFinite(x) && Number.isFinite(y) && x === y;
}

const list = (labels: readonly ClassLabel[]) => labels.map((l) => String(l)).join(', ');

/**
 * Picks the output column of the positive class.
 * - The model names its classes: the column whose label equals the positive label (default
 *   1 for a 0/1 model); a label the model does not know is refused, naming its labels.
 * - It names none: a single column is p(class 1) (read as 1 − p for a positive label of 0);
 *   C columns are classes 0…C−1 in training order, and the positive label must be one of
 *   those numbers.
 * - More than two classes: audited one-vs-rest for the named class, or refused when no class
 *   is named. Never audited as binary by position.
 */
export function chooseClass(options: { fileName: string; output: string; labels: readonly ClassLabel[] | null; width: number; positiveLabel?: ClassLabel; configured?: readonly string[] }): ClassChoice {
  const { fileName, output, width, positiveLabel } = options;
  const labels = options.configured ? configuredLabels(options.configured, options.labels, width, fileName) : options.labels;
  const whose = options.configured && !options.labels?.length ? 'model.class_labels' : "the model's class labels";
  const fix = 'Set data.positive_label (--positive-label)';
  if (labels && labels.length > 0) {
    if (width !== 1 && width !== labels.length) {
      throw new AuditConfigError(`${fileName}: output ${quote(output)} has ${width} columns but the model names ${labels.length} classes (${list(labels)}). The file is inconsistent: export the model again.`);
    }
    if (labels.length > 2 && positiveLabel === undefined) {
      throw new AuditConfigError(`${fileName}: the model has ${labels.length} classes (${list(labels)}); this audit scores one class against the rest. ${fix} to the class to audit, e.g. ${quote(String(labels[labels.length - 1]))}.`);
    }
    const wanted = positiveLabel ?? (labels.length === 2 && labels.some((l) => sameLabel(l, 1)) && labels.some((l) => sameLabel(l, 0)) ? 1 : undefined);
    if (wanted === undefined) {
      throw new AuditConfigError(`${fileName}: the model's classes are ${list(labels)}; say which one is the positive outcome. ${fix} to one of them.`);
    }
    const index = labels.findIndex((label) => sameLabel(label, wanted));
    if (index < 0) {
      throw new AuditConfigError(`${fileName}: the positive label ${quote(String(wanted))} is not one of the model's class labels (${list(labels)}). ${fix} to one of them.`);
    }
    const oneVsRest = labels.length > 2;
    if (width === 1) {
      // One column for two named classes: it holds p(second class), as sklearn-onnx writes it.
      const complement = index === 0;
      return { column: 0, complement, classes: [...labels], named: true, positive: labels[index], oneVsRest, convention: `${output} read as p(class ${labels[1]})${complement ? `, score = 1 − it for class ${labels[0]}` : ''}, from ${whose} (${list(labels)})` };
    }
    return {
      column: index,
      complement: false,
      classes: [...labels],
      named: true,
      positive: labels[index],
      oneVsRest,
      convention: `${output}[:, ${index}] = p(class ${labels[index]}), chosen by ${whose} (${list(labels)})${oneVsRest ? `; one-vs-rest: class ${labels[index]} against the other ${labels.length - 1} classes` : ''}`,
    };
  }
  if (width === 1) {
    // The output is p(class 1) of a target coded 0/1 in training (a boolean's True is 1): any
    // other label says the target was coded otherwise, and the file does not say how.
    const wanted = positiveLabel ?? 1;
    if (sameLabel(wanted, 0)) {
      return { column: 0, complement: true, classes: [0, 1], named: false, positive: 0, oneVsRest: false, convention: `${output} holds p(class 1) (the model names no classes); score = 1 − it for the positive label 0` };
    }
    if (sameLabel(wanted, 1)) {
      return { column: 0, complement: false, classes: [0, 1], named: false, positive: wanted, oneVsRest: false, convention: `${output} holds p(class 1) (the model names no classes), the positive label ${String(wanted)}` };
    }
    const truth = booleanText(wanted);
    if (truth !== null) {
      return { column: 0, complement: !truth, classes: [0, 1], named: false, positive: wanted, oneVsRest: false, convention: `${output} holds p(class 1) (the model names no classes): a boolean target's True is class 1, as training codes it${truth ? '' : `; score = 1 − it for the positive label ${String(wanted)}`}` };
    }
    throw new AuditConfigError(
      `${fileName}: the model names no classes, so its single output is p(class 1) of a target coded 0/1 in training; the positive label ${quote(String(wanted))} is not 0 or 1, and the file does not say which label was class 1. Name the two classes in output order with model.class_labels (--class-labels A,B: class 0 first, e.g. the order of sklearn's LabelEncoder, sorted), or code the target 0/1.`,
    );
  }
  const classes = Array.from({ length: width }, (_, k) => k);
  if (width > 2 && positiveLabel === undefined) {
    throw new AuditConfigError(`${fileName}: output ${quote(output)} has ${width} columns, one per class, and the model names no classes (they are 0…${width - 1} in training order); this audit scores one class against the rest. ${fix} to the class number to audit.`);
  }
  const wanted = positiveLabel ?? 1;
  const index = classes.findIndex((k) => sameLabel(k, wanted));
  if (index < 0) {
    throw new AuditConfigError(`${fileName}: output ${quote(output)} has ${width} columns and the model names no classes, so they are classes 0…${width - 1} in training order; the positive label ${quote(String(wanted))} is not one of them. ${fix} to the class number, or name the classes in output order with model.class_labels (--class-labels A,B,C).`);
  }
  const oneVsRest = width > 2;
  return {
    column: index,
    complement: false,
    classes,
    named: false,
    positive: index,
    oneVsRest,
    convention: `${output}[:, ${index}] = p(class ${index}): the model names no classes, so column k is class k in training order${oneVsRest ? `; one-vs-rest: class ${index} against the other ${width - 1} classes` : ''}`,
  };
}

/** Refuses a column listed twice in model.features: a model given the same column twice scores as it was never trained. */
export function checkFeatureList(features: readonly string[]): void {
  const twice = features.find((name, k) => features.indexOf(name) !== k);
  if (twice !== undefined) throw new AuditConfigError(`model.features names ${quote(twice)} twice (${features.join(', ')}). List each column once, in the order the model was trained on.`);
}

/** true or false for a boolean's text ("True", "false", any case), else null. */
function booleanText(label: ClassLabel): boolean | null {
  const text = String(label).trim().toLowerCase();
  return text === 'true' ? true : text === 'false' ? false : null;
}

/**
 * The classes model.class_labels names for a model's outputs, in output order: one per
 * output column, two for a single p(class 1) column; refused when they are not, repeat a
 * class, or differ from classes the model names itself.
 */
function configuredLabels(configured: readonly string[], own: readonly ClassLabel[] | null, width: number, fileName: string): readonly ClassLabel[] {
  if (own && own.length > 0) {
    if (own.some((label, k) => String(label) !== configured[k]) || own.length !== configured.length) {
      throw new AuditConfigError(`model.class_labels (${configured.join(', ')}) differ from the classes ${fileName} names (${list(own)}). Remove model.class_labels: the model's own labels are used.`);
    }
    return own;
  }
  const count = width === 1 ? 2 : width;
  if (configured.length !== count) {
    throw new AuditConfigError(`model.class_labels names ${configured.length} classes (${configured.join(', ')}), but ${fileName} ${width === 1 ? 'gives one probability, of class 1, per row: name its two classes, class 0 first' : `gives ${width} probabilities per row: name one class per output`}, in the model's output order.`);
  }
  if (new Set(configured).size !== configured.length) throw new AuditConfigError(`model.class_labels names a class twice (${configured.join(', ')}). Name each class once, in the model's output order.`);
  return configured;
}
