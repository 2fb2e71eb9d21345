/**
 * Interventional TreeSHAP's WebAssembly kernel (interventional.wat) against the JavaScript
 * leaf-table walk it replaces: the same values, expected value, outputs and local-accuracy
 * error to the bit, on real exports (XGBoost multiclass with blank cells, LightGBM), on
 * ensembles where it takes only some trees, and across calls that reuse its memory. The
 * JavaScript walk is itself checked against the direct algorithm (treeshap-leaf-table.test.ts)
 * and xgboost's pred_contribs (multiclass-treeshap.test.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interventionalTreeShap, interventionalTreeShapDirect } from '../../src/core/analyses/explain/treeshap';
import { interventionalKernel, kernelTakes } from '../../src/core/analyses/explain/treeshap/interventional-kernel';
import { INTERVENTIONAL_KERNEL } from '../../src/core/analyses/explain/treeshap/interventional-wasm';
import { shapeOf } from '../../src/core/analyses/explain/treeshap/leaf-table';
import { columnsOf } from '../../src/core/analyses/explain/treeshap/leaf-walk';
import { parseCsv } from '../../src/core/data/csv';
import { findColumn } from '../../src/core/data/table';
import { classEnsemble, emptyTree, readLightgbmText, readXgboostJson, type Tree, type TreeEnsemble } from '../../src/core/model/tree';
import { Random } from '../../src/core/base/random';
import { syntheticEnsemble } from '../../bench/synthetic';
import { projectRoot } from '../support/fixtures';

function rowsOf(count: number, width: number, seed: number, missingShare: number): Float64Array[] {
  const random = new Random(seed, 'kernel-rows');
  return Array.from({ length: count }, () => Float64Array.from({ length: width }, () => (random.next() < missingShare ? Number.NaN : random.normal())));
}

type Groups = { groupOf: Int32Array; columns: string[] };

/** The kernel's result and the JavaScript walk's, equal to the bit. */
function expectBitEqual(ensemble: TreeEnsemble, rows: Float64Array[], background: Float64Array[], groups?: Groups) {
  const kernel = interventionalTreeShap(ensemble, rows, background, undefined, groups);
  const js = interventionalTreeShap(ensemble, rows, background, undefined, groups, { wasm: false });
  expect(kernel.columns).toEqual(js.columns);
  expect(Object.is(kernel.expectedValue, js.expectedValue)).toBe(true);
  expect(Object.is(kernel.localAccuracyError, js.localAccuracyError)).toBe(true);
  const differ: string[] = [];
  kernel.values.forEach((phi, r) => phi.forEach((v, j) => Object.is(v, js.values[r][j]) || differ.push(`row ${r} column ${j}: ${v} against ${js.values[r][j]}`)));
  kernel.outputs.forEach((v, r) => Object.is(v, js.outputs[r]) || differ.push(`output of row ${r}: ${v} against ${js.outputs[r]}`));
  expect(differ).toEqual([]);
  return kernel;
}

/** How many of the ensemble's trees the kernel takes. */
const taken = (ensemble: TreeEnsemble, groupOf: Int32Array | null = null) => ensemble.trees.filter((tree) => kernelTakes(tree, shapeOf(tree, groupOf, true))).length;

const models = join(projectRoot, 'tests', 'models');

