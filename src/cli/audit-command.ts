/** `plumbline audit`: config and flags → audit → result, manifest, policy decision, exit code. */
import { stdout, stderr } from './io.ts';
import { comparisonRows, comparisonSummary, gateNumber, METRIC_CATALOG, sectionFailed, type AuditProgress, type BaselineComparison, type PolicyDecision, type ThresholdPolicy } from '../core/index.ts';
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { prepareAudit, runPreparedAudit, type AuditOptions } from '../api/node.ts';
import { CSV_FLAGS, CSV_FLAGS_USAGE, csvFlags, EXIT, registryModule, UsageError } from './shared.ts';
import { unlabelledSummary } from './unlabelled-summary.ts';
import { taskSummary } from './task-summary.ts';

const USAGE = `Usage: plumbline audit [--config audit.yaml] [--policy-gates gates.yaml] [options]

Audits a binary or multiclass classifier or a regression model on a CSV test set. The config's
data, model, threshold, seed and bootstrap fields also have flags (below); flags win.

Options:
  --config FILE           audit config (YAML); paths in it are relative to it
  --policy-gates FILE     policy gates (YAML): writes policy_decision.json, exit 1 on a failed error gate
  --model FILE            model: ONNX, XGBoost JSON or LightGBM text
  --score COLUMN          audit a score column of the data instead of a model
  --data FILE             CSV test set (with a header row)
  --reference FILE        reference data (usually train) for drift: PSI, KS, χ², prediction drift
  --reference-result FILE reference-free drift against the distributions stored in an earlier
                          result (JSON or PDF report), e.g. the validated audit
  --target COLUMN         column holding the true outcome; without one (or when the column is
                          empty on every row) the audit runs without labels: selection rates and
                          demographic parity measured, performance estimated (CBPE)
  --no-labels             the data is a batch without outcomes: audit it without labels although
                          --target (or the config) names the outcome column, still read from the
                          reference to check the calibration the estimates assume
  --protected A[,B]       protected attribute columns
  --features C1,C2,...    column order for a model with one [N, F] input
  --positive-label VALUE  the positive outcome (default 1 for a 0/1 target)
${CSV_FLAGS_USAGE}
  --task T                binary | multiclass | regression (default: inferred from the model
                          and the target — a regressor, or more than two classes without a
                          positive label — and stated in the result)
  --class-labels A,B,C    the model's class names in output order (class 0 first), for a file
                          that names none (XGBoost JSON, LightGBM) and a target of words
  --positive-when W       above | below: a regression feeding a decision, positive when the
                          prediction is at or above (below) --threshold; adds its binary audit
  --threshold T           predicted positive when p >= T (default 0.5)
  --threshold-policy P    youden | selection_rate:R | cost:FP,FN (fitted on --validation,
                          else on --data itself, reported as a limitation)
  --validation FILE       held-out labelled data the threshold policy is fitted on
  --bootstrap N           simulation draws of the ECE interval (default 1000; 0: none)
  --seed N                random seed (default 0)
  --threads N             threads for TreeSHAP and for scoring large tables (default:
                          PLUMBLINE_THREADS, else the number of cores); the result is the
                          same to the byte for any N
  --output FILE           the PDF report (FILE.pdf, with FILE.html, FILE.model_card.md and the
                          evidence pack FILE.evidence.zip beside it) or only the result
                          (FILE.json); the result JSON, FILE.manifest.json and
                          policy_decision.json are written beside either
  --no-pdf                skip the PDF (FILE.html, FILE.model_card.md and FILE.evidence.zip
                          are still written beside a .pdf output)
  --registry FILE|URL     append this audit to a registry: a file, or a PostgreSQL database
                          postgresql://USER@HOST:PORT/DB (password from PGPASSWORD or ~/.pgpass);
                          plumbline registry init FILE|URL first
  --registry-keep-report  keep the PDF report and evidence pack in the registry entry too
  --predictions           include p(positive) of every row (predictions_p1)
  --baseline RESULT       compare with the production model's audit (result JSON, PDF or HTML
                          report, or a registry entry FILE|URL#SEQ): every metric's change with
                          its interval, paired tests when both scored the same rows (audit the
                          baseline with --predictions); relative gates (max_drop, max_increase)
  --force-policy          apply the policy although it is not yet in effect (effective_date)
                          or not for this model (applies_to)
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
/** A flag's value that must be one of a few words. */
function choiceOf<T extends string>(text: string, flag: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(text)) return text as T;
  throw new UsageError(`${flag} ${JSON.stringify(text)} is not one of: ${allowed.join(', ')}.`);
}

function thresholdPolicy(text: string): ThresholdPolicy {
  const [name, argument = ''] = text.split(':');
  const values = argument.split(',').map(Number);
  if (name === 'youden' && argument === '') return { policy: 'youden' };
  if (name === 'selection_rate' && values.length === 1 && values[0] > 0 && values[0] < 1) return { policy: 'selection_rate', target: values[0] };
  if (name === 'cost' && values.length === 2 && values.every((v) => Number.isFinite(v) && v >= 0)) return { policy: 'cost', cost_fp: values[0], cost_fn: values[1] };
  throw new UsageError(`--threshold-policy ${JSON.stringify(text)} is not one of: youden, selection_rate:R (0 < R < 1), cost:FP,FN (costs >= 0).`);
}

/** The comparison with the baseline for a CI log: how it was made, and the key metrics' changes. */
function comparisonText(comparison: BaselineComparison): string {
  const key = new Set(['roc_auc', 'accuracy', 'expected_calibration_error', 'demographic_parity_difference', 'equalized_odds_difference']);
  const rows = comparisonRows({ ...comparison, metrics: comparison.metrics.filter((m) => key.has(m.id) && m.change !== null) });
  return `plumbline: ${comparisonSummary(comparison)}\n${rows.map((r) => `plumbline:   ${r[0]}: ${r[1]} → ${r[2]} (${r[3]}; interval ${r[4]}${r[5] ? `; p = ${r[5]}` : ''})\n`).join('')}`;
}

/** Where in the result a failing gate's metric is explained. */
function lookAt(metric: string): string {
  const section = METRIC_CATALOG.get(metric)?.section;
  if (metric.includes('calibration')) return 'calibration.table';
  if (section === 'drift') return 'drift.columns (and drift.missing_columns)';
  if (section && section !== 'performance' && section !== 'fairness') return section;
  return 'performance.intervals';
}

/** Prints failing gates for a person reading a CI log. */
function explainFailures(decision: PolicyDecision, regressionDecision = false): string {
  const lines = decision.gates
    .filter((g) => g.outcome !== 'PASS')
    .map((g) => {
      const sign = { greater_than: '>', greater_equal: '>=', less_than: '<', less_equal: '<=', max_drop: 'a drop of at most', max_increase: 'a rise of at most' }[g.comparison];
      const where = g.attribute ? ` (${g.attribute})` : '';
      const relative = g.baseline_value !== undefined ? ` (baseline ${g.baseline_value === null ? '—' : g.baseline_value.toPrecision(4)} → ${g.current_value == null ? '—' : g.current_value.toPrecision(4)})` : '';
      // The number sits on its side of the threshold (0.7441 read as passing >= 0.74409, which it failed).
      const shown = g.value === null ? '' : g.baseline_value !== undefined ? `change in ${g.metric}${where} = ${g.value >= 0 ? '+' : ''}${gateNumber({ ...g, value: g.value })}${relative}` : `${g.metric}${where} = ${gateNumber({ ...g, value: g.value })}`;
      const waiver = g.waiver ? `; waived by ${g.waiver.approved_by} until ${g.waiver.expires}: ${g.waiver.reason}` : g.waiver_expired ? `; ${g.waiver_expired}` : '';
      const value = g.value === null ? `not evaluated: ${g.reason}` : `${shown}, needs ${sign} ${g.threshold}${waiver}`;
      // A regression that feeds a decision: its binary metrics are the decision audit's.
      const within = regressionDecision && !(METRIC_CATALOG.get(g.metric)?.tasks ?? ['binary']).includes('regression') ? 'decision_audit.' : '';
      const look = g.value === null ? '' : g.baseline_value !== undefined ? '; look at comparison.metrics for the change and its interval' : g.attribute ? `; look at ${within}fairness.${g.attribute}.groups for the groups behind it` : `; look at ${within}${lookAt(g.metric)}`;
      return `${g.outcome.padEnd(13)} ${g.name}: ${value}${g.clause ? ` [${g.clause}]` : ''}${g.rationale ? ` — ${g.rationale}` : ''}${look}`;
    });
  const reproducibility = decision.reproducibility.filter((r) => !r.met).map((r) => `FAIL          reproducibility ${r.requirement}: ${r.detail}`);
  return [...decision.notices.filter((n) => !n.startsWith('Gate ') && !n.startsWith('Reproducibility requirement ')).map((n) => `NOTICE        ${n}`), ...lines, ...reproducibility, `decision: ${decision.decision}`].join('\n');
}

/** A step shorter than this shows no progress (so quick audits and errors stay one line). */
const LONG_STEP_MS = 2000;

/**
 * Progress on stderr for long steps: a bar redrawn in place when stderr is a terminal,
 * plain lines otherwise (every 5 s and when a long stage ends), so CI logs stay readable.
 * `--verbose` reports every batch.
 */
function progressReporter(verbose: boolean): (progress: AuditProgress) => void {
  const tty = stderr.isTTY;
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
      stderr.write(`\r${p.stage.padEnd(8)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%${finished ? '\n' : ''}`);
    } else if (!tty && (verbose || (long && (finished || now - lastLine >= 5000)))) {
      lastLine = now;
      stderr.write(`plumbline: ${p.stage} ${p.done.toLocaleString('en')}/${p.total.toLocaleString('en')} (${((now - stageStart) / 1000).toFixed(1)} s)\n`);
    }
  };
}


/**
 * `--baseline`: a result file, or a registry entry `FILE#SEQ` / `postgresql://…#SEQ` (read
 * from the verified registry) when no file has that name.
 */
