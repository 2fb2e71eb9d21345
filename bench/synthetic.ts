/**
 * Seeded synthetic audit data for benchmarks: numeric and categorical columns, missing
 * values, two protected attributes with group disparities and small groups built in, a
 * binary target and a score that depends on them. No download, same data for a seed.
 */
import type { CategoricalColumn, NumericColumn, Table } from '../src/core/data/table';
import { Random } from '../src/core/base/random';
import { emptyTree } from '../src/core/model/tree';

/** A synthetic table with its labels and model-like scores. */
export interface SyntheticAudit {
  table: Table;
  labels: Uint8Array;
  scores: Float64Array;
}

const RACES = ['A', 'B', 'C', 'D', 'E', 'F'];
const RACE_SHARES = [0.5, 0.3, 0.12, 0.06, 0.019, 0.001];

/** Generates `rows` rows with `numeric` numeric columns (10% missing in the odd ones). */
export function syntheticAudit(rows: number, seed = 1, numeric = 10): SyntheticAudit {
  const random = new Random(seed, 'synthetic');
  const race = new Int32Array(rows);
  const sex = new Int32Array(rows);
  const columns: NumericColumn[] = Array.from({ length: numeric }, (_, j) => ({ kind: 'numeric', name: `x${j}`, values: new Float64Array(rows), missing: 0 }));
  const labels = new Uint8Array(rows);
  const scores = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    let u = random.next();
    let r = 0;
    while (r < RACES.length - 1 && u > RACE_SHARES[r]) u -= RACE_SHARES[r++];
    race[i] = r;
    sex[i] = random.next() < 0.45 ? 1 : 0;
    let logit = -0.3 + 0.4 * sex[i] - 0.15 * r;
    for (let j = 0; j < numeric; j++) {
      const x = random.normal();
      logit += (j % 3 === 0 ? 0.5 : 0.1) * x;
      columns[j].values[i] = j % 2 === 1 && random.next() < 0.1 ? Number.NaN : x;
    }
    const p = 1 / (1 + Math.exp(-logit));
    labels[i] = random.next() < p ? 1 : 0;
    scores[i] = Math.min(1, Math.max(0, p + 0.1 * random.normal()));
  }
  for (const column of columns) for (const v of column.values) if (Number.isNaN(v)) column.missing++;
  const raceColumn: CategoricalColumn = { kind: 'categorical', name: 'race', codes: race, dictionary: RACES, missing: 0 };
  const sexColumn: CategoricalColumn = { kind: 'categorical', name: 'sex', codes: sex, dictionary: ['Female', 'Male'], missing: 0 };
  return { table: { source: 'synthetic.csv', rowCount: rows, columns: [...columns, raceColumn, sexColumn] }, labels, scores };
}

/**
 * A random boosted-tree ensemble over x0…x{features−1}: `trees` full trees of `depth`,
 * thresholds drawn from N(0, 1) (float32, as XGBoost stores them), small leaf values,
 * random default directions. Written by the project's own writers to ONNX and XGBoost JSON.
 */
export function syntheticEnsemble(trees: number, depth: number, features: number, seed = 1): import('../src/core/model/tree').TreeEnsemble {
  const random = new Random(seed, 'synthetic-trees');
  const nodes = 2 ** (depth + 1) - 1;
  const internal = 2 ** depth - 1;
  return {
    format: 'xgboost-json',
    featureNames: Array.from({ length: features }, (_, j) => `x${j}`),
    baseMargin: 0,
    marginScale: 1,
    transform: 'logistic',
    description: `synthetic ${trees} trees of depth ${depth}`,
    trees: Array.from({ length: trees }, () => {
      const tree = emptyTree(nodes);
      tree.cover = new Float64Array(nodes);
      for (let i = 0; i < nodes; i++) {
        if (i < internal) {
          tree.feature[i] = random.int(features);
          tree.threshold[i] = Math.fround(random.normal());
          tree.left[i] = 2 * i + 1;
          tree.right[i] = 2 * i + 2;
          tree.defaultLeft[i] = random.next() < 0.5 ? 1 : 0;
        } else tree.value[i] = Math.fround(0.1 * random.normal());
      }
      // Covers: the share of N(0,1) rows reaching each node, for path-dependent TreeSHAP.
      tree.cover[0] = 1000;
      for (let i = 0; i < internal; i++) {
        const share = 0.5 * (1 + Math.tanh(0.8 * tree.threshold[i]));
        tree.cover[tree.left[i]] = tree.cover[i] * share;
        tree.cover[tree.right[i]] = tree.cover[i] * (1 - share);
      }
      return tree;
    }),
  };
}
