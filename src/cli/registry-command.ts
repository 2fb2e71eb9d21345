/**
 * `plumbline registry`: the audit registry file from the command line. The file is opened
 * in place with SQLite itself (better-sqlite3, see sqlite-file.ts), under SQLite's own
 * locks: an append is one write transaction that reads the chain head under the write lock
 * and says "appended" only once the commit is on disk, so concurrent CI jobs all land, and
 * any other SQLite client on the file waits for it rather than rolling it back. Commands
 * that read do so in one read transaction, so they never see half of an append.
 */
import { stdout } from './io.ts';
import type { BaselineResult } from '../core/comparison/baseline.ts';
import { createHash } from 'node:crypto';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import {
  auditStatus,
  portfolio,
  appendEntry,
  appendStoredEntries,
  entryBlob,
  entryResult,
  formatCheckpoint,
  guardRegistry,
  guardRegistryAsync,
  listEntries,
  openRegistry,
  parseCheckpoint,
  parseRegistryDate,
  readStoredEntries,
  readTransaction,
  refuseTamperedRegistry,
  refuseUntrustedEntry,
  registryCheckpoint,
  registryCsv,
  verifyRegistryAsync,
  type RegistryAppend,
  type RegistryFilter,
  type RegistryInfo,
  type RegistryRow,
  type Sha256,
  type Sha256Async,
  type StoredEntry,
  type VerifyOptions,
  type VerifyReport,
} from '../core/registry/registry.ts';
import type { Appended, RegistryReader, RegistryStore } from '../core/registry/store.ts';
import { monthlySummaryMarkdown, monthlySummaryPdf, monthRange } from '../core/registry/summary.ts';
import { RegistryError } from '../core/errors.ts';
import { isPostgresUrl, openPostgresRegistry, redactUrl } from './registry-postgres.ts';
import type { SqliteFile } from './sqlite-file.ts';
import { EXIT, UsageError } from './shared.ts';

/**
 * better-sqlite3 (an optional dependency), loaded when a registry file is opened: a team
 * whose registry is a PostgreSQL database needs no SQLite driver installed.
 */
async function openSqliteFile(...args: Parameters<typeof import('./sqlite-file.ts').openSqliteFile>): Promise<SqliteFile> {
  let driver: typeof import('./sqlite-file.ts');
  try {
    driver = await import('./sqlite-file.ts');
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && /better-sqlite3|bindings/.test(message)) {
      throw new UsageError('a registry file needs better-sqlite3, an optional dependency that is not installed here (its install downloads a prebuilt SQLite binary, or compiles one with Python and a C compiler). Run npm install better-sqlite3 where that works, or use a PostgreSQL registry (--registry postgresql://…).');
    }
    throw error;
  }
  return driver.openSqliteFile(...args);
}

const USAGE = `Usage: plumbline registry <command> REGISTRY [options]

The audit registry: every audit, hash-chained (tamper-evident), in one SQLite file or in a
PostgreSQL database shared by a team. REGISTRY is a file path or a URL
postgresql://USER@HOST:PORT/DATABASE (password from PGPASSWORD or ~/.pgpass; --registry R
may stand for the positional argument). Both hold the same entries, chain and Merkle root.

Commands (FILE below may be either):
  init FILE                     create a registry (an existing one is left as is, upgraded if old);
                                --database URL is the same as the positional argument
  list FILE                     audits in order; --failed-gates, --model ID, --since DATE, --json;
                                --latest: one row per model (team, last audit, status
                                PASS/REVIEW/BLOCKED, failed gates, waivers in use)
  verify FILE                   recompute every hash and check the append-only guard; exit 1
                                naming the first altered, removed or reordered entry;
                                --root N:ROOT also checks a checkpoint an append printed; --json
  export FILE --csv             one row per audit (key metrics, failed gates, hashes); --output F
  show FILE N                   the result JSON of entry N; --file NAME writes a kept file
                                (report PDF, evidence pack) to --output instead
  summary FILE --month YYYY-MM  monthly summary for management; --output F.md or F.pdf
  export FILE --sqlite OUT      a registry file with the same entries and Merkle root (the app's
                                Portfolio page opens it); OUT must not exist yet
  import SOURCE --registry R    verify the registry file (or database) SOURCE, then append its
                                entries to R in one transaction; entries R already holds at the
                                same place are skipped

show, export, import and summary verify the registry first (against --root N:ROOT too when given) and
refuse a tampered entry or registry.

Append an audit with: plumbline audit ... --registry FILE|URL [--registry-keep-report]`;

