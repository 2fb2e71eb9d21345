/**
 * Interventional TreeSHAP's WebAssembly kernel (interventional.wat): the leaf-table walk of
 * one tree at a time in a memory laid out here. It takes the trees whose splits are all the
 * plain XGBoost rule and whose leaves all keep tables; the others go the JavaScript way,
 * adding into the same sums in the same tree order, so the values are the JavaScript walk's
 * to the bit whichever trees it takes (tested).
 */
import { float32AtLeast, type Tree } from '../../../model/tree';
import { INTERVENTIONAL_KERNEL } from './interventional-wasm';
import { isPlain, type LeafShape } from './leaf-table';
import { BLOCK, type RowColumns, type RowValues } from './leaf-walk';

/** Most bytes the kernel's memory may take; past it the JavaScript walk is used. */
const KERNEL_MAX_BYTES = 1 << 30;

let compiled: WebAssembly.Module | null | undefined;

/** The compiled kernel, or null where the host has no WebAssembly. */
function kernelModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(INTERVENTIONAL_KERNEL);
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** A tree as the kernel reads it: positions, leaves, players, pairs and singles (interventional.wat's header), built once per shape. */
interface TreeImage {
  bytes: Uint8Array;
  /** Byte offsets in `bytes` of the positions, leaves, players, pairs, singles and right children. */
  at: [number, number, number, number, number, number];
  /** Positions, leaves, pairs, singles. */
  counts: [number, number, number, number];
}

const images = new WeakMap<LeafShape, TreeImage>();

const align8 = (n: number) => Math.ceil(n / 8) * 8;

/** Bytes of the image of a tree of shape `shape`, as {@link imageOf} lays it out. */
function imageBytes(s: LeafShape): number {
  const n = s.preNode.length;
  return align8(align8(n * 32 + s.leaves * 32 + s.players.length * 4) + s.pairs * 16 + s.single.length * 4 + n * 4);
}

/** The kernel's image of a tree of shape `shape`. */
function imageOf(tree: Tree, shape: LeafShape): TreeImage {
  let image = images.get(shape);
  if (image) return image;
  const positions = shape.preNode.length;
  const { leaves, pairs } = shape;
  const singles = shape.single.length;
  const at: TreeImage['at'] = [0, 0, 0, 0, 0, 0];
  at[1] = positions * 32;
  at[2] = at[1] + leaves * 32;
  at[3] = align8(at[2] + shape.players.length * 4);
  at[4] = at[3] + pairs * 16;
  at[5] = at[4] + singles * 4;
  const bytes = new Uint8Array(imageBytes(shape));
  const ints = new Int32Array(bytes.buffer);
  const doubles = new Float64Array(bytes.buffer);
  const floats = new Float32Array(bytes.buffer);
  for (let i = 0; i < positions; i++) {
    const node = shape.preNode[i];
    const o = i * 8;
    // The walk compares float32 x with the smallest float32 at or above the split: the same
    // answer as float32(x) < split in float64 (float32AtLeast).
    floats[o] = float32AtLeast(tree.threshold[node]);
    ints[o + 2] = tree.feature[node];
    ints[o + 3] = tree.defaultLeft[node];
    ints[o + 4] = shape.preParent[i];
    ints[o + 5] = shape.preLeft[i];
    ints[o + 6] = shape.preLeaf[i];
    ints[o + 7] = shape.preClear[i];
  }
  for (let l = 0; l < leaves; l++) {
    const o = at[1] / 4 + l * 8;
    doubles[o / 2] = shape.value[l];
    ints[o + 2] = shape.k[l];
    ints[o + 3] = shape.playerStart[l];
    ints[o + 4] = shape.tableStart[l];
    ints[o + 5] = shape.filledStart[l];
    ints[o + 6] = shape.inPair[l];
  }
  ints.set(shape.players, at[2] / 4);
  for (let p = 0; p < pairs; p++) {
    const o = at[3] / 4 + p * 4;
    ints[o] = shape.pairParent[p];
    ints[o + 1] = shape.pairLeaf[p];
    ints[o + 2] = shape.pairStart[p];
    ints[o + 3] = shape.pairFilledStart[p];
  }
  ints.set(shape.single, at[4] / 4);
  const positionOf = new Map<number, number>();
  shape.preNode.forEach((node, i) => positionOf.set(node, i));
  for (let i = 0; i < positions; i++) if (shape.preLeaf[i] < 0) ints[at[5] / 4 + i] = positionOf.get(tree.right[shape.preNode[i]])!;
  image = { bytes, at, counts: [positions, leaves, pairs, singles] };
  images.set(shape, image);
  return image;
}

/** Whether the kernel takes a tree: every split the plain rule, every leaf with a table. */
export function kernelTakes(tree: Tree, shape: LeafShape | null): shape is LeafShape {
  return shape !== null && !tree.linear && isPlain(tree) && shape.cached.every((c) => c === 1);
}

type Walk = (col: number, colBytes: number, from: number, stride: number, all: number) => void;

/**
 * This thread's kernel: one instance over one memory, grown as needed (up to
 * {@link KEPT_MAX_BYTES}) and kept for the thread's life (a memory per call left each to the
 * garbage collector with the address space V8 reserves for it; see the tree kernel's slot).
 * A call is synchronous, so calls never share it at once.
 */
interface KernelSlot {
  memory: WebAssembly.Memory;
  walk: Walk;
  count: (count: number, stride: number) => void;
  accumulate: (from: number, count: number, stride: number) => void;
  reach: (count: number, stride: number, out: number) => void;
}

let threadSlot: KernelSlot | null = null;

/** Most bytes the thread's kept memory grows to; a call that needs more gets a memory of its own, let go after it. */
const KEPT_MAX_BYTES = 64 << 20;

/** A new instance over a memory of `bytes`. */
function newSlot(module: WebAssembly.Module, bytes: number): KernelSlot {
  const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) });
  const { exports } = new WebAssembly.Instance(module, { env: { memory } });
  return { memory, walk: exports.walk as Walk, count: exports.count as KernelSlot['count'], accumulate: exports.accumulate as KernelSlot['accumulate'], reach: exports.reach as KernelSlot['reach'] };
}

