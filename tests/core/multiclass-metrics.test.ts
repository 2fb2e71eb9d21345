import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GroupIndex } from '../../src/core/metrics/groups';
import type { CalibrationBin } from '../../src/core/metrics/calibration';
import { multiclassCalibration, multiclassPerformance, multiclassReliability, predictedClasses, type MulticlassPerformance } from '../../src/core/metrics/multiclass';
import { multiclassFairness } from '../../src/core/metrics/multiclass-fairness';
import { projectRoot } from '../support/fixtures';

// Multiclass metrics fed the training library's probabilities (xgboost's predict_proba for
// mc3_xgb, scikit-learn's for mc5_linear), against scikit-learn's metrics of the same
// probabilities (tests/models/build_multiclass_regression.py → <model>.expected.json).
type Nullable = number | null;
interface PerformanceRef extends Record<string, unknown> {
  n: number;
  confusion_matrix: number[][];
  per_class: Record<string, Record<string, Nullable>>;
}
interface BinRef {
  n: number;
  mean_predicted: Nullable;
  fraction_positive: Nullable;
}
interface GroupRef {
  n: number;
  performance: PerformanceRef;
  accuracy: number;
  f1_macro: number;
  selection_rate: Record<string, number>;
  tpr: Record<string, Nullable>;
  fpr: Record<string, Nullable>;
}
interface Reference {
  data: string;
  target: string;
  labels: string[];
  protected: string[];
  probabilities: number[][];
  metrics: PerformanceRef & {
    top_label_ece: number;
    classwise_ece: number;
    max_classwise_ece: number;
    classwise_ece_per_class: Record<string, number>;
    reliability: { top_label: BinRef[]; classwise: Record<string, BinRef[]> };
    fairness: Record<string, { groups: Record<string, GroupRef>; by_class: Record<string, Record<string, Nullable>> } & Record<string, Nullable>>;
  };
}

const TOLERANCE = 1e-9;

/** Equal within 1e-9 (relative above 1), or both null. */
function close(got: Nullable | undefined, want: Nullable, what: string) {
  if (want === null) return expect(got, what).toBeNull();
  expect(got, what).not.toBeNull();
  expect(got, what).toBeTypeOf('number');
  expect(Math.abs((got as number) - want), `${what}: got ${got}, scikit-learn ${want}`).toBeLessThanOrEqual(TOLERANCE * Math.max(1, Math.abs(want)));
}

/** Every performance metric against scikit-learn's on the same rows; a null says why. */
function samePerformance(got: MulticlassPerformance, want: PerformanceRef, classes: string[], where: string) {
  expect(got.n, where).toBe(want.n);
  const keys = ['accuracy', 'balanced_accuracy', 'roc_auc_ovr', 'roc_auc_ovr_weighted', 'log_loss', 'brier_score'];
  for (const metric of ['precision', 'recall', 'f1']) for (const average of ['macro', 'weighted', 'micro']) keys.push(`${metric}_${average}`);
  for (const key of keys) close(got[key as keyof MulticlassPerformance] as Nullable, want[key] as Nullable, `${where} ${key}`);
  expect(Object.keys(got.per_class)).toEqual(classes);
  for (const label of classes) {
    for (const key of ['roc_auc', 'precision', 'recall', 'f1'] as const) {
      close(got.per_class[label][key], want.per_class[label][key], `${where} per_class.${label}.${key}`);
      if (want.per_class[label][key] === null) expect(got.null_reasons[`per_class.${label}.${key}`], `${where} ${label} ${key}`).toBeTypeOf('string');
    }
    expect(got.per_class[label].support).toBe(want.per_class[label].support);
  }
  expect(got.confusion_matrix).toEqual(want.confusion_matrix);
  for (const key of keys) if (want[key] === null) expect(got.null_reasons[key], `${where} ${key}`).toBeTypeOf('string');
}

