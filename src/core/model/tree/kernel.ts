/**
 * The WebAssembly tree kernel (tree-kernel-f32.wat, -f32s.wat, -f64.wat): the model image it
 * scores, the compiled modules and this thread's instance per kind (its cache), and margins
 * of rows through it.
 */
import { TREE_KERNEL_F32, TREE_KERNEL_F32S, TREE_KERNEL_F64, TREE_KERNEL_LANES } from '../tree-kernel-wasm';
import { blockRowsFor, fillBlock } from './blocks';
import type { FullTrees } from './full-layout';

type KernelWalk = (trees: number, table: number, block: number, rows: number, rowBytes: number, out: number) => void;

/**
 * Full trees as the WebAssembly kernel's memory holds them (table, nodes and leaves: the
 * layout in tree-kernel-f32.wat / -f64.wat), with the base margin: all a thread needs to
 * score with the kernel, in one buffer. The worker pool sends this instead of the ensemble,
 * so a worker neither deserialises hundreds of trees nor compiles them.
 */
export interface TreeKernelModel {
  trees: number;
  baseMargin: number;
  /** 32: XGBoost's rule on float32 features; 64: LightGBM's on float64 ones. */
  precision: 32 | 64;
  /**
   * Sums in float32 (precision 32 only): the trees' leaves added from 0, each sum rounded to
   * float32, then the base margin added in float32 — onnxruntime's TreeEnsemble arithmetic.
   * Otherwise float64 sums from the base margin.
   */
  float32Sums: boolean;
  image: Uint8Array;
}

/**
 * tree-kernel-f32.wat or -f64.wat over a {@link TreeKernelModel}, with room for one block of
 * rows. The same leaves are reached and added in the same order as by {@link goesLeft} node
 * by node, so the margins are equal to the bit; it is fast because WebAssembly loads need no
 * bounds check, XGBoost's float32 features are compared as float32, and eight rows are
 * walked side by side (their loads overlap: 686 → 384 ms per 100,000 rows, bench/NOTES.md).
 */
export interface TreeKernel {
  model: TreeKernelModel;
  width: number;
  /** Byte offsets in the kernel's memory: the block of features, then the margins. */
  block: number;
  out: number;
  /** Rows per block ({@link blockRowsFor} the width). */
  blockRows: number;
  /** Bytes of memory the model and one block take. */
  bytes: number;
}

/**
 * The kernel of one precision in this thread: one instance over one memory, grown as needed,
 * holding the model it last scored. Every model of that precision is scored in it; switching
 * models copies the new one's image in (~300 KB for 300 trees of depth 6, tens of
 * microseconds). A memory per model instead left one per opened model, in every pool worker,
 * to the garbage collector, each with the address space V8 reserves for a WebAssembly memory.
 * The memory keeps its largest size for the thread's life.
 */
interface KernelSlot {
  memory: WebAssembly.Memory;
  addComplete: KernelWalk;
  addCompleteWide: KernelWalk;
  addMissing: KernelWalk;
  addMissingWide: KernelWalk;
  /** The model whose image the memory holds. */
  loaded: TreeKernelModel | null;
  /** The memory's buffer as last seen (growing the memory detaches it). */
  buffer: ArrayBuffer | null;
  view32: Float32Array;
  view64: Float64Array;
}

/** The three kernels: float32 features (XGBoost's rule), the same with float32 sums (ONNX), float64 features (LightGBM's rule). */
type KernelKind = 'f32' | 'f32s' | 'f64';
const kindOf = (model: { precision: 32 | 64; float32Sums?: boolean }): KernelKind => (model.precision === 64 ? 'f64' : model.float32Sums ? 'f32s' : 'f32');

const kernelSlots = new Map<KernelKind, KernelSlot>();

