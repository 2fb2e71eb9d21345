import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import initSqlJs, { type Database } from 'sql.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-in-process';
import type { AuditResult, Manifest, PolicyDecision } from '../../src/core/index.ts';
import {
  appendEntry,
  createRegistryAtVersion,
  entryHash,
  entryJson,
  entryBlob,
  entryResult,
  GENESIS_HASH,
  listEntries,
  merkleRoot,
  openRegistry,
  parseRegistryDate,
  portfolio,
  auditStatus,
  registryCsv,
  verifyRegistry,
  verifyRegistryAsync,
  REGISTRY_SCHEMA_VERSION,
  type RegistryAppend,
  type SqlDatabase,
} from '../../src/core/registry/index.ts';
import { monthlySummaryMarkdown, monthlySummaryPdf } from '../../src/core/registry/summary.ts';
import { canonicalJson } from '../../src/core/outputs/manifest.ts';
import { threadSha256 } from '../../src/cli/registry-command.ts';
import { expected, fixture } from '../support/fixtures';
import { BUNDLED_CLI } from '../support/cli-process';

const work = mkdtempSync(join(tmpdir(), 'plumbline-registry-'));
const want = expected('compas/rf.expected.json');
const SQL = await initSqlJs();

/** The command in this process, in the work folder (concurrent appends below start real processes). */
function plumbline(args: string[], env: Record<string, string> = {}) {
  return runCli(args, { cwd: work, env });
}

function plumblineAsync(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BUNDLED_CLI, ...args], { cwd: work, env: { ...process.env, ...env } });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => done({ code, stderr }));
  });
}

writeFileSync(
  join(work, 'audit.yaml'),
  `model:\n  path: ${fixture('compas/rf.onnx')}\n  features: [${want.features!.join(', ')}]\ndata:\n  test: ${fixture('compas/test.csv')}\n  target: two_year_recid\n  positive_label: 1\n  protected_attributes: [race, sex]\nrandom_seed: 42\naudit_profile: quickstart\nmetadata:\n  model_id: recidivism-rf\n  model_version: "1.3"\n  team: risk\n  owner: ana@example.org\n`,
);
// The fixture model's AUC is below 0.75: this policy fails it, with a warning on parity.
writeFileSync(
  join(work, 'policy.yaml'),
  `policy_name: Test\ngates:\n  - name: Minimum AUC\n    metric: roc_auc\n    threshold: ${want.performance.roc_auc + 0.01}\n    comparison: greater_than\n    severity: error\n  - name: Parity\n    metric: demographic_parity_difference\n    attr: sex\n    threshold: 0.01\n    comparison: less_than\n    severity: warning\n`,
);

let result: AuditResult;
let manifest: Manifest;
beforeAll(async () => {
  const run = (await plumbline(['audit', '--config', 'audit.yaml', '--policy-gates', 'policy.yaml', '--output', 'base/result.json'], { SOURCE_DATE_EPOCH: '1792000000' }));
  expect(run.code, run.stderr).toBe(1);
  result = JSON.parse(readFileSync(join(work, 'base', 'result.json'), 'utf8'));
  manifest = JSON.parse(readFileSync(join(work, 'base', 'result.manifest.json'), 'utf8'));
}, 60_000);

/** A fresh registry with the given audits appended (created times and model ids varied). */
type EntrySpec = Partial<{ created: string; model_id: string; passed: boolean; blobs: Record<string, Uint8Array>; waivedUntil: string }>;

function registry(entries: EntrySpec[]): Database {
  const db = new SQL.Database();
  openRegistry(db as unknown as SqlDatabase, 'test.db', { create: true });
  for (const e of entries) append(db, e);
  return db;
}

function append(db: Database, e: EntrySpec) {
  const stored = (result as AuditResult & { policy_decision: PolicyDecision }).policy_decision;
  // waivedUntil: the failing error gate is waived (CRO, until that date), so the decision is REVIEW.
  const waived = e.waivedUntil ? { ...stored, decision: 'REVIEW', gates: stored.gates.map((g) => (g.outcome === 'FAIL' ? { ...g, outcome: 'WAIVED', waiver: { reason: 'retraining', approved_by: 'CRO', expires: e.waivedUntil } } : g)) } : null;
  const decision = e.passed ? { ...stored, decision: 'PASS', gates: [] } : (waived ?? stored);
  const input: RegistryAppend = {
    result: { ...result, policy_decision: decision } as RegistryAppend['result'],
    manifest: { ...manifest, created: e.created ?? manifest.created },
    metadata: { model_id: e.model_id ?? 'recidivism-rf', team: 'risk' },
    blobs: e.blobs,
  };
  return appendEntry(db as unknown as SqlDatabase, 'test.db', input);
}

const sqlDb = (db: Database) => db as unknown as SqlDatabase;

/**
 * Runs SQL as a forger who knows the format: takes the append-only guard off, changes the
 * rows and puts the guard back as it was, so that only what the chain itself shows is
 * left to find.
 */
