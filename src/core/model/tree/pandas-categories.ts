/**
 * LightGBM's pandas categories: a model trained on a DataFrame with `category` columns keeps
 * each column's categories in the file (`pandas_categorical:`), and LightGBM's pandas
 * interface feeds a cell as the position of its value in that list (rating 1 of [1, 2, 3] is
 * code 0; a value not in the list is NaN). The trees split on those positions.
 */
import { ModelLoadError } from '../../base/errors';
import { shownText, type Column } from '../../data/table';
import { withMissingValue, type TreeEnsemble } from './ensemble';

/** What to do when the category lists cannot be matched to the inputs. */
const MATCH_FIX = 'Train with unordered pandas categories and categorical_feature left at auto, or with the category codes as numbers.';

/** A feature's training categories, in the order whose positions the trees split on. */
export type PandasCategories = readonly (string | number)[];

/**
 * The categories of each feature (null where a feature is not a pandas category) from the
 * file's `pandas_categorical:` line and its `[categorical_feature: …]` parameter: the lists
 * follow the category columns in the DataFrame's (the features') order. Undefined when the
 * file has none (a model trained on arrays, or on codes).
 */
export function pandasCategoriesOf(text: string, featureCount: number, fileName: string, featureCategories: readonly (number[] | null)[] = []): (PandasCategories | null)[] | undefined {
  const line = /^pandas_categorical:(.*)$/m.exec(text)?.[1]?.trim();
  if (!line || line === 'null') return undefined;
  let lists: unknown;
  try {
    lists = JSON.parse(line);
  } catch {
    throw new ModelLoadError(`${fileName}: the pandas_categorical line is not a list of category lists (${line.slice(0, 80)}). Save the model again with save_model("model.txt").`);
  }
  if (!Array.isArray(lists) || lists.some((list) => !Array.isArray(list))) {
    throw new ModelLoadError(`${fileName}: the pandas_categorical line holds something other than lists of categories. Save the model again with save_model("model.txt").`);
  }
  const odd = (lists as unknown[][]).flat().find((v) => typeof v !== 'string' && typeof v !== 'number');
  if (odd !== undefined) {
    throw new ModelLoadError(`${fileName}: a pandas category column of the model has the category ${JSON.stringify(odd)} (pandas_categorical), neither a text nor a number, which this audit does not match cells against. Train with that column as numbers (0/1 for a flag) or texts, not a category of ${typeof odd === 'boolean' ? 'booleans' : 'such values'}.`);
  }
  if (lists.length === 0) return undefined;
  const declared = /^\[categorical_feature: ([^\]]*)\]\s*$/m.exec(text)?.[1]?.trim() ?? '';
  const indexes = declared === '' ? [] : declared.split(',').map((s) => Number(s.trim()));
  // An ordered category column is a category to pandas (it has a list) but not to the trees (no index): which list is whose is not written.
  if (indexes.length !== lists.length || indexes.some((j) => !Number.isInteger(j) || j < 0 || j >= featureCount)) {
    throw new ModelLoadError(
      `${fileName}: the model was trained on ${lists.length} pandas category column${lists.length === 1 ? '' : 's'} (pandas_categorical) but declares ${indexes.length} categorical feature${indexes.length === 1 ? '' : 's'} (${declared || 'none'}), so which categories belong to which input is not in the file (an ordered category column, or a categorical_feature list naming other columns, does this). ${MATCH_FIX}`,
    );
  }
  const out: (PandasCategories | null)[] = new Array(featureCount).fill(null);
  [...indexes].sort((a, b) => a - b).forEach((j, k) => (out[j] = lists[k] as PandasCategories));
  // Each list's feature splits on codes within it (feature_infos lists the codes seen): a list matched to another column would be read silently wrong.
  out.forEach((categories, j) => {
    const codes = featureCategories[j];
    if (categories && codes && codes.some((code) => code >= categories.length)) {
      throw new ModelLoadError(`${fileName}: the categories pandas_categorical gives input ${j + 1} (${categories.length} of them) do not cover the codes its splits use (up to ${Math.max(...codes)}): the lists do not match the inputs in order. ${MATCH_FIX}`);
    }
  });
  return out;
}

/**
 * A model input column as the trees read it: a pandas category feature's cells as their
 * positions in its training categories (NaN where missing or not among them); any other
 * column's numbers, with the model's own missing value (XGBoost missing=-999) as NaN.
 */
export function ensembleColumn(ensemble: Pick<TreeEnsemble, 'missingValue' | 'pandasCategories'>, feature: number, column: Column): Float64Array {
  const categories = ensemble.pandasCategories?.[feature];
  if (!categories) {
    if (column.kind !== 'numeric') throw new Error(`ensembleColumn: ${column.name} holds text, and the model reads numbers`);
    return withMissingValue(column.values, ensemble.missingValue);
  }
  const numbers = categories.every((v) => typeof v === 'number');
  const position = new Map<string | number, number>(categories.map((v, k) => [v, k]));
  const out = new Float64Array(column.kind === 'numeric' ? column.values.length : column.codes.length).fill(Number.NaN);
  if (column.kind === 'categorical') {
    // Texts: a category's own text, or for number categories the number it spells ("3" of [1..5]).
    const codes = column.dictionary.map((text) => position.get(numbers && text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text) ?? Number.NaN);
    for (let i = 0; i < out.length; i++) if (column.codes[i] >= 0) out[i] = codes[column.codes[i]];
    return out;
  }
  for (let i = 0; i < out.length; i++) {
    const value = column.values[i];
    if (Number.isNaN(value)) continue;
    // Number categories by value; text categories by the cell as the file wrote it ("01").
    out[i] = position.get(numbers ? value : shownText(column, i)) ?? Number.NaN;
  }
  return out;
}
