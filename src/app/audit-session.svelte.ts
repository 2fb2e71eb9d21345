import type { AuditProgress, AuditResult } from '../core/audit';
import type { AnyAuditResult } from '../core/run';
import type { AuditTask } from '../core/task/result';
import { DATA_CHECK_DEFAULTS, type DataCheckFlags, type DataCheckReport } from '../core/data-check/check';
import { evaluateDataPolicy, parseDataPolicy } from '../core/data-check/gates';
import type { BaselineResult } from '../core/comparison/baseline';
import { auditSettingsOf, planAudit, type ConfigSettings } from '../core/config/plan';
import { auditedModelId, reportsOf, type OutputContext } from '../core/outputs';
import { parseAuditConfig, thresholdPolicyOf, type AuditConfig } from '../core/config/audit-config';
import type { ThresholdPolicy } from '../core/metrics/curves';
import { evaluatePolicy, parsePolicy, type Policy, type PolicyDecision } from '../core/config/policy';
import { dateOf } from '../core/config/policy-terms';
import { parseYaml } from '../core/config/yaml';
import { sha256Hex } from '../core/hash';
import { resultDigest, type Manifest } from '../core/manifest';
import { verifyEvidencePack, type PackCheck } from '../core/report/evidence';
import { looksLikeOnnx } from '../core/model/sniff';
import { auditMemoryPlan, browserMemory, checkAuditMemory, DEFAULT_STAGE_MEMORY_MB, type StagePlan } from '../core/limits';
import { ConfigError } from '../core/errors';
import { looksLikeLightgbmText, looksLikeXgboostJson } from '../core/model/trees';
import type { ModelSummary } from '../core/model/classifier';
import type { DataSummary, DataRef } from '../../workers/audit.worker';
import type { LoadProgress } from '../core/data/read';
import { auditWorker, proxy, unwrap } from './worker-client';

/** A model file the user gave, with what its graph declares. */
export interface LoadedModel {
  name: string;
  bytes: Uint8Array;
  info: ModelSummary;
}

/** A data file the user gave, read in the worker (the page keeps only the File and the summary). */
export interface LoadedData extends DataSummary {
  name: string;
  /** Where the worker keeps the table. */
  dataId: string;
  /** The file itself, to read again when a config changes how CSVs are read. */
  blob?: Blob;
  /** The CSV options it was read with (canonical JSON). */
  csv?: string;
}

/** The worker's reference to a loaded data file. */
export const dataRef = (data: LoadedData): DataRef => ({ fileName: data.name, dataId: data.dataId });

/** The demo's files and settings, shipped in the app's own assets. */
interface DemoSpec {
  title: string;
  model: string;
  data: string;
  target: string;
  positive_label: string;
  protected_attributes: string[];
  features: string[];
  threshold: number;
  reference?: string;
}

/** Model files by their bytes: ONNX protobuf, XGBoost JSON, LightGBM text. */
const isModelBytes = (bytes: Uint8Array) => looksLikeOnnx(bytes) || looksLikeXgboostJson(bytes) || looksLikeLightgbmText(bytes);

