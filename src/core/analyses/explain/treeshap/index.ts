/**
 * Exact Shapley values of tree ensembles (and linear models), in the raw-score (margin) space,
 * by the polynomial-time algorithms (never by enumerating coalitions): the public face of
 * ./treeshap/, which holds one job per file — the values and their sum (values), jobs and
 * slices (jobs), interventional TreeSHAP by the direct walk (interventional-direct) and by leaf
 * tables (interventional, over leaf-table and its walk, leaf-walk), linear SHAP (linear), and path-dependent TreeSHAP
 * (path-dependent-direct, path-dependent).
 */
export { sumShap, withLocalAccuracy, type ShapValues } from './values';
export { runTreeShapJob, runTreeShapSlice, splitEnsemble, treeShapSlices, TREES_PER_SLICE, type TreeShapJob, type TreeShapRunner } from './jobs';
export { interventionalTreeShapDirect } from './interventional-direct';
export { interventionalTreeShap } from './interventional';
export { linearShap } from './linear';
export { pathDependentTreeShapDirect } from './path-dependent-direct';
export { pathDependentTreeShap } from './path-dependent';