/** SHA-256 with node:crypto (verify hashes every stored result; this is ~15× noble's speed). */
export const nodeSha256: Sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

// The hashing thread: plain JavaScript (no TypeScript loader to start), node:crypto.
const HASHER = `const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
parentPort.on('message', (jobs) => parentPort.postMessage(jobs.map(([id, bytes]) => [id, createHash('sha256').update(bytes).digest('hex')])));`;

/**
 * SHA-256 on a worker thread: bytes are copied out (the caller's may be a view into
 * SQLite's memory), sent in batches, and hashed while this thread reads the next ones.
 * (WebCrypto's `digest` would be the obvious tool, but Node 20 spends as long on its
 * calling thread as hashing takes.) `close()` ends the thread.
 */
export function threadSha256(): { digest: Sha256Async; close(): Promise<void> } {
  const worker = new Worker(HASHER, { eval: true });
  const waiting = new Map<number, { resolve(hex: string): void; reject(error: unknown): void }>();
  let batch: [number, Uint8Array][] = [];
  let next = 0;
  worker.on('message', (answers: [number, string][]) => {
    for (const [id, hex] of answers) {
      waiting.get(id)?.resolve(hex);
      waiting.delete(id);
    }
  });
  worker.on('error', (error) => {
    for (const job of waiting.values()) job.reject(error);
    waiting.clear();
  });
  const flush = () => {
    if (!batch.length) return;
    worker.postMessage(batch, batch.map(([, bytes]) => bytes.buffer as ArrayBuffer));
    batch = [];
  };
  return {
    digest: (bytes) =>
      new Promise<string>((resolve, reject) => {
        const id = next++;
        waiting.set(id, { resolve, reject });
        // Sent when this thread next waits (the verify loop awaits every few dozen results).
        if (batch.push([id, bytes.slice()]) === 1) queueMicrotask(flush);
      }),
    close: async () => void (await worker.terminate()),
  };
}

/**
 * Verifies a registry opened in place, in one read transaction. The stored results (all but
 * a few KB of the file) are hashed on a second thread while SQLite reads the next ones,
 * then the chain, the guard and the checkpoint if given are checked.
 */
export async function verifyRegistryFile(db: SqliteFile, fileName: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  return readVerified(db, fileName, options, (report) => report);
}

/**
 * Verifies the registry and runs `body` with the report, in one read transaction: what
 * `body` reads (an entry to show, the rows to export) is what was verified.
 */
async function readVerified<T>(db: SqliteFile, fileName: string, options: VerifyOptions, body: (report: VerifyReport) => T | Promise<T>): Promise<T> {
  const hasher = threadSha256();
  try {
    return await guardRegistryAsync(fileName, () => readTransaction(db, async () => body(await verifyRegistryAsync(db, nodeSha256, hasher.digest, options))));
  } finally {
    await hasher.close();
  }
}

/** The registry file's own problems (missing, a folder) before SQLite opens it. */
async function checkPath(path: string, create: boolean): Promise<void> {
  try {
    if ((await stat(path)).isDirectory()) throw new UsageError(`cannot read the registry ${path}: it is a folder.`);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new UsageError(`cannot read the registry ${path}: ${(error as Error).message}.`);
    if (!create) throw new RegistryError(`${path} does not exist. Create it with: plumbline registry init ${path}.`);
    const folder = dirname(path);
    if (!(await stat(folder).then((s) => s.isDirectory(), () => false))) throw new UsageError(`cannot create the registry ${path}: the folder ${folder} does not exist.`);
  }
}

