/** `plumbline check-data`: checks of a data file before any model exists, gated by a policy. */
import { stdout, stderr } from './io.ts';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkDataTable, DATA_CHECK_DEFAULTS, DATA_CHECK_METRICS, dataCheckHtml, dataCheckText, dateOf, evaluateDataPolicy, parseDataPolicy, sha256Hex } from '../core/index.ts';
import { writeFileAtomically } from '../api/node.ts';
import { commandEpochSeconds, CSV_FLAGS, CSV_FLAGS_USAGE, csvFlags, csvLoadOptions, EXIT, loadTableFile, readInput, UsageError } from './shared.ts';

const USAGE = `Usage: plumbline check-data --data FILE [options]

Checks a data file without a model: rows, missing values, duplicates, class balance, group
sizes and base rates per protected group, proxies of the protected attributes, freshness,
likely personal data, skewness, and drift against a reference. Every check is a metric a
policy can gate (plumbline check-data --list-metrics).

Options:
  --data FILE             the data (CSV, Parquet or Arrow)
  --reference FILE        reference data (usually train) for drift: KS / χ² per column, PSI
  --target COLUMN         the outcome column: class balance, base rates per group
  --positive-label VALUE  the positive outcome (default 1 for a 0/1 target)
  --protected A[,B]       protected attribute columns: group sizes, base rates, proxies
  --date-column COLUMN    the column whose newest date gives the data's age
  --data-date YYYY-MM-DD  the data's date, when no column holds it
  --policy-gates FILE     gates on the data-check metrics (the policy format): exit 1 on FAIL
  --force-policy          apply the policy although not yet in effect
  --alpha A               significance level of the drift tests (default 0.05)
  --missing-warn S        missing share from which a column is warned (default 0.05)
  --skew-warn K           |skewness| from which a numeric column is warned (default 2)
${CSV_FLAGS_USAGE}
  --out DIR               write DIR/data-check.json, DIR/data-check.html and, with a policy,
                          DIR/policy_decision.json
  --output FILE           write the report: FILE.json (the report, and policy_decision.json
                          beside it with a policy) or FILE.html (the HTML report beside it too)
  --json                  print the report as JSON instead of the summary
  --list-metrics          the metric ids a data policy can gate
  -h, --help              this help

Exit codes: 0 checked (no error gate failed), 1 an error gate failed, 2 could not check.
The check is dated SOURCE_DATE_EPOCH when set (reproducible CI), else today.`;

function number(raw: string | undefined, name: string, low: number, high: number): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value <= low || value >= high) throw new UsageError(`--${name} must be a number between ${low} and ${high} (exclusive), got ${JSON.stringify(raw)}.`);
  return value;
}

