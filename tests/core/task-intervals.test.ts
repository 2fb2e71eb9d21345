/**
 * Intervals of multiclass and regression metrics (src/core/metrics/task-intervals.ts) on
 * the reference fixtures, each against an independent computation written here: the
 * Wilson formula, DeLong's variance from the placements (Hanley–McNeil's O(n²) pairs), and
 * the percentile bootstrap redone from the same seeded draws with the metric's plain formula.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bootstrapIntervals, multiclassIntervals, MULTICLASS_BOOTSTRAPPED, regressionIntervals } from '../../src/core/metrics/task-intervals';
import { multiclassPerformance } from '../../src/core/metrics/multiclass';
import { regressionPerformance } from '../../src/core/metrics/regression';
import { Random } from '../../src/core/base/random';
import { projectRoot } from '../support/fixtures';

const models = join(projectRoot, 'tests', 'models');
/** Φ⁻¹(0.975), scipy.stats.norm.ppf(0.975). */
const Z95 = 1.959963984540054;

function column(file: string, name: string): string[] {
  const [header, ...lines] = readFileSync(join(models, file), 'utf8').trimEnd().split('\n');
  const at = header.split(',').indexOf(name);
  return lines.map((line) => line.split(',')[at]);
}

const mc = JSON.parse(readFileSync(join(models, 'mc3_xgb.expected.json'), 'utf8')) as { data: string; target: string; labels: string[]; probabilities: number[][] };
const classes = mc.labels;
const labels = Int32Array.from(column(mc.data, mc.target), (label) => classes.indexOf(label));
const probabilities = Float64Array.from(mc.probabilities.flat());
const reg = JSON.parse(readFileSync(join(models, 'reg_xgb.expected.json'), 'utf8')) as { data: string; target: string; predictions: number[] };
const y = Float64Array.from(column(reg.data, reg.target), Number);
const predicted = Float64Array.from(reg.predictions);

/** numpy's default (linear) quantile of sorted values. */
function quantile(sorted: number[], q: number): number {
  const position = q * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.min(sorted.length - 1, lower + 1);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - lower);
}

/** The percentile interval of a statistic over the resamples the module draws: n indices from Random(seed, stream) each. */
function percentileByHand(n: number, resamples: number, seed: number, stream: string, statistic: (rows: number[]) => number): [number, number] {
  const random = new Random(seed, stream);
  const replicates: number[] = [];
  for (let r = 0; r < resamples; r++) {
    const rows = Array.from({ length: n }, () => Math.floor(random.next() * n));
    replicates.push(statistic(rows));
  }
  replicates.sort((a, b) => a - b);
  return [quantile(replicates, 0.025), quantile(replicates, 0.975)];
}

const options = { confidence: 0.95, resamples: 200, seed: 25, stream: 'test/multiclass' };

