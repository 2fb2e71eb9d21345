/**
 * ONNX tree classifiers scored by the project's kernel with onnxruntime's arithmetic
 * (src/core/model/onnx-tree-scoring.ts): the oracle is onnxruntime itself, run on the same
 * files and rows. Every output column the kernel claims equals onnxruntime's to the bit —
 * float32 splits by BRANCH_LT and BRANCH_LEQ (and the mirrored GT/GTE), missing values to
 * either side, forests weighing both classes (NONE) and boosted margins (LOGISTIC, through
 * musl's expf), base values — and a classifier's scores equal onnxruntime's whether or not
 * its kernel takes over (a shape the kernel gets wrong is caught by the check on the first
 * batch and left to onnxruntime).
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { AttributeProto_AttributeType, AttributeProtoSchema, ModelProtoSchema, type AttributeProto } from 'onnx-buf';
import * as ort from 'onnxruntime-web';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Random } from '../../src/core/base/random';
import { allRows, type NumericColumn, type Table } from '../../src/core/data/table';
import { openModel } from '../../src/core/model/classifier';
import { runAudit } from '../../src/core/audit';
import { readTable } from '../../src/core/data/read';
import { toCsv } from '../../src/core/data/csv-export';
import { toOnnx } from '../../src/core/model/export';
import { decodeOnnx } from '../../src/core/model/onnx-graph';
import { onnxScoringTrees, OnnxTreeScorer } from '../../src/core/model/onnx-tree-scoring';
import { compileEnsemble, marginsOf } from '../../src/core/model/tree';
import { syntheticEnsemble } from '../../bench/synthetic';
import { fixture } from '../support/fixtures';

ort.env.wasm.numThreads = 1;

/** `rows` × `width` cells: whole and half numbers, values on float32 boundaries, 8% missing. */
function cells(rows: number, width: number, seed: number): Float64Array[] {
  const random = new Random(seed, 'onnx-tree-kernel');
  return Array.from({ length: width }, () =>
    Float64Array.from({ length: rows }, () => {
      const u = random.next();
      if (u < 0.08) return Number.NaN;
      if (u < 0.4) return Math.round(random.normal() * 8) / 2;
      if (u < 0.5) return Math.fround(random.normal());
      return random.normal() * 3;
    }),
  );
}

/** onnxruntime's probability output for the rows, row-major (rows × 2), as float32 values. */
async function ortOutput(bytes: Uint8Array, columns: Float64Array[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  const n = columns[0].length;
  const width = columns.length;
  const x = new Float32Array(n * width);
  for (let i = 0; i < n; i++) for (let j = 0; j < width; j++) x[i * width + j] = columns[j][i];
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, [n, width]) });
  await session.release();
  return out[session.outputNames[1]].data as Float32Array;
}

const attribute = (node: { attribute: AttributeProto[] }, name: string) => node.attribute.find((a) => a.name === name);

/** The file with its tree node's attributes changed by `edit` (split modes, class weights, base values, post_transform). */
function edited(bytes: Uint8Array, edit: (node: { attribute: AttributeProto[] }) => void): Uint8Array {
  const model = fromBinary(ModelProtoSchema, bytes);
  edit(model.graph!.node.find((n) => n.opType === 'TreeEnsembleClassifier')!);
  return toBinary(ModelProtoSchema, model);
}

function set(node: { attribute: AttributeProto[] }, name: string, value: { type: AttributeProto_AttributeType; ints?: bigint[]; floats?: number[]; strings?: Uint8Array<ArrayBuffer>[]; s?: Uint8Array<ArrayBuffer> }): void {
  node.attribute = node.attribute.filter((a) => a.name !== name);
  node.attribute.push(create(AttributeProtoSchema, { name, ...value }));
}

