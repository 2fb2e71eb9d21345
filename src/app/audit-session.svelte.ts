/**
 * The state of one audit in the app (files, set-up, run, result, config, policy and data
 * check) as Svelte runes; the work it does without state lives beside it: file routing,
 * the demo, the session's config, the tables' roles, the run's plan and the outputs' facts.
 */
import { DATA_CHECK_DEFAULTS, evaluateDataPolicy, parseYaml, resultDigest, sha256Hex, verifyEvidencePack, type AnyAuditResult, type AuditConfig, type AuditProgress, type AuditResult, type AuditTask, type ConfigSettings, type DataCheckFlags, type DataCheckReport, type LoadProgress, type Manifest, type PackCheck, type Policy, type PolicyDecision, type StagePlan, type ThresholdPolicy } from '../core';
import type { DataSummary } from '../../workers/audit.worker';
import { auditWorker, proxy, unwrap } from './worker-client';
import { dataRef, type LoadedData, type LoadedModel } from './session-types';
import { configsFirst, fileKind } from './file-routing';
import { fetchDemo } from './demo';
import { applyConfigTo, auditConfigOf, csvOptionsOf } from './session-config';
import { adoptColumns, roleOf } from './table-roles';
import { outputContext } from './output-context';
import { dataCheckOptionsOf, readPolicy, shownDecision } from './session-policy';
import { memoryPlanOf, nextStages, planRun, workerRequestOf, type AuditPlan } from './run-plan';
export { dataRef, type LoadedData, type LoadedModel } from './session-types';

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
  /**
   * Class names are asked for a classifier whose file names none (needed when the target
   * holds words: which word is class 1 of two, or k of many). An XGBoost regressor's summary
   * has no class count.
   */
  asksClassLabels = $derived(
    this.model !== null && this.model.info.classLabels === null && this.task !== 'regression' && !(this.model.info.format === 'xgboost-json' && this.model.info.classCount === null),
  );
  /** The typed names as a list (empty names dropped), or undefined when none are typed or the field is not shown: names typed for an earlier model, or before the task became a regression, do not reach the audit. */
  classLabelList = $derived.by(() => {
    if (!this.asksClassLabels) return undefined;
    const list = this.classLabels.split(',').map((c) => c.trim()).filter((c) => c !== '');
    return list.length ? list : undefined;
  });
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
  decision = $derived.by<PolicyDecision | null>(() => shownDecision(this));
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
      for (const file of configsFirst(files)) {
        // Recognised by its first bytes: a data file is never read on the page, only in the worker.
        const head = new Uint8Array(await file.slice(0, 4096).arrayBuffer());
        const whole = async () => new Uint8Array(await file.arrayBuffer());
        const kind = fileKind(file.name, head);
        if (kind === 'pack') this.pack = { name: file.name, check: verifyEvidencePack(await whole()) };
        else if (kind === 'yaml') this.#setYaml(file.name, await whole());
        else if (kind === 'result') await this.#setResultFile(file.name, await whole());
        else if (kind === 'model') await this.#setModel(file.name, await whole());
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
      const { spec, fetchBlob } = await fetchDemo();
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
  memoryPlan(request: AuditPlan['request'], missingSections: Record<string, string>): StagePlan[] {
    return memoryPlanOf(this, request, missingSections);
  }

  /** The set-up as its config's JSON, as it changes (the YAML view reads it); as it was when the shown audit ran here (null: none ran, or a result from a file). */
  setupJson = $derived(JSON.stringify(this.auditConfig()));
  ranWith = $state<string | null>(null);
  /** The set-up changed since the shown audit ran: its results and exports are of the old set-up. */
  setupChanged = $derived(this.outputs !== null && this.ranWith !== null && `${this.setupJson} ${this.policy?.sha256 ?? ''}` !== this.ranWith); // the policy gates the run too
  /** Runs the audit in the worker; results of an older run are dropped. */
  async run(): Promise<void> {
    if ((!this.model && !this.scoreColumn) || !this.data) return;
    const runId = ++this.#runId;
    this.error = null;
    this.result = null;
    this.progress = null;
    this.stages = [];
    let plan: AuditPlan;
    try {
      plan = planRun(this);
    } catch (error) {
      this.#fail(error);
      return;
    }
    this.ranWith = `${this.setupJson} ${this.policy?.sha256 ?? ''}`;
    this.status = 'running';
    const worker = auditWorker();
    try {
      this.runtime ??= await worker.runtime();
      const outcome = await worker.audit(
        runId,
        workerRequestOf(this, plan, this.data),
        proxy((progress: AuditProgress) => {
          if (runId !== this.#runId) return;
          this.progress = progress;
          this.stages = nextStages(this.stages, progress, performance.now());
        }),
      );
      if (runId !== this.#runId) return;
      const audited = unwrap(outcome);
      const outputs = unwrap(await worker.outputs(audited, outputContext(this, audited, plan)));
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
    const read = readPolicy(name, text);
    if (read.kind === 'audit') this.policy = read.policy;
    else {
      // Not the audit's metrics: a policy of data-check metrics gates the data check instead.
      this.dataPolicy = read.policy;
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
      const report = unwrap(await auditWorker().checkData(dataRef(data), dataCheckOptionsOf(this), this.reference ? dataRef(this.reference) : undefined));
      if (this.data !== data) return;
      const decision = this.dataPolicy ? evaluateDataPolicy(this.dataPolicy.policy, this.dataPolicy.sha256, report, { force: this.forcePolicy }) : null;
      this.dataCheck = { report, decision };
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Applies an audit config's text to the set-up (checked; a bad one throws a ConfigError). */
  applyConfig(name: string, text: string): void {
    applyConfigTo(this, name, text);
    // Tables read before this config with other CSV options are read again with its options.
    void this.#rereadForCsv();
    // A table loaded before the config that the config names as the reference moves there.
    if (this.data && this.config?.files.reference === this.data.name && !this.reference) {
      this.reference = this.data;
      this.data = null;
    }
  }

  async #setModel(name: string, bytes: Uint8Array): Promise<void> {
    const info = unwrap(await auditWorker().inspectModel(bytes, name));
    this.model = { name, bytes, info };
    this.result = null;
    // A model naming no inputs takes its config's order, or none until chosen (never the last model's inputs).
    this.features = info.needsFeatureOrder ? [...(this.config?.source.model?.features ?? [])] : info.inputs.map((i) => i.name);
  }

  /** Swaps the test and reference tables. */
  async swapData(): Promise<void> {
    const [data, reference] = [this.reference, this.data];
    this.reference = null;
    this.data = null;
    if (data) this.data = data;
    if (reference) this.reference = reference;
    if (data) adoptColumns(this, data);
  }

  /** Reads the test and reference tables again when they were read with other CSV options than the config's. */
  async #rereadForCsv(): Promise<void> {
    const wanted = JSON.stringify(csvOptionsOf(this.config?.source));
    for (const [role, table] of [['test', this.data], ['reference', this.reference]] as const) {
      if (table?.blob && table.csv !== wanted) await this.#setData(table.name, table.blob, role);
    }
  }


  /**
   * The audit config the set-up stands for: a dropped config with the set-up's choices over
   * it (file names stand for the files loaded here). The one request the app sends is made
   * from it by the core's planner, as the CLI makes its own from its flags and config; the
   * YAML editor shows and downloads it.
   */
  auditConfig(): AuditConfig {
    const source = $state.snapshot(this.config?.source ?? {}) as AuditConfig;
    return auditConfigOf(this, source, $state.snapshot(this.thresholdPolicy) as AuditConfig['threshold']);
  }

  /** Reads a data file in the worker, showing bytes and rows as they come; Cancel stops it. */
  async #setData(name: string, blob: Blob, role = roleOf(this, name)): Promise<void> {
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
          $state.snapshot(csvOptionsOf(this.config?.source)),
        ),
      );
    } finally {
      this.loading = null;
    }
    const loaded: LoadedData = { name, dataId, blob, csv: JSON.stringify(csvOptionsOf(this.config?.source)), ...summary };
    if (role === 'reference') this.reference = loaded;
    else this.data = loaded;
    this.result = null;
    void auditWorker().releaseData([this.data?.dataId, this.reference?.dataId].filter((id): id is string => Boolean(id)));
    if (role !== 'reference') adoptColumns(this, loaded, replaced);
    // A new file: its data check comes once every dropped file is in (addFiles; a date column chosen for the previous file may not be in this one).
    this.dataCheck = null;
    if (role !== 'reference' && this.dataCheckFlags.dateColumn) this.dataCheckFlags = { ...this.dataCheckFlags, dateColumn: undefined };
  }


  #fail(error: unknown): void {
    const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
    this.error = { name, message };
    this.status = name === 'AbortError' ? 'idle' : 'error';
  }
}

