import type { ModelSummary } from './classifier';

/** Values of a category list shown before "…". */
const SHOWN_CATEGORIES = 12;

/**
 * A model's signature in plain words, one line per fact: format and producer, each input
 * (type, shape, the categories it knows and what happens to others), each output, the
 * class labels in output order and how the score is read. `plumbline inspect-model`
 * prints it; the app's model card shows the same lines.
 */
export function signatureLines(summary: ModelSummary): string[] {
  const shape = (dims: (number | string | null)[]) => `[${dims.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
  const lines = [`${summary.fileName}: ${summary.format}${summary.producer ? `, made by ${summary.producer}` : ''}`];
  lines.push(`inputs (${summary.inputs.length}):`);
  for (const input of summary.inputs) {
    const categories = input.categories
      ? `; knows ${input.categories.values.length} categor${input.categories.values.length === 1 ? 'y' : 'ies'} (${input.categories.values.slice(0, SHOWN_CATEGORIES).map((v) => JSON.stringify(v)).join(', ')}${input.categories.values.length > SHOWN_CATEGORIES ? ', …' : ''}) from ${input.categories.from}; a value it never saw is ${input.categories.unknown}`
      : '';
    lines.push(`  ${input.name}: ${input.elementType} ${shape(input.shape)}${categories}`);
  }
  if (summary.needsFeatureOrder) lines.push(`  (one matrix input of ${summary.featureCount ?? 'several'} columns that the file does not name: list them in training order with model.features / --features)`);
  lines.push(`outputs (${summary.outputs.length}):`);
  for (const output of summary.outputs) lines.push(`  ${output.name}: ${output.valueKind === 'tensor' ? `${output.elementType} ${shape(output.shape)}` : `${output.valueKind} (read through the tensor that feeds it)`}`);
  lines.push(
    summary.classLabels
      ? `classes (${summary.classLabels.length}, in output order): ${summary.classLabels.map((l) => JSON.stringify(l)).join(', ')}`
      : summary.classCount !== null
        ? `classes: ${summary.classCount}, not named by the file (numbered 0…${summary.classCount - 1} in training order)`
        : 'classes: not named by the file; the output width shows them when scored',
  );
  lines.push(`score: ${summary.scoreConvention}`);
  if ((summary.classCount ?? 2) > 2) {
    lines.push(`audit: multiclass (every class; task: multiclass is inferred)${summary.classLabels ? '' : ', with the class names in output order from model.class_labels (--class-labels) when the target holds text'}; or one class against the rest with data.positive_label (--positive-label)`);
  }
  return lines;
}
