import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interventionalTreeShap, interventionalTreeShapDirect, pathDependentTreeShap, pathDependentTreeShapDirect, splitEnsemble, sumShap } from '../../src/core/analyses/explain/treeshap';
import { leafTable, MAX_PATH_PLAYERS, TABLE_BUDGET_BYTES } from '../../src/core/analyses/explain/treeshap/leaf-table';
import { columnsOf, maskScratch } from '../../src/core/analyses/explain/treeshap/leaf-walk';
import { readLightgbmText } from '../../src/core/model/tree';
import { Random } from '../../src/core/base/random';
import { syntheticEnsemble } from '../../bench/synthetic';
import { projectRoot } from '../support/fixtures';

function rowsOf(count: number, width: number, seed: number, missingShare: number): Float64Array[] {
  const random = new Random(seed, 'leaf-table-rows');
  return Array.from({ length: count }, () => Float64Array.from({ length: width }, () => (random.next() < missingShare ? Number.NaN : random.normal())));
}

function expectSame(fast: ReturnType<typeof interventionalTreeShap>, direct: ReturnType<typeof interventionalTreeShap>) {
  expect(fast.columns).toEqual(direct.columns);
  expect(fast.expectedValue).toBe(direct.expectedValue);
  fast.values.forEach((row, r) => row.forEach((v, j) => expect(Math.abs(v - direct.values[r][j])).toBeLessThan(1e-12)));
  expect(fast.localAccuracyError).toBeLessThan(1e-9);
}

describe('interventional TreeSHAP by leaf tables', () => {
  it('equals the direct walk on random depth-6 trees with repeated features and missing values', () => {
    const ensemble = syntheticEnsemble(40, 6, 5, 3);
    const rows = rowsOf(30, 5, 1, 0.15);
    const background = rowsOf(50, 5, 2, 0.15);
    expectSame(interventionalTreeShap(ensemble, rows, background), interventionalTreeShapDirect(ensemble, rows, background));
  });

  it('equals the direct walk when some trees have paths of more than 12 players (those take the direct walk)', () => {
    const shallow = syntheticEnsemble(10, 4, 16, 12);
    const deep = syntheticEnsemble(2, 14, 16, 13);
    const ensemble = { ...shallow, trees: [...shallow.trees, ...deep.trees] };
    const rows = rowsOf(5, 16, 14, 0.1);
    const background = rowsOf(8, 16, 15, 0.1);
    expectSame(interventionalTreeShap(ensemble, rows, background), interventionalTreeShapDirect(ensemble, rows, background));
  });

  it('equals the direct walk when players are groups of columns (one-hot raw columns)', () => {
    const ensemble = syntheticEnsemble(30, 5, 6, 4);
    const groups = { groupOf: Int32Array.from([0, 0, 1, 2, 2, 2]), columns: ['a', 'b', 'c'] };
    const rows = rowsOf(20, 6, 5, 0.1);
    const background = rowsOf(40, 6, 6, 0.1);
    expectSame(interventionalTreeShap(ensemble, rows, background, undefined, groups), interventionalTreeShapDirect(ensemble, rows, background, undefined, groups));
  });

  it('equals the direct walk on a LightGBM model (<= splits, its missing-value types)', () => {
    const ensemble = readLightgbmText(new Uint8Array(readFileSync(join(projectRoot, 'tests', 'data', 'lightgbm-small.txt'))), 'lightgbm-small.txt');
    const width = ensemble.featureNames.length;
    const rows = rowsOf(25, width, 7, 0.2).map((r) => r.map((v) => (Number.isNaN(v) ? v : Math.round(v * 3))));
    const background = rowsOf(30, width, 8, 0.2).map((r) => r.map((v) => (Number.isNaN(v) ? v : Math.round(v * 3))));
    expectSame(interventionalTreeShap(ensemble, rows, background), interventionalTreeShapDirect(ensemble, rows, background));
  });
});

