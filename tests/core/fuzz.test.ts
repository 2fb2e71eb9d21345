import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAuditConfig } from '../../src/core/config/audit-config';
import { parsePolicy } from '../../src/core/config/policy';
import { tableToIPC, tableFromIPC } from 'apache-arrow';
import { Table as WasmTable, writeParquet } from 'parquet-wasm';
import { loadArrow, tableToArrow } from '../../src/core/data/arrow';

beforeAll(loadArrow);
import { parseCsv } from '../../src/core/data/csv';
import { loadTableBytes } from '../../src/core/data/read';
import { isPlumblineError } from '../../src/core/base/errors';
import { inspectModel } from '../../src/core/model/classifier';
import { decodeOnnx } from '../../src/core/model/onnx-graph';
import { onnxTreeEnsemble } from '../../src/core/model/onnx-trees';
import { readLightgbmText, readXgboostJson, treeMargin } from '../../src/core/model/tree';
import { buildEvidencePack, verifyEvidencePack } from '../../src/core/outputs/evidence';
import { Random } from '../../src/core/base/random';
import initSqlJs from 'sql.js';
import { appendEntry, guardRegistry, listEntries, openRegistry, verifyRegistry, type SqlDatabase } from '../../src/core/registry';
import * as ort from 'onnxruntime-web';
import { runAudit } from '../../src/core/audit';
import { renderHtml } from '../../src/core/outputs/html';
import { renderPdf } from '../../src/core/outputs/pdf';
import { readResultFile } from '../../src/core/outputs/read-result';
import { expected, fixtureBytes, projectRoot } from '../support/fixtures';

// Arrow IPC files are checked message by message (checkArrowIpc) before apache-arrow reads
// them: this fuzzer once found files that made its reader allocate until Node ran out of memory.
//
// Seeded mutations of every input kind through the loaders: each must end in a result or
// a typed Plumbline error (never a TypeError, RangeError, hang or crash). The seed and
// case number of a failure are printed so it can be replayed.
const CASES_PER_KIND = 1000;

// A registry of three audits (results reduced to what an entry reads) as the registry seed.
const SQL = await initSqlJs();
const registrySeed = (() => {
  const db = new SQL.Database();
  const sql = db as unknown as SqlDatabase;
  openRegistry(sql, 'seed.db', { create: true });
  for (let k = 0; k < 3; k++) {
    const result = { inputs: { model: { file: `m${k}.onnx`, sha256: 'a'.repeat(64) }, data: { file: 'd.csv', sha256: 'b'.repeat(64) } }, performance: { roc_auc: 0.7 + k / 100, accuracy: 0.8 }, calibration: { expected_calibration_error: 0.02 }, fairness: {} };
    appendEntry(sql, 'seed.db', { result: result as never, manifest: { created: `2026-11-0${k + 1}T00:00:00.000Z` } as never, metadata: { team: 't' } });
  }
  const bytes = db.export();
  db.close();
  return bytes;
})();
const SEED = Number(process.env.PLUMBLINE_FUZZ_SEED ?? 20261122);

// A real audit's result, and its PDF and HTML reports, as the report seeds.
ort.env.wasm.numThreads = 1;
const reportResult = await runAudit(ort, {
  model: { fileName: 'rf.onnx', bytes: fixtureBytes('compas/rf.onnx') },
  data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') },
  target: 'two_year_recid',
  protectedAttributes: ['race', 'sex'],
  features: expected('compas/rf.expected.json').features,
  bootstrapResamples: 20,
  // Every section, recourse for a few rows: the reports' structure, not their length, is what the mutations probe.
  recourse: { maxRows: 10 },
});
const reportInput = { result: reportResult, createdAt: '2026-11-22T00:00:00.000Z' };

