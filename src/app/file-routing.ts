/**
 * Which kind of file the user dropped: the core's fileKind (by its first bytes, not its
 * name), and the order dropped files are read in.
 */
import { fileKind, type FileKind } from '../core';

export { fileKind, type FileKind };

/** Configs first: their CSV options (delimiter, missing values, dtypes) decide how the data files are read. */
export function configsFirst(files: Iterable<File>): File[] {
  return [...files].sort((a, b) => Number(!/\.ya?ml$/i.test(a.name)) - Number(!/\.ya?ml$/i.test(b.name)));
}

/** Whether a word of a data file's name says train, training, reference or ref (train.csv, credit_train.parquet, refData.csv; not constrained_test.csv). */
export function namedReference(name: string): boolean {
  const words = name
    .replace(/\.[^.]*$/, '')
    .split(/[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])/)
    .map((word) => word.toLowerCase());
  return words.some((word) => ['train', 'training', 'reference', 'ref'].includes(word));
}
