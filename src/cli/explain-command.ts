/** `plumbline explain`: SHAP values of rows of a data file, as JSON. */
import { stdout } from './io.ts';
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { reasonCodesCsv, type ExplainMethod } from '../core/index.ts';
import { explain } from '../api/node.ts';
import { CSV_FLAGS, CSV_FLAGS_USAGE, csvFlags, csvLoadOptions, EXIT, UsageError } from './shared.ts';

const USAGE = `Usage: plumbline explain --model M --data D [--background B] [--rows N] [--method auto|tree|tree-path|kernel] --output shap.json

Writes {columns, expected_value, values} (one row of values per explained row) plus the
method, output space, background and local-accuracy error.

Options:
  --background FILE       background rows (reference/train); default: the data itself
  --background-rows N     background size (default 100)
  --background-first      take the first N background rows instead of a seeded sample
  --rows N                explain the first N data rows (default 100)
  --method M              auto (trees: interventional TreeSHAP; linear: exact linear SHAP;
                          others: exact KernelSHAP), tree, tree-path (node covers, as
                          xgboost pred_contribs), kernel, permutation (AUC drop)
  --features C1,C2,...    column order for a model with one [N, F] input
  --seed N                seed of the background sample and permutations (default 0)
  --threads N             threads for TreeSHAP and for scoring KernelSHAP's coalitions
                          (default: PLUMBLINE_THREADS, else the number of cores); the
                          values are the same to the bit for any N
  --reason-codes N        add the top N adverse-action reasons of every adverse row
  --adverse negative|positive  which decision is adverse (default negative: p < threshold)
  --threshold T           decision threshold for reason codes (default 0.5)
  --protected A[,B]       protected attributes: never a reason
  --exclude C[,D]         other columns that may never be a reason
  --target COLUMN         the true outcome (needed by --method permutation)
  --positive-label V      the positive outcome (default 1 for a 0/1 target)
  --class-labels A,B      the model's class names in output order (class 0 first), for a
                          file that names none (XGBoost JSON, LightGBM) and a target of words
${CSV_FLAGS_USAGE}
  --pdp C[,D]             partial dependence and ICE for these columns
  --reason-codes-csv FILE also write the reason codes as CSV (formula-looking cells neutralised)
  --output FILE           where to write the JSON (default: stdout)`;

const METHODS = ['auto', 'tree', 'tree-path', 'kernel', 'permutation'];
const list = (text: string | undefined) => (text ? text.split(',').map((s) => s.trim()).filter(Boolean) : []);

/** Runs `plumbline explain`. */
export async function explainCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: 'string' },
      data: { type: 'string' },
      background: { type: 'string' },
      'background-rows': { type: 'string' },
      'background-first': { type: 'boolean' },
      rows: { type: 'string' },
      method: { type: 'string' },
      features: { type: 'string' },
      seed: { type: 'string' },
      threads: { type: 'string' },
      'reason-codes': { type: 'string' },
      adverse: { type: 'string' },
      threshold: { type: 'string' },
      protected: { type: 'string' },
      exclude: { type: 'string' },
      target: { type: 'string' },
      'positive-label': { type: 'string' },
      'class-labels': { type: 'string' },
      ...CSV_FLAGS,
      pdp: { type: 'string' },
      'reason-codes-csv': { type: 'string' },
      output: { type: 'string', short: 'o' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  if (!values.model) throw new UsageError('missing --model. Run plumbline explain --help for usage.');
  if (!values.data) throw new UsageError('missing --data. Run plumbline explain --help for usage.');
  const method = (values.method ?? 'auto') as ExplainMethod;
  if (!METHODS.includes(method)) throw new UsageError(`--method ${JSON.stringify(values.method)} is not one of ${METHODS.join(', ')}.`);
  const whole = (raw: string | undefined, name: string) => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a whole number >= 1, got ${JSON.stringify(raw)}.`);
    return n;
  };
  const adverse = values.adverse ?? 'negative';
  if (adverse !== 'negative' && adverse !== 'positive') throw new UsageError(`--adverse must be negative or positive, got ${JSON.stringify(values.adverse)}.`);
  const threshold = values.threshold === undefined ? 0.5 : Number(values.threshold);
  if (!(threshold >= 0 && threshold <= 1)) throw new UsageError(`--threshold must be a number between 0 and 1, got ${JSON.stringify(values.threshold)}.`);
  const reasonCount = whole(values['reason-codes'], 'reason-codes');
  const result = await explain({
    model: values.model,
    data: values.data,
    background: values.background,
    rows: whole(values.rows, 'rows'),
    backgroundRows: whole(values['background-rows'], 'background-rows'),
    backgroundSelection: values['background-first'] ? 'first' : 'sample',
    method,
    features: values.features?.split(',').map((s) => s.trim()),
    seed: values.seed === undefined ? undefined : whole(values.seed, 'seed'),
    // The range (and PLUMBLINE_THREADS) is checked where the audit's is, with the same words.
    threads: whole(values.threads, 'threads'),
    reasons: reasonCount ? { count: reasonCount, adverse, threshold, excluded: [...list(values.protected), ...list(values.exclude)] } : undefined,
    target: values.target,
    positiveLabel: values['positive-label'],
    ...(values['class-labels'] !== undefined ? { classLabels: list(values['class-labels']) } : {}),
    partialDependence: list(values.pdp),
    csv: csvLoadOptions(csvFlags(values)),
  }, 'cli');
  if (values['reason-codes-csv']) {
    if (!result.reason_codes) throw new UsageError('--reason-codes-csv needs --reason-codes N.');
    await writeFile(values['reason-codes-csv'], reasonCodesCsv(result.reason_codes, reasonCount));
  }
  const json = `${JSON.stringify(result, null, 2)}\n`;
  if (values.output) await writeFile(values.output, json);
  else stdout.write(json);
  return EXIT.ok;
}