function mutate(bytes: Uint8Array, random: Random): Uint8Array {
  const kind = random.int(4);
  const out = bytes.slice();
  if (kind === 0) {
    // Bit flips.
    const flips = 1 + random.int(8);
    for (let k = 0; k < flips; k++) out[random.int(out.length)] ^= 1 << random.int(8);
    return out;
  }
  if (kind === 1) return out.subarray(0, random.int(out.length + 1)); // truncation
  if (kind === 2) {
    // Splice: a random slice copied over another place.
    const from = random.int(out.length);
    const to = random.int(out.length);
    const length = Math.min(1 + random.int(64), out.length - Math.max(from, to));
    out.copyWithin(to, from, from + length);
    return out;
  }
  // Random bytes inserted.
  const at = random.int(out.length + 1);
  const noise = Uint8Array.from({ length: 1 + random.int(16) }, () => random.int(256));
  const inserted = new Uint8Array(out.length + noise.length);
  inserted.set(out.subarray(0, at));
  inserted.set(noise, at);
  inserted.set(out.subarray(at), at + noise.length);
  return inserted;
}

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

// A small table as an Arrow IPC file, an Arrow IPC stream and a Parquet file.
const smallTable = () => parseCsv(decode(fixtureBytes('german_credit/test_missing.csv').subarray(0, 6000)).replace(/\n[^\n]*$/, '\n'), { fileName: 'seed.csv' });
const arrowFile = () => tableToArrow(smallTable());
const arrowStream = () => tableToIPC(tableFromIPC(arrowFile()), 'stream');

const KINDS: { name: string; seedFile: () => Uint8Array; load: (bytes: Uint8Array, random: Random) => unknown; structural?: boolean }[] = [
  { name: 'CSV', seedFile: () => fixtureBytes('german_credit/test_missing.csv').subarray(0, 6000), load: (b) => parseCsv(decode(b), { fileName: 'fuzz.csv' }) },
  { name: 'Arrow IPC file', seedFile: arrowFile, load: (b) => loadTableBytes(b, 'fuzz.arrow') },
  { name: 'Arrow IPC stream', seedFile: arrowStream, load: (b) => loadTableBytes(b, 'fuzz.arrows') },
  { name: 'Parquet', seedFile: () => writeParquet(WasmTable.fromIPCStream(arrowStream())), load: (b) => loadTableBytes(b, 'fuzz.parquet') },
  {
    name: 'ONNX',
    seedFile: () => fixtureBytes('german_credit/logreg_zipmap.onnx'),
    load: (b) => {
      inspectModel(b, 'fuzz.onnx');
      return onnxTreeEnsemble(decodeOnnx(b, 'fuzz.onnx'), 'fuzz.onnx', 5);
    },
  },
  { name: 'ONNX trees', seedFile: () => fixtureBytes('compas/rf_v5.onnx'), load: (b) => onnxTreeEnsemble(decodeOnnx(b, 'fuzz.onnx'), 'fuzz.onnx', 5) },
  { name: 'XGBoost JSON', seedFile: () => fixtureBytes('german_credit/xgb_numeric.json').subarray(0, 20000), load: (b) => readXgboostJson(b, 'fuzz.json') },
  {
    name: 'XGBoost JSON (structure)',
    seedFile: () => fixtureBytes('german_credit/xgb_numeric.json'),
    structural: true,
    load: (b, random) => {
      // Mutate values inside the parsed model (children, features, thresholds), then score.
      const json = JSON.parse(decode(b));
      const tree = json.learner.gradient_booster.model.trees[random.int(5)];
      const field = ['left_children', 'right_children', 'split_indices', 'split_conditions', 'default_left'][random.int(5)];
      const values = tree[field] as number[];
      values[random.int(values.length)] = [-1, 0, 1, 7, 1e308, Number.NaN, values.length, -5][random.int(8)];
      const ensemble = readXgboostJson(new TextEncoder().encode(JSON.stringify(json).replace(/NaN/g, 'null')), 'fuzz.json');
      return treeMargin(ensemble, new Float64Array(ensemble.featureNames.length).fill(1));
    },
  },
  { name: 'LightGBM text', seedFile: () => new Uint8Array(readFileSync(join(projectRoot, 'tests/data/lightgbm-small.txt'))), load: (b) => readLightgbmText(b, 'fuzz.txt') },
  {
    name: 'YAML config',
    seedFile: () => new TextEncoder().encode('model:\n  path: m.onnx\n  features: [a, b]\ndata:\n  test: t.csv\n  target: y\n  protected_attributes: [race, sex]\nthreshold: {policy: cost, cost_fp: 1, cost_fn: 5}\nrandom_seed: 42\naudit_profile: quickstart\n'),
    load: (b) => parseAuditConfig(decode(b), 'fuzz.yaml'),
  },
  {
    name: 'YAML policy',
    seedFile: () => new TextEncoder().encode('policy_name: p\ngates:\n  - name: "AUC"\n    metric: roc_auc\n    threshold: 0.7\n    comparison: greater_than\n    severity: error\n'),
    load: (b) => parsePolicy(decode(b), 'fuzz.yaml'),
  },
  {
    name: 'SQLite registry',
    seedFile: () => registrySeed,
    load: (b) => {
      const db = new SQL.Database(b);
      try {
        return guardRegistry('fuzz.db', () => {
          const sql = db as unknown as SqlDatabase;
          openRegistry(sql, 'fuzz.db');
          listEntries(sql);
          return verifyRegistry(sql);
        });
      } finally {
        db.close();
      }
    },
  },
  { name: 'PDF report', seedFile: () => renderPdf(reportInput), load: (b) => readResultFile(b, 'fuzz.pdf') },
  { name: 'HTML report', seedFile: () => new TextEncoder().encode(renderHtml(reportInput)), load: (b) => readResultFile(b, 'fuzz.html') },
  { name: 'result JSON', seedFile: () => new TextEncoder().encode(JSON.stringify(reportResult)), load: (b) => readResultFile(b, 'fuzz.json') },
  { name: 'evidence pack', seedFile: () => buildEvidencePack({ 'a.json': new TextEncoder().encode('{"a":1}'), 'b.txt': new Uint8Array(300) }, 1700000000), load: (b) => verifyEvidencePack(b) },
];

