/**
 * Champion vs challenger: every gateable metric of an audit beside a baseline result's (the
 * production model's), with the change and its interval. When both models scored the same
 * rows (same data hash, the baseline's per-row predictions stored, and its numbers
 * reproduced from them) the tests are paired: DeLong for the ROC AUC, McNemar plus a
 * paired bootstrap for accuracy, a paired bootstrap for the other threshold metrics and
 * every rate disparity. Otherwise each change gets the unpaired normal approximation from
 * the two audits' own intervals, and the comparison says why it is not paired.
 */
import { METRIC_CATALOG, metricValue, type MetricSource } from '../metrics/catalog';
import { balancedAccuracy, f1Score, type ConfusionCounts } from '../metrics/confusion';
import { DISPARITIES, disparity, disparityToOverall, ratesOf, type GroupRates } from '../metrics/fairness';
import type { GroupIndex } from '../metrics/groups';
import { normalQuantile, type Interval } from '../metrics/intervals';
import { brierScore, logLoss, rocAuc } from '../metrics/ranking';
import { formatNumber } from '../base/format';
import { bootstrapWeights, mcnemar, pairedDelong, pairedSummary } from './paired';

/** One metric before and after. */
export interface MetricChange {
  /** The catalog id. */
  id: string;
  /** The protected attribute of a fairness metric; null otherwise. */
  attribute: string | null;
  baseline: number | null;
  current: number | null;
  /** current − baseline. */
  change: number | null;
  /** Interval of the change at the audit's confidence; null where none can be defended. */
  interval: Interval | null;
  /** p-value of "no change", where the method gives one. */
  p_value: number | null;
  /** How the interval (and p-value) was made, or why there is none. */
  method: string;
}

/** The comparison of an audit with its baseline, as the result's `comparison` section holds it. */
export interface BaselineComparison {
  /** The baseline result: its file, its digest, and what it audited. */
  baseline: { file: string; sha256: string; model: string | null; model_sha256: string | null; data: string | null; data_sha256: string | null; seed: number | null };
  /** Whether paired tests were used (same rows scored by both models). */
  paired: boolean;
  /** Why the tests are not paired, when they are not. */
  unpaired_reason: string | null;
  /** Paired bootstrap resamples (0 when unpaired). */
  resamples: number;
  /** The random seed, when it differs from the baseline's. */
  seed_change: { baseline: number | null; current: number | null } | null;
  /** The decision threshold, when it differs from the baseline's: changes at a threshold are partly the threshold's. */
  threshold_change?: { baseline: number | null; current: number | null };
  /**
   * Present when the two audits measure different outcomes (another target column or positive
   * label): their metrics are not comparable, and relative gates are not evaluated.
   */
  different_outcome?: string;
  metrics: MetricChange[];
}

/** The parts of a stored result the comparison reads. */
export interface BaselineResult extends MetricSource {
  inputs?: { model?: { file?: string; sha256?: string } | { column: string }; data?: { file?: string; sha256?: string; rows?: number } };
  settings?: { seed?: number; target?: string; positive_label?: unknown; test_sample_size?: number | null; confidence?: number };
  threshold?: number;
  n?: number;
  predictions_p1?: number[];
}

/** The audited rows the paired tests need: labels, the current model's scores, the groups. */
export interface PairedRows {
  labels: Uint8Array;
  scores: Float64Array;
  threshold: number;
  groups: GroupIndex[];
}

/** Every gateable metric of a result as (id, attribute) pairs with values. */
function metricEntries(result: MetricSource): Map<string, { id: string; attribute: string | null; value: number | null }> {
  const entries = new Map<string, { id: string; attribute: string | null; value: number | null }>();
  for (const metric of METRIC_CATALOG.values()) {
    if (metric.section === 'fairness') {
      for (const attribute of Object.keys(result.fairness ?? {})) {
        const value = (result.fairness[attribute] as Record<string, unknown>)[metric.id];
        if (value !== undefined) entries.set(`${metric.id}[${attribute}]`, { id: metric.id, attribute, value: typeof value === 'number' ? value : null });
      }
    } else if (result[metric.section] !== undefined) {
      const value = metricValue(result, metric.id).value;
      entries.set(metric.id, { id: metric.id, attribute: null, value });
    }
  }
  return entries;
}

/** The interval a result holds for a metric, if any. */
function storedInterval(result: MetricSource, id: string, attribute: string | null): Interval | null {
  const pick = (v: unknown) => (v && typeof v === 'object' && typeof (v as Interval).low === 'number' && typeof (v as Interval).high === 'number' ? (v as Interval) : null);
  if (attribute !== null) return pick((result.fairness[attribute] as { intervals?: Record<string, unknown> }).intervals?.[id]);
  if (id === 'roc_auc' || METRIC_CATALOG.get(id)?.section === 'performance') return pick((result.performance as { intervals?: Record<string, unknown> }).intervals?.[id]);
  if (id === 'expected_calibration_error') return pick((result.calibration as { intervals?: Record<string, unknown> }).intervals?.[id]);
  return null;
}