/** A 40-tree model of depth 5 with its splits' modes drawn from LT, LEQ, GT, GTE and `shape`'s weights, base values and transform. */
function variant(seed: number, shape: { both: boolean; base: number[]; transform: 'NONE' | 'LOGISTIC' }): Uint8Array {
  const ensemble = syntheticEnsemble(40, 5, 6, seed);
  const random = new Random(seed, 'modes');
  return edited(toOnnx(ensemble), (node) => {
    const modes = attribute(node, 'nodes_modes')!.strings.map((m) => (new TextDecoder().decode(m) === 'LEAF' ? 'LEAF' : ['BRANCH_LT', 'BRANCH_LEQ', 'BRANCH_GT', 'BRANCH_GTE'][random.int(4)]));
    set(node, 'nodes_modes', { type: AttributeProto_AttributeType.STRINGS, strings: modes.map((m) => new TextEncoder().encode(m)) });
    if (shape.both) {
      // Each leaf weighs class 1 by its value and class 0 by a share of it (a forest's two columns).
      const ids = attribute(node, 'class_ids')!.ints;
      const weights = attribute(node, 'class_weights')!.floats;
      set(node, 'class_treeids', { type: AttributeProto_AttributeType.INTS, ints: [...attribute(node, 'class_treeids')!.ints, ...attribute(node, 'class_treeids')!.ints] });
      set(node, 'class_nodeids', { type: AttributeProto_AttributeType.INTS, ints: [...attribute(node, 'class_nodeids')!.ints, ...attribute(node, 'class_nodeids')!.ints] });
      set(node, 'class_ids', { type: AttributeProto_AttributeType.INTS, ints: [...ids.map(() => 0n), ...ids.map(() => 1n)] });
      set(node, 'class_weights', { type: AttributeProto_AttributeType.FLOATS, floats: [...weights.map((w) => Math.fround(0.025 - w / 4)), ...weights.map((w) => Math.fround(0.025 + w / 4))] });
    }
    set(node, 'base_values', { type: AttributeProto_AttributeType.FLOATS, floats: shape.base });
    set(node, 'post_transform', { type: AttributeProto_AttributeType.STRING, s: new TextEncoder().encode(shape.transform) });
  });
}

/** The kernel's value of output column `column` for every row (wasm: the WebAssembly kernel, else the JavaScript walk). */
function kernelOutput(bytes: Uint8Array, columns: Float64Array[], column: number, wasm: boolean): Float64Array | null {
  const trees = onnxScoringTrees(decodeOnnx(bytes, 'model.onnx'), 'model.onnx', columns.length, column);
  if (!trees) return null;
  const margins = new Float64Array(columns[0].length);
  marginsOf(trees.ensemble, compileEnsemble(trees.ensemble, { wasm }), columns, allRows(margins.length), margins);
  return margins.map(trees.output);
}

function mismatches(kernel: Float64Array, output: Float32Array, column: number): number {
  let count = 0;
  for (let i = 0; i < kernel.length; i++) if (!Object.is(kernel[i], output[2 * i + column])) count++;
  return count;
}

