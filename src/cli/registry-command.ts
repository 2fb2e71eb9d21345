/**
 * `plumbline registry`: the audit registry file from the command line. The file is a
 * SQLite database read and written with sql.js (the same code and format as the app);
 * appends hold a lock file (`FILE.lock`) across read–append–write, and the new file
 * replaces the old by rename, so two CI jobs appending at once both land and a crash
 * never leaves half a file.
 */
import { createHash } from 'node:crypto';
import { stat, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import lockfile from 'proper-lockfile';
import {
  appendEntry,
  entryBlob,
  entryResult,
  guardRegistry,
  guardRegistryAsync,
  listEntries,
  openRegistry,
  parseRegistryDate,
  registryCsv,
  verifyRegistryAsync,
  type RegistryAppend,
  type RegistryFilter,
  type RegistryInfo,
  type RegistryRow,
  type Sha256,
  type Sha256Async,
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
  verify FILE                   recompute every hash; exit 1 naming the first altered, removed or
                                reordered entry; --root HEX also checks the Merkle root; --json
  export FILE --csv             one row per audit (key metrics, failed gates, hashes); --output F
  show FILE N                   the result JSON of entry N; --file NAME writes a kept file
                                (report PDF, evidence pack) to --output instead
  summary FILE --month YYYY-MM  monthly summary for management; --output F.md or F.pdf

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
 * Verifies a registry opened in place. The stored results (all but a few KB of the file)
 * are hashed on a second thread while SQLite reads the next ones, then the chain is walked.
 */
export async function verifyRegistryFile(db: SqliteFile, fileName: string): Promise<VerifyReport> {
  const hasher = threadSha256();
  try {
    return await guardRegistryAsync(fileName, () => verifyRegistryAsync(db, nodeSha256, hasher.digest));
  } finally {
    await hasher.close();
  }
}

/**
 * Opens a registry file in place (creating it when `create` and it is missing). SQLite
 * reads only the pages a command needs and writes under its rollback journal.
 */
export async function openRegistryFile(path: string, options: { create?: boolean } = {}): Promise<{ db: SqliteFile; info: RegistryInfo }> {
  try {
    if ((await stat(path)).isDirectory()) throw new UsageError(`cannot read the registry ${path}: it is a folder.`);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new UsageError(`cannot read the registry ${path}: ${(error as Error).message}.`);
    if (!options.create) throw new RegistryError(`${path} does not exist. Create it with: plumbline registry init ${path}.`);
  }
  const db = await openSqliteFile(path, { create: options.create });
  try {
    return { db, info: guardRegistry(basename(path), () => openRegistry(db, basename(path), options)) };
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Runs `body` while holding the registry's lock file; other Plumbline processes wait for it. */
async function withLock<T>(path: string, body: () => Promise<T>): Promise<T> {
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(path, { realpath: false, stale: 30_000, retries: { retries: 200, factor: 1.2, minTimeout: 20, maxTimeout: 400 } });
  } catch (error) {
    throw new RegistryError(`${path} is locked by another Plumbline process (${path}.lock) and stayed locked: ${(error as Error).message}. If no other audit is running, remove ${path}.lock.`);
  }
  try {
    return await body();
  } finally {
    await release();
  }
}

/** Runs a command on an open registry, holding the lock (opening may upgrade an old file). */
function withRegistry<T>(path: string, body: (db: SqliteFile) => Promise<T>): Promise<T> {
  return withLock(path, async () => {
    const { db } = await openRegistryFile(path);
    try {
      return await body(db);
    } finally {
      db.close();
    }
  });
}

/** Appends one audit to a registry file (used by `plumbline audit --registry`). */
export async function appendToRegistry(path: string, input: RegistryAppend): Promise<RegistryRow> {
  return withLock(path, async () => {
    const { db } = await openRegistryFile(path);
    try {
      return guardRegistry(basename(path), () => appendEntry(db, basename(path), input, nodeSha256));
    } finally {
      db.close();
    }
  });
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
      return withLock(path, async () => {
        const { db, info } = await openRegistryFile(path, { create: true });
        try {
          const what = info.migrated[0] === 1 ? 'created an empty registry' : info.migrated.length ? `upgraded the registry to schema version ${info.schema_version} (${info.entries} entries kept)` : `already a registry (${info.entries} entries, schema version ${info.schema_version}); left as is`;
          process.stdout.write(`${path}: ${what}.\n`);
          return EXIT.ok;
        } finally {
          db.close();
        }
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
      if (values.root !== undefined && !/^[0-9a-f]{64}$/.test(values.root)) throw new UsageError(`--root must be 64 lowercase hex digits (a Merkle root printed by plumbline registry verify), got ${JSON.stringify(values.root)}.`);
      return withRegistry(path, async (db) => {
        const report = await verifyRegistryFile(db, basename(path));
        const rootMismatch = values.root !== undefined && values.root !== report.merkle_root;
        if (values.json) process.stdout.write(`${JSON.stringify({ ...report, ok: report.ok && !rootMismatch, expected_root: values.root ?? null }, null, 2)}\n`);
        else {
          const lines = [`${path}: ${report.entries} entries, schema version ${report.schema_version}`, `merkle root ${report.merkle_root}`];
          if (report.problems.length) lines.push(`TAMPERED: ${report.problems[0].message}`, ...report.problems.slice(1).map((p) => `  also: ${p.message}`));
          if (rootMismatch) lines.push(`TAMPERED: the Merkle root is not the expected ${values.root}: the registry was rewritten since that root was recorded.`);
          if (report.ok && !rootMismatch) lines.push('ok: every entry matches its hash and the chain is whole.');
          process.stdout.write(`${lines.join('\n')}\n`);
        }
        return report.ok && !rootMismatch ? EXIT.ok : EXIT.gateFailed;
      });
    }
    case 'export': {
      const path = fileArgument(positionals, 'export');
      if (!values.csv && !values.json) throw new UsageError('plumbline registry export needs a format: --csv (or --json).');
      return withRegistry(path, async (db) => {
        const filter = { failedGates: values['failed-gates'], model: values.model, since: values.since === undefined ? undefined : parseRegistryDate(values.since, '--since') };
        const rows = guardRegistry(basename(path), () => listEntries(db, filter));
        const text = values.csv ? registryCsv(rows) : `${JSON.stringify(rows, null, 2)}\n`;
        if (values.output) await writeFile(values.output, text);
        else process.stdout.write(text);
        return EXIT.ok;
      });
    }
    case 'show': {
      const path = fileArgument(positionals, 'show');
      const seq = Number(positionals[1]);
      if (!Number.isInteger(seq) || seq < 1) throw new UsageError(`plumbline registry show needs an entry number (see plumbline registry list ${path}), got ${JSON.stringify(positionals[1] ?? '')}.`);
      return withRegistry(path, async (db) => {
        if (values.file) {
          if (!values.output) throw new UsageError('--file writes a kept file: give --output FILE too.');
          const name = values.file;
          await writeFile(values.output, guardRegistry(basename(path), () => entryBlob(db, basename(path), seq, name)));
          return EXIT.ok;
        }
        const text = `${JSON.stringify(guardRegistry(basename(path), () => entryResult(db, basename(path), seq)), null, 2)}\n`;
        if (values.output) await writeFile(values.output, text);
        else process.stdout.write(text);
        return EXIT.ok;
      });
    }
    case 'summary': {
      const path = fileArgument(positionals, 'summary');
      const month = values.month;
      if (!month) throw new UsageError('plumbline registry summary needs --month YYYY-MM.');
      monthRange(month);
      return withRegistry(path, async (db) => {
        const rows = guardRegistry(basename(path), () => listEntries(db));
        const output = values.output;
        if (output?.endsWith('.pdf')) {
          const epoch = process.env.SOURCE_DATE_EPOCH;
          const createdAt = new Date(epoch && /^\d+$/.test(epoch) ? Number(epoch) * 1000 : Date.now()).toISOString();
          await writeFile(output, monthlySummaryPdf(rows, month, basename(path), createdAt));
        } else {
          const markdown = monthlySummaryMarkdown(rows, month, basename(path));
          if (output) await writeFile(output, markdown);
          else process.stdout.write(markdown);
        }
        return EXIT.ok;
      });
    }
    default:
      throw new UsageError(`unknown registry command ${JSON.stringify(sub)}. The registry commands are: init, list, verify, export, show, summary.`);
  }
}