/** Weighted confusion counts of rows (weights: bootstrap draws; all 1 for the sample itself). */
function weightedConfusion(labels: Uint8Array, scores: ArrayLike<number>, threshold: number, weights: Uint32Array | null, groupOf: Int32Array | null, groups: number): ConfusionCounts[] {
  const counts = Array.from({ length: groups }, () => ({ tp: 0, fp: 0, tn: 0, fn: 0 }));
  for (let i = 0; i < labels.length; i++) {
    const w = weights ? weights[i] : 1;
    if (w === 0) continue;
    const c = counts[groupOf ? groupOf[i] : 0];
    if (scores[i] >= threshold) labels[i] === 1 ? (c.tp += w) : (c.fp += w);
    else labels[i] === 1 ? (c.fn += w) : (c.tn += w);
  }
  return counts;
}

function weightedMean(values: (i: number) => number, n: number, weights: Uint32Array): number {
  let sum = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    sum += weights[i] * values(i);
    total += weights[i];
  }
  return sum / total;
}

/** The threshold and rate metrics of one model on (weighted) rows, keyed like {@link metricEntries}. */
function pairedMetrics(rows: PairedRows, scores: ArrayLike<number>, threshold: number, weights: Uint32Array | null): Map<string, number | null> {
  const { labels } = rows;
  const values = new Map<string, number | null>();
  const [overall] = weightedConfusion(labels, scores, threshold, weights, null, 1);
  const rates = ratesOf(overall);
  // base_rate is the labels' own: on the same rows its change is 0 in every resample.
  for (const id of ['accuracy', 'precision', 'recall', 'specificity', 'selection_rate', 'base_rate'] as const) values.set(id, rates[id === 'recall' ? 'tpr' : id === 'specificity' ? 'tnr' : id] ?? null);
  values.set('f1', f1Score(overall));
  values.set('balanced_accuracy', balancedAccuracy(overall));
  if (weights) {
    values.set('brier_score', weightedMean((i) => (scores[i] - labels[i]) ** 2, labels.length, weights));
  } else {
    values.set('brier_score', brierScore(labels, Float64Array.from(scores)));
    values.set('log_loss', logLoss(labels, Float64Array.from(scores)));
  }
  for (const index of rows.groups) {
    const counts = weightedConfusion(labels, scores, threshold, weights, index.groupOf, index.groups.length);
    const groups: Record<string, GroupRates> = {};
    index.groups.forEach((name, g) => {
      if (counts[g].tp + counts[g].fp + counts[g].tn + counts[g].fn > 0) groups[name] = ratesOf(counts[g]);
    });
    for (const definition of DISPARITIES) {
      values.set(`${definition.id}[${index.attribute}]`, disparity(definition, groups));
      if (definition.aggregation === 'difference') values.set(`${definition.id}_to_overall[${index.attribute}]`, disparityToOverall(definition, groups, rates));
    }
  }
  return values;
}

/** Why the baseline's per-row predictions cannot be paired with this audit's rows, or null when they can. */
function pairingProblem(current: BaselineResult, baseline: BaselineResult, rows: PairedRows | null, noRows: string): string | null {
  const a = baseline.inputs?.data?.sha256;
  const b = current.inputs?.data?.sha256;
  if (!a || !b || a !== b) return `the baseline audited other data (${baseline.inputs?.data?.file ?? 'unknown file'}, SHA-256 ${a ? a.slice(0, 12) : 'unknown'}…; this audit's is ${b ? b.slice(0, 12) : 'unknown'}…)`;
  // A seeded sample (data.test_sample_size) is the same rows only at the same size and seed, stratified by the same labels.
  const sample = (r: BaselineResult) => (r.settings?.test_sample_size ? `a seeded sample of ${r.settings.test_sample_size} rows (seed ${r.settings.seed ?? 0}${r.labels === 'absent' ? ', without labels' : ''})` : 'every row');
  if (sample(baseline) !== sample(current)) return `the two audits read different rows of ${current.inputs?.data?.file ?? 'the data'}: the baseline ${sample(baseline)}, this audit ${sample(current)}`;
  if (!rows) return noRows;
  if (!baseline.predictions_p1) return 'the baseline result holds no per-row predictions (audit the baseline with --predictions to pair them)';
  if (baseline.predictions_p1.length !== rows.labels.length) return `the baseline scored ${baseline.predictions_p1.length} rows and this audit ${rows.labels.length} (a different sample)`;
  const auc = rocAuc(rows.labels, Float64Array.from(baseline.predictions_p1));
  const stored = (baseline.performance as { roc_auc?: number | null }).roc_auc;
  if (auc !== null && typeof stored === 'number' && Math.abs(auc.auc - stored) > 1e-9) return `the baseline's predictions with this audit's labels give ROC AUC ${formatNumber(auc.auc, 4)}, not its stored ${formatNumber(stored, 4)} (other labels or positive class)`;
  return null;
}