describe('ONNX tree classifiers through the kernel, against onnxruntime', () => {
  it('a random forest (sklearn through skl2onnx: BRANCH_LEQ, both classes, NONE): both columns to the bit, in WebAssembly and in JavaScript', async () => {
    const bytes = new Uint8Array(readFileSync(fixture('compas/rf.onnx')));
    const width = Number((decodeOnnx(bytes, 'rf.onnx').graph!.input[0].type!.value.value as { shape: { dim: { value: { value: bigint } }[] } }).shape.dim[1].value.value);
    const columns = cells(20_000, width, 1);
    const output = await ortOutput(bytes, columns);
    for (const column of [0, 1]) {
      for (const wasm of [true, false]) {
        const kernel = kernelOutput(bytes, columns, column, wasm)!;
        expect(kernel).not.toBeNull();
        expect(mismatches(kernel, output, column)).toBe(0);
      }
    }
  });

  const shapes = [
    { both: false, base: [0.37], transform: 'LOGISTIC' as const },
    { both: false, base: [], transform: 'LOGISTIC' as const },
    { both: true, base: [], transform: 'NONE' as const },
    { both: true, base: [], transform: 'LOGISTIC' as const },
  ];
  for (const [s, shape] of shapes.entries()) {
    it(`random trees, splits LT/LEQ/GT/GTE, ${shape.both ? 'both classes weighted' : 'class 0 weighted'}, base ${JSON.stringify(shape.base)}, ${shape.transform}: every column the kernel claims, to the bit`, async () => {
      const bytes = variant(11 + s, shape);
      const columns = cells(20_000, 6, 20 + s);
      const output = await ortOutput(bytes, columns);
      let claimed = 0;
      for (const column of [0, 1]) {
        const kernel = kernelOutput(bytes, columns, column, true);
        if (!kernel) continue;
        claimed++;
        expect(mismatches(kernel, output, column)).toBe(0);
      }
      // Both columns of a two-class forest; the margin's column of a boosted model.
      expect(claimed).toBe(shape.both ? 2 : 1);
    });
  }

  it("a classifier's scores equal onnxruntime's alone, for large and small calls, whether or not its kernel takes over", async () => {
    const rows = 12_000;
    const columns = cells(rows, 6, 5);
    const table: Table = { source: 'rows.csv', rowCount: rows, columns: columns.map((values, j): NumericColumn => ({ kind: 'numeric', name: `x${j}`, values, missing: values.filter(Number.isNaN).length })) };
    const features = columns.map((_, j) => `x${j}`);
    // The last shape is one whose column 1 onnxruntime computes from both bases (its binary rules): the check decides.
    for (const shape of [...shapes, { both: true, base: [0.2, -0.3], transform: 'LOGISTIC' as const }]) {
      const bytes = variant(31, shape);
      const output = await ortOutput(bytes, columns);
      const used = { rows: 0 };
      const score = OnnxTreeScorer.prototype.score;
      OnnxTreeScorer.prototype.score = function (...args) {
        used.rows += args[1].length;
        return score.apply(this, args);
      };
      try {
        const classifier = await openModel(ort, bytes, 'model.onnx');
        const all = await classifier.score(table, { features });
        const some = await classifier.score(table, { features, rows: Uint32Array.of(5, 17, 4000, 11_999) });
        for (let i = 0; i < rows; i++) if (!Object.is(all[i], output[2 * i + 1])) throw new Error(`row ${i}: ${all[i]} against onnxruntime's ${output[2 * i + 1]}`);
        expect([...some]).toEqual([5, 17, 4000, 11_999].map((i) => output[2 * i + 1]));
        await classifier.release();
        // Every shape but the last is scored by the kernel past the first batch; the last is
        // not reproduced by it (onnxruntime adds class 0's sum to class 1's base), so the
        // check on the first batch failed and onnxruntime scored everything.
        if (shape.base.length < 2) expect(used.rows).toBeGreaterThan(rows);
        else expect(used.rows).toBe(8192);
      } finally {
        OnnxTreeScorer.prototype.score = score;
      }
    }
  });
});

