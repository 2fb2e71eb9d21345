/** The pure core of Plumbline: no DOM, no Node. Hosts (worker, CLI, tests) import from here. */
export * from './audit';
export * from './errors';
export { parseCsv, detectDelimiter, DEFAULT_MISSING_VALUES } from './data/csv';
export type { Table, Column, NumericColumn, CategoricalColumn } from './data/table';
export { decodeOnnx, inspectOnnx, type OnnxModelInfo } from './model/onnx-graph';
export { openOnnxClassifier, planInputs, scoreOnnx, type OrtRuntime } from './model/onnx-scorer';
export { openModel, inspectModel, isModelFile, modelFormatOf, MODEL_FORMATS, type Classifier, type ModelSummary, type ModelFormatId } from './model/classifier';
export { readXgboostJson, readLightgbmText, type TreeEnsemble } from './model/trees';
export { sha256Hex } from './hash';
export { TOOL_VERSION } from './version';
export { parseAuditConfig, thresholdPolicyOf, PROFILES, AUDIT_CONFIG_SPEC, type AuditConfig } from './config/audit-config';
export { parsePolicy, evaluatePolicy, POLICY_SPEC, COMPARISONS, type Policy, type PolicyDecision, type GateResult, type RunFacts } from './config/policy';
export { planAudit, type AuditPlan } from './config/plan';
export { parseYaml } from './config/yaml';
export { toJsonSchema, validate, type Spec } from './config/schema';
export { buildManifest, canonicalJson, resultDigest, type Manifest, type RuntimeInfo } from './manifest';
export { METRIC_CATALOG, catalogMetric, metricValue } from './metrics/catalog';
