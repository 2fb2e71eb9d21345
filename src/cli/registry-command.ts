/**
 * `plumbline registry`: the audit registry file from the command line. The file is opened
 * in place with SQLite itself (better-sqlite3, see sqlite-file.ts), under SQLite's own
 * locks: an append is one write transaction that reads the chain head under the write lock
 * and says "appended" only once the commit is on disk, so concurrent CI jobs all land, and
 * any other SQLite client on the file waits for it rather than rolling it back. Commands
 * that read do so in one read transaction, so they never see half of an append.
 */
import { createHash } from 'node:crypto';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import {
  appendEntry,
  entryBlob,
  entryResult,
  formatCheckpoint,
  guardRegistry,
  guardRegistryAsync,
  listEntries,
  openRegistry,
  parseCheckpoint,
  parseRegistryDate,
  readTransaction,
  refuseTamperedRegistry,
  refuseUntrustedEntry,
  registryCheckpoint,
  registryCsv,
  verifyRegistryAsync,
  type RegistryAppend,
  type RegistryCheckpoint,
  type RegistryFilter,
  type RegistryInfo,
  type RegistryRow,
  type Sha256,
  type Sha256Async,
  type VerifyOptions,
  type VerifyReport,
} from '../core/registry/registry.ts';
import { monthlySummaryMarkdown, monthlySummaryPdf, monthRange } from '../core/registry/summary.ts';
import { RegistryError } from '../core/errors.ts';
import { openSqliteFile, type SqliteFile } from './sqlite-file.ts';
import { EXIT, UsageError } from './shared.ts';

