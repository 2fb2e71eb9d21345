/**
 * The recourse search of an audit, end to end: the column rules, the adverse rows to search
 * (all, or a seeded sample), the search, and the report.
 */
import { codeInputsOf } from '../../robustness/stability';
import type { Table } from '../../../data/table';
import { sampleIndices } from '../../../data/sample';
import { reopenableModel, type Classifier } from '../../../model/classifier';
import { mutableColumns } from './candidates';
import { columnRules } from './column-rules';
import { recourseReport, type RecourseReport } from './report';
import { decisionSides, RECOURSE_DEFAULTS, type RecourseOptions } from './settings';
import { searchRows } from './walk';

/**
 * Counterfactual recourse a person can act on. For each adverse row (every one, or a
 * seeded sample of `maxRows`), searches changes of the actionable model inputs that flip
 * the decision: greedy steps that buy the most score per unit of cost; where the walk
 * stops short of a flip (a cheap first step can use up a column), every column at the value
 * that alone raised the score most; then each answer pruned of changes it does not need and
 * each change moved to its cheapest value that still flips. Seeded restarts on random
 * subsets of the columns look for other answers for rows that have one. Rows are searched
 * side by side, so each step is one model call for all of them.
 *
 * What may change is explicit ({@link columnRules}): the config's `actionable` columns, or
 * else numeric inputs that are not protected, a declared or error-level proxy, or
 * age-like; categories only where `categoricalChanges` allows them; `immutable` and
 * protected attributes never. A number stays within its observed 5th–95th percentiles and
 * costs how far it moves the row's percentile; monotone columns move only their way.
 * Every counterfactual returned was re-scored and flips the decision.
 */
export async function recourse(classifier: Classifier, table: Table, scores: Float64Array, columns: string[], groupColumns: string[], options: RecourseOptions): Promise<RecourseReport> {
  const rules = columnRules(table, columns, options, codeInputsOf(classifier.summary));
  const mutables = mutableColumns(table, rules, options);
  const { favourable } = decisionSides(options);
  const maxRows = options.maxRows ?? RECOURSE_DEFAULTS.maxRows;
  const adverseRows: number[] = [];
  for (let i = 0; i < scores.length; i++) if (!favourable(scores[i])) adverseRows.push(i);
  const sampled = adverseRows.length > maxRows;
  const searched = sampled ? Array.from(sampleIndices(adverseRows.length, maxRows, options.seed, 'recourse/rows'), (k) => adverseRows[k]) : adverseRows;
  // On a host's threads where the model can be opened there again (the same answers: each row's are its own).
  const model = options.runner && searched.length > 1 && mutables.length > 0 ? reopenableModel(classifier) : null;
  const elsewhere = model ? await options.runner!({ model, table, scores, searched, mutables, options }, options.signal) : null;
  const found = elsewhere ?? (await searchRows(classifier, table, scores, searched, mutables, options)).map((s) => s.found);
  const rows: RecourseReport['rows'] = searched.map((row, i) => ({ row: row + 1, score: scores[row], counterfactuals: found[i].sort((a, b) => a.cost - b.cost) }));
  return recourseReport(table, rows, groupColumns, rules, options, adverseRows.length, sampled);
}
