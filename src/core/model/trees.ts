/**
 * Tree ensembles (XGBoost JSON, LightGBM text, and ONNX trees' shared form): the public face
 * of ./tree/, which holds one job per file — the model types (ensemble), the readers
 * (xgboost-json, lightgbm-text) and their checks (validate), the node-by-node walk (walk), and
 * the fast evaluator (margins, over full-layout, blocks and the WebAssembly kernel).
 */
export { classEnsemble, emptyTree, hasLinearLeaves, MISSING, type OutputTransform, type Tree, type TreeEnsemble } from './tree/ensemble';
export { goesLeft, leafOf, leafOutput, transformMargin, treeDepth, treeMargin } from './tree/walk';
export { checkFeatures, checkTree } from './tree/validate';
export { looksLikeXgboostJson, parseJsonWithNonFinite, readXgboostJson, XGBOOST_REGRESSION_OBJECTIVES } from './tree/xgboost-json';
export { looksLikeLightgbmText, readLightgbmText } from './tree/lightgbm-text';
export { float32AtLeast, float64Above, kernelMargins, treeKernel, type TreeKernel, type TreeKernelModel } from './tree/kernel';
export { compileEnsemble, kernelModelFor, marginsOf, type CompiledEnsemble } from './tree/margins';