describe('tree shapes the explainer does not read', () => {
  it('scores a binary SOFTMAX ensemble and BRANCH_EQ splits through onnxruntime (they were refused as a whole, blaming the explainer)', async () => {
    const rows = 600;
    const columns = cells(rows, 6, 9);
    const table: Table = { source: 'rows.csv', rowCount: rows, columns: columns.map((values, j): NumericColumn => ({ kind: 'numeric', name: `x${j}`, values, missing: values.filter(Number.isNaN).length })) };
    const features = columns.map((_, j) => `x${j}`);
    const softmax = edited(variant(7, { both: true, base: [0, 0], transform: 'NONE' }), (node) => set(node, 'post_transform', { type: AttributeProto_AttributeType.STRING, s: new TextEncoder().encode('SOFTMAX') }));
    const equal = edited(variant(8, { both: true, base: [0, 0], transform: 'NONE' }), (node) => {
      const modes = attribute(node, 'nodes_modes')!.strings.map((m, k) => (new TextDecoder().decode(m) !== 'LEAF' && k % 3 === 0 ? 'BRANCH_EQ' : new TextDecoder().decode(m)));
      set(node, 'nodes_modes', { type: AttributeProto_AttributeType.STRINGS, strings: modes.map((m) => new TextEncoder().encode(m)) });
    });
    for (const bytes of [softmax, equal]) {
      const output = await ortOutput(bytes, columns);
      const classifier = await openModel(ort, bytes, 'model.onnx');
      expect(classifier.ensemble).toBeNull();
      const scores = await classifier.score(table, { features });
      for (let i = 0; i < rows; i++) expect(scores[i]).toBe(output[2 * i + 1]);
      await classifier.release();
    }
  });
});

describe('a single [N, F] input of doubles (skl2onnx DoubleTensorType)', () => {
  it('is fed float64 values, as onnxruntime takes them (a float32 tensor was refused with onnxruntime\'s own error)', async () => {
    const rows = 500;
    const columns = cells(rows, 6, 12);
    const table: Table = { source: 'rows.csv', rowCount: rows, columns: columns.map((values, j): NumericColumn => ({ kind: 'numeric', name: `x${j}`, values, missing: values.filter(Number.isNaN).length })) };
    const model = fromBinary(ModelProtoSchema, variant(12, { both: false, base: [0], transform: 'LOGISTIC' }));
    const input = model.graph!.input[0].type!.value.value as { elemType: number };
    input.elemType = 11; // DOUBLE
    const bytes = toBinary(ModelProtoSchema, model);
    const session = await ort.InferenceSession.create(bytes);
    const x = new Float64Array(rows * 6);
    for (let i = 0; i < rows; i++) for (let j = 0; j < 6; j++) x[i * 6 + j] = columns[j][i];
    const output = (await session.run({ [session.inputNames[0]]: new ort.Tensor('float64', x, [rows, 6]) }))[session.outputNames[1]].data as Float32Array;
    await session.release();
    const classifier = await openModel(ort, bytes, 'model.onnx');
    const scores = await classifier.score(table, { features: columns.map((_, j) => `x${j}`) });
    for (let i = 0; i < rows; i++) expect(scores[i]).toBe(output[2 * i + 1]);
    // No exact TreeSHAP from the file: the explainer walks the trees in float32, onnxruntime compares these doubles.
    expect(classifier.ensemble).toBeNull();
    await classifier.release();
  });
});