/** This thread's kernel of the model's kind, its memory at least `bytes` long and holding `model`. */
function kernelSlot(model: TreeKernelModel, bytes: number): KernelSlot {
  const kind = kindOf(model);
  let slot = kernelSlots.get(kind);
  if (!slot) {
    const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) });
    const { exports } = new WebAssembly.Instance(treeKernelModule(kind)!, { env: { memory } });
    slot = {
      memory,
      addComplete: exports.addComplete as KernelWalk,
      addCompleteWide: exports[`addComplete${TREE_KERNEL_LANES}`] as KernelWalk,
      addMissing: exports.addMissing as KernelWalk,
      addMissingWide: exports[`addMissing${TREE_KERNEL_LANES}`] as KernelWalk,
      loaded: null,
      buffer: null,
      view32: new Float32Array(0),
      view64: new Float64Array(0),
    };
    kernelSlots.set(kind, slot);
  }
  const have = slot.memory.buffer.byteLength;
  if (have < bytes) slot.memory.grow(Math.ceil((bytes - have) / 65536));
  if (slot.buffer !== slot.memory.buffer) {
    slot.buffer = slot.memory.buffer;
    slot.view32 = new Float32Array(slot.buffer);
    slot.view64 = new Float64Array(slot.buffer);
  }
  if (slot.loaded !== model) {
    new Uint8Array(slot.buffer).set(model.image);
    slot.loaded = model;
  }
  return slot;
}

const kernelModules = new Map<KernelKind, WebAssembly.Module | null>();

/** The compiled kernel of a kind, or null where the host has no WebAssembly (the JavaScript walk is then used). */
function treeKernelModule(kind: KernelKind): WebAssembly.Module | null {
  if (!kernelModules.has(kind)) {
    try {
      kernelModules.set(kind, new WebAssembly.Module(kind === 'f32' ? TREE_KERNEL_F32 : kind === 'f32s' ? TREE_KERNEL_F32S : TREE_KERNEL_F64));
    } catch {
      kernelModules.set(kind, null);
    }
  }
  return kernelModules.get(kind)!;
}

const scratch32 = new Float32Array(1);
const scratchBits = new Uint32Array(scratch32.buffer);

/**
 * The smallest float32 ≥ t. For a float32 x, `x >= t` exactly when `x >= float32AtLeast(t)`,
 * so the kernel compares in float32 with any threshold (XGBoost's are float32 already: itself).
 */
export function float32AtLeast(t: number): number {
  const rounded = Math.fround(t);
  if (!(rounded < t)) return rounded;
  if (rounded === 0) return 2 ** -149;
  scratch32[0] = rounded;
  scratchBits[0] += rounded > 0 ? 1 : -1;
  return scratch32[0];
}

/**
 * The smallest float32 > t (NaN where none is: t = +∞ or NaN). For a float32 x, `x <= t`
 * (ONNX's BRANCH_LEQ, compared in float32) is `x < float32Above(t)`: the kernel's rule.
 */
export function float32Above(t: number): number {
  if (Number.isNaN(t) || t === Number.POSITIVE_INFINITY) return Number.NaN;
  const rounded = Math.fround(t);
  if (rounded > t) return rounded;
  if (rounded === 0) return 2 ** -149;
  scratch32[0] = rounded;
  scratchBits[0] += rounded > 0 ? 1 : -1;
  return scratch32[0];
}

const scratch64 = new Float64Array(1);
const scratch64Bits = new BigUint64Array(scratch64.buffer);

/**
 * The smallest float64 > t, so that `x > t` (LightGBM's rule for going right) is `x >= it`
 * for every x that is not NaN; NaN for t = +∞ or NaN, since no x is greater.
 */
export function float64Above(t: number): number {
  if (Number.isNaN(t) || t === Number.POSITIVE_INFINITY) return Number.NaN;
  if (t === 0) return Number.MIN_VALUE;
  scratch64[0] = t;
  scratch64Bits[0] += t > 0 ? 1n : -1n;
  return scratch64[0];
}

/** Largest kernel memory (addresses are i32). */
const KERNEL_MAX_BYTES = 2 ** 31 - 65536;