describe('the interventional TreeSHAP kernel', () => {
  it('gives the JavaScript walk’s values to the bit on an XGBoost export with blank cells, class by class', () => {
    const model = readXgboostJson(new Uint8Array(readFileSync(join(models, 'mc3_xgb.json'))), 'mc3_xgb.json');
    const table = parseCsv(readFileSync(join(models, 'mc3_xgb.csv'), 'utf8'), { fileName: 'mc3_xgb.csv' });
    const columns = model.featureNames.map((name) => (findColumn(table, name) as { values: Float64Array }).values);
    const all = Array.from({ length: table.rowCount }, (_, i) => Float64Array.from(columns, (column) => column[i]));
    expect(all.some((x) => x.some(Number.isNaN))).toBe(true);
    for (let k = 0; k < 3; k++) {
      const ensemble = classEnsemble(model, k);
      expect(taken(ensemble)).toBe(ensemble.trees.length);
      expectBitEqual(ensemble, all.slice(0, 60), all.slice(60, 160));
    }
  });

  it('leaves LightGBM’s trees (its own split rule) to the JavaScript walk, with the same values', () => {
    const ensemble = readLightgbmText(new Uint8Array(readFileSync(join(projectRoot, 'tests', 'data', 'lightgbm-small.txt'))), 'lightgbm-small.txt');
    expect(taken(ensemble)).toBe(0);
    const width = ensemble.featureNames.length;
    expectBitEqual(ensemble, rowsOf(20, width, 1, 0.2), rowsOf(30, width, 2, 0.2));
  });

  it('adds its trees and the JavaScript walk’s into the same sums in tree order (mixed ensemble: plain, other rule, past the table budget, past 12 players)', () => {
    const plain = syntheticEnsemble(12, 6, 12, 31);
    const grown = syntheticEnsemble(1, 14, 12, 21);
    const deep = syntheticEnsemble(1, 16, 12, 33);
    // The same tree with LightGBM's rule on its root: no longer plain.
    const other: Tree = { ...plain.trees[3], rule: Uint8Array.from(plain.trees[3].rule, (r, node) => (node === 0 ? 1 : r)) };
    const ensemble = { ...plain, trees: [plain.trees[0], grown.trees[0], plain.trees[1], other, plain.trees[2], deep.trees[0], ...plain.trees.slice(4)] };
    expect(taken(ensemble)).toBe(plain.trees.length - 1);
    const rows = rowsOf(40, 12, 3, 0.1);
    const background = rowsOf(30, 12, 4, 0.1);
    const result = expectBitEqual(ensemble, rows, background);
    const direct = interventionalTreeShapDirect(ensemble, rows, background);
    result.values.forEach((phi, r) => phi.forEach((v, j) => expect(Math.abs(v - direct.values[r][j])).toBeLessThan(1e-12)));
  });

  it('gives the same bits for rows and background rows over several blocks, one background row, and groups of columns', () => {
    const ensemble = syntheticEnsemble(25, 6, 8, 41);
    expectBitEqual(ensemble, rowsOf(300, 8, 5, 0.1), rowsOf(257, 8, 6, 0.1));
    expectBitEqual(ensemble, rowsOf(7, 8, 7, 0.1), rowsOf(1, 8, 8, 0));
    const groups = { groupOf: Int32Array.from([0, 0, 1, 2, 2, 3, 3, 3]), columns: ['a', 'b', 'c', 'd'] };
    expect(taken(ensemble, groups.groupOf)).toBe(25);
    expectBitEqual(ensemble, rowsOf(130, 8, 9, 0.1), rowsOf(129, 8, 10, 0.1), groups);
  });

  it('takes a tree of one leaf (no split: nothing to share, its value in the outputs) and a stump, and infinite splits', () => {
    const plain = syntheticEnsemble(6, 4, 5, 81);
    const leaf = emptyTree(1);
    leaf.value[0] = 0.75;
    const stump = emptyTree(3);
    Object.assign(stump, { left: Int32Array.of(1, -1, -1), right: Int32Array.of(2, -1, -1), feature: Int32Array.of(2, 0, 0), threshold: Float64Array.of(0.1, 0, 0), value: Float64Array.of(0, -1.5, 2.5), defaultLeft: Uint8Array.of(1, 0, 0) });
    const edge: Tree = { ...plain.trees[1], threshold: Float64Array.from(plain.trees[1].threshold, (t, node) => (node === 0 ? Number.POSITIVE_INFINITY : node === 1 ? Number.NEGATIVE_INFINITY : t)) };
    const ensemble = { ...plain, trees: [plain.trees[0], leaf, stump, edge, ...plain.trees.slice(2)] };
    expect(taken(ensemble)).toBe(ensemble.trees.length);
    const result = expectBitEqual(ensemble, rowsOf(50, 5, 21, 0.2), rowsOf(40, 5, 22, 0.2));
    expect(result.localAccuracyError).toBeLessThan(1e-12);
  });

  it('reads splits that are not float32 values as XGBoost’s rule does (rows at the float32 values on either side of each split)', () => {
    const plain = syntheticEnsemble(8, 5, 4, 91);
    const bits32 = new Float32Array(1);
    const words = new Uint32Array(bits32.buffer);
    /** The float32 next to x (x a float32 value), upwards or downwards. */
    const step = (x: number, up: boolean) => {
      bits32[0] = x;
      words[0] += x > 0 === up ? 1 : -1;
      return bits32[0];
    };
    // Each split a third of the way between two float32 values: no float32 equals it.
    const trees = plain.trees.map((tree) => ({ ...tree, threshold: Float64Array.from(tree.threshold, (t, node) => (tree.left[node] < 0 || t === 0 ? t : Math.fround(t) + (step(Math.fround(t), true) - Math.fround(t)) / 3)) }));
    const ensemble = { ...plain, trees };
    const near: number[] = [];
    for (const tree of trees) for (let node = 0; node < tree.left.length; node++) if (tree.left[node] >= 0) near.push(Math.fround(tree.threshold[node]), step(Math.fround(tree.threshold[node]), true), step(Math.fround(tree.threshold[node]), false), tree.threshold[node]);
    const random = new Random(92, 'near-splits');
    const rowsNear = (count: number) => Array.from({ length: count }, () => Float64Array.from({ length: 4 }, () => near[Math.floor(random.next() * near.length)]));
    expect(taken(ensemble)).toBe(trees.length);
    expectBitEqual(ensemble, rowsNear(90), rowsNear(70));
  });

  it('stays within its memory when the deepest tree is one it does not take (the weights are sized by it)', () => {
    // A stump the kernel takes and a chain of 1,000 splits (more than 12 players: the direct
    // walk): the weights’ rows are 1,001 wide while the kernel's own regions are tiny.
    const stump = emptyTree(3);
    Object.assign(stump, { left: Int32Array.of(1, -1, -1), right: Int32Array.of(2, -1, -1), feature: Int32Array.of(0, 0, 0), threshold: Float64Array.of(0.1, 0, 0), value: Float64Array.of(0, -1, 1), defaultLeft: Uint8Array.of(1, 0, 0) });
    const depth = 1000;
    const chain = emptyTree(2 * depth + 1);
    for (let d = 0; d < depth; d++) {
      chain.left[2 * d] = 2 * d + 1;
      chain.right[2 * d] = 2 * d + 2;
      chain.feature[2 * d] = d % 20;
      chain.threshold[2 * d] = (d % 7) / 10 - 0.3;
      chain.value[2 * d + 1] = ((d % 5) - 2) / 10;
    }
    chain.value[2 * depth] = 0.5;
    const names = Array.from({ length: 20 }, (_, j) => `f${j}`);
    const ensemble: TreeEnsemble = { ...syntheticEnsemble(1, 1, 20, 93), featureNames: names, trees: [stump, chain] };
    expect(taken(ensemble)).toBe(1);
    // The background on both sides of the stump's split, the row on one: its leaf's fill runs
    // over subsets with no player only the background satisfies (b = 0).
    expectBitEqual(ensemble, [new Float64Array(20)], [new Float64Array(20).fill(1), new Float64Array(20)]);
    expectBitEqual(ensemble, rowsOf(3, 20, 94, 0), rowsOf(4, 20, 95, 0));
  });

  it('starts each call from zero in the memory it reuses (a large call, then a small one)', () => {
    const ensemble = syntheticEnsemble(10, 5, 6, 51);
    const first = interventionalTreeShap(ensemble, rowsOf(500, 6, 11, 0.1), rowsOf(200, 6, 12, 0.1));
    expect(first.values.length).toBe(500);
    expectBitEqual(ensemble, rowsOf(3, 6, 13, 0.1), rowsOf(2, 6, 14, 0.1));
  });

  it('is there to take the trees: the host has WebAssembly and the kernel is made', () => {
    const ensemble = syntheticEnsemble(3, 6, 4, 61);
    const shapes = ensemble.trees.map((tree) => shapeOf(tree, null, true)!);
    const rows = columnsOf(rowsOf(4, 4, 15, 0), 4);
    const byB = [Float64Array.of(1, 0.5), Float64Array.of(0.5, 1 / 3)];
    expect(interventionalKernel(rows, 4, rows, 4, 4, shapes, byB, 0)).not.toBeNull();
  });

  it('keeps interventional-wasm.ts equal to interventional.wat (scripts/build-wasm.mjs), small enough to compile on any thread', async () => {
    const { interventionalModuleSource } = await import('../../scripts/build-wasm.mjs');
    const dir = join(projectRoot, 'src', 'core', 'analyses', 'explain', 'treeshap');
    expect(await interventionalModuleSource(readFileSync(join(dir, 'interventional.wat'), 'utf8'))).toBe(readFileSync(join(dir, 'interventional-wasm.ts'), 'utf8'));
    // Chromium compiles a module synchronously (new WebAssembly.Module) only up to 4 KB on a page's main thread.
    expect(INTERVENTIONAL_KERNEL.length).toBeLessThanOrEqual(4096);
  });
});
