/**
 * Tree ensembles (XGBoost JSON, LightGBM text, and ONNX trees' shared form): the public face
 * of ./tree/, which holds one job per file — the model types (ensemble), the readers
 * (xgboost-json, lightgbm-text) and their checks (validate), the node-by-node walk (walk), and
 * the fast evaluator (margins, over full-layout, blocks and the WebAssembly kernel).
 */
export { classEnsemble, emptyTree, hasLinearLeaves, MISSING, withMissingValue, type OutputTransform, type Tree, type TreeEnsemble } from './ensemble';
export { goesLeft, leafOf, leafOutput, transformMargin, treeDepth, treeMargin } from './walk';
export { checkFeatures, checkTree } from './validate';
export { looksLikeXgboostJson, parseJsonWithNonFinite, readXgboostJson, XGBOOST_REGRESSION_OBJECTIVES } from './xgboost-json';
export { looksLikeLightgbmText, readLightgbmText } from './lightgbm-text';
export { ensembleColumn, pandasCategoriesOf, type PandasCategories } from './pandas-categories';
export { float32AtLeast, float64Above, kernelMargins, treeKernel, type TreeKernel, type TreeKernelModel } from './kernel';
export { compileEnsemble, kernelModelFor, marginsOf, type CompiledEnsemble } from './margins';
