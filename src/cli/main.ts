/**
 * The `plumbline` command line: a thin Node host around the core. Exit codes:
 * 0 audited (no error gate failed), 1 audited and an error gate failed, 2 could not audit.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-web';
import { isPlumblineError, runAudit, TOOL_VERSION, type AuditProgress } from '../core/index.ts';
import type { ThresholdPolicy } from '../core/metrics/curves.ts';

/** Exit codes of the command, as CI pipelines read them. */
export const EXIT = { ok: 0, gateFailed: 1, cannotAudit: 2 } as const;

/** A problem with the command line itself. */
class UsageError extends Error {
  override name = 'UsageError';
}

const USAGE = `Usage: plumbline audit --model M --data D --target T --protected A[,B] [options]

Audits a binary classifier on a CSV test set and writes the result as JSON.

Options:
  --model FILE            model: ONNX, XGBoost JSON or LightGBM text
  --score COLUMN          audit a score column of the data instead of a model
  --data FILE             CSV test set (with a header row)
  --target COLUMN         column holding the true outcome
  --protected A[,B]       protected attribute columns
  --features C1,C2,...    column order for a model with one [N, F] input
  --positive-label VALUE  the positive outcome (default 1 for a 0/1 target)
  --threshold T           predicted positive when p >= T (default 0.5)
  --threshold-policy P    youden | selection_rate:R | cost:FP,FN (chosen on --data)
  --bootstrap N           bootstrap resamples for intervals (default 1000)
  --seed N                random seed recorded in the result (default 0)
  --output FILE           where to write the result JSON (default: stdout)
  --predictions           include p(positive) of every row (predictions_p1)
  --verbose               progress on stderr, stack traces on errors
  -h, --help              this help
  --version               print the version`;

const list = (value: string | undefined) => (value ? value.split(',').map((s) => s.trim()).filter(Boolean) : []);

function required(values: Record<string, unknown>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`missing --${name}. Run plumbline audit --help for usage.`);
  return value;
}

function number(values: Record<string, unknown>, name: string, fallback: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const parsed = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(parsed)) throw new UsageError(`--${name} must be a number, got ${JSON.stringify(raw)}.`);
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

async function readInput(path: string, role: string): Promise<{ fileName: string; bytes: Uint8Array }> {
  try {
    return { fileName: basename(path), bytes: new Uint8Array(await readFile(path)) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : String((error as Error).message);
    throw new UsageError(`cannot read the ${role} file ${path}: ${why}.`);
  }
}

async function audit(args: string[], verbose: boolean): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: 'string' },
      score: { type: 'string' },
      data: { type: 'string' },
      'threshold-policy': { type: 'string' },
      bootstrap: { type: 'string' },
      target: { type: 'string' },
      protected: { type: 'string' },
      features: { type: 'string' },
      'positive-label': { type: 'string' },
      threshold: { type: 'string' },
      seed: { type: 'string' },
      output: { type: 'string', short: 'o' },
      predictions: { type: 'boolean' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  const seed = number(values, 'seed', 0);
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a whole number >= 0, got ${values.seed}.`);
  if (!values.model && !values.score) throw new UsageError('missing --model (or --score COLUMN for a score-only audit). Run plumbline audit --help for usage.');
  const [dataPath, target, protectedList] = ['data', 'target', 'protected'].map((name) => required(values, name));
  const bootstrap = number(values, 'bootstrap', 1000);
  const request = {
    model: values.model ? await readInput(values.model, 'model') : undefined,
    scoreColumn: values.score,
    data: await readInput(dataPath, 'data'),
    target,
    protectedAttributes: list(protectedList),
    features: values.features ? list(values.features) : undefined,
    positiveLabel: values['positive-label'],
    threshold: number(values, 'threshold', 0.5),
    thresholdPolicy: values['threshold-policy'] ? thresholdPolicy(values['threshold-policy']) : undefined,
    bootstrapResamples: bootstrap,
    seed,
    includePredictions: values.predictions ?? false,
  };
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  const onProgress = verbose ? (p: AuditProgress) => process.stderr.write(`${p.stage}: ${p.done}/${p.total}\n`) : undefined;
  const result = await runAudit(ort, request, { onProgress });
  const json = `${JSON.stringify(result, null, 2)}\n`;
  if (values.output) await writeFile(values.output, json);
  else process.stdout.write(json);
  return EXIT.ok;
}

/** Runs the command with its arguments and returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const verbose = rest.includes('--verbose');
  try {
    if (command === '--version') {
      process.stdout.write(`plumbline ${TOOL_VERSION}\n`);
      return EXIT.ok;
    }
    if (command === undefined || command === '-h' || command === '--help') {
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? EXIT.cannotAudit : EXIT.ok;
    }
    if (command === 'audit') return await audit(rest, verbose);
    throw new UsageError(`unknown command ${JSON.stringify(command)}. The commands are: audit.`);
  } catch (error) {
    const known = isPlumblineError(error) || error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`plumbline: ${known ? '' : 'internal error: '}${message.replace(/\s*\n\s*/g, ' ')}${known || verbose ? '' : ' (run with --verbose for details)'}\n`);
    if (verbose && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
    return EXIT.cannotAudit;
  }
}
