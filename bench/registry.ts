/**
 * A registry of many audits for the registry benchmarks: one real COMPAS audit (with a
 * policy decision) appended through the core, then copies of its columns with other
 * model ids, times and metrics, each hash-chained exactly as `appendEntry` would.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import initSqlJs from 'sql.js';
import { runAudit } from '../src/core/audit';
import { evaluatePolicy, parsePolicy } from '../src/core/config/policy';
import { buildManifest } from '../src/core/outputs/manifest';
import { appendEntry, entryHash, openRegistry, REGISTRY_SCHEMA_VERSION, type SqlDatabase, type SqlValue } from '../src/core/registry';
import { nodeSha256 } from '../src/cli/registry-command';
import { fixturesPath } from './inputs';

const POLICY = `policy_name: Bench\ngates:\n  - name: Minimum AUC\n    metric: roc_auc\n    threshold: 0.75\n    comparison: greater_than\n    severity: error\n  - name: Parity\n    metric: demographic_parity_difference\n    threshold: 0.1\n    comparison: less_than\n    severity: warning\n`;

/** One real COMPAS forest audit with its policy decision and manifest: what each registry entry holds. */
export async function benchAudit() {
  const [model, data] = ['compas/rf.onnx', 'compas/test.csv'].map(fixturesPath);
  if (!model || !data) return null;
  ort.env.wasm.numThreads = 1;
  const file = (p: string) => ({ fileName: p.split('/').pop()!, bytes: new Uint8Array(readFileSync(p)) });
  const result = await runAudit(ort, { model: file(model), data: file(data), target: 'two_year_recid', protectedAttributes: ['race', 'sex'], features: ['age', 'priors_count', 'juv_fel_count', 'juv_misd_count', 'juv_other_count'] });
  const decision = evaluatePolicy(parsePolicy(POLICY, 'bench.yaml'), '0'.repeat(64), result, { seedGiven: true, strict: false, manifestWritten: true, gitCommit: null, today: '2026-01-01', modelId: 'compas-rf' });
  Object.assign(result, { policy_decision: decision });
  const manifest = buildManifest(result, { files: {}, seedExplicit: true, dependencies: {}, runtime: { environment: 'bench', platform: 'bench', backend: 'wasm', threads: 1 }, strict: false, gitCommit: null, epochSeconds: 1_767_225_600, fromSourceDateEpoch: true });
  return { result, manifest };
}

/** Path of a registry file with `entries` audits (built once per size, kept in the temp folder). */
export async function registryFile(entries: number): Promise<string | null> {
  const [model, data] = ['compas/rf.onnx', 'compas/test.csv'].map(fixturesPath);
  if (!model || !data) return null;
  const dir = join(tmpdir(), 'plumbline-bench');
  mkdirSync(dir, { recursive: true });
  // Named by the schema version, so a file built by older code is never reused.
  const path = join(dir, `registry-${entries}-v${REGISTRY_SCHEMA_VERSION}.db`);
  if (existsSync(path)) return path;

  const { result, manifest } = (await benchAudit())!;

  const SQL = await initSqlJs();
  const db = new SQL.Database();
  const sql = db as unknown as SqlDatabase;
  openRegistry(sql, 'bench.db', { create: true });
  appendEntry(sql, 'bench.db', { result, manifest, metadata: { model_id: 'model-0', team: 'bench' } }, nodeSha256);
  const { columns, values } = db.exec('SELECT e.*, r.result_gz FROM entries e JOIN results r USING (seq) WHERE e.seq = 1')[0];
  const base: Record<string, SqlValue> = Object.fromEntries(columns.map((c, i) => [c, values[0][i]]));
  const metrics = JSON.parse(String(base.metrics));
  let prev = String(base.entry_hash);
  db.run('BEGIN');
  const entryColumns = columns.filter((c) => c !== 'result_gz');
  const insert = db.prepare(`INSERT INTO entries (${entryColumns.join(', ')}) VALUES (${entryColumns.map(() => '?').join(', ')})`);
  const insertResult = db.prepare('INSERT INTO results (seq, result_gz) VALUES (?, ?)');
  for (let seq = 2; seq <= entries; seq++) {
    const row: Record<string, SqlValue> = {
      ...base,
      seq,
      model_id: `model-${seq % 40}`,
      created: new Date(Date.UTC(2026, 0, 1) + seq * 3_600_000).toISOString(),
      metrics: JSON.stringify({ ...metrics, roc_auc: metrics.roc_auc + ((seq % 17) - 8) / 1000 }),
      decision: seq % 5 === 0 ? 'PASS' : 'FAIL',
      prev_hash: prev,
    };
    row.entry_hash = entryHash(row as unknown as Parameters<typeof entryHash>[0], nodeSha256);
    insert.run(entryColumns.map((c) => row[c]));
    insertResult.run([seq, row.result_gz]);
    prev = String(row.entry_hash);
  }
  insert.free();
  insertResult.free();
  db.run("UPDATE meta SET value = ? WHERE key = 'entries'", [String(entries)]);
  db.run("UPDATE meta SET value = ? WHERE key = 'head_hash'", [prev]);
  db.run('COMMIT');
  writeFileSync(path, db.export());
  db.close();
  return path;
}
