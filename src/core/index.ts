/** The pure core of Plumbline: no DOM, no Node. Hosts (worker, CLI, tests) import from here. */
export * from './audit';
export { runAnyAudit, type AnyAuditResult } from './audit/run';
export { isTaskResult, type TaskAuditResult, type MulticlassAuditResult, type RegressionAuditResult, type AuditTask, type TaskSettings } from './task/result';
export * from './base/errors';
export { parseCsv, CsvReader, detectDelimiter, DEFAULT_MISSING_VALUES } from './data/csv';
export { readTable, loadTableBytes, loadTableStream, TableLoader, nobleSha256, type IncrementalHash, type LoadedTable, type LoadProgress, type LoadOptions } from './data/read';
export { useParquetDecoder, looksLikeParquet, type ParquetDecoder } from './data/parquet';
export { tableFromArrow, tableToArrow, looksLikeArrow } from './data/arrow';
export type { Table, Column, NumericColumn, CategoricalColumn } from './data/table';
export { decodeOnnx, inspectOnnx, type OnnxModelInfo } from './model/onnx-graph';
export { openOnnxClassifier, planInputs, scoreOnnx, type OrtRuntime } from './model/onnx-scorer';
export { openModel, inspectModel, isModelFile, modelFormatOf, MODEL_FORMATS, type Classifier, type ModelSummary, type ModelFormatId } from './model/classifier';
export { readXgboostJson, readLightgbmText, type TreeEnsemble } from './model/tree';
export { sha256Hex } from './base/hash';
export { TOOL_VERSION } from './base/version';
export { parseAuditConfig, thresholdPolicyOf, PROFILES, AUDIT_CONFIG_SPEC, type AuditConfig } from './config/audit-config';
export { parsePolicy, evaluatePolicy, POLICY_SPEC, COMPARISONS, type Policy, type PolicyDecision, type GateResult, type RunFacts } from './config/policy';
export { planAudit, type AuditPlan } from './config/plan';
export { parseYaml } from './config/yaml';
export { toJsonSchema, validate, type Spec } from './config/schema';
export { buildManifest, canonicalJson, resultDigest, type Manifest, type RuntimeInfo } from './outputs/manifest';
export { METRIC_CATALOG, catalogMetric, metricValue } from './metrics/catalog';
export { explainModel, type ExplainRequest, type ExplainResult, type ExplainMethod } from './analyses/explain/explain';
export { interventionalTreeShap, pathDependentTreeShap, type ShapValues } from './analyses/explain/treeshap';