/** The kernel image of full trees (see {@link TreeKernelModel}), or null where there is no WebAssembly here or it would not fit a memory. */
export function kernelModelOf(full: FullTrees, baseMargin: number, precision: 32 | 64, float32Sums = false): TreeKernelModel | null {
  const trees = full.depth.length;
  const cell = precision / 8;
  // A node: the feature's byte offset (i32), then the threshold at half the node's size.
  const nodeBytes = 2 * cell;
  const nodes = trees * 16;
  const leaves = nodes + full.feature.length * nodeBytes;
  const size = leaves + full.leaf.length * 8;
  if (!treeKernelModule(kindOf({ precision, float32Sums })) || size > KERNEL_MAX_BYTES / 2) return null;
  const image = new Uint8Array(size);
  const ints = new Int32Array(image.buffer);
  const floats = new Float32Array(image.buffer);
  const doubles = new Float64Array(image.buffer);
  for (let t = 0; t < trees; t++) {
    const depth = full.depth[t];
    ints[t * 4] = depth;
    ints[t * 4 + 1] = nodes + full.nodeStart[t] * nodeBytes;
    ints[t * 4 + 2] = leaves + (full.leafStart[t] - ((1 << depth) - 1)) * 8;
  }
  for (let i = 0; i < full.feature.length; i++) {
    const at = nodes + i * nodeBytes;
    ints[at / 4] = (full.feature[i] * cell) | (full.missingRight[i] << 31);
    // XGBoost's float32(x) < t goes left; LightGBM's x <= t does: the kernel goes right on x >= threshold.
    if (precision === 32) floats[(at + cell) / 4] = float32AtLeast(full.threshold[i]);
    else doubles[(at + cell) / 8] = float64Above(full.threshold[i]);
  }
  doubles.set(full.leaf, leaves / 8);
  return { trees, baseMargin, precision, float32Sums: precision === 32 && float32Sums, image };
}

/** The kernel over `model` with room for a block of `width` features; null where that would not fit a WebAssembly memory. */
export function treeKernel(model: TreeKernelModel, width: number): TreeKernel | null {
  const cell = model.precision / 8;
  const block = model.image.length;
  const blockRows = blockRowsFor(width, cell);
  const out = block + Math.ceil((blockRows * width * cell) / 8) * 8;
  const bytes = out + blockRows * 8;
  if (!treeKernelModule(kindOf(model)) || bytes > KERNEL_MAX_BYTES) return null;
  return { model, width, block, out, blockRows, bytes };
}

/** Margins of `rows` by the WebAssembly kernel: {@link marginsOf} on another thread, from a {@link TreeKernelModel}. */
export function kernelMargins(kernel: TreeKernel, columns: Float64Array[], rows: Uint32Array, out: Float64Array): void {
  const { model, width, block, blockRows } = kernel;
  const { baseMargin } = model;
  const slot = kernelSlot(model, kernel.bytes);
  const features = model.precision === 32 ? slot.view32.subarray(block / 4, block / 4 + blockRows * width) : slot.view64.subarray(block / 8, block / 8 + blockRows * width);
  const sums = slot.view64.subarray(kernel.out / 8, kernel.out / 8 + blockRows);
  const rowBytes = width * features.BYTES_PER_ELEMENT;
  for (let start = 0; start < rows.length; start += blockRows) {
    const end = Math.min(rows.length, start + blockRows);
    const missing = fillBlock(features, columns, rows, start, end);
    const count = end - start;
    sums.fill(model.float32Sums ? 0 : baseMargin, 0, count);
    // Rows in groups walked side by side, then the few left one at a time.
    const wide = count - (count % TREE_KERNEL_LANES);
    (missing ? slot.addMissingWide : slot.addCompleteWide)(model.trees, 0, block, wide, rowBytes, kernel.out);
    if (wide < count) (missing ? slot.addMissing : slot.addComplete)(model.trees, 0, block + wide * rowBytes, count - wide, rowBytes, kernel.out + wide * 8);
    if (model.float32Sums) {
      const base = Math.fround(baseMargin);
      for (let i = 0; i < count; i++) out[start + i] = Math.fround(sums[i] + base);
    } else out.set(sums.subarray(0, count), start);
  }
}
