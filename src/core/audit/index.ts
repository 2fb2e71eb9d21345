/**
 * The binary audit: the public face of ./audit/, which holds one job per file — what a
 * caller asks (request) and gets back (result), reading and checking the inputs (inputs),
 * the scores (scoring), the metrics from labels and scores (metrics), the threshold fitted
 * on held-out data (threshold-fit), the optional sections (sections), the findings
 * (findings) and the pipeline that runs them in order (pipeline). This file only
 * re-exports, so no importer changes.
 */
export type { AuditProgress, AuditRequest, DataInput, InputFile, LoadedInput, RunOptions } from './request';
export { SLICE_AUC_GAP, type AttributeAudit, type AuditExplanations, type AuditMetrics, type AuditResult, type AuditSettings, type RobustnessReport, type SliceResult, type SliceSummary, type ThresholdFit } from './result';
export { loadInput, validateColumns } from './inputs';
export { PROBABILITY_TOLERANCE } from './scoring';
export { NO_REFERENCE, sectionFailed } from './sections';
export { auditScores } from './metrics';
export { runAudit } from './pipeline';
