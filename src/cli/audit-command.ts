/** `plumbline audit`: config and flags → audit → result, manifest, policy decision, exit code. */
import { execFileSync } from 'node:child_process';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-web';
import {
  parseAuditConfig,
  parsePolicy,
  planAudit,
  runAudit,
  sectionFailed,
  sha256Hex,
  type AuditConfig,
  type AuditProgress,
  type PolicyDecision,
} from '../core/index.ts';
import type { ThresholdPolicy } from '../core/metrics/curves.ts';
import type { StoredDistribution } from '../core/drift/drift.ts';
import type { LoadProgress } from '../core/data/read.ts';
import { auditOutputs, reportsOf } from '../core/outputs.ts';
import { appendedMessage, appendToRegistry, checkRegistryFile } from './registry-command.ts';
import { EXIT, loadTableFile, readInput, UsageError } from './shared.ts';
import { readResultFile } from '../core/report/read-result.ts';

const USAGE = `Usage: plumbline audit [--config audit.yaml] [--policy-gates gates.yaml] [options]

Audits a binary classifier on a CSV test set. Every config field also has a flag; flags win.

Options:
  --config FILE           audit config (YAML); paths in it are relative to it
  --policy-gates FILE     policy gates (YAML): writes policy_decision.json, exit 1 on a failed error gate
  --model FILE            model: ONNX, XGBoost JSON or LightGBM text
  --score COLUMN          audit a score column of the data instead of a model
  --data FILE             CSV test set (with a header row)
  --reference FILE        reference data (usually train) for drift: PSI, KS, χ², prediction drift
  --reference-result FILE reference-free drift against the distributions stored in an earlier
                          result (JSON or PDF report), e.g. the validated audit
  --target COLUMN         column holding the true outcome
  --protected A[,B]       protected attribute columns
  --features C1,C2,...    column order for a model with one [N, F] input
  --positive-label VALUE  the positive outcome (default 1 for a 0/1 target)
  --threshold T           predicted positive when p >= T (default 0.5)
  --threshold-policy P    youden | selection_rate:R | cost:FP,FN (chosen on --data)
  --bootstrap N           simulation draws of the ECE interval (default 1000; 0: none)
  --seed N                random seed (default 0)
  --output FILE           the PDF report (FILE.pdf, with FILE.html, FILE.model_card.md and the
                          evidence pack FILE.evidence.zip beside it) or only the result
                          (FILE.json); the result JSON, FILE.manifest.json and
                          policy_decision.json are written beside either
  --no-pdf                skip the PDF (FILE.html, FILE.model_card.md and FILE.evidence.zip
                          are still written beside a .pdf output)
  --registry FILE         append this audit to a registry (plumbline registry init FILE first)
  --registry-keep-report  keep the PDF report and evidence pack in the registry entry too
  --predictions           include p(positive) of every row (predictions_p1)
  --strict                refuse defaults for seed and positive label; unevaluated error gates fail
  --explain-failures      print each failing gate with value, threshold, clause and what to look at
  --verbose               progress on stderr, stack traces on errors
  -h, --help              this help`;

const list = (value: string | undefined) => (value ? value.split(',').map((s) => s.trim()).filter(Boolean) : undefined);

function number(raw: string | undefined, name: string): number | undefined {
  if (raw === undefined) return undefined;
  const parsed = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(parsed)) throw new UsageError(`--${name} must be a number, got ${JSON.stringify(raw)}.`);
  return parsed;
}

/** Parses `youden`, `selection_rate:0.3` or `cost:1,5` (cost of a false positive, of a false negative). */
function thresholdPolicy(text: string): ThresholdPolicy {
  const [name, argument = ''] = text.split(':');
  const values = argument.split(',').map(Number);
  if (name === 'youden' && argument === '') return { policy: 'youden' };
  if (name === 'selection_rate' && values.length === 1 && values[0] > 0 && values[0] < 1) return { policy: 'selection_rate', target: values[0] };
  if (name === 'cost' && values.length === 2 && values.every((v) => Number.isFinite(v) && v >= 0)) return { policy: 'cost', cost_fp: values[0], cost_fn: values[1] };
  throw new UsageError(`--threshold-policy ${JSON.stringify(text)} is not one of: youden, selection_rate:R (0 < R < 1), cost:FP,FN (costs >= 0).`);
}