/** A Plumbline result JSON, PDF or HTML report (XGBoost JSON models have no "performance"). */
function looksLikeResult(bytes: Uint8Array): boolean {
  const head = new TextDecoder().decode(bytes.subarray(0, 2048));
  if (head.startsWith('%PDF-') || /^\s*<!doctype html/i.test(head)) return true;
  return /^\s*\{/.test(head) && head.includes('"tool"') && head.includes('"plumbline"');
}

/** The threshold a binary audit uses when none is configured (the CLI's without --threshold). */
const DEFAULT_THRESHOLD = 0.5;

const TARGET_HINTS = /^(target|label|y|outcome|class|two_year_recid|default|good_credit|high_income)$/i;
const PROTECTED_HINTS = /^(race|sex|gender|age_group|ethnicity|religion|disability|marital_status|nationality)$/i;

/** The state of one audit in the app: files, set-up, run and result. */
export class AuditSession {
  model = $state.raw<LoadedModel | null>(null);
  data = $state.raw<LoadedData | null>(null);
  /** Reference data (usually the training set) for drift. */
  reference = $state.raw<LoadedData | null>(null);
  target = $state('');
  positiveLabel = $state('');
  /** A column of the data holding the score, for an audit without a model. */
  scoreColumn = $state('');
  /** The kind of model (config `task`); '' infers it from the model and the target, as the CLI does without --task. */
  task = $state<AuditTask | ''>('');
  /** The class names of a model file that names none, in its output order, comma-separated (model.class_labels). */
  classLabels = $state('');
  /** A regression's decision: positive when the prediction is above or below decisionThreshold ('' : no decision). */
  positiveWhen = $state<'' | 'above' | 'below'>('');
  /** The prediction a regression's decision turns on (config `threshold` with positive_when). */
  decisionThreshold = $state<number | null>(null);

  /** What the last table loaded in place of another took away, said once (null: nothing). */
  notice = $state<string | null>(null);

  /** The outputs of the audit run here: the result with its decision, the manifest and every file, from the core's outputs bundle. */
  outputs = $state.raw<{ decision: PolicyDecision | null; manifest: Manifest; files: Record<string, Uint8Array> } | null>(null);
  protectedAttributes = $state<string[]>([]);
  features = $state<string[]>([]);
  threshold = $state(0.5);
  /** How the threshold is chosen: fixed (the threshold above) or a policy chosen on the audited data. */
  thresholdPolicy = $state<ThresholdPolicy>({ policy: 'fixed', threshold: 0.5 });
  /** Which optional analyses run (a turned-off one is listed as not run, with why). */
  analyses = $state({ explainer: true, robustness: true, drift: true, recourse: true });
  /** Score a neural network with WebGPU (the worker falls back to WASM and says why). */
  useWebGpu = $state(false);
  status = $state<'idle' | 'loading' | 'running' | 'done' | 'error'>('idle');
  progress = $state.raw<AuditProgress | null>(null);
  /** Every stage of the running audit so far, with when it started (for rows/s and time left). */
  stages = $state.raw<{ stage: AuditProgress['stage']; done: number; total: number; started: number; now: number }[]>([]);
  result = $state.raw<AnyAuditResult | null>(null);
  /** SHA-256 of the result's canonical JSON: the CLI gives the same for the same inputs. */
  digest = $derived(this.result ? resultDigest(this.result) : null);
  error = $state<{ name: string; message: string } | null>(null);
  runtime = $state.raw<{ backend: string; threads: number; crossOriginIsolated: boolean; userAgent: string; onnxruntimeWeb: string } | null>(null);
  /** The reproducibility manifest of the audit run here (null for a result opened from a file or the registry). */
  manifest = $derived(this.outputs?.manifest ?? null);
  /** Where the shown result came from, when it was not run here. */
  openedFrom = $state<string | null>(null);
  /** The policy (gates) dropped, evaluated against every result shown. */
  policy = $state.raw<{ name: string; sha256: string; policy: Policy; text: string } | null>(null);
  /** The audit config dropped: its settings were applied to the set-up. */
  config = $state.raw<{ name: string; text: string; metadata: Record<string, string>; files: { test?: string; reference?: string }; settings: ConfigSettings; source: AuditConfig } | null>(null);
  /** The policy decision of the shown result: the loaded policy's, else the one stored in the result. */
  decision = $derived.by<PolicyDecision | null>(() => {
    if (!this.result) return null;
    // An audit run here: the decision the outputs bundle made (the CLI's, for the same files).
    if (this.outputs) return this.outputs.decision;
    // A result opened from a file or the registry, gated by a policy dropped here: whether
    // its seed was explicit is not known from the result, so that requirement is unmet.
    // Dates (effective date, review, waiver expiry) are judged on the page's date (?source_date_epoch=, as the CLI's
    // SOURCE_DATE_EPOCH); the model id is the one the result was gated under, else the config's, else the model file's.
    if (this.policy) {
      const stored = (this.result as AnyAuditResult & { policy_decision?: PolicyDecision }).policy_decision?.terms?.model_id;
      return evaluatePolicy(this.policy.policy, this.policy.sha256, this.result, { seedGiven: false, strict: false, manifestWritten: true, gitCommit: null, today: dateOf(this.#epochSeconds()), modelId: stored ?? auditedModelId(this.result, this.config?.metadata), force: this.forcePolicy });
    }
    return (this.result as AnyAuditResult & { policy_decision?: PolicyDecision }).policy_decision ?? null;
  });
  /** An earlier result (JSON, PDF or HTML report) to compare the shown one with. */
  previous = $state.raw<{ name: string; result: AuditResult } | null>(null);
  /**
   * The production model's result dropped while setting up an audit: the audit is compared
   * with it (its `comparison`, paired when both scored the same rows) and relative gates
   * read it, as the CLI's --baseline does.
   */
  baseline = $state.raw<{ name: string; sha256: string; result: AuditResult } | null>(null);
  /** The data check of the loaded data (no model needed): the report and its data policy's decision. */
  dataCheck = $state.raw<{ report: DataCheckReport; decision: PolicyDecision | null } | null>(null);
  /** The data check's flags and dating (the CLI's --alpha, --missing-warn, --skew-warn, --date-column, --data-date). */
  dataCheckFlags = $state.raw<DataCheckFlags>({ ...DATA_CHECK_DEFAULTS });
  /** A policy whose gates are data-check metrics (plumbline check-data --policy-gates). */
  dataPolicy = $state.raw<{ name: string; sha256: string; policy: Policy } | null>(null);
  /** Apply the policy although it is not yet in effect or not for this model (the CLI's --force-policy). */
  forcePolicy = $state(false);
  /** The last evidence pack dropped, with what checking it found. */
  pack = $state.raw<{ name: string; check: PackCheck } | null>(null);

  #runId = 0;
  #dataIds = 0;
  /** The worker run id of the data load in progress (negative: never an audit's). */
  #loadRunId = 0;
  /** The data file being read, with bytes and rows so far (null when none is). */
  loading = $state.raw<({ name: string } & LoadProgress) | null>(null);

  /** Whether the model takes one [N, F] matrix whose columns must be chosen in order. */
  needsFeatureOrder = $derived(this.model?.info.needsFeatureOrder ?? false);
  /** How many feature columns the model's single input takes, when it says. */
  featureCount = $derived(this.model?.info.featureCount ?? null);
  // Not while files are still being read: an audit started then would miss the reference still loading.
  canRun = $derived((this.model !== null || this.scoreColumn !== '') && this.data !== null && this.protectedAttributes.length > 0 && this.status !== 'running' && this.status !== 'loading');

  /** Takes any mix of files: each is recognised by its bytes, not its name. */
  async addFiles(files: Iterable<File>): Promise<void> {
    this.error = null;
    this.status = 'loading';
    try {
      // Configs first: their CSV options (delimiter, missing values, dtypes) decide how the data files are read.
      const ordered = [...files].sort((a, b) => Number(!/\.ya?ml$/i.test(a.name)) - Number(!/\.ya?ml$/i.test(b.name)));
      for (const file of ordered) {
        // Recognised by its first bytes: a data file is never read on the page, only in the worker.
        const head = new Uint8Array(await file.slice(0, 4096).arrayBuffer());
        const whole = async () => new Uint8Array(await file.arrayBuffer());
        // A zip is an evidence pack, unless it is named as a model (then it is refused as one).
        if (head[0] === 0x50 && head[1] === 0x4b && !/\.onnx$/i.test(file.name)) this.pack = { name: file.name, check: verifyEvidencePack(await whole()) };
        else if (/\.ya?ml$/i.test(file.name)) this.#setYaml(file.name, await whole());
        else if (looksLikeResult(head)) await this.#setResultFile(file.name, await whole());
        else if (isModelBytes(head) || /\.(onnx|model)$/i.test(file.name)) await this.#setModel(file.name, await whole());
        else await this.#setData(file.name, file);
      }
      this.status = 'idle';
      // A data file without a model: its data check, once every dropped file is in (not awaited: the set-up is usable at once).
      if (!this.model && this.data && !this.dataCheck) void this.runDataCheck();
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Loads the built-in demo (from the app's own origin) and runs it. */
  async runDemo(): Promise<void> {
    this.error = null;
    this.status = 'loading';
    try {
      const base = import.meta.env.BASE_URL;
      const spec = (await (await fetch(`${base}demo/demo.json`)).json()) as DemoSpec;
      const fetchBlob = async (name: string) => (await fetch(`${base}demo/${name}`)).blob();
      await this.#setModel(spec.model, new Uint8Array(await (await fetchBlob(spec.model)).arrayBuffer()));
      await this.#setData(spec.data, await fetchBlob(spec.data));
      if (spec.reference) await this.#setData(spec.reference, await fetchBlob(spec.reference), 'reference');
      this.target = spec.target;
      this.positiveLabel = spec.positive_label;
      this.protectedAttributes = [...spec.protected_attributes];
      this.features = [...spec.features];
      this.threshold = spec.threshold;
    } catch (error) {
      this.#fail(error);
      return;
    }
    await this.run();
  }

  /**
   * The audit's stages with their memory estimates, from the loaded tables' sizes, the model
   * file and the settings: the core's own estimates (the CLI's budgets), before anything runs.
   */
  memoryPlan(request: ReturnType<typeof planAudit>['request'], missingSections: Record<string, string>): StagePlan[] {
    if (!this.data) return [];
    const model = this.model;
    return auditMemoryPlan(
      { ...request, missingSections },
      {
        rows: this.data.rows,
        columns: this.data.columns.length,
        reference: this.reference ? { rows: this.reference.rows, columns: this.reference.columns.length } : null,
        modelBytes: model ? model.bytes.length : null,
        modelColumns: model ? (model.info.needsFeatureOrder ? this.features.length : model.info.inputs.length) : 0,
      },
    );
  }

  /** Runs the audit in the worker; results of an older run are dropped. */
  async run(): Promise<void> {
    if ((!this.model && !this.scoreColumn) || !this.data) return;
    const runId = ++this.#runId;
    this.error = null;
    this.result = null;
    this.progress = null;
    this.stages = [];
    let plan: ReturnType<typeof planAudit>;
    try {
      plan = planAudit(this.auditConfig(), this.config?.name ?? 'the set-up');
      // The page's ?memory_budget_mb= replaces the stage budget (limits.stage_memory_mb) for every stage.
      const fromUrl = memoryBudgetFromUrl();
      if (fromUrl !== null) plan.request.limits = { ...plan.request.limits, stageMemoryMb: fromUrl };
      const budgetMb = plan.request.limits?.stageMemoryMb ?? DEFAULT_STAGE_MEMORY_MB;
      // Refused before anything runs when a stage every audit needs is over its budget, or a stage would not fit beside the tables.
      checkAuditMemory(this.memoryPlan(plan.request, plan.missingSections), { memoryBytes: budgetMb * 2 ** 20, seconds: null }, {
        raise: 'limits.stage_memory_mb (or ?memory_budget_mb= in the page address)',
        host: browserMemory((globalThis.navigator as Navigator & { deviceMemory?: number } | undefined)?.deviceMemory),
      });
    } catch (error) {
      this.#fail(error);
      return;
    }
    this.status = 'running';
    const worker = auditWorker();
    try {
      this.runtime ??= await worker.runtime();
      const { reference: _reference, ...request } = plan.request;
      const outcome = await worker.audit(
        runId,
        {
          ...request,
          ...(this.model ? { model: { fileName: this.model.name, bytes: this.model.bytes } } : {}),
          data: dataRef(this.data),
          ...(this.reference ? { reference: dataRef(this.reference) } : {}),
          missingSections: plan.missingSections,
          ...(this.baseline ? { baseline: { result: this.baseline.result as unknown as BaselineResult, file: this.baseline.name, sha256: this.baseline.sha256 } } : {}),
          ...(this.useWebGpu ? { backend: 'webgpu' as const } : {}),
        },
        proxy((progress: AuditProgress) => {
          if (runId !== this.#runId) return;
          this.progress = progress;
          const now = performance.now();
          // A stage seen before (metrics runs before and after robustness) is updated where it is.
          const at = this.stages.findIndex((s) => s.stage === progress.stage);
          const others = this.stages.map((s) => (s.stage === progress.stage ? s : { ...s, done: s.total }));
          if (at >= 0) others[at] = { ...others[at], done: progress.done, total: progress.total, now };
          else others.push({ stage: progress.stage, done: progress.done, total: progress.total, started: now, now });
          this.stages = others;
        }),
      );
      if (runId !== this.#runId) return;
      const audited = unwrap(outcome);
      const outputs = unwrap(await worker.outputs(audited, this.#outputContext(audited, plan)));
      if (runId !== this.#runId) return;
      this.outputs = { decision: outputs.decision, manifest: outputs.manifest, files: outputs.files };
      const result = outputs.result;
      this.openedFrom = null;
      this.result = result;
      this.status = 'done';
    } catch (error) {
      if (runId === this.#runId) this.#fail(error);
    }
  }

  /**
   * The facts of an audit run here for the outputs bundle: the files it read (the config
   * and policy as dropped), the policy, whether the seed was given, the time (the page's
   * `?source_date_epoch=` when given, as the CLI's SOURCE_DATE_EPOCH, else the clock).
   */
  #outputContext(result: AnyAuditResult, plan: ReturnType<typeof planAudit>): OutputContext {
    const files: OutputContext['files'] = {};
    if (this.model && result.inputs.model.format !== 'score-column') files.model = { file: this.model.name, sha256: result.inputs.model.sha256 };
    if (this.data) files.data = { file: this.data.name, sha256: result.inputs.data.sha256 };
    if (this.reference) files.reference = { file: this.reference.name, sha256: this.reference.sha256 };
    const encode = (text: string) => new TextEncoder().encode(text);
    const configFile = this.config ? { fileName: this.config.name, bytes: encode(this.config.text) } : undefined;
    const policyFile = this.policy ? { fileName: this.policy.name, bytes: encode(this.policy.text) } : undefined;
    if (configFile) files.config = { file: configFile.fileName, sha256: sha256Hex(configFile.bytes) };
    if (policyFile) files.policy = { file: policyFile.fileName, sha256: this.policy!.sha256 };
    if ('comparison' in result && result.comparison) files.baseline = { file: result.comparison.baseline.file, sha256: result.comparison.baseline.sha256 };
    const epoch = new URLSearchParams(globalThis.location?.search ?? '').get('source_date_epoch');
    const fromEpoch = epoch !== null && /^\d+$/.test(epoch);
    const execution = executionOf(result);
    return {
      base: 'report',
      files,
      sources: { ...(configFile ? { config: configFile } : {}), ...(policyFile ? { policy: policyFile } : {}) },
      policy: this.policy?.policy ?? null,
      seedExplicit: plan.seedExplicit,
      strict: false,
      gitCommit: null,
      epochSeconds: fromEpoch ? Number(epoch) : Math.floor(Date.now() / 1000),
      fromSourceDateEpoch: fromEpoch,
      backend: result.inputs.model.format === 'score-column' ? 'none (score column)' : execution?.startsWith('webgpu') ? 'webgpu' : 'wasm',
      metadata: plan.metadata,
      ...(this.config?.source.report?.title ? { title: this.config.source.report.title } : {}),
      forcePolicy: this.forcePolicy,
      reports: reportsOf(this.config?.source.report),
    };
  }

  /** Shows a result that was not run here (from the registry or a file). */
  showResult(result: AnyAuditResult, from: string): void {
    this.#runId++;
    this.error = null;
    this.outputs = null;
    this.openedFrom = from;
    this.result = result;
    this.status = 'done';
  }

  /**
   * Cancels the running audit: the page stops waiting at once (a late result is ignored)
   * and the worker stops at its next batch or stage boundary.
   */
  cancel(): void {
    if (this.loading) {
      // Reading a data file: the worker stops at its next chunk; the load then fails as cancelled.
      void auditWorker().cancel(this.#loadRunId, `Reading ${this.loading.name} was cancelled.`);
      return;
    }
    if (this.status !== 'running') return;
    void auditWorker().cancel(this.#runId);
    this.#runId++;
    this.progress = null;
    this.stages = [];
    this.error = { name: 'AbortError', message: 'The audit was cancelled.' };
    this.status = 'idle';
  }

  /** Adds or removes a column from the ordered feature list. */
  toggleFeature(name: string): void {
    this.features = this.features.includes(name) ? this.features.filter((f) => f !== name) : [...this.features, name];
  }

  /** A result file is shown when nothing is, else kept to compare the shown result with. */
  async #setResultFile(name: string, bytes: Uint8Array): Promise<void> {
    const result = unwrap(await auditWorker().readResult(bytes, name));
    if (this.result) this.previous = { name, result };
    // Setting up an audit (a model or data loaded): the result is the baseline it is compared with.
    else if (this.model || this.data) {
      this.baseline = { name, sha256: sha256Hex(bytes), result };
      this.notice = `${name} is the baseline: the next audit is compared with it (Remove it in the set-up to audit without one).`;
    }
    else this.showResult(result, name);
  }

  /** A YAML file is a policy when it has `gates`, else an audit config whose settings fill the set-up. */
  #setYaml(name: string, bytes: Uint8Array): void {
    const text = new TextDecoder().decode(bytes);
    const parsed = parseYaml(text, name) as Record<string, unknown> | null;
    if (parsed && typeof parsed === 'object' && 'gates' in parsed) this.usePolicy(name, text);
    else this.applyConfig(name, text);
  }

  /** Uses a policy's text (checked; a bad one throws a ConfigError naming line and column). */
  usePolicy(name: string, text: string): void {
    const sha256 = sha256Hex(new TextEncoder().encode(text));
    try {
      this.policy = { name, sha256, policy: parsePolicy(text, name), text };
    } catch (error) {
      // Not the audit's metrics: a policy of data-check metrics gates the data check instead.
      let data: Policy;
      try {
        data = parseDataPolicy(text, name);
      } catch {
        throw error;
      }
      this.dataPolicy = { name, sha256, policy: data };
      if (this.data) void this.runDataCheck();
    }
  }

  /**
   * Checks the loaded data without a model, as plumbline check-data does (the same core, the
   * set-up's target and protected attributes, the reference when one is loaded), gated by a
   * data policy when one was dropped. Dated today.
   */
  async runDataCheck(): Promise<void> {
    if (!this.data) return;
    const data = this.data;
    try {
      const report = unwrap(
        await auditWorker().checkData(
          dataRef(data),
          {
            ...(this.target ? { target: this.target } : {}),
            ...(this.positiveLabel ? { positiveLabel: this.positiveLabel } : {}),
            protectedAttributes: [...this.protectedAttributes],
            today: dateOf(this.#epochSeconds()),
            ...this.dataCheckFlags,
          },
          this.reference ? dataRef(this.reference) : undefined,
        ),
      );
      if (this.data !== data) return;
      const decision = this.dataPolicy ? evaluateDataPolicy(this.dataPolicy.policy, this.dataPolicy.sha256, report, { force: this.forcePolicy }) : null;
      this.dataCheck = { report, decision };
    } catch (error) {
      this.#fail(error);
    }
  }

  /** The time outputs are dated with: ?source_date_epoch= when given (as the CLI's SOURCE_DATE_EPOCH), else now. */
  #epochSeconds(): number {
    const epoch = new URLSearchParams(globalThis.location?.search ?? '').get('source_date_epoch');
    return epoch !== null && /^\d+$/.test(epoch) ? Number(epoch) : Math.floor(Date.now() / 1000);
  }

  /** Applies an audit config's text to the set-up (checked; a bad one throws a ConfigError). */
  applyConfig(name: string, text: string): void {
    let config = parseAuditConfig(text, name);
    const data = config.data ?? {};
    if (data.validation !== undefined) {
      // Not silently dropped: the app would fit the threshold on the test file instead.
      throw new ConfigError(
        `${name}: data.validation (${data.validation}) asks for the threshold policy to be fitted on a held-out file, which the app does not load yet. Run this config with the command line (plumbline audit --config ${name}), which fits it there, or remove data.validation to fit the policy on the test file (reported as a limitation).`,
      );
    }
    if (data.target) this.target = data.target;
    if (data.positive_label !== undefined) this.positiveLabel = String(data.positive_label);
    if (data.score_column) this.scoreColumn = data.score_column;
    if (data.protected_attributes) this.protectedAttributes = [...data.protected_attributes];
    if (config.model?.features) this.features = [...config.model.features];
    this.task = config.task ?? '';
    this.classLabels = config.model?.class_labels?.join(',') ?? '';
    this.positiveWhen = config.positive_when ?? '';
    // With positive_when the threshold is a regression's decision, on the prediction's scale.
    if (config.positive_when) {
      this.decisionThreshold = typeof config.threshold === 'number' ? config.threshold : null;
      const { threshold: _decision, ...rest } = config;
      config = rest;
    }
    const policy = thresholdPolicyOf(config);
    if (policy.policy === 'fixed') this.threshold = policy.threshold;
    this.thresholdPolicy = policy.policy === 'fixed' ? { policy: 'fixed', threshold: policy.threshold } : policy;
    for (const section of ['explainer', 'robustness', 'drift', 'recourse'] as const) this.analyses[section] = config[section]?.enabled !== false;
    const base = (path: string | undefined) => path?.replace(/^.*[\\/]/, '');
    // The config's other settings (seed, intervals, explainer, robustness, recourse, budgets…)
    // go with every audit, so the same config gives the app the CLI's numbers.
    this.config = { name, text, metadata: Object.fromEntries(Object.entries(config.metadata ?? {}).map(([k, v]) => [k, String(v)])), files: { test: base(data.test), reference: base(data.reference ?? data.train) }, settings: auditSettingsOf(config), source: config };
    // The registry block is the command line's (the browser has no environment to fill its variables from): said, not dropped silently.
    const block = config.registry;
    if (block && block.enabled !== false && block.auto_submit !== false) {
      this.notice = `${name}: the registry block appends audits run by the command line (plumbline audit --config ${name}) to ${block.database ?? 'registry.database'}; the app does not write there: add this audit to a portfolio on the Portfolio page.`;
    }
    // Tables read before this config with other CSV options are read again with its options.
    void this.#rereadForCsv();
    // A table loaded before the config that the config names as the reference moves there.
    if (this.data && this.config.files.reference === this.data.name && !this.reference) {
      this.reference = this.data;
      this.data = null;
    }
  }

  async #setModel(name: string, bytes: Uint8Array): Promise<void> {
    const info = unwrap(await auditWorker().inspectModel(bytes, name));
    this.model = { name, bytes, info };
    this.result = null;
    if (!info.needsFeatureOrder) this.features = info.inputs.map((i) => i.name);
  }

  /**
   * Which role a table plays: what the config names it as, else a name like train/reference
   * makes it the reference; anything else is the test set.
   */
  #roleOf(name: string): 'test' | 'reference' {
    if (this.config?.files.reference === name) return 'reference';
    if (this.config?.files.test === name) return 'test';
    return /train|reference|\bref\b/i.test(name) ? 'reference' : 'test';
  }

  /** Swaps the test and reference tables. */
  async swapData(): Promise<void> {
    const [data, reference] = [this.reference, this.data];
    this.reference = null;
    this.data = null;
    if (data) this.data = data;
    if (reference) this.reference = reference;
    if (data) this.#adoptColumns(data);
  }

  /** Reads the test and reference tables again when they were read with other CSV options than the config's. */
  async #rereadForCsv(): Promise<void> {
    const wanted = JSON.stringify(this.#csvOptions());
    for (const [role, table] of [['test', this.data], ['reference', this.reference]] as const) {
      if (table?.blob && table.csv !== wanted) await this.#setData(table.name, table.blob, role);
    }
  }

  /** How the config (when one was dropped) says CSV files are read: the CLI's options, so both read the same table. */
  #csvOptions() {
    const data = this.config?.source.data ?? {};
    return {
      ...(data.delimiter ? { delimiter: data.delimiter } : {}),
      ...(data.missing_values ? { missingValues: [...data.missing_values] } : {}),
      ...(data.dtypes ? { dtypes: { ...data.dtypes } } : {}),
      ...(data.skip_bad_lines !== undefined ? { skipBadRows: data.skip_bad_lines } : {}),
    };
  }

  /**
   * The audit config the set-up stands for: a dropped config with the set-up's choices over
   * it (file names stand for the files loaded here). The one request the app sends is made
   * from it by the core's planner, as the CLI makes its own from its flags and config; the
   * YAML editor shows and downloads it.
   */
  auditConfig(): AuditConfig {
    const source = $state.snapshot(this.config?.source ?? {}) as AuditConfig;
    const data = source.data ?? {};
    const reference = this.reference ? (data.train !== undefined && data.reference === undefined ? { train: this.reference.name } : { reference: this.reference.name }) : {};
    const { train: _train, reference: _reference, score_column: _score, ...dataRest } = data;
    const config: AuditConfig = {
      ...source,
      data: {
        ...dataRest,
        ...(this.data ? { test: this.data.name } : {}),
        ...reference,
        ...(this.target ? { target: this.target } : {}),
        ...(this.positiveLabel !== '' ? { positive_label: this.positiveLabel } : {}),
        protected_attributes: [...this.protectedAttributes],
        ...(!this.model && this.scoreColumn ? { score_column: this.scoreColumn } : {}),
      },
    };
    const threshold = this.#thresholdOf(source);
    if (threshold !== undefined) config.threshold = threshold;
    else delete config.threshold;
    if (this.task) config.task = this.task;
    else delete config.task;
    if (this.task === 'regression' && this.positiveWhen) config.positive_when = this.positiveWhen;
    else delete config.positive_when;
    const classLabels = this.classLabels.split(',').map((c) => c.trim()).filter((c) => c !== '');
    if (this.model) {
      const { class_labels: _labels, ...model } = source.model ?? {};
      config.model = { ...model, path: this.model.name, ...(this.needsFeatureOrder ? { features: [...this.features] } : {}), ...(classLabels.length ? { class_labels: classLabels } : {}) };
    } else delete config.model;
    for (const [section, on] of Object.entries(this.analyses) as [keyof typeof this.analyses, boolean][]) {
      const { enabled: _enabled, ...rest } = (source[section] ?? {}) as { enabled?: boolean };
      if (!on) config[section] = { ...rest, enabled: false } as never;
      else if (source[section]) config[section] = rest as never;
    }
    return config;
  }

  /**
   * The config's `threshold`: a regression's decision threshold (with positive_when); else the
   * set-up's threshold or policy — left out, as the CLI leaves it out without --threshold, when
   * it is the default 0.5 that no config set and the model is not a two-class classifier (a
   * multiclass or regression audit refuses any threshold; a binary one reads 0.5 the same).
   */
  #thresholdOf(source: AuditConfig): AuditConfig['threshold'] {
    if (this.task === 'regression' && this.positiveWhen) return this.decisionThreshold ?? undefined;
    if (this.task === 'multiclass' || this.task === 'regression') return source.threshold;
    if (this.thresholdPolicy.policy !== 'fixed') return $state.snapshot(this.thresholdPolicy) as AuditConfig['threshold'];
    const isDefault = this.threshold === DEFAULT_THRESHOLD && source.threshold === undefined;
    if (isDefault && this.model && this.task !== 'binary' && this.model.info.classCount !== 2) return undefined;
    return this.threshold;
  }

  /** Reads a data file in the worker, showing bytes and rows as they come; Cancel stops it. */
  async #setData(name: string, blob: Blob, role = this.#roleOf(name)): Promise<void> {
    const dataId = `data-${++this.#dataIds}`;
    const runId = (this.#loadRunId = -this.#dataIds);
    const replaced = role === 'test' ? (this.data?.name ?? null) : null;
    // The file this one replaces is let go before reading it, so two large tables are never
    // held at once (a failed read then leaves no file in that place, and says why).
    if (role === 'reference') this.reference = null;
    else this.data = null;
    this.result = null;
    void auditWorker().releaseData([this.data?.dataId, this.reference?.dataId].filter((id): id is string => Boolean(id)));
    this.loading = { name, bytes: 0, totalBytes: blob.size, rows: 0 };
    let summary: DataSummary;
    try {
      const worker = auditWorker();
      summary = unwrap(
        await worker.loadData(
          dataId,
          blob,
          name,
          runId,
          proxy((progress: LoadProgress) => {
            if (this.loading?.name === name) this.loading = { name, ...progress };
          }),
          $state.snapshot(this.#csvOptions()),
        ),
      );
    } finally {
      this.loading = null;
    }
    const loaded: LoadedData = { name, dataId, blob, csv: JSON.stringify(this.#csvOptions()), ...summary };
    if (role === 'reference') this.reference = loaded;
    else this.data = loaded;
    this.result = null;
    void auditWorker().releaseData([this.data?.dataId, this.reference?.dataId].filter((id): id is string => Boolean(id)));
    if (role !== 'reference') this.#adoptColumns(loaded, replaced);
    // A new file: its data check comes once every dropped file is in (addFiles; a date column chosen for the previous file may not be in this one).
    this.dataCheck = null;
    if (role !== 'reference' && this.dataCheckFlags.dateColumn) this.dataCheckFlags = { ...this.dataCheckFlags, dateColumn: undefined };
  }

  /** The set-up follows a new test file: target and protected attributes it has. */
  #adoptColumns(summary: LoadedData, replaced: string | null = null): void {
    this.result = null;
    this.outputs = null;
    const names = summary.columns.map((c) => c.name);
    const cleared: string[] = [];
    if (replaced !== null && replaced !== summary.name) {
      // A new test set: what belonged to the old one goes, unless the config names it.
      if (this.reference && this.config?.files.reference !== this.reference.name) {
        cleared.push(`the reference ${this.reference.name}`);
        this.reference = null;
      }
      if (this.target && !names.includes(this.target)) {
        cleared.push(`the target ${this.target}`);
        this.target = '';
      }
      if (this.scoreColumn && !names.includes(this.scoreColumn)) {
        cleared.push(`the score column ${this.scoreColumn}`);
        this.scoreColumn = '';
      }
      const gone = [...this.protectedAttributes, ...this.features].filter((c) => !names.includes(c));
      if (gone.length) cleared.push(`the columns ${[...new Set(gone)].join(', ')}`);
    }
    this.notice = cleared.length ? `${summary.name} replaced ${replaced}: ${cleared.join(', ')} ${cleared.length === 1 ? 'was cleared (it belonged' : 'were cleared (they belonged'} to the old file). Drop the matching files or choose again.` : null;
    // A target chosen earlier (for this file or by a config) is kept when the file lacks it: running then says so.
    if (this.target === '') this.target = names.find((n) => TARGET_HINTS.test(n)) ?? '';
    this.protectedAttributes = this.protectedAttributes.filter((a) => names.includes(a));
    if (this.protectedAttributes.length === 0) this.protectedAttributes = names.filter((n) => PROTECTED_HINTS.test(n));
    this.features = this.features.filter((f) => names.includes(f));
  }

  #fail(error: unknown): void {
    const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
    this.error = { name, message };
    this.status = name === 'AbortError' ? 'idle' : 'error';
  }
}

/**
 * The page's `?memory_budget_mb=N`: the memory budget of every stage in MiB (null when not
 * given), replacing the config's limits.stage_memory_mb.
 */
function memoryBudgetFromUrl(): number | null {
  const value = new URLSearchParams(globalThis.location?.search ?? '').get('memory_budget_mb');
  if (value === null) return null;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new ConfigError(`?memory_budget_mb= in the page address must be a whole number of MiB, 1 or more, got ${JSON.stringify(value)}: fix the address and run again.`);
  return Number(value);
}

/** How the result's model was scored, when WebGPU was asked for. */
function executionOf(result: AnyAuditResult): string | undefined {
  const model = result.inputs.model;
  return 'execution' in model ? model.execution : undefined;
}
