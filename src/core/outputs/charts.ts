import type { AuditResult } from '../audit';
import type { PolicyDecision } from '../config/policy';
import { metricLabel } from '../metrics/catalog';
import { confidenceLabel } from '../metrics/intervals';
import { MISSING } from '../base/format';

/**
 * Chart specifications: the numbers a chart shows, independent of how it is drawn. The
 * PDF renderer draws them with vector paths; the app can draw the same spec as SVG, so
 * the two never show different numbers.
 */
export interface ChartSpec {
  /** `strip`: one band per series (labelled by its name), its points spread across the band (a beeswarm). */
  kind: 'line' | 'bar' | 'interval' | 'strip';
  title: string;
  x: { label: string; min: number; max: number };
  y: { label: string; min: number; max: number };
  series: { name: string; points: { x: number; y: number; label?: string; low?: number; high?: number }[] }[];
  /** Horizontal or vertical reference lines (gate thresholds, the diagonal is a series). */
  rules: { axis: 'x' | 'y'; value: number; label: string }[];
  /** `tooltip`: points' labels are only hover text (not written under the x axis), and the x axis gets value ticks. */
  pointLabels?: 'tooltip';
}

/** ROC curve with the chance diagonal. */
export function rocChart(result: AuditResult): ChartSpec {
  return {
    kind: 'line',
    title: `ROC curve (AUC ${result.performance.roc_auc?.toFixed(3) ?? MISSING})`,
    x: { label: 'False positive rate', min: 0, max: 1 },
    y: { label: 'True positive rate', min: 0, max: 1 },
    series: [
      { name: 'model', points: result.performance.curve.map((p) => ({ x: p.fpr, y: p.tpr })) },
      { name: 'chance', points: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
    ],
    rules: [],
  };
}

/** Reliability diagram: observed positive rate against mean prediction per bin, with Wilson intervals. */
export function reliabilityChart(result: AuditResult): ChartSpec {
  return {
    kind: 'interval',
    title: `Reliability (ECE ${result.calibration.expected_calibration_error?.toFixed(3) ?? MISSING})`,
    x: { label: 'Mean predicted p(positive)', min: 0, max: 1 },
    y: { label: 'Observed positive rate', min: 0, max: 1 },
    series: [
      {
        name: 'bins',
        points: result.calibration.table
          .filter((b) => b.n > 0)
          .map((b) => ({ x: b.mean_predicted!, y: b.fraction_positive!, low: b.fraction_positive_interval?.low, high: b.fraction_positive_interval?.high, label: `n=${b.n}` })),
      },
      { name: 'perfect', points: [{ x: 0, y: 0 }, { x: 1, y: 1 }] },
    ],
    rules: [],
  };
}

/** Selection rate per group with Wilson intervals, and the parity gates' thresholds drawn in. */
export function selectionRateChart(result: AuditResult, attribute: string, decision?: PolicyDecision): ChartSpec {
  const groups = Object.entries(result.fairness[attribute].groups);
  const rules = (decision?.gates ?? [])
    .filter((g) => g.metric === 'selection_rate' && (g.attribute === null || g.attribute === attribute))
    .map((g) => ({ axis: 'y' as const, value: g.threshold, label: g.name }));
  return {
    kind: 'interval',
    title: `${metricLabel('selection_rate')} by ${attribute} (${confidenceLabel(result.settings.confidence)} Wilson intervals)`,
    x: { label: attribute, min: 0, max: groups.length },
    y: { label: metricLabel('selection_rate'), min: 0, max: 1 },
    series: [
      {
        name: 'groups',
        points: groups.map(([group, m], i) => ({ x: i + 0.5, y: (m.selection_rate as number | null) ?? 0, low: m.intervals.selection_rate?.low, high: m.intervals.selection_rate?.high, label: group })),
      },
    ],
    rules: [{ axis: 'y', value: (result.performance.selection_rate as number | null) ?? 0, label: 'overall' }, ...rules],
  };
}

/** Precision against recall, with the base rate (a random classifier's precision). */
export function prChart(result: AuditResult): ChartSpec {
  const points = result.performance.curve.filter((p) => p.precision !== null).map((p) => ({ x: p.tpr, y: p.precision as number }));
  const base = result.performance.base_rate as number | null;
  return {
    kind: 'line',
    title: `Precision–recall (average precision ${result.performance.average_precision?.toFixed(3) ?? MISSING})`,
    x: { label: metricLabel('recall'), min: 0, max: 1 },
    y: { label: metricLabel('precision'), min: 0, max: 1 },
    series: [{ name: 'model', points }],
    rules: base === null ? [] : [{ axis: 'y', value: base, label: 'base rate' }],
  };
}

/** SHAP value of every explained row, one band per column (largest mean |SHAP| on top, at most 12). */
export function shapStripChart(result: AuditResult): ChartSpec | null {
  const e = result.explanations;
  if (!e?.global_importance?.length || !e.values.length) return null;
  const top = e.global_importance.slice(0, 12).map((g) => g.column);
  // A loop over rows × columns: a spread of that many values overflows the call stack.
  let extent = 1e-12;
  for (const row of e.values) for (const v of row) extent = Math.max(extent, Math.abs(v));
  return {
    kind: 'strip',
    title: `SHAP values of ${e.values.length} rows (${e.output})`,
    x: { label: 'SHAP value', min: -extent, max: extent },
    y: { label: 'column', min: 0, max: top.length },
    series: top.map((column) => {
      const j = e.columns.indexOf(column);
      return { name: column, points: e.values.map((row, r) => ({ x: row[j], y: 0, label: `row ${e.rows[r]}` })) };
    }),
    rules: [{ axis: 'x', value: 0, label: '' }],
  };
}

/** SHAP value against the column's value for each explained row (numeric columns), with a zero line. */
export function dependenceChart(result: AuditResult, column: string): ChartSpec | null {
  const e = result.explanations;
  const j = e?.columns.indexOf(column) ?? -1;
  if (!e?.data || j < 0) return null;
  const points = e.data.flatMap((row, r) => (typeof row[j] === 'number' ? [{ x: row[j] as number, y: e.values[r][j], label: `row ${e.rows[r]}` }] : []));
  if (points.length < 2) return null;
  // Loops, not spreads: one explained row per point, and explainer.rows has no small cap.
  let extent = 1e-12;
  let lo = Infinity;
  let hi = -Infinity;
  for (const { x, y } of points) {
    extent = Math.max(extent, Math.abs(y));
    lo = Math.min(lo, x);
    hi = Math.max(hi, x);
  }
  return {
    kind: 'interval',
    title: `SHAP dependence: ${column}`,
    x: { label: column, min: lo, max: hi > lo ? hi : lo + 1 },
    y: { label: `SHAP (${e.output})`, min: -extent, max: extent },
    series: [{ name: 'rows', points: points.map(({ x, y }) => ({ x, y })) }],
    rules: [{ axis: 'y', value: 0, label: '0' }],
  };
}

/** Mean |SHAP| per column (largest first, at most 12). */
export function importanceChart(result: AuditResult): ChartSpec | null {
  const importance = result.explanations?.global_importance;
  if (!importance?.length) return null;
  const top = importance.slice(0, 12);
  const max = Math.max(...top.map((t) => t.mean_abs_shap), 1e-12);
  return {
    kind: 'bar',
    title: `Global importance: mean |SHAP| (${result.explanations!.output})`,
    x: { label: 'mean |SHAP|', min: 0, max },
    y: { label: 'column', min: 0, max: top.length },
    series: [{ name: 'importance', points: top.map((t, i) => ({ x: t.mean_abs_shap, y: i, label: t.column })) }],
    rules: [],
  };
}

/** A chart's data with numbers rounded, for snapshots. */
export function chartSnapshot(spec: ChartSpec, digits = 4): unknown {
  const round = (v: number | undefined) => (v === undefined ? undefined : Number(v.toFixed(digits)));
  const axis = (a: ChartSpec['x']) => ({ ...a, min: round(a.min), max: round(a.max) });
  return {
    ...spec,
    x: axis(spec.x),
    y: axis(spec.y),
    series: spec.series.map((s) => ({ ...s, points: s.points.map((p) => ({ ...p, x: round(p.x), y: round(p.y), low: round(p.low), high: round(p.high) })) })),
    rules: spec.rules.map((r) => ({ ...r, value: round(r.value) })),
  };
}