describe('multiclass intervals', () => {
  const got = multiclassIntervals(labels, probabilities, classes, options);
  const performance = multiclassPerformance(labels, probabilities, classes);

  it('gives accuracy and each class’s precision and recall Wilson intervals', () => {
    const wilson = (k: number, n: number) => {
      const p = k / n;
      const center = (p + (Z95 * Z95) / (2 * n)) / (1 + (Z95 * Z95) / n);
      const half = (Z95 / (1 + (Z95 * Z95) / n)) * Math.sqrt((p * (1 - p)) / n + (Z95 * Z95) / (4 * n * n));
      return [center - half, center + half];
    };
    const n = labels.length;
    const check = (key: string, k: number, trials: number) => {
      const [low, high] = wilson(k, trials);
      expect(got[key]?.method, key).toBe('wilson');
      expect(Math.abs(got[key]!.low - low), key).toBeLessThan(1e-8);
      expect(Math.abs(got[key]!.high - high), key).toBeLessThan(1e-8);
    };
    check('accuracy', Math.round(performance.accuracy! * n), n);
    classes.forEach((label, k) => {
      const support = performance.per_class[label].support;
      const tp = performance.confusion_matrix[k][k];
      const chosen = performance.confusion_matrix.reduce((sum, row) => sum + row[k], 0);
      check(`per_class.${label}.recall`, tp, support);
      check(`per_class.${label}.precision`, tp, chosen);
    });
  });

  it('gives each class’s one-vs-rest AUC DeLong’s interval on the logit scale', () => {
    classes.forEach((label, k) => {
      const positives: number[] = [];
      const negatives: number[] = [];
      labels.forEach((yk, i) => (yk === k ? positives : negatives).push(probabilities[i * classes.length + k]));
      const psi = (a: number, b: number) => (a > b ? 1 : a === b ? 0.5 : 0);
      const v10 = positives.map((p) => negatives.reduce((s, q) => s + psi(p, q), 0) / negatives.length);
      const v01 = negatives.map((q) => positives.reduce((s, p) => s + psi(p, q), 0) / positives.length);
      const auc = v10.reduce((s, v) => s + v, 0) / positives.length;
      const variance = (values: number[]) => {
        const mean = values.reduce((s, v) => s + v, 0) / values.length;
        return values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1);
      };
      const se = Math.sqrt(variance(v10) / positives.length + variance(v01) / negatives.length);
      const logit = Math.log(auc / (1 - auc));
      const half = (Z95 * se) / (auc * (1 - auc));
      const back = (x: number) => 1 / (1 + Math.exp(-x));
      const interval = got[`per_class.${label}.roc_auc`]!;
      expect(interval.method).toBe('delong-logit');
      expect(Math.abs(interval.low - back(logit - half)), label).toBeLessThan(1e-8);
      expect(Math.abs(interval.high - back(logit + half)), label).toBeLessThan(1e-8);
    });
  });

  it('bootstraps the averages, macro AUC, log loss and Brier from the seeded resamples', () => {
    const C = classes.length;
    const brier = (rows: number[]) => rows.reduce((s, i) => s + classes.reduce((t, _, k) => t + (probabilities[i * C + k] - (labels[i] === k ? 1 : 0)) ** 2, 0), 0) / rows.length;
    const [low, high] = percentileByHand(labels.length, options.resamples, options.seed, options.stream, brier);
    expect(got.brier_score?.method).toBe('percentile-bootstrap');
    expect(Math.abs(got.brier_score!.low - low)).toBeLessThan(1e-12);
    expect(Math.abs(got.brier_score!.high - high)).toBeLessThan(1e-12);
    for (const key of MULTICLASS_BOOTSTRAPPED) {
      const interval = got[key]!;
      expect(interval.replicates, key).toBe(options.resamples);
      expect(interval.low, key).toBeLessThanOrEqual(performance[key]!);
      expect(interval.high, key).toBeGreaterThanOrEqual(performance[key]!);
    }
    // The same seed and stream give the same intervals; another stream other draws.
    expect(multiclassIntervals(labels, probabilities, classes, options)).toEqual(got);
    expect(multiclassIntervals(labels, probabilities, classes, { ...options, stream: 'other' }).f1_macro).not.toEqual(got.f1_macro);
  });
});

describe('regression intervals', () => {
  const regOptions = { ...options, stream: 'test/regression' };
  const got = regressionIntervals(y, predicted, regOptions);
  const performance = regressionPerformance(y, predicted);

  it('bootstraps MAE and RMSE from the seeded resamples, and every metric’s interval holds its estimate', () => {
    const mae = (rows: number[]) => rows.reduce((s, i) => s + Math.abs(y[i] - predicted[i]), 0) / rows.length;
    const rmse = (rows: number[]) => Math.sqrt(rows.reduce((s, i) => s + (y[i] - predicted[i]) ** 2, 0) / rows.length);
    for (const [key, statistic] of [['mae', mae], ['rmse', rmse]] as const) {
      const [low, high] = percentileByHand(y.length, regOptions.resamples, regOptions.seed, regOptions.stream, statistic);
      expect(Math.abs(got[key]!.low - low) / low, key).toBeLessThan(1e-12);
      expect(Math.abs(got[key]!.high - high) / high, key).toBeLessThan(1e-12);
    }
    for (const key of ['mae', 'rmse', 'mse', 'r2', 'median_absolute_error', 'mape'] as const) {
      expect(got[key]!.low, key).toBeLessThanOrEqual(performance[key]!);
      expect(got[key]!.high, key).toBeGreaterThanOrEqual(performance[key]!);
    }
  });

  it('gives no interval where the metric is undefined or without resamples', () => {
    const flat = Float64Array.from([-1, 2, 3, 4]);
    const intervals = regressionIntervals(flat, Float64Array.from([0, 2, 2, 5]), regOptions);
    expect(intervals.mape).toBeNull();
    expect(intervals.mae?.method).toBe('percentile-bootstrap');
    expect(regressionIntervals(y, predicted, { ...regOptions, resamples: 0 }).mae).toBeNull();
    expect(bootstrapIntervals(0, ['x'], () => ({ x: 1 }), regOptions)).toEqual({ x: null });
  });
});