function forge(db: Database, sql: string, params?: (string | number | Uint8Array | null)[]): void {
  const triggers = db.exec("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")[0]?.values ?? [];
  for (const [name] of triggers) db.run(`DROP TRIGGER ${name}`);
  if (params) db.run(sql, params);
  else db.exec(sql);
  for (const [, text] of triggers) db.run(String(text));
}
const nodeHash = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('registry core', () => {
  it('appends, lists with filters and verifies a whole chain', async () => {
    const db = registry([
      { created: '2026-10-03T10:00:00.000Z', model_id: 'a' },
      { created: '2026-11-02T10:00:00.000Z', model_id: 'b', passed: true },
      { created: '2026-11-20T10:00:00.000Z', model_id: 'a', passed: true },
    ]);
    const rows = listEntries(sqlDb(db));
    expect(rows.map((r) => [r.seq, r.model_id, r.decision])).toEqual([
      [1, 'a', 'FAIL'],
      [2, 'b', 'PASS'],
      [3, 'a', 'PASS'],
    ]);
    expect(rows[0].failed_gates.map((g) => [g.name, g.outcome])).toEqual([
      ['Minimum AUC', 'FAIL'],
      ['Parity', 'WARN'],
    ]);
    expect(Math.abs(rows[0].metrics.roc_auc! - want.performance.roc_auc)).toBeLessThan(1e-6);
    expect(rows[0].team).toBe('risk');
    expect(listEntries(sqlDb(db), { model: 'a' }).map((r) => r.seq)).toEqual([1, 3]);
    expect(listEntries(sqlDb(db), { since: parseRegistryDate('2026-11-01', '--since') }).map((r) => r.seq)).toEqual([2, 3]);
    expect(listEntries(sqlDb(db), { failedGates: true }).map((r) => r.seq)).toEqual([1]);

    const report = verifyRegistry(sqlDb(db));
    expect(report).toMatchObject({ ok: true, entries: 3, schema_version: REGISTRY_SCHEMA_VERSION, problems: [] });
    expect(report.head_hash).toBe(rows[2].entry_hash);
    // The same report with node:crypto as the hash (what the CLI passes).
    expect(verifyRegistry(sqlDb(db), nodeHash)).toEqual(report);
    // Chain: the first entry follows 64 zeros, each later one the entry before it.
    const prev = db.exec('SELECT prev_hash FROM entries ORDER BY seq')[0].values.map((r) => r[0]);
    expect(prev).toEqual([GENESIS_HASH, rows[0].entry_hash, rows[1].entry_hash]);
  });

  it('keeps the full result: read back equal, with the digest the manifest records', async () => {
    const db = registry([{}]);
    const back = entryResult(sqlDb(db), 'test.db', 1);
    expect(back).toEqual(result);
    expect(listEntries(sqlDb(db))[0].result_sha256).toBe(manifest.result_sha256);
    expect(() => entryResult(sqlDb(db), 'test.db', 9)).toThrow('test.db has no entry 9 (see plumbline registry list test.db).');
  });

  it('imports another registry once: entries it already holds (imported before, at any place) are skipped, once per copy', async () => {
    const { appendStoredEntries, readStoredEntries } = await import('../../src/core/registry/index.ts');
    const source = registry([
      { created: '2026-10-03T10:00:00.000Z', model_id: 'a' },
      { created: '2026-11-02T10:00:00.000Z', model_id: 'b', passed: true },
      { created: '2026-11-02T10:00:00.000Z', model_id: 'b', passed: true },
    ]);
    const entries = readStoredEntries(sqlDb(source), 0, 100);
    // A team registry with audits of its own: the import lands after them, re-chained (new hashes, new places).
    const team = registry([{ created: '2026-09-01T10:00:00.000Z', model_id: 'c' }]);
    expect(appendStoredEntries(sqlDb(team), 'team.db', 'source.db', entries)).toEqual({ appended: 3, skipped: 0 });
    // Before: the same import again appended all three once more (a nightly sync doubled the history).
    expect(appendStoredEntries(sqlDb(team), 'team.db', 'source.db', entries)).toEqual({ appended: 0, skipped: 3 });
    expect(listEntries(sqlDb(team)).map((r) => [r.seq, r.model_id])).toEqual([[1, 'c'], [2, 'a'], [3, 'b'], [4, 'b']]);
    // A later audit in the source comes across alone.
    append(source, { created: '2026-12-01T10:00:00.000Z', model_id: 'a' });
    expect(appendStoredEntries(sqlDb(team), 'team.db', 'source.db', readStoredEntries(sqlDb(source), 0, 100))).toEqual({ appended: 1, skipped: 3 });
    expect(verifyRegistry(sqlDb(team))).toMatchObject({ ok: true, entries: 5 });
    // The same audit at the same time, kept with its report: another record, not a copy (it was skipped as held, and its files lost).
    const laptop = registry([{ created: '2026-10-03T10:00:00.000Z', model_id: 'a', blobs: { 'report.pdf': new TextEncoder().encode('%PDF-1.7 report') } }]);
    expect(appendStoredEntries(sqlDb(team), 'team.db', 'laptop.db', readStoredEntries(sqlDb(laptop), 0, 100))).toEqual({ appended: 1, skipped: 0 });
    expect(verifyRegistry(sqlDb(team))).toMatchObject({ ok: true, entries: 6 });
  });

  it('computes the RFC 6962 Merkle tree hash', async () => {
    const leaves = ['11', '22', '33', '44', '55'].map((b) => b.repeat(32));
    const h = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
    const leaf = (hex: string) => h(Buffer.from([0]), Buffer.from(hex, 'hex'));
    const node = (l: Buffer, r: Buffer) => h(Buffer.from([1]), l, r);
    // n = 5: split at 4, then 2 + 2.
    const five = node(node(node(leaf(leaves[0]), leaf(leaves[1])), node(leaf(leaves[2]), leaf(leaves[3]))), leaf(leaves[4]));
    expect(merkleRoot(leaves)).toBe(five.toString('hex'));
    expect(merkleRoot(leaves.slice(0, 3))).toBe(node(node(leaf(leaves[0]), leaf(leaves[1])), leaf(leaves[2])).toString('hex'));
    expect(merkleRoot([])).toBe(createHash('sha256').digest('hex'));
  });

  it('names the entry whose metric was edited', async () => {
    const db = registry([{}, {}, {}]);
    forge(db, `UPDATE entries SET metrics = json_set(metrics, '$.roc_auc', 0.99) WHERE seq = 2`);
    const report = verifyRegistry(sqlDb(db));
    expect(report.ok).toBe(false);
    expect(report.problems[0].seq).toBe(2);
    expect(report.problems[0].kind).toBe('altered');
    expect(report.problems[0].message).toMatch(/^entry 2 \(recidivism-rf, 2026-10-14T17:46:40\.000Z\) was altered: its content hashes to [0-9a-f]{12}…, not the [0-9a-f]{12}… recorded when it was appended\.$/);
  });

  it('names an entry altered with its own hash recomputed (the next entry no longer links to it)', async () => {
    const db = registry([{}, {}, {}]);
    // The forger edits entry 2 and rewrites its entry_hash to match its new content.
    forge(db, `UPDATE entries SET decision = 'PASS', failed_gates = '[]' WHERE seq = 2`);
    expect(verifyRegistry(sqlDb(db)).problems[0]).toMatchObject({ seq: 2, kind: 'altered' });
    forge(db, 'UPDATE entries SET entry_hash = ? WHERE seq = 2', [rehash(db, 2)]);
    const report = verifyRegistry(sqlDb(db));
    expect(report.problems).toEqual([{ seq: 2, kind: 'altered', message: 'entry 2 was altered or replaced: its hash is not the one entry 3 recorded for the entry before it.' }]);
  });

  it('names a deleted entry, a deleted last entry and swapped entries', async () => {
    const deleted = registry([{}, {}, {}, {}]);
    forge(deleted, 'DELETE FROM entries WHERE seq = 2');
    expect(verifyRegistry(sqlDb(deleted)).problems[0]).toEqual({ seq: 3, kind: 'removed', message: 'entry 2 was removed: the chain goes from entry 1 to entry 3.' });

    const truncated = registry([{}, {}, {}]);
    forge(truncated, 'DELETE FROM entries WHERE seq = 3');
    expect(verifyRegistry(sqlDb(truncated)).problems).toEqual([{ seq: 3, kind: 'removed', message: 'the last entry was removed: the registry recorded 3 entries, it holds 2.' }]);

    const swapped = registry([{ model_id: 'a' }, { model_id: 'b' }, { model_id: 'c' }, { model_id: 'd' }]);
    forge(swapped, 'UPDATE entries SET seq = -1 WHERE seq = 2; UPDATE entries SET seq = 2 WHERE seq = 3; UPDATE entries SET seq = 3 WHERE seq = -1;');
    const problems = verifyRegistry(sqlDb(swapped)).problems;
    expect(problems[0]).toMatchObject({ seq: 2, kind: 'reordered' });
    expect(problems[0].message).toMatch(/^entry 2 \(c, .*\) is out of order: it was appended after entry 3, but now follows entry 1\.$/);
  });

  it('keeps report and evidence files, and finds an altered one', async () => {
    const pdf = new TextEncoder().encode('%PDF-1.7 pretend report');
    const db = registry([{ blobs: { 'report.pdf': pdf, 'report.evidence.zip': new Uint8Array([80, 75, 3, 4]) } }]);
    expect(listEntries(sqlDb(db))[0].blobs).toEqual(['report.evidence.zip', 'report.pdf']);
    expect(entryBlob(sqlDb(db), 'test.db', 1, 'report.pdf')).toEqual(pdf);
    expect(() => entryBlob(sqlDb(db), 'test.db', 1, 'x.pdf')).toThrow('test.db entry 1 keeps no file "x.pdf" (it keeps: report.evidence.zip, report.pdf).');
    expect(verifyRegistry(sqlDb(db)).ok).toBe(true);
    forge(db, "UPDATE blobs SET bytes = X'00' WHERE name = 'report.pdf'");
    const problem = verifyRegistry(sqlDb(db)).problems[0];
    expect(problem).toMatchObject({ seq: 1, kind: 'altered' });
    expect(problem.message).toMatch(/^entry 1 \(.*\): the kept file "report.pdf" was altered/);
  });

  it('names a stored result that was altered, replaced by text or removed; the threaded verify agrees on every case', async () => {
    const altered = registry([{}, {}, {}]);
    forge(altered, "UPDATE results SET result_gz = X'00' WHERE seq = 2");
    // A forger who puts the recorded hash itself where the result was (as text) is caught too.
    const replaced = registry([{}, {}, {}]);
    const stored = replaced.exec('SELECT result_gz FROM results WHERE seq = 3')[0].values[0][0] as Uint8Array;
    forge(replaced, 'UPDATE results SET result_gz = ? WHERE seq = 3', [nodeHash(stored)]);
    const removed = registry([{}, {}, {}]);
    forge(removed, 'DELETE FROM results WHERE seq = 1');
    const whole = registry([{}, {}, { blobs: { 'r.pdf': new Uint8Array([1, 2]) } }]);
    const swapped = registry([{ model_id: 'a' }, { model_id: 'b' }, { model_id: 'c' }]);
    forge(swapped, 'UPDATE entries SET seq = -1 WHERE seq = 1; UPDATE entries SET seq = 1 WHERE seq = 2; UPDATE entries SET seq = 2 WHERE seq = -1;');

    const firstProblem = (db: Database) => verifyRegistry(sqlDb(db)).problems[0];
    expect(firstProblem(altered)).toMatchObject({ seq: 2, kind: 'altered' });
    expect(firstProblem(replaced)).toMatchObject({ seq: 3, kind: 'altered' });
    expect(firstProblem(removed)).toMatchObject({ seq: 1, kind: 'altered' });
    const hasher = threadSha256();
    try {
      for (const db of [altered, replaced, removed, whole, swapped]) {
        const report = verifyRegistry(sqlDb(db), nodeHash);
        // Hashing on another thread, a few results in flight at a time, gives the same report.
        expect(await verifyRegistryAsync(sqlDb(db), nodeHash, hasher.digest, { inFlight: 2 })).toEqual(report);
      }
    } finally {
      await hasher.close();
    }
  });

  it('hashes an entry as the canonical JSON of its columns', async () => {
    const db = registry([{ blobs: { 'r.pdf': new Uint8Array([1]) } }]);
    const { columns, values } = db.exec('SELECT e.*, r.result_gz FROM entries e JOIN results r USING (seq)')[0];
    const row = Object.fromEntries(columns.map((c, i) => [c, values[0][i]])) as Parameters<typeof entryJson>[0];
    const hashed = ['created', 'model_id', 'model_version', 'team', 'owner', 'data_sha256', 'model_sha256', 'decision', 'failed_gates', 'metrics', 'manifest', 'result_gz', 'result_sha256', 'blob_hashes', 'prev_hash'] as const;
    const content = Object.fromEntries([['format', 'plumbline-registry-entry/1'], ...hashed.map((c) => [c, row[c] instanceof Uint8Array ? nodeHash(row[c] as Uint8Array) : row[c]])]);
    expect(entryJson(row, nodeHash)).toBe(canonicalJson(content));
    expect(entryHash(row, nodeHash)).toBe(values[0][columns.indexOf('entry_hash')]);
  });

  it('refuses to append to a registry changed outside Plumbline', async () => {
    const db = registry([{}, {}]);
    forge(db, 'DELETE FROM entries WHERE seq = 2');
    expect(() => append(db, {})).toThrow(/^test\.db was changed outside Plumbline: it records 2 entries ending in [0-9a-f]{12}…, but holds 1 ending in [0-9a-f]{12}…\. Nothing was appended; run plumbline registry verify test\.db to see what changed\.$/);
    expect(db.exec('SELECT count(*) FROM entries')[0].values[0][0]).toBe(1);
  });

  it('upgrades a version-1 file, keeping its entries and their hashes', async () => {
    // A version-1 file: one entry written as version 1 stored it (the result in the entry row).
    const current = registry([{}]);
    const { columns, values } = current.exec('SELECT e.*, r.result_gz FROM entries e JOIN results r USING (seq)')[0];
    const db = new SQL.Database();
    createRegistryAtVersion(sqlDb(db), 1);
    db.run(`INSERT INTO entries (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`, values[0]);
    db.run("UPDATE meta SET value = '1' WHERE key = 'entries'");
    db.run("UPDATE meta SET value = ? WHERE key = 'head_hash'", [values[0][columns.indexOf('entry_hash')]]);
    expect(db.exec('PRAGMA user_version')[0].values[0][0]).toBe(1);
    const info = openRegistry(sqlDb(db), 'old.db');
    expect(info).toMatchObject({ schema_version: REGISTRY_SCHEMA_VERSION, entries: 1, migrated: [2, 3, 4] });
    expect(entryResult(sqlDb(db), 'old.db', 1)).toEqual(result);
    expect(verifyRegistry(sqlDb(db)).ok).toBe(true);
    append(db, { blobs: { 'r.pdf': new Uint8Array([1]) } });
    expect(verifyRegistry(sqlDb(db))).toMatchObject({ ok: true, entries: 2 });
  });

  it('refuses other files with what to do', async () => {
    const newer = new SQL.Database();
    openRegistry(sqlDb(newer), 'new.db', { create: true });
    newer.run('PRAGMA user_version = 9');
    expect(() => openRegistry(sqlDb(newer), 'new.db')).toThrow(/^new\.db has registry schema version 9; this Plumbline \(.*\) reads versions up to 4\. Open it with a newer Plumbline\.$/);
    const other = new SQL.Database();
    other.run('CREATE TABLE t (x)');
    expect(() => openRegistry(sqlDb(other), 'other.db', { create: true })).toThrow('other.db is an SQLite database but not a Plumbline registry (application_id 0, a registry has 1347177794). Create a registry in a new file with: plumbline registry init FILE.');
    const csv = new SQL.Database(new TextEncoder().encode('a,b\n'.repeat(200)));
    expect(() => openRegistry(sqlDb(csv), 'data.csv')).toThrow('data.csv is not an SQLite database (file is not a database): not a registry, or one whose first bytes were overwritten (then open an intact copy). Give a registry\'s path, or create one at a new path with: plumbline registry init FILE.');
    expect(() => openRegistry(sqlDb(new SQL.Database()), 'empty.db')).toThrow('empty.db is empty, not a Plumbline registry. Create one with: plumbline registry init empty.db.');
    expect(() => parseRegistryDate('2026-02-30', '--since')).toThrow('--since "2026-02-30" is not a date: use YYYY-MM-DD or an ISO date-time with a zone (e.g. 2026-11-01 or 2026-11-01T09:30:00Z).');
  });

  it('exports CSV with formula-looking cells neutralised', async () => {
    const db = registry([{ model_id: '=HYPERLINK("x")' }]);
    const csv = registryCsv(listEntries(sqlDb(db)));
    const [header, row] = csv.trim().split('\n');
    expect(header).toBe('seq,created,model_id,model_version,team,owner,decision,failed_gates,roc_auc,accuracy,brier_score,expected_calibration_error,demographic_parity_ratio,equalized_odds_difference,data_sha256,model_sha256,result_sha256,entry_hash');
    expect(row).toContain(`,"'=HYPERLINK(""x"")",`);
    expect(row).toContain(',FAIL,Minimum AUC (FAIL); Parity (WARN),');
  });

  it('keeps how each gate compares and why an error gate was not evaluated: the summary shows a failed ≥ gate as failed, and a REVIEW its reason', async () => {
    const stored = (result as AuditResult & { policy_decision: PolicyDecision }).policy_decision;
    const gate = stored.gates[0];
    const appendDecision = (db: Database, decision: PolicyDecision, model_id: string) =>
      appendEntry(sqlDb(db), 'test.db', { result: { ...result, policy_decision: decision } as RegistryAppend['result'], manifest: { ...manifest, created: '2026-11-05T10:00:00.000Z' }, metadata: { model_id, team: 'risk' } });
    const db = registry([]);
    // 0.5725 ≥ 0.573 fails; at three decimals it read "0.573 vs 0.573" (the value rounded as for a ≤ gate).
    appendDecision(db, { ...stored, decision: 'FAIL', gates: [{ ...gate, name: 'Parity ratio', metric: 'demographic_parity_ratio', attribute: 'sex', comparison: 'greater_equal', threshold: 0.573, value: 0.5725, outcome: 'FAIL' }] }, 'ratio');
    // An error gate that could not be evaluated made this REVIEW: the registry said nothing of why.
    const reason = 'no baseline was given (--baseline)';
    appendDecision(db, { ...stored, decision: 'REVIEW', gates: [{ ...gate, name: 'No AUC drop', comparison: 'max_drop', threshold: 0.01, value: null, outcome: 'NOT_EVALUATED', reason }] }, 'unjudged');
    const rows = listEntries(sqlDb(db));
    expect(rows[1].failed_gates).toEqual([{ name: 'No AUC drop', outcome: 'NOT_EVALUATED', metric: gate.metric, attribute: gate.attribute, value: null, threshold: 0.01, comparison: 'max_drop', reason }]);
    const md = monthlySummaryMarkdown(rows, '2026-11', 'team.db');
    expect(md).toContain('Parity ratio: demographic_parity_ratio (sex) = 0.5725 vs 0.573');
    expect(md).toContain(`No AUC drop (NOT_EVALUATED: ${reason})`);
    // A gate not evaluated is no failed gate: --failed-gates leaves the entry out.
    expect(listEntries(sqlDb(db), { failedGates: true }).map((r) => r.model_id)).toEqual(['ratio']);
    expect(verifyRegistry(sqlDb(db)).ok).toBe(true);
  });

  it('summarises the portfolio and the month for management', async () => {
    const db = registry([
      { created: '2026-10-03T10:00:00.000Z', model_id: 'a', passed: true },
      { created: '2026-11-02T10:00:00.000Z', model_id: 'b' },
      { created: '2026-11-20T10:00:00.000Z', model_id: 'a' },
      { created: '2026-12-01T00:00:00.000Z', model_id: 'b', passed: true },
    ]);
    const rows = listEntries(sqlDb(db));
    const all = portfolio(rows);
    expect(all.status).toEqual({ PASS: 1, REVIEW: 0, FAIL: 1, NONE: 0 });
    expect(all.most_failed_gates).toEqual([
      { gate: 'Minimum AUC', fail: 2, warn: 0, waived: 0, total: 2, models: ['a', 'b'] },
      { gate: 'Parity', fail: 0, warn: 2, waived: 0, total: 2, models: ['a', 'b'] },
    ]);
    expect(all.models.find((m) => m.model_id === 'a')!.trend.map((t) => t.decision)).toEqual(['PASS', 'FAIL']);

    const md = monthlySummaryMarkdown(rows, '2026-11', 'team.db');
    expect(md).toContain('# Model audit summary: November 2026');
    expect(md).toContain('**2 of 2 models blocked, 0 under review**');
    expect(md).toContain('Audits in November 2026: 2 (PASS 0, REVIEW 0, FAIL 2, no policy 0) of 2 models.');
    expect(md).toContain("No model is under review: no model's latest audit was decided REVIEW (a warning gate failed, a waiver was used or an error gate could not be evaluated, and no error gate failed).");
    expect(md).toContain('No waiver in use expires by 2026-12-30 (30 days after the month).');
    expect(md).toMatch(/\| a \| risk \| – \| 2026-11-20 \(#3\) \| Minimum AUC: roc_auc = 0\.744 vs 0\.75\d* \|/);
    expect(md).toContain('| Minimum AUC | 2 | 0 | 0 | a, b |');
    expect(md).not.toContain('(#4)');
    expect(md).not.toMatch(/^\| 4 \|/m);

    const pdfPath = join(work, 'summary.pdf');
    writeFileSync(pdfPath, monthlySummaryPdf(rows, '2026-11', 'team.db', '2026-12-01T00:00:00.000Z'));
    const text = execFileSync('pdftotext', ['-layout', pdfPath, '-'], { encoding: 'utf8' });
    for (const heading of ['Totals', 'Blocked models', 'Models under review', 'Waivers expiring within 30 days', 'Most-failed gates', 'Trends', 'Audits in November 2026']) expect(text).toContain(heading);
    // The tables' rows read across the page (their widths were shares taken for points: a letter a line).
    expect(text).toMatch(/Minimum AUC +2 +0 +0 +a, b/);
    expect(text).toMatch(/\ba +risk +– +2026-11-20 \(#3\) +Minimum AUC: roc_auc = 0\.744/);
    expect(monthlySummaryPdf(rows, '2026-11', 'team.db', '2026-12-01T00:00:00.000Z')).toEqual(new Uint8Array(readFileSync(pdfPath)));
  });
});

describe('a model\'s latest audit', () => {
  it('is the newest by date, not the last appended (an import appends older audits after newer ones)', () => {
    // A December FAIL appended first, a November REVIEW (imported from a laptop) after it.
    const db = registry([
      { created: '2026-12-02T10:00:00.000Z', model_id: 'recid' },
      { created: '2026-11-30T10:00:00.000Z', model_id: 'recid', waivedUntil: '2027-06-30' },
    ]);
    const rows = listEntries(sqlDb(db));
    expect(rows.map((r) => [r.seq, r.decision])).toEqual([[1, 'FAIL'], [2, 'REVIEW']]);
    const model = portfolio(rows).models[0];
    expect([model.latest.seq, model.latest.decision]).toEqual([1, 'FAIL']);
    expect(model.trend.map((t) => t.seq)).toEqual([2, 1]);
    expect(monthlySummaryMarkdown(rows, '2026-12', 'team.db')).toContain('**1 of 1 model blocked, 0 under review**');
  });
});

describe('registry views of waivers and reviews', () => {
  it('counts a waived audit as REVIEW and lists the waivers expiring within 30 days of the month', async () => {
    const db = registry([
      { created: '2026-11-02T10:00:00.000Z', model_id: 'credit_a', waivedUntil: '2026-12-20' },
      { created: '2026-11-03T10:00:00.000Z', model_id: 'credit_b', waivedUntil: '2027-06-30' },
      { created: '2026-11-04T10:00:00.000Z', model_id: 'credit_c' },
    ]);
    const rows = listEntries(sqlDb(db));
    expect(rows.map((r) => [r.model_id, r.decision, auditStatus(r.decision)])).toEqual([
      ['credit_a', 'REVIEW', 'REVIEW'],
      ['credit_b', 'REVIEW', 'REVIEW'],
      ['credit_c', 'FAIL', 'BLOCKED'],
    ]);
    expect(rows[0].failed_gates[0]).toMatchObject({ name: 'Minimum AUC', outcome: 'WAIVED', waiver: { approved_by: 'CRO', expires: '2026-12-20', reason: 'retraining' } });
    expect(portfolio(rows).status).toEqual({ PASS: 0, REVIEW: 2, FAIL: 1, NONE: 0 });
    // Entries written before waivers existed said WARN: still REVIEW.
    expect(auditStatus('WARN')).toBe('REVIEW');
    const md = monthlySummaryMarkdown(rows, '2026-11', 'team.db');
    expect(md).toContain('**1 of 3 models blocked, 2 under review**');
    expect(md).toContain('| credit_a | risk | 2026-11-02 (#1) | Minimum AUC (WAIVED, waived by CRO until 2026-12-20); Parity (WARN) |');
    expect(md).toContain('| Model | Gate | Approved by | Expires | Reason |');
    expect(md).toContain('| credit_a | Minimum AUC | CRO | 2026-12-20 | retraining |');
    // credit_b's waiver runs to 2027-06-30: not within 30 days of November's end.
    expect(md).not.toContain('| credit_b | Minimum AUC | CRO |');
    // Waived is its own count: two waived, one failed (credit_c) — waived gates were counted failed.
    expect(portfolio(rows).most_failed_gates.find((g) => g.gate === 'Minimum AUC')).toMatchObject({ fail: 1, waived: 2 });
    expect(md).toContain('| Gate | Failed | Warned | Waived | Models |');
    verifyRegistry(sqlDb(db));
  });
});

/** Recomputes entry `seq`'s hash from its stored columns, as a forger who knows the format would. */
function rehash(db: Database, seq: number): string {
  const { columns, values } = db.exec('SELECT e.*, r.result_gz FROM entries e JOIN results r USING (seq) WHERE e.seq = ?', [seq])[0];
  return entryHash(Object.fromEntries(columns.map((c, i) => [c, values[0][i]])) as Parameters<typeof entryHash>[0]);
}

describe('plumbline registry (CLI)', () => {
  it('init, audit --registry, list, verify, export, show and summary', async () => {
    expect((await plumbline(['registry', 'list', 'missing.db'])).stderr).toBe('plumbline: missing.db does not exist. Create it with: plumbline registry init missing.db.\n');
    const init = (await plumbline(['registry', 'init', 'team.db']));
    expect(init).toMatchObject({ code: 0, stdout: 'team.db: created an empty registry.\n' });
    expect(readFileSync(join(work, 'team.db')).subarray(0, 16).toString('latin1')).toBe('SQLite format 3\0');
    expect((await plumbline(['registry', 'init', 'team.db'])).stdout).toBe('team.db: already a registry (0 entries, schema version 4); left as is.\n');

    const first = (await plumbline(['audit', '--config', 'audit.yaml', '--policy-gates', 'policy.yaml', '--output', 'r1/report.pdf', '--registry', 'team.db', '--registry-keep-report'], { SOURCE_DATE_EPOCH: '1792000000' }));
    expect(first.code).toBe(1);
    expect(first.stderr).toContain('plumbline: appended entry 1 (recidivism-rf, FAIL) to the registry team.db\n');
    // The checkpoint over entry 1, printed only once the append is on disk.
    const checkpoint1 = /^plumbline: registry checkpoint (1:[0-9a-f]{64}): record it outside the registry \(a CI log\); plumbline registry verify team\.db --root 1:[0-9a-f]{64} then proves entries 1–1 were neither changed nor removed\.$/m.exec(first.stderr)![1];
    const second = (await plumbline(['audit', '--config', 'audit.yaml', '--output', 'r2/result.json', '--registry', 'team.db'], { SOURCE_DATE_EPOCH: '1795000000' }));
    expect(second.code).toBe(0);

    const list = (await plumbline(['registry', 'list', 'team.db']));
    expect(list.stdout.split('\n')[0]).toMatch(/^#\s+created \(UTC\)\s+model\s+version\s+decision\s+roc_auc\s+ece\s+dp_ratio\s+failed or warned gates$/);
    expect(list.stdout).toMatch(/^1 +2026-10-14 17:46:40 +recidivism-rf +1\.3 +FAIL +0\.744 .* Minimum AUC \(FAIL\), Parity \(WARN\)$/m);
    // One row per model: its latest audit (entry 2, without a policy).
    expect((await plumbline(['registry', 'list', 'team.db', '--latest'])).stdout).toMatch(/^model +team +last audit \(UTC\) +status +failed gates +waivers in use\nrecidivism-rf +risk +2026-11-18 11:06:40 +NONE +0 +–\n$/);
    const json = JSON.parse((await plumbline(['registry', 'list', 'team.db', '--json', '--failed-gates'])).stdout);
    expect(json.map((r: { seq: number }) => r.seq)).toEqual([1]);
    expect(json[0]).toMatchObject({ model_id: 'recidivism-rf', model_version: '1.3', team: 'risk', owner: 'ana@example.org', blobs: ['report.evidence.zip', 'report.pdf'] });
    expect(JSON.parse((await plumbline(['registry', 'list', 'team.db', '--json', '--since', '2026-11-10'])).stdout).map((r: { seq: number }) => r.seq)).toEqual([2]);
    expect((await plumbline(['registry', 'list', 'team.db', '--since', 'yesterday'])).stderr).toBe('plumbline: --since "yesterday" is not a date: use YYYY-MM-DD or an ISO date-time with a zone (e.g. 2026-11-01 or 2026-11-01T09:30:00Z).\n');

    const verify = (await plumbline(['registry', 'verify', 'team.db']));
    expect(verify.code).toBe(0);
    const root = /merkle root ([0-9a-f]{64})/.exec(verify.stdout)![1];
    expect((await plumbline(['registry', 'verify', 'team.db', '--root', root])).code).toBe(0);
    expect(verify.stdout).toContain(`checkpoint 2:${root}\n`);
    const wrongRoot = (await plumbline(['registry', 'verify', 'team.db', '--root', '0'.repeat(64)]));
    expect(wrongRoot.code).toBe(1);
    expect(wrongRoot.stdout).toContain(`TAMPERED: the Merkle root of entries 1–2 is ${root.slice(0, 12)}…, not the ${'0'.repeat(12)}… recorded in the checkpoint: the registry was rewritten since the checkpoint was recorded, or it is another file.\n`);
    // The checkpoint the first append printed still holds after the second.
    const stillHolds = (await plumbline(['registry', 'verify', 'team.db', '--root', checkpoint1]));
    expect(stillHolds.stdout).toContain('ok: every entry matches its hash, the chain is whole and the append-only guard is in place; entries 1–1 are those the checkpoint recorded.\n');
    expect((await plumbline(['registry', 'verify', 'team.db', '--root', 'abc'])).stderr).toBe('plumbline: --root must be a checkpoint N:ROOT as plumbline audit --registry prints it (the entry count, a colon, 64 lowercase hex digits), or a bare ROOT for the whole registry; got "abc".\n');

    const csv = (await plumbline(['registry', 'export', 'team.db', '--csv'])).stdout.trim().split('\n');
    expect(csv).toHaveLength(3);
    expect((await plumbline(['registry', 'export', 'team.db'])).stderr).toBe('plumbline: plumbline registry export needs a format: --csv (or --json).\n');

    expect(JSON.parse((await plumbline(['registry', 'show', 'team.db', '2'])).stdout)).toEqual(JSON.parse(readFileSync(join(work, 'r2', 'result.json'), 'utf8')));
    expect((await plumbline(['registry', 'show', 'team.db', '1', '--file', 'report.pdf', '--output', 'back.pdf'])).code).toBe(0);
    expect(readFileSync(join(work, 'back.pdf'))).toEqual(readFileSync(join(work, 'r1', 'report.pdf')));

    const summary = (await plumbline(['registry', 'summary', 'team.db', '--month', '2026-10']));
    expect(summary.stdout).toContain('**1 of 1 model blocked, 0 under review**');
    expect((await plumbline(['registry', 'summary', 'team.db', '--month', '2026-13'])).stderr).toBe('plumbline: --month "2026-13" is not a month: use YYYY-MM (e.g. 2026-11).\n');

    // A truncated copy (a half-synced shared drive) is refused in words, not as an internal error.
    const whole = readFileSync(join(work, 'team.db'));
    writeFileSync(join(work, 'truncated.db'), whole.subarray(0, Math.floor(whole.length / 2)));
    const truncated = (await plumbline(['registry', 'list', 'truncated.db']));
    expect(truncated.code).toBe(2);
    expect(truncated.stderr).toMatch(/^plumbline: truncated\.db is damaged: SQLite reports ".+"\. Open an intact copy of the registry \(plumbline registry verify names what changed in it\)\.\n$/);

    // A file that is not SQLite at all is not called damaged (it was: "SQLite reports "file is not a database""), by every command alike.
    writeFileSync(join(work, 'text.db'), 'hello\n');
    for (const args of [['registry', 'verify', 'text.db'], ['registry', 'list', 'text.db'], ['registry', 'init', 'text.db']]) {
      expect(await plumbline(args), args.join(' ')).toMatchObject({ code: 2, stderr: 'plumbline: text.db is not an SQLite database (file is not a database): not a registry, or one whose first bytes were overwritten (then open an intact copy). Give a registry\'s path, or create one at a new path with: plumbline registry init FILE.\n' });
    }

    // Tampering with the file outside Plumbline: verify exits 1 and names the entry.
    const db = new SQL.Database(readFileSync(join(work, 'team.db')));
    forge(db, "UPDATE entries SET decision = 'PASS' WHERE seq = 1");
    writeFileSync(join(work, 'tampered.db'), db.export());
    const tampered = (await plumbline(['registry', 'verify', 'tampered.db']));
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toMatch(/^TAMPERED: entry 1 \(recidivism-rf, 2026-10-14T17:46:40\.000Z\) was altered/m);
    const problem = /^TAMPERED: (.*)$/m.exec(tampered.stdout)![1];

    // …and the tampered entry is not handed out as a clean audit: not its result, report or
    // evidence pack, nor a CSV or summary of the registry. The intact entry still shows.
    const refused = `plumbline: tampered.db entry 1 failed verification, so it is not opened or exported as an audit: TAMPERED: ${problem}\n`;
    expect((await plumbline(['registry', 'show', 'tampered.db', '1']))).toMatchObject({ code: 2, stdout: '', stderr: refused });
    for (const name of ['report.pdf', 'report.evidence.zip']) {
      expect((await plumbline(['registry', 'show', 'tampered.db', '1', '--file', name, '--output', `laundered-${name}`]))).toMatchObject({ code: 2, stderr: refused });
      expect(existsSync(join(work, `laundered-${name}`))).toBe(false);
    }
    expect((await plumbline(['registry', 'show', 'tampered.db', '2'])).code).toBe(0);
    expect((await plumbline(['registry', 'export', 'tampered.db', '--csv'])).stderr).toBe(`plumbline: tampered.db failed verification, so no CSV is made from it: TAMPERED: ${problem}\n`);
    expect((await plumbline(['registry', 'summary', 'tampered.db', '--month', '2026-10', '--output', 'laundered.pdf'])).stderr).toBe(`plumbline: tampered.db failed verification, so no monthly summary is made from it: TAMPERED: ${problem}\n`);
    expect(existsSync(join(work, 'laundered.pdf'))).toBe(false);
    // Listed, it is marked (verified first, as the app's Portfolio page does), not shown with its forged decision; exit 1 as verify.
    const listed = await plumbline(['registry', 'list', 'tampered.db']);
    expect(listed.code).toBe(1);
    // Its forged figures and gates are not shown beside the mark.
    expect(listed.stdout).toMatch(/^1 +2026-10-14 17:46:40 +recidivism-rf +1\.3 +TAMPERED +– +– +– +not shown: the entry failed verification$/m);
    expect(listed.stdout).toMatch(/^2 +2026-11-18 11:06:40 +recidivism-rf +1\.3 +no policy /m);
    expect(listed.stdout).toContain(`\ntampered.db failed verification: TAMPERED: ${problem}; the entries it makes untrustworthy are marked TAMPERED. plumbline registry verify tampered.db lists every problem.\n`);
    const listedJson = JSON.parse((await plumbline(['registry', 'list', 'tampered.db', '--json'])).stdout);
    expect(listedJson.map((r: { tampered?: string }) => r.tampered)).toEqual([problem, undefined]);
    // --no-verify reads the rows as stored, and says they were not verified.
    const unverified = await plumbline(['registry', 'list', 'tampered.db', '--no-verify']);
    expect(unverified.code).toBe(0);
    expect(unverified.stdout).toMatch(/^1 +2026-10-14 17:46:40 +recidivism-rf +1\.3 +PASS /m);
    expect(unverified.stdout).toContain("\nnot verified (--no-verify): plumbline registry verify tampered.db checks every entry's hash.\n");
    // A model whose latest audit is the altered one reads TAMPERED, not its status.
    const later = new SQL.Database(readFileSync(join(work, 'team.db')));
    forge(later, "UPDATE entries SET decision = 'FAIL' WHERE seq = 2");
    writeFileSync(join(work, 'tampered-latest.db'), later.export());
    const latest = await plumbline(['registry', 'list', 'tampered-latest.db', '--latest']);
    expect(latest.code).toBe(1);
    expect(latest.stdout).toMatch(/^recidivism-rf +risk +2026-11-18 11:06:40 +TAMPERED +– +–$/m);
  }, 120_000);

  it('keeps both of two concurrent appends', async () => {
    expect((await plumbline(['registry', 'init', 'shared.db'])).code).toBe(0);
    const runs = await Promise.all(['x', 'y'].map((out) => plumblineAsync(['audit', '--config', 'audit.yaml', '--output', `${out}/result.json`, '--registry', 'shared.db'])));
    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    const db = new SQL.Database(readFileSync(join(work, 'shared.db')));
    expect(listEntries(sqlDb(db)).map((r) => r.seq)).toEqual([1, 2]);
    expect(verifyRegistry(sqlDb(db)).ok).toBe(true);
  }, 120_000);
});