/** The commit audited: GIT_COMMIT, else the working directory's HEAD, else null. */
function gitCommit(): string | null {
  if (process.env.GIT_COMMIT) return process.env.GIT_COMMIT;
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch {
    return null;
  }
}

/**
 * Writes a file under a temporary name, then renames it: a full disk or a crash leaves the
 * old file or none, never a partial one.
 */
async function writeFileAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, bytes);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC') throw new UsageError(`the disk is full: ${path} was not written (nothing partial was left). Free some space and run the audit again.`);
    throw error;
  }
}

/** Prints failing gates for a person reading a CI log. */
function explainFailures(decision: PolicyDecision): string {
  const lines = decision.gates
    .filter((g) => g.outcome !== 'PASS')
    .map((g) => {
      const sign = { greater_than: '>', greater_equal: '>=', less_than: '<', less_equal: '<=' }[g.comparison];
      const where = g.attribute ? ` (${g.attribute})` : '';
      const value = g.value === null ? `not evaluated: ${g.reason}` : `${g.metric}${where} = ${g.value.toPrecision(4)}, needs ${sign} ${g.threshold}`;
      const look = g.value === null ? '' : g.attribute ? `; look at fairness.${g.attribute}.groups for the groups behind it` : `; look at ${g.metric.includes('calibration') ? 'calibration.table' : 'performance.intervals'}`;
      return `${g.outcome.padEnd(13)} ${g.name}: ${value}${g.clause ? ` [${g.clause}]` : ''}${g.rationale ? ` — ${g.rationale}` : ''}${look}`;
    });
  const reproducibility = decision.reproducibility.filter((r) => !r.met).map((r) => `FAIL          reproducibility ${r.requirement}: ${r.detail}`);
  return [...lines, ...reproducibility, `decision: ${decision.decision}`].join('\n');
}

/** The column distributions stored in an earlier result (JSON) or report (PDF, HTML). */
function storedDistributionsOf(bytes: Uint8Array, path: string): Record<string, StoredDistribution> {
  const distributions = (readResultFile(bytes, path) as { data?: { distributions?: Record<string, StoredDistribution> } }).data?.distributions;
  if (!distributions) throw new UsageError(`${path} holds no stored distributions (data.distributions): use a result or report made by this version of Plumbline.`);
  return distributions;
}

/** A step shorter than this shows no progress (so quick audits and errors stay one line). */
const LONG_STEP_MS = 2000;

/**
 * Progress on stderr for long steps: a bar redrawn in place when stderr is a terminal,
 * plain lines otherwise (every 5 s and when a long stage ends), so CI logs stay readable.
 * `--verbose` reports every batch.
 */
function progressReporter(verbose: boolean): (progress: AuditProgress) => void {
  const tty = process.stderr.isTTY;
  let stage = '';
  let stageStart = Date.now();
  let lastLine = 0;
  return (p) => {
    const now = Date.now();
    if (p.stage !== stage) {
      stage = p.stage;
      stageStart = now;
      lastLine = now;
    }
    const fraction = p.total > 0 ? p.done / p.total : 1;
    const finished = p.done >= p.total;
    const long = now - stageStart >= LONG_STEP_MS;
    if (tty && (long || verbose)) {
      const width = 30;
      const filled = Math.round(fraction * width);
      process.stderr.write(`\r${p.stage.padEnd(8)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%${finished ? '\n' : ''}`);
    } else if (!tty && (verbose || (long && (finished || now - lastLine >= 5000)))) {
      lastLine = now;
      process.stderr.write(`plumbline: ${p.stage} ${p.done.toLocaleString('en')}/${p.total.toLocaleString('en')} (${((now - stageStart) / 1000).toFixed(1)} s)\n`);
    }
  };
}