async function baselineOption(value: string): Promise<AuditOptions['baseline']> {
  const entry = /^(.+)#(\d+)$/.exec(value);
  if (!entry || existsSync(value)) return value;
  const registry = await registryModule();
  return registry.registryBaseline(entry[1], Number(entry[2]));
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
      validation: { type: 'string' },
      'reference-result': { type: 'string' },
      target: { type: 'string' },
      'no-labels': { type: 'boolean' },
      protected: { type: 'string' },
      features: { type: 'string' },
      'positive-label': { type: 'string' },
      task: { type: 'string' },
      'class-labels': { type: 'string' },
      'positive-when': { type: 'string' },
      threshold: { type: 'string' },
      'threshold-policy': { type: 'string' },
      bootstrap: { type: 'string' },
      seed: { type: 'string' },
      threads: { type: 'string' },
      output: { type: 'string', short: 'o' },
      'no-pdf': { type: 'boolean' },
      predictions: { type: 'boolean' },
      baseline: { type: 'string' },
      'force-policy': { type: 'boolean' },
      registry: { type: 'string' },
      'registry-keep-report': { type: 'boolean' },
      strict: { type: 'boolean' },
      'explain-failures': { type: 'boolean' },
      verbose: { type: 'boolean' },
      ...CSV_FLAGS,
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  if (values.threshold !== undefined && values['threshold-policy'] !== undefined) throw new UsageError('give either --threshold or --threshold-policy, not both.');
  if (values['explain-failures'] && !values['policy-gates']) throw new UsageError('--explain-failures explains the failed gates of a policy: give the policy (--policy-gates FILE).');
  if (values['registry-keep-report'] && !(values.registry && values.output?.endsWith('.pdf'))) {
    throw new UsageError('--registry-keep-report keeps the PDF report and evidence pack: give --registry FILE|URL and --output REPORT.pdf too.');
  }
  const threshold = number(values.threshold, 'threshold');
  const options: AuditOptions = {
    ...(values.config ? { config: values.config } : {}),
    ...(values['policy-gates'] ? { policy: values['policy-gates'] } : {}),
    model: values.model,
    score: values.score,
    data: values.data,
    reference: values.reference,
    ...(values.validation ? { validation: values.validation } : {}),
    referenceResult: values['reference-result'],
    target: values.target,
    ...(values['no-labels'] ? { noLabels: true } : {}),
    protected: list(values.protected),
    features: list(values.features),
    positiveLabel: values['positive-label'],
    ...(values.task !== undefined ? { task: choiceOf(values.task, '--task', ['binary', 'multiclass', 'regression'] as const) } : {}),
    ...(values['class-labels'] !== undefined ? { classLabels: list(values['class-labels']) } : {}),
    ...(values['positive-when'] !== undefined ? { positiveWhen: choiceOf(values['positive-when'], '--positive-when', ['above', 'below'] as const) } : {}),
    ...csvFlags(values),
    threshold: values['threshold-policy'] !== undefined ? thresholdPolicy(values['threshold-policy']) : threshold,
    bootstrap: number(values.bootstrap, 'bootstrap'),
    seed: number(values.seed, 'seed'),
    ...(values.threads !== undefined ? { threads: number(values.threads, 'threads') } : {}),
    predictions: values.predictions ?? false,
    ...(values.baseline ? { baseline: await baselineOption(values.baseline) } : {}),
    forcePolicy: values['force-policy'] ?? false,
    strict: values.strict ?? false,
    output: values.output,
    noPdf: values['no-pdf'] ?? false,
    onProgress: progressReporter(Boolean(values.verbose)),
  };
  const prepared = await prepareAudit(options, 'cli');
  // The registry is loaded only when asked for (its SQLite driver is an optional dependency),
  // and a missing or foreign registry fails now, not after a long audit (this writes
  // nothing: the append upgrades an old schema under SQLite's write lock).
  // --registry, else the config's registry block (auto_submit), with its metadata over the config's.
  const target = values.registry ?? prepared.submission?.database;
  const metadata = { ...prepared.plan.metadata, ...(prepared.submission?.metadata ?? {}) };
  const registry = target ? await registryModule() : undefined;
  if (registry && target) await registry.checkRegistryFile(target);
  const run = await runPreparedAudit(prepared);
  const { result, manifest, decision } = run;
  if (!values.output) stdout.write(new TextDecoder().decode(run.files['result.json']));
  // An audit without labels says so first, with its estimated figures named as such.
  stderr.write(unlabelledSummary(result));
  // A multiclass or regression audit says which kind it is, why, and its key figures.
  stderr.write(taskSummary(result));
  // Sections that failed to run are said where a CI log shows them, not only inside the result.
  for (const [section, why] of Object.entries(result.missing_sections)) {
    if (sectionFailed(why)) stderr.write(`plumbline: ${section} not run, because ${why}\n`);
  }
  // A finding of error severity (scores that rank the positive label last, "." thousands read as decimals) is said in the CI log too.
  for (const finding of result.data.findings) if (finding.severity === 'error') stderr.write(`plumbline: error finding (${finding.check}): ${finding.message}\n`);
  if (result.comparison) stderr.write(comparisonText(result.comparison));
  if (registry && target) {
    // Files kept in the registry entry with --registry-keep-report.
    const kept = Object.fromEntries(Object.entries(run.files).filter(([name]) => name.endsWith('.pdf') || name.endsWith('.evidence.zip')));
    // Said only once the append is on disk, with the checkpoint to record elsewhere.
    const appended = await registry.appendToRegistry(target, { result, manifest, metadata, blobs: values['registry-keep-report'] ? kept : undefined });
    stderr.write(registry.appendedMessage(target, appended));
  }
  if (decision) {
    const regressionDecision = 'task' in result && result.task === 'regression' && 'decision_audit' in result && result.decision_audit !== undefined;
    if (values['explain-failures'] || decision.decision !== 'PASS') stderr.write(`${explainFailures(decision, regressionDecision)}\n`);
    // REVIEW (a warning or a waiver) and NOT_APPLIED (a policy not in force) exit 0, and say so above.
    return decision.decision === 'FAIL' ? EXIT.gateFailed : EXIT.ok;
  }
  return EXIT.ok;
}
