import { findColumn, isMissingCell, shownText, sourceText, type Column, type Table } from '../data/table';
import { personalValueColumns } from '../data/pii';
import type { DataFinding } from '../data/finding';
import type { ModelInput, ModelSummary } from './classifier';
import { modelText } from './onnx-scorer';

/** Values shown per input among the unseen ones. */
const TOP_UNSEEN = 5;

/** How one model input was fed from its column: unseen categories and missing cells. */
export interface InputFidelityEntry {
  /** The model's input (or tree feature) name. */
  input: string;
  /** The data column that fed it. */
  column: string;
  /** What the input takes: text, numbers, or numeric category codes (trees). */
  kind: 'text' | 'number' | 'category code';
  /** How many categories the model knows for it; null when it lists none (it takes any value). */
  categories_known: number | null;
  /** Cells whose value the model never saw (only when it lists its categories). */
  unseen: { count: number; share: number; top: { value: string; count: number }[] } | null;
  /** What the model does with an unseen value, in words (null when it lists no categories). */
  unknown_handling: string | null;
  /** Missing cells, and what the model was given for them. */
  missing: { count: number; share: number; fed_as: string };
  /** Configured missing-value tokens the model knows as categories: their cells were fed as the token. */
  missing_tokens_fed_as_categories: { token: string; count: number }[];
}

/** The input-fidelity section of a result. */
export interface InputFidelity {
  inputs: InputFidelityEntry[];
  /** The largest share of rows with an unseen category over the inputs (gate metric); null when no input lists categories. */
  unknown_category_share: number | null;
  /** How the shares are counted, in words. */
  conventions: string;
}

/** What a missing cell becomes for an input of this kind, in words. */
function fedAs(summary: ModelSummary, input: ModelInput): string {
  if (summary.format === 'xgboost-json') return 'a missing value: each split sends it its default direction (XGBoost)';
  if (summary.format === 'lightgbm-text') return "a missing value: each split's missing type decides (LightGBM: to the default side, or read as 0; at a category split, to the right)";
  if (input.elementType === 'string') return "'' (an empty string)";
  if (input.elementType === 'float32' || input.elementType === 'float64') return "a floating-point missing value (the model's own handling: an Imputer, or a tree split's missing direction)";
  return input.elementType === 'bool' ? 'refused: a true/false input cannot take a missing value' : 'refused: a whole-number input cannot take a missing value';
}

/**
 * Measures how each model input was fed: for inputs whose categories the model lists
 * (encoders in an ONNX graph, LightGBM's categorical features), the cells holding a value
 * the model never saw; for every input, the missing cells and what the model got for them;
 * configured missing tokens the model knows as categories (fed as the token). Shares are
 * of all audited rows.
 */
export function inputFidelity(summary: ModelSummary, table: Table, columns: string[], textMissing: ReadonlySet<string>): InputFidelity {
  const inputs: InputFidelityEntry[] = [];
  const byColumn = summary.inputs.length === columns.length;
  // A column of personal data is counted, its unseen values not listed (an e-mail category input listed the addresses).
  const personal = personalValueColumns([table]);
  columns.forEach((columnName, j) => {
    const column = findColumn(table, columnName);
    if (!column) return;
    // A single [N, F] input: every column feeds it as a number.
    const input: ModelInput = byColumn ? summary.inputs[j] : { name: summary.inputs[0]?.name ?? 'input', valueKind: 'tensor', elementType: 'float32', shape: [null, columns.length], categories: null };
    const entry = fidelityOf(summary, input, column, table.rowCount, textMissing);
    inputs.push(personal.has(column.name) && entry.unseen ? { ...entry, unseen: { ...entry.unseen, top: [] } } : entry);
  });
  const shares = inputs.filter((e) => e.unseen !== null).map((e) => e.unseen!.share);
  let worst: number | null = null;
  for (const share of shares) worst = worst === null || share > worst ? share : worst;
  return {
    inputs,
    unknown_category_share: worst,
    conventions:
      'A value is unseen when the model lists its categories (OneHotEncoder, LabelEncoder or CategoryMapper in the graph; LightGBM feature_infos or pandas_categorical; the codes XGBoost’s categorical splits list) and the value fed is not among them; missing cells are not counted as unseen. Shares are of all audited rows; unknown_category_share is the largest over the inputs.',
  };
}