describe('the kernel checked beside the audit (checkLater)', () => {
  const rows = 12_000;
  const columns = cells(rows, 6, 7);
  const features = columns.map((_, j) => `x${j}`);
  const table: Table = { source: 'rows.csv', rowCount: rows, columns: columns.map((values, j): NumericColumn => ({ kind: 'numeric', name: `x${j}`, values, missing: values.filter(Number.isNaN).length })) };
  // The first shape the kernel reproduces; the second it does not (onnxruntime adds class 0's sum to class 1's base).
  const agreeing = { both: true, base: [], transform: 'LOGISTIC' as const };
  const differing = { both: true, base: [0.2, -0.3], transform: 'LOGISTIC' as const };
  /** The first `n` rows of the cells as a CSV file, with a group and a label column (blanks for the missing cells). */
  const rowsCsv = (n: number, group: (i: number) => string, label: (i: number) => number) =>
    new TextEncoder().encode(toCsv([...features, 'group', 'y'], Array.from({ length: n }, (_, i) => [...columns.map((c) => (Number.isNaN(c[i]) ? null : c[i])), group(i), label(i)])));

  it("scores at once, and settled() says whether the scores stand; once it says no, the classifier gives onnxruntime's", async () => {
    for (const shape of [agreeing, differing]) {
      const bytes = variant(31, shape);
      const output = await ortOutput(bytes, columns);
      const onnx = Float64Array.from({ length: rows }, (_, i) => output[2 * i + 1]);
      const classifier = await openModel(ort, bytes, 'model.onnx', { checkLater: true });
      const first = await classifier.score(table, { features });
      const small = await classifier.score(table, { features, rows: Uint32Array.of(3, 9000) });
      const stands = await classifier.settled!();
      const differs = first.some((v, i) => !Object.is(v, onnx[i]));
      expect(stands).toBe(shape === agreeing);
      // Scores given before the check came back are the kernel's: for the second shape, not onnxruntime's.
      expect(differs).toBe(shape === differing);
      expect([...small]).toEqual([first[3], first[9000]]);
      const again = await classifier.score(table, { features });
      for (let i = 0; i < rows; i++) if (!Object.is(again[i], onnx[i])) throw new Error(`row ${i}: ${again[i]} against onnxruntime's ${onnx[i]}`);
      expect(await classifier.settled!()).toBe(true);
      await classifier.release();
    }
  });

  it('refuses, after the audit, a tree model onnxruntime cannot open, in the words of a refusal at open', async () => {
    const model = fromBinary(ModelProtoSchema, variant(31, agreeing));
    for (const opset of model.opsetImport) if (opset.domain === 'ai.onnx.ml') opset.version = 99n;
    const bytes = toBinary(ModelProtoSchema, model);
    const refusal = await openModel(ort, bytes, 'model.onnx').then(
      () => null,
      (error: Error) => error,
    );
    expect(refusal?.name).toBe('ModelLoadError');
    expect(refusal?.message).toMatch(/^model\.onnx: the model is stamped with opset 99 of ai\.onnx\.ml; this onnxruntime-web reads opsets up to \d+\./);
    const classifier = await openModel(ort, bytes, 'model.onnx', { checkLater: true });
    expect((await classifier.score(table, { features })).length).toBe(rows);
    await expect(classifier.settled!()).rejects.toThrow(refusal!);
    const data = rowsCsv(1500, (i) => (i % 2 ? 'a' : 'b'), (i) => (i % 3 === 0 ? 1 : 0));
    await expect(runAudit(ort, { model: { fileName: 'model.onnx', bytes }, data: { fileName: 'rows.csv', bytes: data }, target: 'y', protectedAttributes: ['group'], features, bootstrapResamples: 0 })).rejects.toThrow(refusal!);
  });

  it("gives an audit onnxruntime's scores: the audit runs again when the kernel's check fails after the fact", async () => {
    const random = new Random(3, 'labels');
    const data = rowsCsv(3000, () => (random.next() < 0.5 ? 'a' : 'b'), () => (random.next() < 0.4 ? 1 : 0));
    const parsed = readTable(data, 'rows.csv');
    const parsedColumns = features.map((name) => (parsed.columns.find((c) => c.name === name) as NumericColumn).values);
    for (const shape of [agreeing, differing]) {
      const bytes = variant(31, shape);
      const output = await ortOutput(bytes, parsedColumns);
      // The score stage as the hosts show it: entered once per scoring of the table.
      let stage = '';
      let scorings = 0;
      const result = await runAudit(ort, { model: { fileName: 'model.onnx', bytes }, data: { fileName: 'rows.csv', bytes: data }, target: 'y', protectedAttributes: ['group'], features, bootstrapResamples: 20, includePredictions: true }, {
        onProgress: (p) => {
          if (p.stage === 'score' && stage !== 'score') scorings++;
          stage = p.stage;
        },
      });
      expect(result.predictions_p1!.map((p, i) => (Object.is(p, output[2 * i + 1]) ? null : i)).filter((i) => i !== null)).toEqual([]);
      // Scored once when the check agreed; twice (the audit run again) when it did not.
      expect(scorings).toBe(shape === agreeing ? 1 : 2);
    }
  });
});