/** The slot, its memory at least `bytes` long, with its buffer as it now is (throws where the memory cannot grow so far). */
function kernelSlot(module: WebAssembly.Module, bytes: number): KernelSlot & { buffer: ArrayBuffer } {
  if (bytes > KEPT_MAX_BYTES) {
    const own = newSlot(module, bytes);
    return { ...own, buffer: own.memory.buffer };
  }
  threadSlot ??= newSlot(module, bytes);
  const have = threadSlot.memory.buffer.byteLength;
  if (have < bytes) threadSlot.memory.grow(Math.ceil((bytes - have) / 65536));
  return { ...threadSlot, buffer: threadSlot.memory.buffer };
}

/** The kernel over one call's rows and background: add trees with {@link addTree}, read the sums from `sums`. */
export interface InterventionalKernel {
  /** The rows' sums, row after row, in the kernel's memory (the JavaScript walk adds its trees here too). */
  sums: RowValues;
  /**
   * The margins of the rows and of the background rows: the base margin plus, tree by tree,
   * the value of the leaf reached ({@link treeMargin}'s sum in its order; the caller adds the
   * trees the kernel does not take, in their turn).
   */
  rowMargins: Float64Array;
  backgroundMargins: Float64Array;
  addTree(tree: Tree, shape: LeafShape): void;
}

/**
 * A kernel for `rows` rows explained against `background` rows (float32 columns, as the
 * plain rule reads them), sums of `width` columns, room for the largest of `shapes` (those
 * the kernel takes), weights byB[b][a] = W(a, b). Null where there is no WebAssembly or the
 * memory would pass {@link KERNEL_MAX_BYTES}.
 */