/** The baseline's model file, or its score column. */
function modelName(result: BaselineResult): string | null {
  const model = result.inputs?.model;
  if (!model) return null;
  return 'column' in model ? `score column ${model.column}` : (model.file ?? null);
}

/** Row-passes one paired bootstrap may make (each resample passes over the rows once per model and attribute, plus once). */
export const PAIRED_BOOTSTRAP_WORK = 4e8;

/**
 * Paired bootstrap resamples: `bootstrap.resamples`, but no more than keep the work under
 * {@link PAIRED_BOOTSTRAP_WORK} row-passes (a million rows with two attributes get 200), and
 * never fewer than 200 when more were asked. Depends on the data's size only: deterministic.
 */
export function pairedResamples(requested: number, rows: number, attributes: number): number {
  const affordable = Math.floor(PAIRED_BOOTSTRAP_WORK / (2 * Math.max(1, rows) * (1 + attributes)));
  return Math.min(requested, Math.max(200, affordable));
}

const UNPAIRED = 'unpaired: independent samples, normal approximation from each audit’s own interval';

/**
 * Compares an audit's result with a baseline result. `rows` (labels, scores, groups of
 * this audit) enables paired tests when the baseline scored the same rows.
 */
export function compareWithBaseline(
  current: BaselineResult,
  baseline: BaselineResult,
  source: { file: string; sha256: string },
  options: { rows: PairedRows | null; seed: number; resamples: number; confidence: number; noRows?: string },
): BaselineComparison {
  const z = normalQuantile(1 - (1 - options.confidence) / 2);
  const before = metricEntries(baseline);
  const after = metricEntries(current);
  const outcome = (r: BaselineResult) => `target ${r.settings?.target ?? 'unknown'}, positive label ${r.settings?.positive_label === undefined ? 'unknown' : String(r.settings.positive_label)}`;
  // Only two labelled audits measure outcomes (a batch without labels has target '').
  // Without labels an audit still scores one class: a baseline of p(0) is not this audit's p(1), labelled or not.
  const label = (r: BaselineResult) => (r.settings?.positive_label === undefined || r.settings.positive_label === null ? null : String(r.settings.positive_label));
  const otherClass = label(baseline) !== null && label(current) !== null && label(baseline) !== label(current);
  const differentOutcome =
    baseline.settings?.target && current.settings?.target && outcome(baseline) !== outcome(current)
      ? `the two audits measure different outcomes (the baseline's ${outcome(baseline)}; this audit's ${outcome(current)}): their metrics are not comparable`
      : otherClass
        ? `the two audits score different classes (the baseline's positive label ${label(baseline)}; this audit's ${label(current)}): their metrics are not comparable`
        : null;
  // Scores of another class (or outcome) are not paired with this audit's labels, whatever else matches: a baseline
  // without labels stores no ROC AUC for the check below to catch them.
  const problem = differentOutcome ?? pairingProblem(current, baseline, options.rows, options.noRows ?? 'this audit has no labelled rows to pair');
  const paired = problem === null && options.rows !== null;
  const pairedTests = new Map<string, { interval: Interval | null; p_value: number | null; method: string }>();
  const resamples = paired ? pairedResamples(options.resamples, options.rows!.labels.length, options.rows!.groups.length) : 0;
  if (paired) {
    const rows = options.rows!;
    const baseScores = baseline.predictions_p1!;
    const baseThreshold = baseline.threshold ?? rows.threshold;
    const delong = pairedDelong(rows.labels, baseScores, rows.scores, options.confidence);
    if (delong) pairedTests.set('roc_auc', { interval: delong.interval, p_value: delong.p_value, method: 'paired: DeLong’s test of two correlated AUCs' });
    const correct = (scores: ArrayLike<number>, threshold: number) => rows.labels.map((y, i) => Number((scores[i] >= threshold ? 1 : 0) === y));
    const test = mcnemar(correct(baseScores, baseThreshold), correct(rows.scores, rows.threshold));
    const replicates = new Map<string, number[]>();
    if (resamples >= 20) {
      for (const weights of bootstrapWeights(rows.labels.length, resamples, options.seed, 'baseline-comparison')) {
        const a = pairedMetrics(rows, baseScores, baseThreshold, weights);
        const b = pairedMetrics(rows, rows.scores, rows.threshold, weights);
        for (const [key, value] of b) {
          const x = a.get(key);
          const list = replicates.get(key) ?? [];
          list.push(value === null || x === null || x === undefined ? Number.NaN : value - x);
          replicates.set(key, list);
        }
      }
    }
    // McNemar's test needs no resampling: accuracy is paired even without bootstrap draws.
    pairedTests.set('accuracy', { interval: null, p_value: test.p_value, method: `paired: McNemar’s exact test (${test.a_only} rows only the baseline got right, ${test.b_only} only this model); no interval (bootstrap.resamples under 20)` });
    for (const [key, list] of replicates) {
      const summary = pairedSummary(list, options.confidence);
      if (!summary) continue;
      const method = key === 'accuracy' ? `paired: McNemar’s exact test (${test.a_only} rows only the baseline got right, ${test.b_only} only this model); bootstrap interval, ${resamples} paired resamples` : `paired bootstrap, ${resamples} resamples of the same rows`;
      pairedTests.set(key, { interval: summary.interval, p_value: key === 'accuracy' ? test.p_value : summary.p_value, method });
    }
  }
  const metrics: MetricChange[] = [];
  for (const key of [...new Set([...before.keys(), ...after.keys()])]) {
    const entry = (after.get(key) ?? before.get(key))!;
    const x = before.get(key)?.value ?? null;
    const y = after.get(key)?.value ?? null;
    const change = x !== null && y !== null ? y - x : null;
    let interval: Interval | null = null;
    let p: number | null = null;
    let method: string;
    const test = pairedTests.get(key);
    if (change === null) {
      method = x === null && y === null ? 'no value in either audit' : x === null ? 'no value in the baseline' : 'no value in this audit';
    } else if (test) {
      ({ interval, p_value: p, method } = test);
    } else {
      const ia = storedInterval(baseline, entry.id, entry.attribute);
      const ib = storedInterval(current, entry.id, entry.attribute);
      if (ia && ib) {
        // Each audit's interval at its own confidence (a baseline at 50% has a narrower one for the same standard error).
        const zOf = (r: BaselineResult) => normalQuantile(1 - (1 - (r.settings?.confidence ?? options.confidence)) / 2);
        const se = Math.hypot((ia.high - ia.low) / (2 * zOf(baseline)), (ib.high - ib.low) / (2 * zOf(current)));
        interval = { low: change - z * se, high: change + z * se };
        method = paired ? `${UNPAIRED} (no paired test for this metric)` : UNPAIRED;
      } else {
        method = 'no interval: an audit holds none for this metric';
      }
    }
    // A disparity over groups of a few rows: a resample moves the small group's rate, and with it max − min, far more than the rows justify.
    const small = entry.attribute !== null && (interval || p !== null) ? [...new Set([...smallGroups(baseline, entry.attribute), ...smallGroups(current, entry.attribute)])] : [];
    if (small.length) method += `; read with care: ${entry.attribute}'s groups include ${small.join(', ')}, under fairness.min_group_size rows, whose rates move the disparity more than their rows support`;
    metrics.push({ id: entry.id, attribute: entry.attribute, baseline: x, current: y, change, interval, p_value: p, method });
  }
  const seedBefore = baseline.settings?.seed ?? null;
  const seedAfter = current.settings?.seed ?? null;
  return {
    baseline: {
      file: source.file,
      sha256: source.sha256,
      model: modelName(baseline),
      model_sha256: (baseline.inputs?.model && 'sha256' in baseline.inputs.model ? baseline.inputs.model.sha256 : null) ?? null,
      data: baseline.inputs?.data?.file ?? null,
      data_sha256: baseline.inputs?.data?.sha256 ?? null,
      seed: seedBefore,
    },
    paired,
    unpaired_reason: problem,
    resamples: paired && resamples >= 20 ? resamples : 0,
    seed_change: seedBefore !== seedAfter ? { baseline: seedBefore, current: seedAfter } : null,
    ...((baseline.threshold ?? null) !== (current.threshold ?? null) ? { threshold_change: { baseline: baseline.threshold ?? null, current: current.threshold ?? null } } : {}),
    ...(differentOutcome ? { different_outcome: differentOutcome } : {}),
    metrics,
  };
}

/** The groups of an attribute a result flags as under fairness.min_group_size rows. */
function smallGroups(result: BaselineResult, attribute: string): string[] {
  const groups = (result.fairness?.[attribute] as { groups?: Record<string, { insufficient_samples?: boolean }> } | undefined)?.groups ?? {};
  return Object.entries(groups).filter(([, g]) => g.insufficient_samples === true).map(([name]) => name);
}