const USAGE = `Usage: plumbline registry <command> FILE [options]

The audit registry: one SQLite file with every audit, hash-chained (tamper-evident).

Commands:
  init FILE                     create a registry (an existing one is left as is, upgraded if old)
  list FILE                     audits in order; --failed-gates, --model ID, --since DATE, --json
  verify FILE                   recompute every hash and check the append-only guard; exit 1
                                naming the first altered, removed or reordered entry;
                                --root N:ROOT also checks a checkpoint an append printed; --json
  export FILE --csv             one row per audit (key metrics, failed gates, hashes); --output F
  show FILE N                   the result JSON of entry N; --file NAME writes a kept file
                                (report PDF, evidence pack) to --output instead
  summary FILE --month YYYY-MM  monthly summary for management; --output F.md or F.pdf

show, export and summary verify the registry first (against --root N:ROOT too when given) and
refuse a tampered entry or registry.

Append an audit with: plumbline audit ... --registry FILE [--registry-keep-report]`;

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
async function readVerified<T>(db: SqliteFile, fileName: string, options: VerifyOptions, body: (report: VerifyReport) => T): Promise<T> {
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
  const db = guardRegistry(basename(path), () => openSqliteFile(path, { create: options.create }));
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
 */
export async function checkRegistryFile(path: string): Promise<RegistryInfo> {
  await checkPath(path, false);
  const db = guardRegistry(basename(path), () => openSqliteFile(path));
  try {
    return guardRegistry(basename(path), () => openRegistry(db, basename(path), { migrate: false }));
  } finally {
    db.close();
  }
}

/** `registry init`: opens (creating or upgrading) and reports what it found. */
async function withRegistryCreate<T>(path: string, body: (info: RegistryInfo) => T): Promise<T> {
  const { db, info } = await openRegistryFile(path, { create: true });
  try {
    return body(info);
  } finally {
    db.close();
  }
}

/** Runs a command on an open registry. */
async function withRegistry<T>(path: string, body: (db: SqliteFile) => Promise<T>): Promise<T> {
  const { db } = await openRegistryFile(path);
  try {
    return await body(db);
  } finally {
    db.close();
  }
}

/** What an append left: the entry, and the checkpoint over it and every entry before it. */
export interface Appended {
  entry: RegistryRow;
  checkpoint: RegistryCheckpoint;
}

/**
 * Appends one audit to a registry file (used by `plumbline audit --registry`). Returns
 * once the commit is durable on disk, with the checkpoint `N:ROOT` over entries 1–N (it
 * stays true whatever is appended later).
 */
export async function appendToRegistry(path: string, input: RegistryAppend): Promise<Appended> {
  return withRegistry(path, async (db) => {
    const name = basename(path);
    const entry = guardRegistry(name, () => appendEntry(db, name, input, nodeSha256));
    const checkpoint = guardRegistry(name, () => registryCheckpoint(db, entry.seq, nodeSha256));
    return { entry, checkpoint };
  });
}

/** The lines `plumbline audit --registry` prints once the append is on disk. */
export function appendedMessage(path: string, { entry, checkpoint }: Appended): string {
  const text = formatCheckpoint(checkpoint);
  return `plumbline: appended entry ${entry.seq} (${entry.model_id}, ${entry.decision ?? 'no policy'}) to the registry ${path}
plumbline: registry checkpoint ${text}: record it outside the registry (a CI log); plumbline registry verify ${path} --root ${text} then proves entries 1–${entry.seq} were neither changed nor removed.
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

function listTable(rows: RegistryRow[]): string {
  const header = ['#', 'created (UTC)', 'model', 'version', 'decision', 'roc_auc', 'ece', 'dp_ratio', 'failed or warned gates'];
  const lines = rows.map((r) => [
    String(r.seq),
    r.created.slice(0, 19).replace('T', ' '),
    r.model_id,
    r.model_version ?? '–',
    r.decision ?? 'no policy',
    fmt(r.metrics.roc_auc),
    fmt(r.metrics.expected_calibration_error),
    fmt(r.metrics.demographic_parity_ratio),
    r.failed_gates.map((g) => `${g.name} (${g.outcome})`).join(', ') || '–',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  return [header, ...lines].map((l) => l.map((cell, i) => (i === l.length - 1 ? cell : cell.padEnd(widths[i]))).join('  ')).join('\n');
}

function fileArgument(positionals: string[], command: string): string {
  if (!positionals[0]) throw new UsageError(`plumbline registry ${command} needs the registry file: plumbline registry ${command} FILE.`);
  return positionals[0];
}

/** Runs `plumbline registry …` and returns the exit code. */
export async function registryCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      'failed-gates': { type: 'boolean' },
      model: { type: 'string' },
      since: { type: 'string' },
      json: { type: 'boolean' },
      root: { type: 'string' },
      csv: { type: 'boolean' },
      output: { type: 'string', short: 'o' },
      file: { type: 'string' },
      month: { type: 'string' },
      verbose: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help || sub === undefined || sub === '--help' || sub === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return sub === undefined ? EXIT.cannotAudit : EXIT.ok;
  }
  switch (sub) {
    case 'init': {
      const path = fileArgument(positionals, 'init');
      return withRegistryCreate(path, (info) => {
        const what = info.migrated[0] === 1 ? 'created an empty registry' : info.migrated.length ? `upgraded the registry to schema version ${info.schema_version} (${info.entries} entries kept)` : `already a registry (${info.entries} entries, schema version ${info.schema_version}); left as is`;
        process.stdout.write(`${path}: ${what}.\n`);
        return EXIT.ok;
      });
    }
    case 'list': {
      const path = fileArgument(positionals, 'list');
      const filter: RegistryFilter = { failedGates: values['failed-gates'], model: values.model, since: values.since === undefined ? undefined : parseRegistryDate(values.since, '--since') };
      return withRegistry(path, async (db) => {
        const rows = guardRegistry(basename(path), () => listEntries(db, filter));
        process.stdout.write(values.json ? `${JSON.stringify(rows, null, 2)}\n` : rows.length ? `${listTable(rows)}\n` : 'no audits match.\n');
        return EXIT.ok;
      });
    }
    case 'verify': {
      const path = fileArgument(positionals, 'verify');
      const checkpoint = values.root === undefined ? undefined : parseCheckpoint(values.root, '--root');
      return withRegistry(path, async (db) => {
        const report = await verifyRegistryFile(db, basename(path), { checkpoint });
        if (values.json) process.stdout.write(`${JSON.stringify({ ...report, expected_checkpoint: values.root ?? null }, null, 2)}\n`);
        else {
          const lines = [`${path}: ${report.entries} entries, schema version ${report.schema_version}`, `merkle root ${report.merkle_root}`, `checkpoint ${report.checkpoint}`];
          if (report.problems.length) lines.push(`TAMPERED: ${report.problems[0].message}`, ...report.problems.slice(1).map((p) => `  also: ${p.message}`));
          else lines.push(`ok: every entry matches its hash, the chain is whole and the append-only guard is in place${checkpoint ? `; entries 1–${checkpoint.entries ?? report.entries} are those the checkpoint recorded` : ''}.`);
          process.stdout.write(`${lines.join('\n')}\n`);
        }
        return report.ok ? EXIT.ok : EXIT.gateFailed;
      });
    }
    case 'export': {
      const path = fileArgument(positionals, 'export');
      if (!values.csv && !values.json) throw new UsageError('plumbline registry export needs a format: --csv (or --json).');
      const filter = { failedGates: values['failed-gates'], model: values.model, since: values.since === undefined ? undefined : parseRegistryDate(values.since, '--since') };
      const checkpoint = values.root === undefined ? undefined : parseCheckpoint(values.root, '--root');
      return withRegistry(path, async (db) => {
        const rows = await readVerified(db, basename(path), { checkpoint }, (report) => {
          refuseTamperedRegistry(basename(path), report, values.csv ? 'CSV' : 'JSON export');
          return listEntries(db, filter);
        });
        const text = values.csv ? registryCsv(rows) : `${JSON.stringify(rows, null, 2)}\n`;
        if (values.output) await writeOutputFile(values.output, text);
        else process.stdout.write(text);
        return EXIT.ok;
      });
    }
    case 'show': {
      const path = fileArgument(positionals, 'show');
      const seq = Number(positionals[1]);
      if (!Number.isInteger(seq) || seq < 1) throw new UsageError(`plumbline registry show needs an entry number (see plumbline registry list ${path}), got ${JSON.stringify(positionals[1] ?? '')}.`);
      const file = values.file;
      if (file && !values.output) throw new UsageError('--file writes a kept file: give --output FILE too.');
      const checkpoint = values.root === undefined ? undefined : parseCheckpoint(values.root, '--root');
      return withRegistry(path, async (db) => {
        const name = basename(path);
        const out = await readVerified(db, name, { checkpoint }, (report) => {
          refuseUntrustedEntry(name, report, seq);
          return file ? entryBlob(db, name, seq, file) : `${JSON.stringify(entryResult(db, name, seq), null, 2)}\n`;
        });
        if (values.output) await writeOutputFile(values.output, out);
        else process.stdout.write(out);
        return EXIT.ok;
      });
    }
    case 'summary': {
      const path = fileArgument(positionals, 'summary');
      const month = values.month;
      if (!month) throw new UsageError('plumbline registry summary needs --month YYYY-MM.');
      monthRange(month);
      const checkpoint = values.root === undefined ? undefined : parseCheckpoint(values.root, '--root');
      return withRegistry(path, async (db) => {
        const rows = await readVerified(db, basename(path), { checkpoint }, (report) => {
          refuseTamperedRegistry(basename(path), report, 'monthly summary');
          return listEntries(db);
        });
        const output = values.output;
        if (output?.endsWith('.pdf')) {
          const epoch = process.env.SOURCE_DATE_EPOCH;
          const createdAt = new Date(epoch && /^\d+$/.test(epoch) ? Number(epoch) * 1000 : Date.now()).toISOString();
          await writeOutputFile(output, monthlySummaryPdf(rows, month, basename(path), createdAt));
        } else {
          const markdown = monthlySummaryMarkdown(rows, month, basename(path));
          if (output) await writeOutputFile(output, markdown);
          else process.stdout.write(markdown);
        }
        return EXIT.ok;
      });
    }
    default:
      throw new UsageError(`unknown registry command ${JSON.stringify(sub)}. The registry commands are: init, list, verify, export, show, summary.`);
  }
}