// What the hosts (app, worker, CLI, API) use besides the above: they import the core only from here.
export { type DriftReport, type StoredDistribution } from './analyses/drift/drift';
export { reasonCodesCsv } from './analyses/explain/outputs';
export { type RowExplanation, type RowQuery } from './analyses/explain/row';
export { runTreeShapJob, runTreeShapSlice, type TreeShapJob, type TreeShapRunner, treeShapSlices } from './analyses/explain/treeshap/jobs';
export { sumShap } from './analyses/explain/treeshap/values';
export { type DataProfile, profileTable } from './analyses/profile/profile';
export { type RecourseReport } from './analyses/recourse/search/report';
export { auditMemoryPlan, browserMemory, checkAuditMemory, type StagePlan } from './audit/memory-plan';
export { formatInterval, formatNumber } from './base/format';
export { describeContent, FILE_LIMITS, formatSize } from './base/limits-inputs';
export { DEFAULT_STAGE_MEMORY_MB } from './base/limits';
export { allRows } from './base/rows';
export { type BaselineComparison, type BaselineResult, compareWithBaseline } from './comparison/baseline';
export { type ComparableResult, compareResults, flatMetrics } from './comparison/compare';
export { auditSettingsOf, type ConfigSettings } from './config/plan';
export { dateOf } from './config/policy-terms';
export { registrySubmission, type RegistrySubmission } from './config/registry-block';
export { checkDataTable, DATA_CHECK_DEFAULTS, type DataCheckFlags, type DataCheckOptions, type DataCheckReport } from './data-check/check';
export { DATA_CHECK_METRICS, evaluateDataPolicy, parseDataPolicy } from './data-check/gates';
export { type DataFinding } from './data/finding';
export { requireColumn, takeRows } from './data/table';
export { type CalibrationSummary } from './metrics/calibration';
export { metricDefinition, metricLabel, type MetricSource } from './metrics/catalog';
export { ESTIMATED_METRICS } from './metrics/cbpe';
export { type SweepRates, type ThresholdPolicy, thresholdText } from './metrics/curves';
export { DISPARITIES } from './metrics/fairness';
export { confidenceLabel, type Interval } from './metrics/intervals';
export { binaryTarget } from './metrics/labels';
export { type OnnxScoreRunner, type OpenOptions, type TreeMarginRunner } from './model/classifier-types';
export { modelKind } from './model/kind';
export { SCORING_BATCH_ROWS } from './model/onnx-scorer';
export { inspectRegressor, openRegressor } from './model/regressor';
export { signatureLines } from './model/signature-text';
export { looksLikeOnnx } from './model/sniff';
export { kernelMargins, treeKernel, type TreeKernelModel } from './model/tree/kernel';
export { looksLikeLightgbmText } from './model/tree/lightgbm-text';
export { compileEnsemble, marginsOf } from './model/tree/margins';
export { looksLikeXgboostJson } from './model/tree/xgboost-json';
export { auditedModelId, reportsOf, type AuditOutputs, type OutputContext } from './outputs/context';
export { type ChartSpec, dependenceChart, importanceChart, prChart, reliabilityChart, rocChart, selectionRateChart, shapStripChart } from './outputs/charts';
export { dataCheckBlocks, dataCheckHtml, dataCheckText } from './outputs/data-check-report';
export { comparisonRows, comparisonSummary, gateCondition, gateValue, termsLine } from './outputs/decision-blocks';
export { type PackCheck, verifyEvidencePack } from './outputs/evidence';
export { readResultFile } from './outputs/read-result';
export { chartSvg } from './outputs/svg';
export { decileCalibrationChart, predictedActualChart, residualChart, taskImportanceChart, topLabelReliabilityChart } from './outputs/task-charts';
export { ESTIMATED_LABELS } from './outputs/unlabelled-blocks';
export { appendEntry, appendStoredEntries, changedOutside, readStoredEntries } from './registry/append';
export { checkChain, type KeptFileCheck, type ReadEntry } from './registry/chain';
export { formatCheckpoint, merkleRoot, parseCheckpoint, registryCheckpoint, type RegistryCheckpoint } from './registry/checkpoint';
export { appendedRow, type EntryColumns, HASHED, KEY_METRICS, type PreparedEntry, prepareEntry, rechainEntry, type RegistryAppend, type StoredEntry } from './registry/entry';
export { registryCsv } from './registry/export-csv';
export { portfolio, type Portfolio } from './registry/portfolio';
export { entryBlob, entryResult, listEntries, parseRegistryDate, type RegistryFilter } from './registry/query';
export { auditStatus, registryRow, type RegistryRow } from './registry/row';
export { GENESIS_HASH, openRegistry, REGISTRY_SCHEMA_VERSION, type RegistryInfo } from './registry/schema';
export { readTransaction, type Sha256, type Sha256Async, type SqlDatabase, type SqlStatement, type SqlValue } from './registry/sql';
export { guardRegistry, guardRegistryAsync, REGISTRY_BUSY_SECONDS } from './registry/sqlite-errors';
export { type Appended, type RegistryReader, type RegistryStore } from './registry/store';
export { entryProblem, refuseTamperedRegistry, refuseUntrustedEntry, type RegistryProblem, type VerifyOptions, type VerifyReport } from './registry/verify-report';
export { verifyRegistry, verifyRegistryAsync } from './registry/verify';
export { type TaskRobustness } from './task/robustness';

/**
 * The PDF writer (jsPDF and its embedded font, about 1.4 MB) and the outputs that need it,
 * loaded on first use: a bundler keeps them in chunks of their own, so the app's worker
 * loads them only when a report is made.
 */
export const loadPdfWriter = () => import('./outputs/pdf');
export const loadOutputsBundle = () => import('./outputs/bundle');
export const loadRegistrySummary = () => import('./registry/summary');
export { explainRow, searchRows } from './analyses/explain/row';
