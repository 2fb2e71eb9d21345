import type { GroupIndex } from '../../metrics/groups';

/** One demographic-shift scenario and what it did to each metric. */
export interface ShiftScenario {
  attribute: string;
  group: string;
  /** The group's share before and after. */
  from: number;
  to: number;
  metrics: Record<string, number | null>;
  /** Worsening of each metric (positive = worse), against the unshifted audit. */
  degradation: Record<string, number | null>;
}

/** The demographic-shift section. */
export interface ShiftReport {
  delta: number;
  baseline: Record<string, number | null>;
  scenarios: ShiftScenario[];
  max_shift_degradation: number | null;
  worst: { attribute: string; group: string; to: number; metric: string } | null;
  conventions: string;
}

const HIGHER_IS_BETTER = new Set(['accuracy', 'precision', 'recall', 'balanced_accuracy']);

/** Weighted metrics of scores at a threshold: accuracy, precision, recall, balanced accuracy, ECE, parity differences. */
function weightedMetrics(labels: Uint8Array, scores: Float64Array, weights: Float64Array, threshold: number, attributes: GroupIndex[], bins: number): Record<string, number | null> {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let i = 0; i < labels.length; i++) {
    const w = weights[i];
    const predicted = scores[i] >= threshold;
    if (labels[i] === 1) {
      if (predicted) tp += w;
      else fn += w;
    } else if (predicted) fp += w;
    else tn += w;
  }
  const ratio = (a: number, b: number) => (b === 0 ? null : a / b);
  const recall = ratio(tp, tp + fn);
  const specificity = ratio(tn, tn + fp);
  const metrics: Record<string, number | null> = {
    accuracy: ratio(tp + tn, tp + tn + fp + fn),
    precision: ratio(tp, tp + fp),
    recall,
    balanced_accuracy: recall === null || specificity === null ? null : (recall + specificity) / 2,
    expected_calibration_error: weightedEce(labels, scores, weights, bins),
  };
  for (const index of attributes) {
    // Parity across this attribute's groups under the weights.
    const rates = index.rows.map((rows) => {
      let selected = 0;
      let total = 0;
      let positives = 0;
      let truePositives = 0;
      for (const row of rows) {
        total += weights[row];
        if (scores[row] >= threshold) selected += weights[row];
        if (labels[row] === 1) {
          positives += weights[row];
          if (scores[row] >= threshold) truePositives += weights[row];
        }
      }
      return { selection: ratio(selected, total), tpr: ratio(truePositives, positives) };
    });
    // max − min over the groups where the rate is defined, in a loop (a spread would pass every group as an argument).
    const spread = (values: (number | null)[]) => {
      let defined = 0;
      let min = Infinity;
      let max = -Infinity;
      for (const v of values) {
        if (v === null) continue;
        defined++;
        if (v < min) min = v;
        if (v > max) max = v;
      }
      return defined < 2 ? null : max - min;
    };
    metrics[`demographic_parity_difference[${index.attribute}]`] = spread(rates.map((r) => r.selection));
    metrics[`equal_opportunity_difference[${index.attribute}]`] = spread(rates.map((r) => r.tpr));
  }
  return metrics;
}

function weightedEce(labels: Uint8Array, scores: Float64Array, weights: Float64Array, bins: number): number | null {
  const count = new Float64Array(bins);
  const sum = new Float64Array(bins);
  const positives = new Float64Array(bins);
  let total = 0;
  for (let i = 0; i < labels.length; i++) {
    const b = Math.min(bins - 1, Math.max(0, Math.floor(scores[i] * bins)));
    count[b] += weights[i];
    sum[b] += weights[i] * scores[i];
    positives[b] += weights[i] * labels[i];
    total += weights[i];
  }
  if (total === 0) return null;
  let ece = 0;
  for (let b = 0; b < bins; b++) if (count[b] > 0) ece += (count[b] / total) * Math.abs(positives[b] / count[b] - sum[b] / count[b]);
  return ece;
}

/** The scenarios of a demographic shift, the worst one, and the largest worsening. */
export interface ShiftScenarios {
  baseline: Record<string, number | null>;
  scenarios: ShiftScenario[];
  worst: ShiftReport['worst'];
  max: number | null;
}

/**
 * The reweighting every demographic shift uses, whatever its metrics: for each attribute and
 * each of its groups, rows reweighted so the group's share moves by ±δ (kept within [0.01,
 * 0.99]; the other groups keep their relative sizes), `metricsOf` recomputed under the
 * weights, and each metric's worsening by `worsening(metric, before, after)` (positive =
 * worse; null where either value is null).
 */
export function shiftScenarios(
  n: number,
  attributes: GroupIndex[],
  delta: number,
  metricsOf: (weights: Float64Array) => Record<string, number | null>,
  worsening: (metric: string, before: number, after: number) => number | null,
): ShiftScenarios {
  const baseline = metricsOf(new Float64Array(n).fill(1));
  const scenarios: ShiftScenario[] = [];
  let worst: ShiftReport['worst'] = null;
  let max: number | null = null;
  for (const index of attributes) {
    index.groups.forEach((group, g) => {
      const share = index.rows[g].length / n;
      if (share === 0 || share === 1) return;
      for (const direction of [1, -1]) {
        const to = Math.min(0.99, Math.max(0.01, share + direction * delta));
        if (to === share) continue;
        const weights = new Float64Array(n).fill((1 - to) / (1 - share));
        for (const row of index.rows[g]) weights[row] = to / share;
        const metrics = metricsOf(weights);
        const degradation: Record<string, number | null> = {};
        for (const [metric, value] of Object.entries(metrics)) {
          const before = baseline[metric];
          degradation[metric] = value === null || before === null ? null : worsening(metric, before, value);
          const d = degradation[metric];
          if (d !== null && (max === null || d > max)) {
            max = d;
            worst = { attribute: index.attribute, group, to, metric };
          }
        }
        scenarios.push({ attribute: index.attribute, group, from: share, to, metrics, degradation });
      }
    });
  }
  return { baseline, scenarios, worst, max };
}

/**
 * Demographic shift of a binary classifier (see {@link shiftScenarios}): accuracy,
 * precision, recall, balanced accuracy, ECE and the other attributes' parity differences
 * under each reweighting. A group's own rates do not change under its own reweighting;
 * performance, calibration and the other attributes' disparities do.
 * `max_shift_degradation` is the largest worsening of any metric in any scenario.
 */
export function demographicShift(labels: Uint8Array, scores: Float64Array, threshold: number, attributes: GroupIndex[], delta = 0.1, bins = 10): ShiftReport {
  const { baseline, scenarios, worst, max } = shiftScenarios(
    labels.length,
    attributes,
    delta,
    (weights) => weightedMetrics(labels, scores, weights, threshold, attributes, bins),
    (metric, before, value) => (HIGHER_IS_BETTER.has(metric) ? before - value : value - before),
  );
  return {
    delta,
    baseline,
    scenarios,
    max_shift_degradation: max,
    worst,
    conventions: `Each group's share moved by ±${delta} (clamped to [0.01, 0.99]) by reweighting rows; degradation = baseline − shifted for accuracy, precision, recall, balanced accuracy, and shifted − baseline for ECE (${bins} equal-width bins) and the parity differences; positive means worse.`,
  };
}