export function interventionalKernel(rows: RowColumns, rowCount: number, background: RowColumns, backgroundRows: number, width: number, shapes: readonly LeafShape[], byB: readonly Float64Array[], baseMargin: number): InterventionalKernel | null {
  const module = kernelModule();
  if (!module || shapes.length === 0 || backgroundRows === 0) return null;
  let image = 0, positions = 0, leaves = 0, table = 0, flags = 0, pairTable = 0, pairFlags = 0, met = 0;
  for (const s of shapes) {
    const n = s.preNode.length;
    positions = Math.max(positions, n);
    leaves = Math.max(leaves, s.leaves);
    image = Math.max(image, imageBytes(s));
    table = Math.max(table, s.tableStart[s.leaves]);
    flags = Math.max(flags, s.filledStart[s.leaves]);
    pairTable = Math.max(pairTable, s.pairStart[s.pairs]);
    pairFlags = Math.max(pairFlags, s.pairFilledStart[s.pairs]);
    let m = 0;
    for (let l = 0; l < s.leaves; l++) m += Math.min(1 << s.k[l], backgroundRows) + 1;
    met = Math.max(met, m);
  }
  const features = rows.narrow.length;
  const stride = byB[0].length * 8;
  // Regions in order: header, rows' and background's columns, image, scratch, tables, weights, sums.
  // The walk reads up to three values past a column's end (its last four rows): the columns
  // are followed by more memory.
  const sizes = [128, features * rowCount * 4, features * backgroundRows * 4 + 16, image, positions * BLOCK * 4, positions * BLOCK * 4, leaves * BLOCK * 4, table * 8, flags, pairTable * 8, pairFlags, flags * 4, met * 4, leaves * 8, byB.length * stride, rowCount * width * 8, rowCount * 8, backgroundRows * 8, leaves * 8];
  const base: number[] = [];
  let end = 0;
  for (const size of sizes) {
    base.push(end);
    end += align8(size);
  }
  if (end > KERNEL_MAX_BYTES) return null;
  let slot: ReturnType<typeof kernelSlot>;
  try {
    slot = kernelSlot(module, end);
  } catch {
    // The memory could not be had (the host's limit): the JavaScript walk needs less at once.
    return null;
  }
  const { walk, count, accumulate, reach, buffer } = slot;
  const bytes = new Uint8Array(buffer);
  const ints = new Int32Array(buffer);
  const floats = new Float32Array(buffer);
  const doubles = new Float64Array(buffer);
  const [, rowCols, bgCols, imageBase, masks, turns, leafMasks, tableBase, filledBase, pairTableBase, pairFilledBase, countsBase, firstMetBase, metBase, weightsBase, sumsBase, rowMarginsBase, bgMarginsBase, scaledBase] = base;
  for (let j = 0; j < features; j++) {
    floats.set(rows.narrow[j], rowCols / 4 + j * rowCount);
    floats.set(background.narrow[j], bgCols / 4 + j * backgroundRows);
  }
  byB.forEach((w, b) => doubles.set(w, (weightsBase + b * stride) / 8));
  ints.set([masks, turns, leafMasks, tableBase, filledBase, pairTableBase, pairFilledBase, countsBase, firstMetBase, metBase, weightsBase, stride, sumsBase, width, backgroundRows], 9);
  // The memory is reused from call to call: the sums start at zero; every other region is
  // written before it is read (the flags and counts are cleared per tree).
  const sums: RowValues = { flat: doubles.subarray(sumsBase / 8, sumsBase / 8 + rowCount * width).fill(0), width, rows: rowCount };
  const rowMargins = doubles.subarray(rowMarginsBase / 8, rowMarginsBase / 8 + rowCount).fill(baseMargin);
  const backgroundMargins = doubles.subarray(bgMarginsBase / 8, bgMarginsBase / 8 + backgroundRows).fill(baseMargin);
  return {
    sums,
    rowMargins,
    backgroundMargins,
    addTree(tree, shape) {
      const img = imageOf(tree, shape);
      bytes.set(img.bytes, imageBase);
      ints.set([imageBase + img.at[0], imageBase + img.at[1], imageBase + img.at[2], imageBase + img.at[3], imageBase + img.at[4], ...img.counts], 0);
      ints[24] = imageBase + img.at[5];
      ints[25] = scaledBase;
      // v of fillContribution, divided once per leaf (the same division, so the same bits).
      for (let l = 0; l < shape.leaves; l++) doubles[scaledBase / 8 + l] = shape.value[l] / backgroundRows;
      const flagCount = shape.filledStart[shape.leaves];
      bytes.fill(0, filledBase, filledBase + flagCount);
      bytes.fill(0, pairFilledBase, pairFilledBase + shape.pairFilledStart[shape.pairs]);
      ints.fill(0, countsBase / 4, countsBase / 4 + flagCount);
      // Each leaf's first-met masks start after the room the leaves before it may need, and a
      // spare place (count writes one past the masks it keeps).
      let start = 0;
      for (let l = 0; l < shape.leaves; l++) {
        ints[metBase / 4 + 2 * l] = start;
        ints[metBase / 4 + 2 * l + 1] = 0;
        start += Math.min(1 << shape.k[l], backgroundRows) + 1;
      }
      for (let from = 0; from < backgroundRows; from += BLOCK) {
        const n = Math.min(BLOCK, backgroundRows - from);
        const stride = (n + 3) & ~3;
        walk(bgCols, backgroundRows * 4, from, stride, 1);
        reach(n, stride, bgMarginsBase + from * 8);
        count(n, stride);
      }
      for (let from = 0; from < rowCount; from += BLOCK) {
        const n = Math.min(BLOCK, rowCount - from);
        const stride = (n + 3) & ~3;
        walk(rowCols, rowCount * 4, from, stride, 0);
        reach(n, stride, rowMarginsBase + from * 8);
        accumulate(from, n, stride);
      }
    },
  };
}