/** Runs `plumbline audit` and returns the exit code. */
export async function auditCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      'policy-gates': { type: 'string' },
      model: { type: 'string' },
      score: { type: 'string' },
      data: { type: 'string' },
      reference: { type: 'string' },
      'reference-result': { type: 'string' },
      target: { type: 'string' },
      protected: { type: 'string' },
      features: { type: 'string' },
      'positive-label': { type: 'string' },
      threshold: { type: 'string' },
      'threshold-policy': { type: 'string' },
      bootstrap: { type: 'string' },
      seed: { type: 'string' },
      output: { type: 'string', short: 'o' },
      'no-pdf': { type: 'boolean' },
      predictions: { type: 'boolean' },
      registry: { type: 'string' },
      'registry-keep-report': { type: 'boolean' },
      strict: { type: 'boolean' },
      'explain-failures': { type: 'boolean' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  const strict = values.strict ?? false;
  const configPath = values.config;
  let config: AuditConfig = {};
  let configFile: { fileName: string; bytes: Uint8Array } | undefined;
  if (configPath) {
    configFile = await readInput(configPath, 'config');
    config = parseAuditConfig(new TextDecoder().decode(configFile.bytes), configFile.fileName);
  }
  const base = configPath ? dirname(resolve(configPath)) : process.cwd();
  const fromConfig = (path: string | undefined) => (path === undefined ? undefined : resolve(base, path));

  // Flags win over the config.
  const seed = number(values.seed, 'seed');
  if (seed !== undefined && (!Number.isInteger(seed) || seed < 0)) throw new UsageError(`--seed must be a whole number >= 0, got ${values.seed}.`);
  const threshold = number(values.threshold, 'threshold');
  const bootstrap = number(values.bootstrap, 'bootstrap');
  const merged: AuditConfig = {
    ...config,
    model: { ...config.model, ...(values.model ? { path: values.model } : config.model?.path ? { path: fromConfig(config.model.path) } : {}), ...(values.features ? { features: list(values.features) } : {}) },
    data: {
      ...config.data,
      ...(values.data ? { test: values.data } : config.data?.test ? { test: fromConfig(config.data.test) } : {}),
      ...(values.reference ? { reference: values.reference } : config.data?.reference ? { reference: fromConfig(config.data.reference) } : config.data?.train ? { train: fromConfig(config.data.train) } : {}),
      ...(values.target ? { target: values.target } : {}),
      ...(values.protected ? { protected_attributes: list(values.protected) } : {}),
      ...(values.score ? { score_column: values.score } : {}),
      ...(values['positive-label'] !== undefined ? { positive_label: values['positive-label'] } : {}),
    },
    ...(values['threshold-policy'] !== undefined ? { threshold: thresholdPolicy(values['threshold-policy']) } : threshold !== undefined ? { threshold } : {}),
    ...(seed !== undefined ? { random_seed: seed } : {}),
    ...(bootstrap !== undefined ? { bootstrap: { ...config.bootstrap, resamples: bootstrap } } : {}),
  };
  if (values.model && values.score) throw new UsageError('give either --model or --score, not both.');
  if (values.threshold !== undefined && values['threshold-policy'] !== undefined) throw new UsageError('give either --threshold or --threshold-policy, not both.');
  if (values.score) delete merged.model;
  const required = [
    [merged.data?.test, '--data'],
    [merged.data?.target, '--target'],
    [merged.data?.protected_attributes?.length, '--protected'],
  ] as const;
  if (!merged.model?.path && !merged.data?.score_column) throw new UsageError('missing --model (or --score COLUMN for a score-only audit). Run plumbline audit --help for usage.');
  for (const [value, flag] of required) if (!value) throw new UsageError(`missing ${flag}${configPath ? ` (or its config field)` : ''}. Run plumbline audit --help for usage.`);

  if (values['registry-keep-report'] && !(values.registry && values.output?.endsWith('.pdf'))) {
    throw new UsageError('--registry-keep-report keeps the PDF report and evidence pack: give --registry FILE and --output REPORT.pdf too.');
  }
  // A missing or foreign registry fails now, not after a long audit (this writes nothing:
  // the append upgrades an old schema under SQLite's write lock).
  if (values.registry) await checkRegistryFile(values.registry);
  const plan = planAudit(merged, configFile?.fileName ?? 'command line', strict);
  const policyFile = values['policy-gates'] ? await readInput(values['policy-gates'], 'policy') : undefined;
  const policy = policyFile ? parsePolicy(new TextDecoder().decode(policyFile.bytes), policyFile.fileName) : undefined;
  const model = plan.files.model ? await readInput(plan.files.model, 'model') : undefined;

  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  const onProgress = progressReporter(Boolean(values.verbose));
  let referenceDistributions: { source: string; distributions: Record<string, StoredDistribution> } | undefined;
  if (values['reference-result']) {
    const file = await readInput(values['reference-result'], 'reference result');
    const distributions = storedDistributionsOf(file.bytes, values['reference-result']);
    referenceDistributions = { source: `stored distributions of ${file.fileName}`, distributions };
  }
  // Data files are streamed from disk and hashed on the way with Node's native SHA-256.
  const parseProgress = (p: LoadProgress) => onProgress({ stage: 'parse', done: p.bytes, total: p.totalBytes });
  const loadedData = await loadTableFile(plan.files.data, 'data', plan.request.csv ?? {}, parseProgress);
  const loadedReference = plan.files.reference ? await loadTableFile(plan.files.reference, 'reference', plan.request.csv ?? {}) : undefined;
  const audited = await runAudit(ort, { ...plan.request, model, data: loadedData, reference: loadedReference, referenceDistributions, includePredictions: values.predictions ?? false, missingSections: plan.missingSections }, { onProgress });

  const files: Record<string, { file: string; sha256: string }> = { data: { file: loadedData.fileName, sha256: loadedData.loaded.sha256 } };
  if (model) files.model = { file: model.fileName, sha256: sha256Hex(model.bytes) };
  if (loadedReference) files.reference = { file: loadedReference.fileName, sha256: loadedReference.loaded.sha256 };
  if (configFile) files.config = { file: configFile.fileName, sha256: sha256Hex(configFile.bytes) };
  if (policyFile) files.policy = { file: policyFile.fileName, sha256: sha256Hex(policyFile.bytes) };
  const output = values.output;
  const sourceDateEpoch = process.env.SOURCE_DATE_EPOCH;
  const epochSeconds = sourceDateEpoch && /^\d+$/.test(sourceDateEpoch) ? Number(sourceDateEpoch) : Math.floor(Date.now() / 1000);
  // `--output report.pdf`: the whole report family; `--output result.json`: the result,
  // manifest and decision. Every file comes from the one outputs bundle the app uses too.
  const reportFamily = Boolean(output?.endsWith('.pdf'));
  const reports = reportFamily ? reportsOf(merged.report, Boolean(values['no-pdf'])) : { pdf: false, html: false, modelCard: false, pack: false };
  const outputs = auditOutputs(audited, {
    base: output ? basename(output).replace(/\.[^.]*$/, '') : 'result',
    files,
    sources: { ...(configFile ? { config: configFile } : {}), ...(policyFile ? { policy: policyFile } : {}) },
    policy: policy ?? null,
    seedExplicit: plan.seedExplicit,
    strict,
    gitCommit: gitCommit(),
    epochSeconds,
    fromSourceDateEpoch: Boolean(sourceDateEpoch),
    backend: model ? 'wasm' : 'none (score column)',
    manifestWritten: Boolean(output),
    metadata: plan.metadata,
    ...(merged.report?.title ? { title: merged.report.title } : {}),
    reports,
  });
  const { result, manifest } = outputs;
  const decision = outputs.decision ?? undefined;
  // Files kept in the registry entry with --registry-keep-report.
  const kept: Record<string, Uint8Array> = {};
  if (output) {
    const directory = dirname(resolve(output));
    await mkdir(directory, { recursive: true });
    for (const [name, bytes] of Object.entries(outputs.files)) {
      await writeFileAtomically(join(directory, name), bytes);
      if (name.endsWith('.pdf') || name.endsWith('.evidence.zip')) kept[name] = bytes;
    }
  } else {
    process.stdout.write(new TextDecoder().decode(outputs.files['result.json']));
  }
  // Sections that failed to run are said where a CI log shows them, not only inside the result.
  for (const [section, why] of Object.entries(result.missing_sections)) {
    if (sectionFailed(why)) process.stderr.write(`plumbline: ${section} not run, because ${why}\n`);
  }
  if (values.registry) {
    // Said only once the append is on disk, with the checkpoint to record elsewhere.
    const appended = await appendToRegistry(values.registry, { result, manifest, metadata: plan.metadata, blobs: values['registry-keep-report'] ? kept : undefined });
    process.stderr.write(appendedMessage(values.registry, appended));
  }
  if (decision) {
    if (values['explain-failures'] || decision.decision !== 'PASS') process.stderr.write(`${explainFailures(decision)}\n`);
    return decision.decision === 'FAIL' ? EXIT.gateFailed : EXIT.ok;
  }
  return EXIT.ok;
}

