/** The small commands: validate-config, inspect, diff, list. */
import { stdout } from './io.ts';
import { parseArgs } from 'node:util';
import { auditedModelId, compareResults, compareWithBaseline, dateOf, evaluatePolicy, flatMetrics, inspectModel, inspectRegressor, METRIC_CATALOG, modelKind, parseAuditConfig, parsePolicy, parseYaml, planAudit, PROFILES, readResultFile, sha256Hex, signatureLines, verifyEvidencePack, type AuditResult, type BaselineComparison, type BaselineResult, type ComparableResult, type MetricSource, type Policy, type PolicyDecision } from '../core/index.ts';
import { commandEpochSeconds, EXIT, readInput, readText, UsageError } from './shared.ts';

/** `plumbline validate-config FILE…`: audit configs and policy files, told apart by their keys. */
export async function validateConfigCommand(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: { verbose: { type: 'boolean' } } });
  if (positionals.length === 0) throw new UsageError('validate-config needs a file: plumbline validate-config audit.yaml');
  for (const path of positionals) {
    const text = await readText(path, 'config');
    const data = parseYaml(text, path);
    if (data && typeof data === 'object' && ('gates' in data || 'policy_name' in data)) {
      const policy = parsePolicy(text, path);
      stdout.write(`${path}: valid policy "${policy.policy_name}" with ${policy.gates.length} gate${policy.gates.length === 1 ? '' : 's'}\n`);
    } else {
      const config = parseAuditConfig(text, path);
      planAudit(config, path);
      stdout.write(`${path}: valid audit config${config.audit_profile ? ` (profile ${config.audit_profile})` : ''}\n`);
    }
  }
  return EXIT.ok;
}

async function readResult(path: string): Promise<ComparableResult & { n?: number; threshold?: number }> {
  return readResultFile((await readInput(path, 'result')).bytes, path) as ComparableResult;
}

/** `plumbline inspect-model FILE [--json]`: the model's signature, read from the file alone. */
export async function inspectModelCommand(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { verbose: { type: 'boolean' }, json: { type: 'boolean' } } });
  if (positionals.length !== 1) throw new UsageError('inspect-model needs one model file: plumbline inspect-model model.onnx [--json]');
  const file = await readInput(positionals[0], 'model');
  const kind = modelKind(file.bytes, file.fileName);
  const summary = kind === 'regressor' ? inspectRegressor(file.bytes, file.fileName) : inspectModel(file.bytes, file.fileName);
  // A regressor has no classes: its signature says so instead of the classes line.
  const lines = signatureLines(summary).map((line) => (kind === 'regressor' && line.startsWith('classes:') ? 'classes: none (a regressor: one number per row)' : line));
  if (kind === 'regressor') lines.push('audit: regression (task: regression is inferred); add threshold and positive_when for the decision it feeds');
  if (kind === 'either') lines.push('audit: a binary classifier reading this output as p(positive), or a regression when the target holds numbers of more than two values (task: regression)');
  stdout.write(values.json ? `${JSON.stringify({ ...summary, kind }, null, 2)}\n` : `${lines.join('\n')}\n`);
  return EXIT.ok;
}

/** `plumbline inspect result.json`: the key figures of a result. */
export async function inspectCommand(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: { verbose: { type: 'boolean' } } });
  if (positionals.length !== 1) throw new UsageError('inspect needs one result or report: plumbline inspect report.pdf|result.json');
  const result = await readResult(positionals[0]);
  const task = (result as { task?: string }).task;
  const lines = [`model: ${result.inputs?.model?.file ?? '(score column)'}  data: ${result.inputs?.data?.file} (${result.n} rows)  ${task ? `task: ${task}` : `threshold: ${result.threshold}`}`];
  for (const [id, value] of flatMetrics(result)) lines.push(`  ${id.padEnd(48)} ${value === null ? '— (no value)' : value.toFixed(6)}`);
  if (result.policy_decision) lines.push(`decision: ${result.policy_decision.decision}`);
  stdout.write(`${lines.join('\n')}\n`);
  return EXIT.ok;
}

/**
 * `plumbline diff BASELINE CHALLENGER [--policy-gates P [--strict] [--force-policy]]`: input, metric (with the change's
 * interval), seed and gate differences. With a policy, the challenger is gated against the
 * baseline (relative gates included) and the exit code is the decision's: 1 on FAIL. Without
 * one, exit 1 when a gate outcome stored in the results (or --decision-a/-b) changed.
 */