describe('a tree whose tables would pass the budget (a fully grown tree on twelve columns)', () => {
  // Depth 14 on 12 features: 16,384 leaves of up to 12 players, dense tables of about 6 GB.
  const ensemble = syntheticEnsemble(1, 14, 12, 21);
  const rows = rowsOf(12, 12, 22, 0.1);
  const background = rowsOf(20, 12, 23, 0.1);

  it('keeps its tables within TABLE_BUDGET_BYTES, the leaves of fewest players first', () => {
    for (const summary of [null, { columns: columnsOf(background, 12), rows: background.length, scratch: maskScratch(ensemble.trees) }]) {
      const t = leafTable(ensemble.trees[0], null, summary)!;
      const bytes = t.table.byteLength + t.filled.byteLength + t.zDense.byteLength + t.pairTable.byteLength + t.pairFilled.byteLength;
      expect(bytes).toBeLessThanOrEqual(TABLE_BUDGET_BYTES + 8 * MAX_PATH_PLAYERS);
      const cached = Array.from(t.k).filter((_, l) => t.cached[l]);
      const uncached = Array.from(t.k).filter((_, l) => !t.cached[l]);
      expect(cached.length).toBeGreaterThan(0);
      expect(uncached.length).toBeGreaterThan(0);
      expect(Math.max(...cached)).toBeLessThanOrEqual(Math.min(...uncached));
    }
  });

  it('gives the direct walk’s values, path-dependent and interventional', () => {
    expectSame(pathDependentTreeShap(ensemble, rows), pathDependentTreeShapDirect(ensemble, rows));
    expectSame(interventionalTreeShap(ensemble, rows, background), interventionalTreeShapDirect(ensemble, rows, background));
  });
});

describe('path-dependent TreeSHAP by leaf tables', () => {
  it('equals the extend/unwind walk on random depth-6 trees with covers, repeated features and missing values', () => {
    const ensemble = syntheticEnsemble(40, 6, 5, 9);
    const rows = rowsOf(40, 5, 10, 0.15);
    expectSame(pathDependentTreeShap(ensemble, rows), pathDependentTreeShapDirect(ensemble, rows));
  });

  it('equals the extend/unwind walk on the LightGBM model (its covers are counts)', () => {
    const ensemble = readLightgbmText(new Uint8Array(readFileSync(join(projectRoot, 'tests', 'data', 'lightgbm-small.txt'))), 'lightgbm-small.txt');
    const width = ensemble.featureNames.length;
    const rows = rowsOf(25, width, 11, 0.2).map((r) => r.map((v) => (Number.isNaN(v) ? v : Math.round(v * 3))));
    expectSame(pathDependentTreeShap(ensemble, rows), pathDependentTreeShapDirect(ensemble, rows));
  });
});

describe('explaining slices of an ensemble apart (for workers)', () => {
  it('sums back to the whole ensemble’s values, expected value and outputs', () => {
    const ensemble = syntheticEnsemble(40, 6, 5, 3);
    const rows = rowsOf(30, 5, 1, 0.15);
    const background = rowsOf(50, 5, 2, 0.15);
    for (const parts of [2, 3, 7]) {
      const slices = splitEnsemble(ensemble, parts);
      expect(slices.reduce((n, s) => n + s.trees.length, 0)).toBe(ensemble.trees.length);
      const path = sumShap(slices.map((slice) => pathDependentTreeShap(slice, rows)));
      const wholePath = pathDependentTreeShap(ensemble, rows);
      expect(Math.abs(path.expectedValue - wholePath.expectedValue)).toBeLessThan(1e-12);
      path.outputs.forEach((v, r) => expect(Math.abs(v - wholePath.outputs[r])).toBeLessThan(1e-12));
      path.values.forEach((row, r) => row.forEach((v, j) => expect(Math.abs(v - wholePath.values[r][j])).toBeLessThan(1e-12)));
      expect(path.localAccuracyError).toBeLessThan(1e-9);
      const interventional = sumShap(slices.map((slice) => interventionalTreeShap(slice, rows, background)));
      const whole = interventionalTreeShap(ensemble, rows, background);
      expect(Math.abs(interventional.expectedValue - whole.expectedValue)).toBeLessThan(1e-12);
      interventional.values.forEach((row, r) => row.forEach((v, j) => expect(Math.abs(v - whole.values[r][j])).toBeLessThan(1e-12)));
    }
  });
});
