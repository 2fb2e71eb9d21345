/**
 * Counterfactual recourse a person can act on: the public face of ./search/, which holds one
 * job per file — the settings and defaults (settings), which columns may change and why
 * (column-rules), their candidate values and costs (candidates, over percentiles), scoring
 * changed rows (variants), the search itself (walk), the report (report), and the audit's
 * entry point that ties them together (run).
 */
export { RECOURSE_DEFAULTS, recourseCallRows, recourseOptions, recourseProxies, type ProxyFlag, type RecourseOptions, type RecourseSettings } from './search/settings';
export { checkRecourseInputs, columnRules, isAgeLike, type ColumnRule } from './search/column-rules';
export type { Change, Counterfactual, RecourseReport } from './search/report';
export { recourse } from './search/run';
export { recourseSlices, searchSlice, type RecourseRunner, type RecourseSearch, type RecourseSlice } from './search/jobs';