/**
 * Opens a registry file in place (creating it when `create` and it is missing) and brings
 * its schema up to date, under SQLite's write lock when there is anything to write.
 */
export async function openRegistryFile(path: string, options: { create?: boolean } = {}): Promise<{ db: SqliteFile; info: RegistryInfo }> {
  await checkPath(path, options.create === true);
  const db = await guardRegistryAsync(basename(path), () => openSqliteFile(path, { create: options.create }));
  try {
    return { db, info: guardRegistry(basename(path), () => openRegistry(db, basename(path), options)) };
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * Checks, writing nothing, that a file is a registry this Plumbline can append to (the
 * audit command does this before a long audit; an old schema is upgraded when it appends).
 * A PostgreSQL URL is checked by connecting: an unreachable server or a database without a
 * registry fails now, not after the audit.
 */
export async function checkRegistryFile(target: string): Promise<RegistryInfo> {
  if (isPostgresUrl(target)) {
    const store = await openPostgresRegistry(target);
    await store.close();
    return store.info;
  }
  await checkPath(target, false);
  const db = await guardRegistryAsync(basename(target), () => openSqliteFile(target));
  try {
    return guardRegistry(basename(target), () => openRegistry(db, basename(target), { migrate: false }));
  } finally {
    db.close();
  }
}

/** A registry file opened in place with SQLite, behind the interface a database shares. */
class SqliteRegistry implements RegistryStore {
  constructor(
    readonly db: SqliteFile,
    readonly name: string,
    readonly info: RegistryInfo,
  ) {}

  async list(filter?: RegistryFilter): Promise<RegistryRow[]> {
    return guardRegistry(this.name, () => listEntries(this.db, filter));
  }

  readVerified<T>(options: VerifyOptions, body: (report: VerifyReport, reader: RegistryReader) => T | Promise<T>): Promise<T> {
    const { db, name } = this;
    const reader: RegistryReader = {
      list: async (filter) => listEntries(db, filter),
      entryResult: async (seq) => entryResult(db, name, seq),
      entryBlob: async (seq, file) => entryBlob(db, name, seq, file),
      async *storedEntries() {
        for (let batch = readStoredEntries(db, 0, 200); batch.length; batch = readStoredEntries(db, batch.at(-1)!.seq, 200)) yield batch;
      },
    };
    return readVerified(db, name, options, (report) => body(report, reader));
  }

  async append(input: RegistryAppend): Promise<Appended> {
    const entry = guardRegistry(this.name, () => appendEntry(this.db, this.name, input, nodeSha256));
    const checkpoint = guardRegistry(this.name, () => registryCheckpoint(this.db, entry.seq, nodeSha256));
    return { entry, checkpoint };
  }

  async appendStored(sourceName: string, entries: readonly StoredEntry[]) {
    const done = guardRegistry(this.name, () => appendStoredEntries(this.db, this.name, sourceName, entries, nodeSha256));
    return { ...done, checkpoint: guardRegistry(this.name, () => registryCheckpoint(this.db, undefined, nodeSha256)) };
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

/** How messages and output lines name a registry: the path as given, or the URL without its password. */
export function registryLabel(target: string): string {
  return isPostgresUrl(target) ? redactUrl(target) : target;
}

/**
 * Opens the registry a command names: a PostgreSQL URL or a file path (created when
 * `create` and missing; an old file's schema is brought up to date).
 */
export async function openRegistryStore(target: string, options: { create?: boolean } = {}): Promise<RegistryStore> {
  if (isPostgresUrl(target)) return openPostgresRegistry(target, options);
  const { db, info } = await openRegistryFile(target, options);
  return new SqliteRegistry(db, basename(target), info);
}

/** Runs a command on an open registry. */
async function withRegistry<T>(target: string, body: (store: RegistryStore) => Promise<T>, options: { create?: boolean } = {}): Promise<T> {
  const store = await openRegistryStore(target, options);
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}

export type { Appended } from '../core/registry/store.ts';

/**
 * Appends one audit to a registry (used by `plumbline audit --registry`). Returns once the
 * entry is committed (on disk, or in the database), with the checkpoint `N:ROOT` over
 * entries 1–N (it stays true whatever is appended later).
 */
export async function appendToRegistry(target: string, input: RegistryAppend): Promise<Appended> {
  return withRegistry(target, (store) => store.append(input));
}

/**
 * One verified entry's audit result, as the baseline of a champion-vs-challenger audit
 * (`plumbline audit --baseline REGISTRY#SEQ`): its label is `REGISTRY#SEQ` and its digest
 * the entry's stored result SHA-256.
 */
export async function registryBaseline(target: string, seq: number): Promise<{ result: BaselineResult; file: string; sha256: string }> {
  return withRegistry(target, (store) =>
    store.readVerified({}, async (report, reader) => {
      refuseUntrustedEntry(store.name, report, seq);
      const result = await reader.entryResult(seq);
      const row = (await reader.list()).find((r) => r.seq === seq);
      if (!row) throw new RegistryError(`${store.name} has no entry ${seq} (see plumbline registry list ${registryLabel(target)}).`);
      return { result: result as unknown as BaselineResult, file: `${registryLabel(target)}#${seq}`, sha256: row.result_sha256 };
    }),
  );
}

/** The lines `plumbline audit --registry` prints once the append is committed. */
export function appendedMessage(target: string, { entry, checkpoint }: Appended): string {
  const text = formatCheckpoint(checkpoint);
  const shown = registryLabel(target);
  return `plumbline: appended entry ${entry.seq} (${entry.model_id}, ${entry.decision ?? 'no policy'}) to the registry ${shown}
plumbline: registry checkpoint ${text}: record it outside the registry (a CI log); plumbline registry verify ${shown} --root ${text} then proves entries 1–${entry.seq} were neither changed nor removed.
`;
}

/**
 * Writes an output file whole or not at all: to a temporary name beside it, synced, then
 * renamed over it, so a full disk or a crash never leaves half a CSV, summary or report.
 */
export async function writeOutputFile(path: string, data: string | Uint8Array): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  try {
    const file = await open(temporary, 'w');
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') throw new UsageError(`cannot write ${path}: the disk is full: free space and run again (nothing was written to ${path}).`);
    throw new UsageError(`cannot write ${path}: ${(error as Error).message}.`);
  }
}

const fmt = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(3) : '–');

/** One row per model: its latest audit's status, failing gates (waived ones not counted) and waivers in use. */
function latestByModel(rows: RegistryRow[]) {
  return portfolio(rows).models.map((m) => ({
    model_id: m.model_id,
    team: m.team,
    last_audit: m.latest.created.slice(0, 19).replace('T', ' '),
    seq: m.latest.seq,
    status: auditStatus(m.latest.decision),
    failed_gates: m.latest.failed_gates.filter((g) => g.outcome !== 'WAIVED').length,
    waivers: m.latest.failed_gates.filter((g) => g.waiver).map((g) => ({ gate: g.name, ...g.waiver! })),
  }));
}

/** Columns padded to their widest cell; the last one left ragged. */
function table(lines: string[][], header: string[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  return [header, ...lines].map((l) => l.map((cell, i) => (i === l.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n');
}

/** A multiclass or regression entry's key figures, in words (these entries have no ROC AUC, ECE or DP ratio). */
function taskFigures(metrics: RegistryRow['metrics']): string | null {
  if (metrics.mae !== undefined) return `MAE ${fmt(metrics.mae)}, R² ${fmt(metrics.r2)}, mean prediction gap ${fmt(metrics.mean_prediction_difference)}`;
  if (metrics.roc_auc_ovr !== undefined) return `macro AUC ${fmt(metrics.roc_auc_ovr)}, macro F1 ${fmt(metrics.f1_macro)}, class ECE ${fmt(metrics.max_classwise_ece)}`;
  return null;
}

function listTable(rows: RegistryRow[]): string {
  // The task column appears only when a multiclass or regression audit is listed (a binary-only list reads as before).
  const tasks = rows.some((r) => taskFigures(r.metrics) !== null);
  const header = ['#', 'created (UTC)', 'model', 'version', 'decision', 'roc_auc', 'ece', 'dp_ratio', ...(tasks ? ['multiclass / regression'] : []), 'failed or warned gates'];
  const lines = rows.map((r) => [
    String(r.seq),
    r.created.slice(0, 19).replace('T', ' '),
    r.model_id,
    r.model_version ?? '–',
    r.decision ?? 'no policy',
    fmt(r.metrics.roc_auc),
    fmt(r.metrics.expected_calibration_error),
    fmt(r.metrics.demographic_parity_ratio),
    ...(tasks ? [taskFigures(r.metrics) ?? '–'] : []),
    r.failed_gates.map((g) => `${g.name} (${g.outcome})`).join(', ') || '–',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  return [header, ...lines].map((l) => l.map((cell, i) => (i === l.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n');
}

/** The registry a command works on: the positional argument, or `--registry` (`--database`) standing for it. */
function registryArgument(positionals: string[], command: string, named: string | undefined): { target: string; rest: string[] } {
  if (named !== undefined) return { target: named, rest: positionals };
  if (!positionals[0]) throw new UsageError(`plumbline registry ${command} needs the registry: plumbline registry ${command} FILE (or a postgresql:// URL).`);
  return { target: positionals[0], rest: positionals.slice(1) };
}

/** The verify report as `registry verify` prints it. */
function verifyLines(shown: string, report: VerifyReport, checkpoint: { entries: number | null } | undefined): string {
  const lines = [`${shown}: ${report.entries} entries, schema version ${report.schema_version}`, `merkle root ${report.merkle_root}`, `checkpoint ${report.checkpoint}`];
  if (report.problems.length) lines.push(`TAMPERED: ${report.problems[0].message}`, ...report.problems.slice(1).map((p) => `  also: ${p.message}`));
  else lines.push(`ok: every entry matches its hash, the chain is whole and the append-only guard is in place${checkpoint ? `; entries 1–${checkpoint.entries ?? report.entries} are those the checkpoint recorded` : ''}.`);
  return `${lines.join('\n')}\n`;
}

/** Every entry of a verified registry, with its stored result and kept files. */
export async function allStoredEntries(reader: RegistryReader): Promise<StoredEntry[]> {
  const entries: StoredEntry[] = [];
  for await (const batch of reader.storedEntries()) entries.push(...batch);
  return entries;
}

/**
 * `registry export --sqlite OUT`: a new registry file with the entries of a verified
 * registry, hashes and Merkle root unchanged. Written beside OUT under a temporary name
 * and renamed once complete, so OUT is never half a registry.
 */
async function exportSqlite(store: RegistryStore, checkpoint: VerifyOptions['checkpoint'], output: string): Promise<{ entries: number; merkle_root: string }> {
  if (await stat(output).then(() => true, () => false)) throw new UsageError(`cannot export to ${output}: it exists. Give a new file name (export never overwrites a registry).`);
  const entries = await store.readVerified({ checkpoint }, (report, reader) => {
    refuseTamperedRegistry(store.name, report, 'SQLite export');
    return allStoredEntries(reader);
  });
  const temporary = join(dirname(output), `.${basename(output)}.${process.pid}.tmp`);
  let file: RegistryStore | undefined;
  try {
    file = await openRegistryStore(temporary, { create: true });
    const copied = await file.appendStored(store.name, entries);
    await file.close();
    file = undefined;
    await rename(temporary, output);
    return copied.checkpoint;
  } catch (error) {
    await file?.close();
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

/** Runs `plumbline registry …` and returns the exit code. */
export async function registryCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      'failed-gates': { type: 'boolean' },
      latest: { type: 'boolean' },
      model: { type: 'string' },
      since: { type: 'string' },
      json: { type: 'boolean' },
      root: { type: 'string' },
      csv: { type: 'boolean' },
      sqlite: { type: 'string' },
      output: { type: 'string', short: 'o' },
      file: { type: 'string' },
      month: { type: 'string' },
      registry: { type: 'string' },
      database: { type: 'string' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help || sub === undefined || sub === '--help' || sub === '-h') {
    stdout.write(`${USAGE}\n`);
    return sub === undefined ? EXIT.cannotAudit : EXIT.ok;
  }
  if (values.registry !== undefined && values.database !== undefined && values.registry !== values.database) throw new UsageError('give the registry once: --registry and --database name the same thing.');
  const named = values.registry ?? values.database;
  const checkpoint = values.root === undefined ? undefined : parseCheckpoint(values.root, '--root');
  switch (sub) {
    case 'init': {
      const { target } = registryArgument(positionals, 'init', named);
      return withRegistry(
        target,
        async ({ info }) => {
          const what = info.migrated[0] === 1 ? 'created an empty registry' : info.migrated.length ? `upgraded the registry to schema version ${info.schema_version} (${info.entries} entries kept)` : `already a registry (${info.entries} entries, schema version ${info.schema_version}); left as is`;
          stdout.write(`${registryLabel(target)}: ${what}.\n`);
          return EXIT.ok;
        },
        { create: true },
      );
    }
    case 'list': {
      const { target } = registryArgument(positionals, 'list', named);
      const filter: RegistryFilter = { failedGates: values['failed-gates'], model: values.model, since: values.since === undefined ? undefined : parseRegistryDate(values.since, '--since') };
      return withRegistry(target, async (store) => {
        const rows = await store.list(filter);
        if (values.latest) {
          const models = latestByModel(rows);
          stdout.write(values.json ? `${JSON.stringify(models, null, 2)}\n` : models.length ? `${table(models.map((m) => [m.model_id, m.team ?? '–', m.last_audit, m.status, String(m.failed_gates), m.waivers.map((w) => `${w.gate} (${w.approved_by}, until ${w.expires})`).join(', ') || '–']), ['model', 'team', 'last audit (UTC)', 'status', 'failed gates', 'waivers in use'])}\n` : 'no audits match.\n');
          return EXIT.ok;
        }
        stdout.write(values.json ? `${JSON.stringify(rows, null, 2)}\n` : rows.length ? `${listTable(rows)}\n` : 'no audits match.\n');
        return EXIT.ok;
      });
    }
    case 'verify': {
      const { target } = registryArgument(positionals, 'verify', named);
      return withRegistry(target, async (store) => {
        const report = await store.readVerified({ checkpoint }, (r) => r);
        if (values.json) stdout.write(`${JSON.stringify({ ...report, expected_checkpoint: values.root ?? null }, null, 2)}\n`);
        else stdout.write(verifyLines(registryLabel(target), report, checkpoint));
        return report.ok ? EXIT.ok : EXIT.gateFailed;
      });
    }
    case 'export': {
      const { target } = registryArgument(positionals, 'export', named);
      if (values.sqlite !== undefined) {
        return withRegistry(target, async (store) => {
          const copied = await exportSqlite(store, checkpoint, values.sqlite!);
          stdout.write(`${values.sqlite}: ${copied.entries} entries of ${registryLabel(target)}, verified and copied with their hashes; merkle root ${copied.merkle_root}\n`);
          return EXIT.ok;
        });
      }
      if (!values.csv && !values.json) throw new UsageError('plumbline registry export needs a format: --csv (or --json).');
      const filter = { failedGates: values['failed-gates'], model: values.model, since: values.since === undefined ? undefined : parseRegistryDate(values.since, '--since') };
      return withRegistry(target, async (store) => {
        const rows = await store.readVerified({ checkpoint }, (report, reader) => {
          refuseTamperedRegistry(store.name, report, values.csv ? 'CSV' : 'JSON export');
          return reader.list(filter);
        });
        const text = values.csv ? registryCsv(rows) : `${JSON.stringify(rows, null, 2)}\n`;
        if (values.output) await writeOutputFile(values.output, text);
        else stdout.write(text);
        return EXIT.ok;
      });
    }
    case 'import': {
      const source = positionals[0];
      if (!source || !named) throw new UsageError('plumbline registry import needs the registry to read and the one to append to: plumbline registry import FILE --registry postgresql://USER@HOST:PORT/DATABASE.');
      const entries = await withRegistry(source, (from) =>
        from.readVerified({ checkpoint }, (report, reader) => {
          refuseTamperedRegistry(from.name, report, 'import');
          return allStoredEntries(reader);
        }),
      );
      return withRegistry(named, async (store) => {
        const done = await store.appendStored(registryLabel(source), entries);
        const text = formatCheckpoint(done.checkpoint);
        stdout.write(`${registryLabel(named)}: appended ${done.appended} entr${done.appended === 1 ? 'y' : 'ies'} of ${registryLabel(source)}${done.skipped ? ` (${done.skipped} it already held were skipped)` : ''}; ${done.checkpoint.entries} entries now.\nregistry checkpoint ${text}: record it outside the registry; plumbline registry verify ${registryLabel(named)} --root ${text} proves entries 1–${done.checkpoint.entries} later.\n`);
        return EXIT.ok;
      });
    }
    case 'show': {
      const { target, rest: more } = registryArgument(positionals, 'show', named);
      const seq = Number(more[0]);
      if (!Number.isInteger(seq) || seq < 1) throw new UsageError(`plumbline registry show needs an entry number (see plumbline registry list ${registryLabel(target)}), got ${JSON.stringify(more[0] ?? '')}.`);
      const file = values.file;
      if (file && !values.output) throw new UsageError('--file writes a kept file: give --output FILE too.');
      return withRegistry(target, async (store) => {
        const out = await store.readVerified({ checkpoint }, async (report, reader) => {
          refuseUntrustedEntry(store.name, report, seq);
          return file ? reader.entryBlob(seq, file) : `${JSON.stringify(await reader.entryResult(seq), null, 2)}\n`;
        });
        if (values.output) await writeOutputFile(values.output, out);
        else stdout.write(out);
        return EXIT.ok;
      });
    }
    case 'summary': {
      const { target } = registryArgument(positionals, 'summary', named);
      const month = values.month;
      if (!month) throw new UsageError('plumbline registry summary needs --month YYYY-MM.');
      monthRange(month);
      return withRegistry(target, async (store) => {
        const rows = await store.readVerified({ checkpoint }, (report, reader) => {
          refuseTamperedRegistry(store.name, report, 'monthly summary');
          return reader.list();
        });
        const output = values.output;
        if (output?.endsWith('.pdf')) {
          const epoch = process.env.SOURCE_DATE_EPOCH;
          const createdAt = new Date(epoch && /^\d+$/.test(epoch) ? Number(epoch) * 1000 : Date.now()).toISOString();
          await writeOutputFile(output, monthlySummaryPdf(rows, month, store.name, createdAt));
        } else {
          const markdown = monthlySummaryMarkdown(rows, month, store.name);
          if (output) await writeOutputFile(output, markdown);
          else stdout.write(markdown);
        }
        return EXIT.ok;
      });
    }
    default:
      throw new UsageError(`unknown registry command ${JSON.stringify(sub)}. The registry commands are: init, list, verify, export, import, show, summary.`);
  }
}
