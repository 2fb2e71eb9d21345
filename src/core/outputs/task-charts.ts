/**
 * Chart specifications of multiclass and regression results (drawn by the same PDF and
 * SVG renderers as the binary charts): the top-label reliability diagram, predicted
 * against actual, residuals, mean outcome by decile of prediction, global importance.
 */
import type { CalibrationSummary } from '../metrics/calibration';
import type { DecileCalibration } from '../metrics/regression';
import type { RegressionAuditResult, TaskExplanations } from '../task/result';
import type { ChartSpec } from './charts';
import { formatNumber } from '../base/format';

/** The smallest and largest of some values, widened to a span when they are equal (null without a finite value). */
function extent(values: Iterable<number>): { min: number; max: number } | null {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min > max) return null;
  return max > min ? { min, max } : { min: min - 1, max: max + 1 };
}

/** Top-label reliability: the share of rows whose predicted class is the label against the mean top-label confidence per bin, with Wilson intervals. */
export function topLabelReliabilityChart(summary: CalibrationSummary): ChartSpec {
  return {
    kind: 'interval',
    title: `Top-label reliability (ECE ${formatNumber(summary.expected_calibration_error)})`,
    x: { label: 'Mean top-label confidence (highest class probability)', min: 0, max: 1 },
    y: { label: 'Share whose predicted class is the label', min: 0, max: 1 },
    series: [
      {
        name: 'bins',
        points: summary.table
          .filter((b) => b.n > 0 && b.mean_predicted !== undefined && b.fraction_positive !== undefined)
          .map((b) => ({ x: b.mean_predicted!, y: b.fraction_positive!, low: b.fraction_positive_interval?.low, high: b.fraction_positive_interval?.high, label: `n=${b.n}` })),
      },
      { name: 'perfect', points: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
    ],
    rules: [],
    pointLabels: 'tooltip',
  };
}

/** Actual against predicted for the rows the result keeps (a seeded sample of large files), with the diagonal of a perfect prediction. */
export function predictedActualChart(result: RegressionAuditResult): ChartSpec | null {
  const { predicted, actual, shown, rows } = result.residuals;
  const span = extent([...predicted, ...actual]);
  if (!span || predicted.length < 2) return null;
  return {
    kind: 'interval',
    title: `Predicted vs actual ${result.settings.target} (${shown === rows ? `all ${rows} rows` : `a seeded sample of ${shown} of ${rows} rows`})`,
    x: { label: `Predicted ${result.settings.target}`, min: span.min, max: span.max },
    y: { label: `Actual ${result.settings.target}`, min: span.min, max: span.max },
    series: [
      { name: 'rows', points: predicted.map((p, i) => ({ x: p, y: actual[i] })) },
      { name: 'perfect', points: [{ x: span.min, y: span.min }, { x: span.max, y: span.max }] },
    ],
    rules: [],
    pointLabels: 'tooltip',
  };
}

/** Residual (actual − predicted) against the prediction, with the zero line. */
export function residualChart(result: RegressionAuditResult): ChartSpec | null {
  const { predicted, actual } = result.residuals;
  const residuals = predicted.map((p, i) => actual[i] - p);
  const x = extent(predicted);
  const reach = Math.max(1e-12, ...residuals.filter(Number.isFinite).map(Math.abs));
  if (!x || predicted.length < 2) return null;
  return {
    kind: 'interval',
    title: 'Residuals (actual − predicted)',
    x: { label: `Predicted ${result.settings.target}`, min: x.min, max: x.max },
    y: { label: 'Residual', min: -reach, max: reach },
    series: [{ name: 'rows', points: predicted.map((p, i) => ({ x: p, y: residuals[i] })) }],
    rules: [{ axis: 'y', value: 0, label: '0' }],
    pointLabels: 'tooltip',
  };
}

/** Mean outcome against mean prediction per decile of prediction, with the diagonal of a calibrated model. */
export function decileCalibrationChart(deciles: DecileCalibration[], target: string): ChartSpec | null {
  const filled = deciles.filter((d) => d.n > 0 && d.mean_prediction !== null && d.mean_outcome !== null);
  const span = extent(filled.flatMap((d) => [d.mean_prediction!, d.mean_outcome!]));
  if (!span || filled.length < 2) return null;
  return {
    kind: 'line',
    title: `Mean outcome by decile of prediction (${target})`,
    x: { label: 'Mean prediction in the decile', min: span.min, max: span.max },
    y: { label: 'Mean outcome in the decile', min: span.min, max: span.max },
    series: [
      { name: 'deciles', points: filled.map((d) => ({ x: d.mean_prediction!, y: d.mean_outcome!, label: `decile ${d.bin + 1}, n=${d.n}` })) },
      { name: 'perfect', points: [{ x: span.min, y: span.min }, { x: span.max, y: span.max }] },
    ],
    rules: [],
    pointLabels: 'tooltip',
  };
}

/** Mean |SHAP| per column of a multiclass or regression explanation (largest first, at most 12). */
export function taskImportanceChart(explanations: TaskExplanations): ChartSpec | null {
  const top = explanations.global_importance.slice(0, 12);
  if (!top.length) return null;
  const max = Math.max(...top.map((t) => t.mean_abs_shap), 1e-12);
  return {
    kind: 'bar',
    title: `Global importance: mean |SHAP| (${explanations.output})`,
    x: { label: 'mean |SHAP|', min: 0, max },
    y: { label: 'column', min: 0, max: top.length },
    series: [{ name: 'importance', points: top.map((t, i) => ({ x: t.mean_abs_shap, y: i, label: t.column })) }],
    rules: [],
  };
}
