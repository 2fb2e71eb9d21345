/**
 * The result digest of an audit of every fixture model (tests/support/fixture-cases.ts and the
 * multiclass and regression reference models), one line each: a restructuring that keeps
 * behaviour keeps every line (`npx tsx scripts/fixture-digests.ts > before.txt`, change,
 * run again, diff). Settings are fixed and small so the whole run takes a minute or two.
 * With DUMP=folder, each binary fixture's result is written there too, to compare two runs
 * value by value where a change moves digits (a new summation order in TreeSHAP).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { resultDigest } from '../src/core/outputs/manifest';
import { runAnyAudit } from '../src/core/audit/run';
import { expected, fixture, projectRoot } from '../tests/support/fixtures';
import { FIXTURE_CASES } from '../tests/support/fixture-cases';
import '../src/cli/parquet-node';

const file = (path: string) => ({ fileName: path.split('/').pop()!, bytes: new Uint8Array(readFileSync(path)) });
const small = { bootstrapResamples: 200, seed: 7, explainer: { rows: 20, backgroundRows: 20 }, recourse: { maxRows: 30 } };

for (const c of FIXTURE_CASES) {
  const want = expected(c.expected);
  const train = fixture(c.data.replace(/[^/]+$/, 'train.csv'));
  const result = await runAnyAudit(ort, {
    model: file(fixture(c.model)),
    data: file(fixture(c.data)),
    reference: file(train),
    target: c.target,
    protectedAttributes: c.protected.length ? c.protected : ['gender'],
    ...(c.matrix ? { features: want.features } : {}),
    ...small,
  });
  if (process.env.DUMP) writeFileSync(`${process.env.DUMP}/${c.name.replace(/[^a-z0-9]+/gi, "_")}.json`, JSON.stringify(result));
  console.log(`${resultDigest(result)}  ${c.name}`);
}
const models = join(projectRoot, 'tests', 'models');
for (const [model, extra] of [
  ['mc3_xgb.json', { classLabels: ['low', 'medium', 'high'] }],
  ['mc5_linear.onnx', {}],
  ['reg_xgb.json', { threshold: 5000, positiveWhen: 'above' as const }],
  ['reg_linear.onnx', {}],
] as const) {
  const want = JSON.parse(readFileSync(join(models, model.replace(/\.(json|onnx)$/, '.expected.json').replace('reg_linear', 'reg_linear')), 'utf8'));
  // Recourse only where a decision is searched (a multiclass audit, or a regression without one, refuses its settings).
  const { recourse, ...rest } = small;
  const result = await runAnyAudit(ort, { model: file(join(models, model)), data: file(join(models, want.data)), target: want.target, protectedAttributes: want.protected, features: want.features, ...rest, ...('positiveWhen' in extra ? { recourse } : {}), ...extra });
  if (process.env.DUMP) writeFileSync(`${process.env.DUMP}/${model.replace(/[^a-z0-9]+/gi, '_')}.json`, JSON.stringify(result));
  console.log(`${resultDigest(result)}  ${model}`);
}