export async function diffCommand(args: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { verbose: { type: 'boolean' }, 'decision-a': { type: 'string' }, 'decision-b': { type: 'string' }, 'policy-gates': { type: 'string' }, 'force-policy': { type: 'boolean' }, strict: { type: 'boolean' } },
  });
  if (positionals.length !== 2) throw new UsageError('diff needs two result files: plumbline diff before.json after.json');
  for (const flag of ['force-policy', 'strict'] as const) if (values[flag] && !values['policy-gates']) throw new UsageError(`--${flag} acts on a policy's gates: give the policy with --policy-gates P.`);
  const files = await Promise.all(positionals.map((path) => readInput(path, 'result')));
  const [a, b] = files.map((file, i) => readResultFile(file.bytes, positionals[i]) as unknown as ComparableResult & BaselineResult & { comparison?: BaselineComparison; settings?: { confidence?: number; seed?: number }; task?: string });
  // Metrics of different kinds of audit share no meaning (a regression's MAE beside a classifier's accuracy).
  if ((a.task ?? 'binary') !== (b.task ?? 'binary')) throw new UsageError(`${positionals[0]} is a ${a.task ?? 'binary'} audit and ${positionals[1]} a ${b.task ?? 'binary'} audit: their metrics cannot be compared. Diff two audits of the same kind.`);
  const decisionA = values['decision-a'] ? (JSON.parse(await readText(values['decision-a'], 'policy decision')) as PolicyDecision) : undefined;
  const decisionB = values['decision-b'] ? (JSON.parse(await readText(values['decision-b'], 'policy decision')) as PolicyDecision) : undefined;
  const comparison = compareResults(a, b, { a: decisionA, b: decisionB });
  const baselineSha = sha256Hex(files[0].bytes);
  // B audited with --baseline A holds the paired comparison; otherwise compare the two results as they are.
  const against =
    b.comparison && b.comparison.baseline.sha256 === baselineSha
      ? b.comparison
      : compareWithBaseline(b, a, { file: files[0].fileName, sha256: baselineSha }, { rows: null, seed: b.settings?.seed ?? 0, resamples: 0, confidence: b.settings?.confidence ?? 0.95, noRows: 'plumbline diff compares two stored results, which hold no labels to pair rows with (audit the challenger with --baseline on the champion, audited with --predictions, for paired tests)' });
  const number = (v: number | null) => (v === null ? '— (no value)' : v.toFixed(6));
  const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(6)}`;
  const metricLines = against.metrics
    .filter((m) => m.baseline !== m.current)
    .map((m) => {
      const id = m.attribute ? `${m.id}[${m.attribute}]` : m.id;
      const interval = m.interval ? `, ${Math.round((b.settings?.confidence ?? 0.95) * 100)}% CI ${signed(m.interval.low)} to ${signed(m.interval.high)}` : '';
      const p = m.p_value !== null ? `, p = ${m.p_value.toPrecision(3)}` : '';
      return `${id}: ${number(m.baseline)} → ${number(m.current)}${m.change !== null ? ` (${signed(m.change)}${interval}${p})` : ''}`;
    });
  let decision: PolicyDecision | null = null;
  if (values['policy-gates']) {
    const policyFile = await readInput(values['policy-gates'], 'policy');
    const { reproducibility, ...gatesOnly } = parsePolicy(new TextDecoder().decode(policyFile.bytes), policyFile.fileName);
    const result = b as unknown as MetricSource & { inputs: AuditResult['inputs'] };
    // Reproducibility (seed, strict mode, manifest, git commit) is judged when the challenger is
    // audited, from facts diff does not have: left out here, and said so.
    const required = Object.entries(reproducibility ?? {}).filter(([, on]) => on).map(([key]) => key);
    decision = evaluatePolicy(gatesOnly as Policy, sha256Hex(policyFile.bytes), { ...result, comparison: against }, {
      seedGiven: true,
      // As audit --strict: an error gate that cannot be evaluated fails (a relative gate of unpaired audits, a metric the results lack).
      strict: values.strict ?? false,
      manifestWritten: true,
      gitCommit: null,
      // The date waivers and effective dates are judged on: SOURCE_DATE_EPOCH when given (reproducible CI runs), else today.
      today: dateOf(commandEpochSeconds()),
      // The id the challenger's own audit was gated under (its config's metadata.model_id), else its model file.
      modelId: b.policy_decision?.terms?.model_id ?? auditedModelId(result, undefined),
      force: values['force-policy'] ?? false,
    });
    if (required.length) decision.notices.push(`The policy's reproducibility requirements (${required.join(', ')}) are judged by the challenger's own audit (its policy_decision), not by diff.`);
  }
  const lines = [
    ...comparison.inputs.map((d) => `${d.input} file changed: ${d.before ?? '—'} → ${d.after ?? '—'}`),
    ...(against.seed_change ? [`seed changed: ${against.seed_change.baseline ?? '—'} → ${against.seed_change.current ?? '—'}`] : []),
    ...(against.threshold_change ? [`threshold changed: ${against.threshold_change.baseline ?? '—'} → ${against.threshold_change.current ?? '—'} (changes at the threshold are partly its own)`] : []),
    ...(against.different_outcome ? [`warning: ${against.different_outcome}`] : []),
    ...(metricLines.length ? [against.paired ? `changes (paired tests on the same rows):` : `changes (${against.unpaired_reason ? `not paired: ${against.unpaired_reason}` : 'not paired'}):`, ...metricLines] : []),
    ...(comparison.decision ? comparison.gates.filter((g) => g.changed).map((g) => `gate "${g.name}": ${g.before ?? 'absent'} → ${g.after ?? 'absent'}`) : []),
    ...(comparison.decision && comparison.decision.before !== comparison.decision.after ? [`decision: ${comparison.decision.before} → ${comparison.decision.after}`] : []),
    ...(decision ? [...decision.notices.map((n) => `notice: ${n}`), ...decision.gates.map((g) => `gate "${g.name}" (${g.comparison} ${g.threshold}): ${g.outcome}${g.value !== null ? `, ${g.baseline_value !== undefined ? 'change ' : ''}${g.value.toFixed(6)}` : `, ${g.reason}`}`), `policy "${decision.policy_name}" decision for ${positionals[1]}: ${decision.decision}`] : []),
  ];
  stdout.write(lines.length ? `${lines.join('\n')}\n` : 'no differences\n');
  if (decision) return decision.decision === 'FAIL' ? EXIT.gateFailed : EXIT.ok;
  return comparison.gateChanged ? EXIT.gateFailed : EXIT.ok;
}

/** `plumbline list metrics|profiles|explainers`. */
export function listCommand(args: string[]): number {
  const [what] = args;
  if (what === 'metrics') {
    for (const metric of METRIC_CATALOG.values()) stdout.write(`${metric.id.padEnd(44)} ${metric.section.padEnd(12)} ${metric.direction.padEnd(17)} ${metric.definition}\n`);
  } else if (what === 'profiles') {
    for (const [name, profile] of Object.entries(PROFILES)) stdout.write(`${name.padEnd(12)} ${profile.description}\n`);
  } else if (what === 'explainers') {
    stdout.write(
      [
        'tree       interventional TreeSHAP (exact, polynomial) of tree ensembles read from ONNX (both layouts), XGBoost JSON, LightGBM text; raw output space',
        'tree-path  path-dependent TreeSHAP from node covers (XGBoost JSON, LightGBM text), as xgboost pred_contribs',
        'kernel     exact KernelSHAP (every coalition) of any model with at most 12 columns; probability output',
        'auto       tree for tree ensembles whose trees read the model inputs, kernel otherwise',
      ].join('\n') + '\n',
    );
  } else {
    throw new UsageError(`list what? plumbline list metrics|profiles|explainers`);
  }
  return EXIT.ok;
}

/** `plumbline verify-pack pack.zip`: checks every file against SHA256SUMS; exit 1 if anything changed. */
export async function verifyPackCommand(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: { verbose: { type: 'boolean' } } });
  if (positionals.length !== 1) throw new UsageError('verify-pack needs one evidence pack: plumbline verify-pack audit.evidence.zip');
  const check = verifyEvidencePack((await readInput(positionals[0], 'evidence pack')).bytes);
  if (check.ok) {
    const digest = check.files.some((name) => name.endsWith('.manifest.json')) ? ', and the result matches the manifest\'s result digest' : '';
    stdout.write(`${positionals[0]}: intact (${check.files.length} files match SHA256SUMS, none is a link or a device${digest})\n`);
    return EXIT.ok;
  }
  stdout.write(`${check.problems.map((p) => `${positionals[0]}: ${p}`).join('\n')}\n`);
  return EXIT.gateFailed;
}