/** Runs `plumbline check-data` and returns the exit code. */
export async function checkDataCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      reference: { type: 'string' },
      target: { type: 'string' },
      'positive-label': { type: 'string' },
      protected: { type: 'string' },
      'date-column': { type: 'string' },
      'data-date': { type: 'string' },
      'policy-gates': { type: 'string' },
      'force-policy': { type: 'boolean' },
      alpha: { type: 'string' },
      'missing-warn': { type: 'string' },
      'skew-warn': { type: 'string' },
      out: { type: 'string' },
      output: { type: 'string', short: 'o' },
      json: { type: 'boolean' },
      'list-metrics': { type: 'boolean' },
      ...CSV_FLAGS,
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  if (values['list-metrics']) {
    const width = Math.max(...DATA_CHECK_METRICS.map((m) => m.id.length));
    for (const m of DATA_CHECK_METRICS) stdout.write(`${m.id.padEnd(width)}  ${m.direction.padEnd(17)} ${m.definition}\n`);
    return EXIT.ok;
  }
  if (!values.data) throw new UsageError('check-data needs --data FILE. Run plumbline check-data --help for usage.');
  if (values['date-column'] && values['data-date']) throw new UsageError('give either --date-column or --data-date, not both.');
  if (values.out !== undefined && values.output !== undefined) throw new UsageError('give either --out DIR or --output FILE, not both.');
  if (values.out !== undefined && values.out.trim() === '') throw new UsageError('--out needs a folder name, e.g. --out checks.');
  if (values.output && !/\.(json|html)$/.test(values.output)) throw new UsageError(`--output ${JSON.stringify(values.output)} must end in .json or .html.`);
  const policyFile = values['policy-gates'] ? await readInput(values['policy-gates'], 'policy') : undefined;
  const policy = policyFile ? parseDataPolicy(new TextDecoder().decode(policyFile.bytes), policyFile.fileName) : undefined;
  const today = dateOf(commandEpochSeconds());
  const csv = csvLoadOptions(csvFlags(values));
  const data = await loadTableFile(values.data, 'data', csv);
  const reference = values.reference ? await loadTableFile(values.reference, 'reference', csv) : undefined;
  const report = checkDataTable(data.loaded.table, data.loaded.sha256, {
    ...(values.target ? { target: values.target } : {}),
    ...(values['positive-label'] !== undefined ? { positiveLabel: values['positive-label'] } : {}),
    protectedAttributes: values.protected ? values.protected.split(',').map((s) => s.trim()).filter(Boolean) : [],
    ...(reference ? { reference: reference.loaded.table } : {}),
    ...(values['date-column'] ? { dateColumn: values['date-column'] } : {}),
    ...(values['data-date'] ? { dataDate: values['data-date'] } : {}),
    today,
    alpha: number(values.alpha, 'alpha', 0, 1) ?? DATA_CHECK_DEFAULTS.alpha,
    missingWarn: number(values['missing-warn'], 'missing-warn', 0, 1) ?? DATA_CHECK_DEFAULTS.missingWarn,
    skewWarn: number(values['skew-warn'], 'skew-warn', 0, Infinity) ?? DATA_CHECK_DEFAULTS.skewWarn,
  });
  const decision = policy && policyFile ? evaluateDataPolicy(policy, sha256Hex(policyFile.bytes), report, { force: values['force-policy'] ?? false }) : null;
  const json = `${JSON.stringify({ ...report, ...(decision ? { policy_decision: decision } : {}) }, null, 2)}\n`;
  stdout.write(values.json ? json : dataCheckText(report));
  const target = values.out !== undefined ? { directory: resolve(values.out), base: 'data-check', html: true } : values.output ? { directory: dirname(resolve(values.output)), base: values.output.replace(/^.*[\\/]/, '').replace(/\.(json|html)$/, ''), html: values.output.endsWith('.html') } : null;
  if (target) {
    const existing = await stat(target.directory).catch(() => null);
    if (existing && !existing.isDirectory()) throw new UsageError(`${values.out !== undefined ? '--out' : '--output'}: ${JSON.stringify(target.directory)} is a file, not a folder. Give a folder to write the report into (it is made when missing).`);
    await mkdir(target.directory, { recursive: true });
    await writeFileAtomically(join(target.directory, `${target.base}.json`), new TextEncoder().encode(json));
    if (target.html) await writeFileAtomically(join(target.directory, `${target.base}.html`), new TextEncoder().encode(dataCheckHtml(report, decision)));
    if (decision) await writeFileAtomically(join(target.directory, 'policy_decision.json'), new TextEncoder().encode(`${JSON.stringify(decision, null, 2)}\n`));
  }
  if (!decision) return EXIT.ok;
  const lines = [
    ...decision.notices.map((n) => `NOTICE        ${n}`),
    ...decision.gates.filter((g) => g.outcome !== 'PASS').map((g) => `${g.outcome.padEnd(13)} ${g.name}: ${g.value === null ? `not evaluated: ${g.reason}` : `${g.metric} = ${g.value}, needs ${g.comparison.replace('_', ' ')} ${g.threshold}`}${g.waiver ? `; waived by ${g.waiver.approved_by} until ${g.waiver.expires}` : ''}`),
    `decision: ${decision.decision}`,
  ];
  stderr.write(`${lines.join('\n')}\n`);
  return decision.decision === 'FAIL' ? EXIT.gateFailed : EXIT.ok;
}