describe('fuzzed inputs end in a result or a typed error', () => {
  for (const kind of KINDS) {
    it(`${kind.name}: ${CASES_PER_KIND} seeded mutations`, () => {
      const original = kind.seedFile();
      const random = new Random(SEED, `fuzz/${kind.name}`);
      const failures: string[] = [];
      // Before the mutations: an empty file and random bytes of a few sizes.
      const extremes = kind.structural ? [] : [new Uint8Array(0), ...[1, 100, 4096].map((n) => Uint8Array.from({ length: n }, () => random.int(256)))];
      for (const [k, input] of extremes.entries()) {
        try {
          kind.load(input, random);
        } catch (error) {
          if (!isPlumblineError(error)) failures.push(`${input.length === 0 ? 'empty file' : `${input.length} random bytes`} (case ${-1 - k}): ${(error as Error).name}: ${(error as Error).message}`.slice(0, 300));
        }
      }
      for (let k = 0; k < CASES_PER_KIND; k++) {
        const input = kind.structural ? original : mutate(original, random);
        const started = performance.now();
        try {
          kind.load(input, random);
        } catch (error) {
          if (!isPlumblineError(error)) failures.push(`case ${k} (seed ${SEED}): ${(error as Error).name}: ${(error as Error).message}`.slice(0, 300));
        }
        const elapsed = performance.now() - started;
        if (elapsed > 5000) failures.push(`case ${k} (seed ${SEED}): took ${elapsed.toFixed(0)} ms`);
      }
      expect(failures.slice(0, 5), `${failures.length} failures; replay with PLUMBLINE_FUZZ_SEED=${SEED}`).toEqual([]);
    }, 240_000);
  }
});