function fidelityOf(summary: ModelSummary, input: ModelInput, column: Column, rows: number, textMissing: ReadonlySet<string>): InputFidelityEntry {
  const known = input.categories ? new Set(input.categories.values.map(String)) : null;
  const text = input.elementType === 'string';
  const tree = summary.format !== 'onnx';
  let missing = 0;
  const unseen = new Map<string, number>();
  const tokensFed = new Map<string, number>();
  for (let row = 0; row < rows; row++) {
    const isMissing = isMissingCell(column, row);
    if (text) {
      const fed = modelText(column, row, textMissing, known);
      if (isMissing && fed === '') {
        missing++;
        continue;
      }
      if (isMissing) {
        const token = sourceText(column, row).trim();
        if (textMissing.has(token)) tokensFed.set(token, (tokensFed.get(token) ?? 0) + 1);
      }
      if (known && !known.has(fed)) unseen.set(fed, (unseen.get(fed) ?? 0) + 1);
      continue;
    }
    if (isMissing) {
      missing++;
      continue;
    }
    if (known) {
      // A number by its value (3 of [1..5]), text (a pandas category's, "Paris") or a code written "01" as in the file.
      const written = shownText(column, row);
      const value = column.kind === 'numeric' ? String(column.values[row]) : written;
      if (!known.has(value) && !known.has(written)) unseen.set(value, (unseen.get(value) ?? 0) + 1);
    }
  }
  let unseenCount = 0;
  for (const count of unseen.values()) unseenCount += count;
  const top = [...unseen.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, TOP_UNSEEN)
    .map(([value, count]) => ({ value, count }));
  return {
    input: input.name,
    column: column.name,
    kind: text ? 'text' : tree && known ? 'category code' : 'number',
    categories_known: known ? known.size : null,
    unseen: known ? { count: unseenCount, share: rows ? unseenCount / rows : 0, top } : null,
    unknown_handling: input.categories?.unknown ?? null,
    missing: { count: missing, share: rows ? missing / rows : 0, fed_as: fedAs(summary, input) },
    missing_tokens_fed_as_categories: [...tokensFed.entries()].map(([token, count]) => ({ token, count })),
  };
}

/** Share of rows with unseen categories above which the finding is an error (below it, a warning). */
const UNSEEN_ERROR_SHARE = 0.05;

/** The findings of an input-fidelity section: unseen categories, missing inputs, missing tokens the model knows. */
export function fidelityFindings(fidelity: InputFidelity, modelFile: string, dataFile: string): DataFinding[] {
  const findings: DataFinding[] = [];
  const pct = (share: number) => `${(share * 100).toFixed(share < 0.001 ? 2 : 1)}%`;
  for (const entry of fidelity.inputs) {
    if (entry.unseen && entry.unseen.count > 0) {
      const top = entry.unseen.top.length ? entry.unseen.top.map((t) => `${JSON.stringify(t.value)} ×${t.count}`).join(', ') : 'values of personal data, not shown';
      findings.push({
        check: 'unseen_category',
        severity: entry.unseen.share > UNSEEN_ERROR_SHARE ? 'error' : 'warning',
        column: entry.column,
        message: `${dataFile}, column ${entry.column}: ${entry.unseen.count} row${entry.unseen.count === 1 ? '' : 's'} (${pct(entry.unseen.share)}) hold a value ${modelFile} never saw for input ${entry.input} (${top}${entry.unseen.top.length && entry.unseen.count > entry.unseen.top.reduce((n, t) => n + t.count, 0) ? ', …' : ''}); such values are ${entry.unknown_handling}.`,
      });
    }
    if (entry.missing.count > 0) {
      findings.push({
        check: 'missing_input',
        severity: 'warning',
        column: entry.column,
        message: `${dataFile}, column ${entry.column}: ${entry.missing.count} missing cell${entry.missing.count === 1 ? '' : 's'} (${pct(entry.missing.share)}) fed to input ${entry.input} as ${entry.missing.fed_as}.`,
      });
    }
    for (const { token, count } of entry.missing_tokens_fed_as_categories) {
      findings.push({
        check: 'missing_token_is_category',
        severity: 'warning',
        column: entry.column,
        message: `${dataFile}, column ${entry.column}: ${JSON.stringify(token)} is configured as missing (data.missing_values), but ${modelFile} knows it as a category of input ${entry.input}: its ${count} cell${count === 1 ? ' was' : 's were'} fed as ${JSON.stringify(token)}. Remove it from data.missing_values if it is a real category.`,
      });
    }
  }
  return findings;
}