/** A CSV without quoted cells, as columns of strings (blank = ''). */
function readCsv(path: string): Record<string, string[]> {
  const [header, ...lines] = readFileSync(path, 'utf8').trimEnd().split('\n');
  const names = header.split(',');
  const columns: Record<string, string[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (const line of lines) line.split(',').forEach((cell, c) => columns[names[c]].push(cell));
  return columns;
}

/** Rows of each value of a column, built here without the library's table code. */
function groupsOf(attribute: string, values: string[]): GroupIndex {
  const groups = [...new Set(values.map((v) => (v === '' ? '(missing)' : v)))].sort();
  const groupOf = Int32Array.from(values, (v) => groups.indexOf(v === '' ? '(missing)' : v));
  const rows = groups.map((_, g) => Uint32Array.from(values.flatMap((_, i) => (groupOf[i] === g ? [i] : []))));
  return { attribute, groups, rows, groupOf };
}

for (const name of ['mc3_xgb', 'mc5_linear']) {
  const reference = JSON.parse(readFileSync(join(projectRoot, 'tests/models', `${name}.expected.json`), 'utf8')) as Reference;
  const csv = readCsv(join(projectRoot, 'tests/models', reference.data));
  const classes = reference.labels;
  const labels = Int32Array.from(csv[reference.target], (label) => classes.indexOf(label));
  const probabilities = Float64Array.from(reference.probabilities.flat());
  const m = reference.metrics;

  describe(`multiclass metrics of ${name} (${classes.length} classes) against scikit-learn`, () => {
    it('reads every label of the CSV as a class of the model', () => {
      expect(labels.length).toBe(reference.probabilities.length);
      expect([...labels].every((k) => k >= 0)).toBe(true);
    });

    it('gives scikit-learn’s performance metrics, per class and averaged', () => {
      const got = multiclassPerformance(labels, probabilities, classes);
      samePerformance(got, m, classes, 'all rows');
      expect(got.null_reasons).toEqual({});
    });

    it('gives the reference top-label and classwise ECE', () => {
      const got = multiclassCalibration(labels, probabilities, classes);
      close(got.top_label_ece, m.top_label_ece, 'top_label_ece');
      close(got.classwise_ece, m.classwise_ece, 'classwise_ece');
      close(got.max_classwise_ece, m.max_classwise_ece, 'max_classwise_ece');
      for (const label of classes) close(got.classwise_ece_per_class[label], m.classwise_ece_per_class[label], `classwise_ece.${label}`);
    });

    it('gives the reference reliability tables, whose ECEs are the top-label and classwise ECE', () => {
      const got = multiclassReliability(labels, probabilities, classes);
      const same = (table: CalibrationBin[], want: BinRef[], where: string) => {
        expect(table.map((b) => b.n), where).toEqual(want.map((b) => b.n));
        table.forEach((b, k) => {
          close(b.mean_predicted ?? null, want[k].mean_predicted, `${where} bin ${k} mean confidence`);
          close(b.fraction_positive ?? null, want[k].fraction_positive, `${where} bin ${k} observed`);
        });
      };
      same(got.top_label.table, m.reliability.top_label, 'top label');
      close(got.top_label.expected_calibration_error, m.top_label_ece, 'top-label ECE');
      for (const label of classes) {
        same(got.classwise[label].table, m.reliability.classwise[label], label);
        close(got.classwise[label].expected_calibration_error, m.classwise_ece_per_class[label], `${label} ECE`);
      }
    });

    for (const attribute of reference.protected) {
      it(`gives scikit-learn’s per-group metrics and their worst-class disparities for ${attribute}`, () => {
        const want = m.fairness[attribute];
        const got = multiclassFairness(labels, probabilities, classes, groupsOf(attribute, csv[attribute]));
        expect(Object.keys(got.groups)).toEqual(Object.keys(want.groups));
        for (const [group, w] of Object.entries(want.groups)) {
          const g = got.groups[group];
          expect(g.n, group).toBe(w.n);
          samePerformance(g.performance, w.performance, classes, group);
          close(g.accuracy, w.accuracy, `${group} accuracy`);
          close(g.f1_macro, w.f1_macro, `${group} f1_macro`);
          for (const label of classes) {
            close(g.selection_rate[label], w.selection_rate[label], `${group} selection_rate.${label}`);
            close(g.tpr[label], w.tpr[label], `${group} tpr.${label}`);
            close(g.fpr[label], w.fpr[label], `${group} fpr.${label}`);
            if (w.tpr[label] === null) expect(g.null_reasons[`tpr.${label}`]).toBe('no row of the class in the group');
          }
        }
        for (const label of classes) {
          for (const key of ['selection_rate_difference', 'tpr_difference', 'fpr_difference', 'equalized_odds_difference'] as const) {
            close(got.by_class[label][key], want.by_class[label][key], `${label} ${key}`);
          }
        }
        for (const key of ['max_class_selection_rate_difference', 'equalized_odds_difference', 'accuracy_difference', 'f1_macro_difference'] as const) close(got[key], want[key], key);
      });
    }
  });
}

describe('multiclass metrics where they are undefined', () => {
  const classes = ['a', 'b', 'c'];
  // Three rows, class c absent from the labels and never predicted; class b never predicted.
  const labels = Int32Array.from([0, 0, 1]);
  const probabilities = Float64Array.from([0.7, 0.2, 0.1, 0.5, 0.5, 0, 0.6, 0.3, 0.1]);

  it('breaks ties to the lowest class index', () => {
    expect([...predictedClasses(probabilities, 3)]).toEqual([0, 0, 0]);
  });

  it('gives null with a reason, not 0, for what a class cannot have', () => {
    const got = multiclassPerformance(labels, probabilities, classes);
    expect(got.roc_auc_ovr).toBeNull();
    expect(got.per_class.c.roc_auc).toBeNull();
    expect(got.null_reasons['per_class.c.roc_auc']).toBe('no row of the class');
    expect(got.per_class.b.precision).toBeNull();
    expect(got.null_reasons['per_class.b.precision']).toBe('the class is never predicted');
    expect(got.per_class.c.f1).toBeNull();
    // scikit-learn's averages (labels=None, zero_division=0): classes a and b only, b's precision counted 0.
    expect(got.precision_macro).toBeCloseTo((2 / 3 + 0) / 2, 15);
    expect(got.recall_macro).toBeCloseTo((1 + 0) / 2, 15);
    expect(got.balanced_accuracy).toBeCloseTo(0.5, 15);
    expect(got.accuracy).toBeCloseTo(2 / 3, 15);
  });

  it('refuses a probability matrix of the wrong shape or a label outside the classes', () => {
    expect(() => multiclassPerformance(labels, probabilities.subarray(1), classes)).toThrow('8 probabilities for 3 rows and 3 classes');
    expect(() => multiclassPerformance(Int32Array.from([0, 3, 1]), probabilities, classes)).toThrow('row 1: label 3 is not a class index 0…2');
  });
});
