/**
 * Structural checks every tree reader runs on what it read, so a damaged or edited file is
 * refused by name instead of scoring rows wrong (or looping forever).
 */
import { ModelLoadError } from '../../base/errors';
import { checkFeatureList } from '../classes';
import type { Tree } from './ensemble';

/** Checks that every split reads a feature the model declares. */
export function checkFeatures(tree: Tree, width: number, fileName: string, index: number): void {
  for (let i = 0; i < tree.left.length; i++) {
    if (tree.left[i] >= 0 && tree.feature[i] >= width) throw new ModelLoadError(`${fileName}: tree ${index} node ${i} splits on feature ${tree.feature[i]}, but the model declares ${width} features. The file is damaged; export the model again.`);
  }
}

/**
 * Checks that a tree is a tree: every child index inside it, no node reached twice from
 * the root (so no cycle can make scoring loop forever), finite thresholds and leaf values.
 */
export function checkTree(tree: Tree, fileName: string, index: number): void {
  const n = tree.left.length;
  const seen = new Uint8Array(n);
  const stack = [0];
  while (stack.length) {
    const node = stack.pop()!;
    if (node < 0 || node >= n) throw new ModelLoadError(`${fileName}: tree ${index} points to node ${node}, outside the tree (${n} nodes). The file is damaged; export the model again.`);
    if (seen[node]) throw new ModelLoadError(`${fileName}: tree ${index} reaches node ${node} twice (a cycle or shared node). The file is damaged; export the model again.`);
    seen[node] = 1;
    if (tree.left[node] < 0) {
      if (!Number.isFinite(tree.value[node])) throw new ModelLoadError(`${fileName}: tree ${index} leaf ${node} has the value ${tree.value[node]}. The file is damaged; export the model again.`);
      continue;
    }
    if (Number.isNaN(tree.threshold[node]) && tree.rule[node] < 2) throw new ModelLoadError(`${fileName}: tree ${index} node ${node} splits at NaN. The file is damaged; export the model again.`);
    if (!(tree.feature[node] >= 0)) throw new ModelLoadError(`${fileName}: tree ${index} node ${node} splits on feature ${tree.feature[node]}. The file is damaged; export the model again.`);
    stack.push(tree.left[node], tree.right[node]);
  }
}

/**
 * The names of a model that names none of its own (trained on an array), from model.features:
 * `count` distinct columns in training order, else refused. `called`: the library's own
 * names, as the message shows them (empty when the file has none).
 */
export function listedFeatures(features: readonly string[], count: number, fileName: string, called = ''): string[] {
  checkFeatureList(features);
  if (features.length !== count) throw new ModelLoadError(`${fileName}: the model names no features${called} and takes ${count}; model.features lists ${features.length} (${features.join(', ')}). List its ${count} columns in training order.`);
  return [...features];
}
