/**
 * Trees padded to full binary trees, level by level: the layout the fast JavaScript walk
 * and the WebAssembly kernel both score from, and the depth limits of each.
 */
import type { TreeEnsemble } from './ensemble';
import { goesLeft, treeDepth } from './walk';

/**
 * Trees padded to full binary trees of their own depth, stored level by level: the children
 * of node i are 2i+1 and 2i+2, so a walk needs no child array and ends after `depth` steps
 * (one dependent load less per level). A leaf above the last level becomes a subtree whose
 * splits all go left (threshold +∞) and whose leaves all hold its value, so any path through
 * it ends at that value.
 */
export interface FullTrees {
  depth: Int32Array;
  /** Where each tree's nodes start in `feature`/`threshold`/`missingRight`. */
  nodeStart: Int32Array;
  /** Where each tree's last level starts in `leaf`. */
  leafStart: Int32Array;
  feature: Int32Array;
  threshold: Float64Array;
  missingRight: Uint8Array;
  leaf: Float64Array;
}

/** Deepest tree the JavaScript walk pads to a full tree (2^9 − 1 nodes); deeper ensembles keep the child array there. */
export const FULL_MAX_DEPTH = 8;
/**
 * Deepest tree, and most padded nodes in all, the WebAssembly kernel takes (2^13 − 1 nodes a
 * tree; 2^21 nodes, 32 MiB in float64, in all): a padded walk of depth d costs d steps per
 * row, still far below a walk node by node in JavaScript.
 */
export const KERNEL_MAX_DEPTH = 12;
/** Most padded nodes, all trees together, the WebAssembly kernel takes (see {@link KERNEL_MAX_DEPTH}). */
export const KERNEL_MAX_NODES = 2 ** 21;

/** The trees padded to full trees, or null when one is deeper than `maxDepth` or all would pass `maxNodes`. */
export function fullLayout(ensemble: TreeEnsemble, maxDepth: number, maxNodes = Number.POSITIVE_INFINITY): FullTrees | null {
  const depths = ensemble.trees.map((tree) => treeDepth(tree));
  if (depths.some((d) => d > maxDepth)) return null;
  const nodes = depths.reduce((sum, d) => sum + ((1 << d) - 1), 0);
  if (nodes > maxNodes) return null;
  const leaves = depths.reduce((sum, d) => sum + (1 << d), 0);
  const full: FullTrees = {
    depth: Int32Array.from(depths),
    nodeStart: new Int32Array(depths.length),
    leafStart: new Int32Array(depths.length),
    feature: new Int32Array(nodes),
    threshold: new Float64Array(nodes),
    missingRight: new Uint8Array(nodes),
    leaf: new Float64Array(leaves),
  };
  let nodeAt = 0;
  let leafAt = 0;
  ensemble.trees.forEach((tree, t) => {
    const depth = depths[t];
    full.nodeStart[t] = nodeAt;
    full.leafStart[t] = leafAt;
    const place = (node: number, position: number, level: number): void => {
      if (level === depth) {
        full.leaf[leafAt + position - ((1 << depth) - 1)] = tree.value[node];
        return;
      }
      const leaf = tree.left[node] < 0;
      full.feature[nodeAt + position] = leaf ? 0 : tree.feature[node];
      full.threshold[nodeAt + position] = leaf ? Number.POSITIVE_INFINITY : tree.threshold[node];
      // Where a missing value goes, by the node's own rule (LightGBM's "None" reads it as 0).
      full.missingRight[nodeAt + position] = leaf || goesLeft(tree, node, Number.NaN) ? 0 : 1;
      place(leaf ? node : tree.left[node], 2 * position + 1, level + 1);
      place(leaf ? node : tree.right[node], 2 * position + 2, level + 1);
    };
    place(0, 0, 0);
    nodeAt += (1 << depth) - 1;
    leafAt += 1 << depth;
  });
  return full;
}
