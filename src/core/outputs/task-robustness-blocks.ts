/** The robustness section of a multiclass or regression report (see task/robustness). */
import type { TaskRobustness } from '../task/robustness';
import { Blocks, type ReportBlock } from './blocks';
import { formatInterval, formatNumber as fmt } from '../base/format';

/** Demographic shift, perturbation and counterfactual flips, or why they did not run. */
export function taskRobustnessBlocks(robustness: TaskRobustness | undefined, why: string | undefined, task: 'multiclass' | 'regression', level: string): ReportBlock[] {
  const b = new Blocks();
  if (!robustness) {
    b.paragraph(`Not run: ${why ?? 'not requested'}.`);
    return b.list;
  }
  const shift = robustness.demographic_shift;
  const unit = task === 'multiclass' ? 'accuracy lost, as a share of rows' : 'relative rise of the error';
  b.paragraph(`Demographic shift (shares moved by ±${shift.delta}): worst degradation ${fmt(robustness.max_shift_degradation, 4)} (${unit})${shift.worst ? `: ${shift.worst.metric} when ${shift.worst.attribute} = ${shift.worst.group} goes to a ${fmt(shift.worst.to, 2)} share` : ''}.${shift.not_shifted?.length ? ` Not reweighted, under fairness.min_group_size rows: ${shift.not_shifted.join(', ')}.` : ''}`);
  const size = task === 'multiclass' ? '|Δp| of the predicted class' : '|Δ prediction|';
  const changed = task === 'multiclass' ? 'Class changed' : 'Decision changed';
  b.table(['Noise ε', 'Rows', `${changed} (${level} CI)`, `Mean ${size}`, `Max ${size}`], robustness.perturbation.map((r) => [String(r.epsilon), r.rows.toLocaleString('en'), r.change_rate === null ? 'no decision configured' : `${fmt(r.change_rate, 4)} (${formatInterval(r.change_rate_interval, 4)})`, fmt(r.mean_abs_change, 4), fmt(r.max_abs_change, 4)]), [60, 60, 149, 115, 115]);
  for (const flip of robustness.counterfactual_flips) {
    b.paragraph(flip.applicable ? `Counterfactual change of ${flip.changed}: ${Object.keys(flip.mean_abs_change).map((g) => `${g} ${flip.change_rate[g] === null ? '' : `${fmt(flip.change_rate[g], 3)} changed, `}mean ${size} ${fmt(flip.mean_abs_change[g], 4)}`).join('; ')}.` : `Counterfactual change of ${flip.attribute}: not applicable: ${flip.reason}.`);
  }
  b.paragraph(robustness.conventions, 7.5);
  return b.list;
}
