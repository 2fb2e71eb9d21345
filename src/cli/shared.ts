/** Pieces the CLI commands share: exit codes, usage errors, reading files. */
import { createReadStream, type Stats } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { totalmem } from 'node:os';
import { basename } from 'node:path';
import { CsvError, describeContent, encodingName, FILE_LIMITS, formatSize, isModelFile, loadTableStream, ModelLoadError, ReportError, TEXT_ENCODINGS, type IncrementalHash, type LoadedTable, type LoadOptions, type LoadProgress } from '../core/index.ts';
import type { AuditOverrides } from '../api/run.ts';

/** Exit codes of the command, as CI pipelines read them. */
export const EXIT = { ok: 0, gateFailed: 1, cannotAudit: 2 } as const;

/** The time a command dates its work with, in seconds: SOURCE_DATE_EPOCH when it is a whole number (reproducible CI runs), else the clock. */
export function commandEpochSeconds(): number {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  return epoch && /^\d+$/.test(epoch) ? Number(epoch) : Math.floor(Date.now() / 1000);
}

/** A problem with the command line itself. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Bytes read first, to tell what a file is before the rest of it is read. */
const HEAD_BYTES = 4096;

/** The most bytes the CLI reads of a file in a role (FILE_LIMITS; results and reference results share one cap). */
function capOf(role: string): number {
  if (role in FILE_LIMITS) return FILE_LIMITS[role as keyof typeof FILE_LIMITS];
  if (role.endsWith('result')) return FILE_LIMITS.result;
  return FILE_LIMITS.data;
}

/** Where the bytes come from, in words: a regular file's size, or the kind of special file. */
function sourceOf(info: Stats): string {
  if (info.isFile()) return formatSize(info.size);
  if (info.isCharacterDevice()) return 'from a character device';
  if (info.isBlockDevice()) return 'from a block device';
  if (info.isFIFO()) return 'from a pipe';
  if (info.isSocket()) return 'from a socket';
  return 'not a regular file';
}

/**
 * Recognises a file by its first bytes before the rest is read: a model must start as one
 * of the model formats, a config or policy as text, a pack as a zip. The message says what
 * the file is instead ("text, 1.2 KB") and quotes none of its bytes: a path may name any
 * file the user can read (`model.path: /etc/shadow`).
 */
function checkKind(role: string, head: Uint8Array, fileName: string, source: string): void {
  const what = () => `${describeContent(head)}, ${source}`;
  if (role === 'model' && !isModelFile(head)) {
    throw new ModelLoadError(`${fileName}: not a model file (${what()}). Choose an ONNX model (.onnx), an XGBoost JSON model (save_model("model.json")) or a LightGBM text model (save_model("model.txt")).`);
  }
  if ((role === 'config' || role === 'policy' || role === 'policy decision') && head.length > 0 && describeContent(head) !== 'text') {
    throw new UsageError(`${fileName}: not a${role === 'config' ? 'n audit config' : role === 'policy' ? ' policy' : ' policy decision'} file (${what()}). ${role === 'policy decision' ? 'Choose the policy_decision.json an audit wrote' : 'Choose the YAML file'}; a text file must be UTF-8.`);
  }
  if (role === 'evidence pack' && !(head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5))) {
    throw new ReportError(`${fileName}: not an evidence pack (${what()}). Choose the .evidence.zip an audit wrote.`);
  }
}

/**
 * Reads an input file whole, bounded before it is read: a regular file larger than its
 * role's cap ({@link FILE_LIMITS}: config and policy 1 MB, model 2 GB, …) is refused from
 * its size; a device, pipe or socket (`/dev/zero`, `<(command)`) is read up to the cap and
 * refused past it. The first bytes are checked for the role's kind before the rest is read
 * (a 1.9 GB file that is not a model is refused after 4 KB). File-system errors become
 * one-line messages.
 */
export async function readInput(path: string, role: string): Promise<{ fileName: string; bytes: Uint8Array }> {
  const fileName = basename(path);
  const cap = capOf(role);
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw fileError(error, path, role);
  }
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw Object.assign(new Error('a folder'), { code: 'EISDIR' });
    const source = sourceOf(info);
    if (info.isFile() && info.size > cap) throw new UsageError(`the ${role} file ${path} is ${formatSize(info.size)}, more than the ${formatSize(cap)} a ${role} file may be: is it the right file?`);
    // A regular file is read to the size it had (at most the cap); anything else to the cap and one byte more.
    const limit = info.isFile() ? info.size : cap + 1;
    const head = await readUpTo(handle, Math.min(HEAD_BYTES, limit));
    checkKind(role, head, fileName, source);
    const bytes = head.length < Math.min(HEAD_BYTES, limit) ? head : await readRest(handle, head, limit);
    if (bytes.length > cap) throw new UsageError(`the ${role} file ${path} holds more than ${formatSize(cap)} (read ${source}): a ${role} file may be at most ${formatSize(cap)}. Is it the right file?`);
    return { fileName, bytes };
  } catch (error) {
    if (typeof (error as NodeJS.ErrnoException).code === 'string') throw fileError(error, path, role);
    throw error;
  } finally {
    await handle.close();
  }
}

/** Up to `count` bytes from the file's current position (fewer at its end). */
async function readUpTo(handle: FileHandle, count: number): Promise<Uint8Array> {
  const buffer = new Uint8Array(count);
  let filled = 0;
  while (filled < count) {
    const { bytesRead } = await handle.read(buffer, filled, count - filled, null);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === count ? buffer : buffer.subarray(0, filled);
}

/** The head and the rest of the file, up to `limit` bytes in all. */
async function readRest(handle: FileHandle, head: Uint8Array, limit: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(limit);
  bytes.set(head);
  let filled = head.length;
  while (filled < limit) {
    const { bytesRead } = await handle.read(bytes, filled, Math.min(limit - filled, 1 << 24), null);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled === limit ? bytes : bytes.slice(0, filled);
}

function fileError(error: unknown, path: string, role: string): UsageError {
  const code = (error as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : String((error as Error).message);
  return new UsageError(`cannot read the ${role} file ${path}: ${why}.`);
}

/** Share of the machine's memory a table may take before the load is refused (the estimate runs after 1,000 rows). */
const TABLE_MEMORY_SHARE = 0.75;

/**
 * Reads a data file (CSV, Arrow, Parquet) as a stream, 1 MB at a time: the file's bytes are
 * never held whole (a file over 2 GiB cannot even be read into one Node buffer), its
 * SHA-256 is computed on the way by node:crypto, and a table that would not fit in this
 * machine's memory is refused after its first rows, saying how large it would be.
 */
export async function loadTableFile(path: string, role: string, options: LoadOptions, onProgress?: (progress: LoadProgress) => void): Promise<{ fileName: string; loaded: LoadedTable }> {
  let info: Stats;
  try {
    info = await stat(path);
    if (info.isDirectory()) throw Object.assign(new Error('a folder'), { code: 'EISDIR' });
  } catch (error) {
    throw fileError(error, path, role);
  }
  const fileName = basename(path);
  // A device or a pipe has no size to estimate the table from: its bytes are capped instead.
  const cap = info.isFile() ? Infinity : FILE_LIMITS.data;
  const reader = () => capped(createReadStream(path, { highWaterMark: 1 << 20 }), cap, () => new CsvError(`${fileName}: the ${role} file holds more than ${formatSize(cap)} (${sourceOf(info)}), more than a ${role} file that is not a regular file may hold. Save the data to a file first.`));
  try {
    const loaded = await loadTableStream(fileName, reader(), { ...options, totalBytes: info.size, memoryLimit: totalmem() * TABLE_MEMORY_SHARE, hash: nodeIncrementalSha256, reopen: reader, onProgress });
    // A text file that is not a table reads as one column named by its first line: refused without quoting it.
    if (loaded.format === 'csv' && loaded.table.columns.length < 2) {
      throw new CsvError(`${fileName}: not a data table (text, ${sourceOf(info)}): its first line holds no delimiter (, ; tab |), so it would be a single column. Choose the CSV, Parquet or Arrow file of the ${role === 'data' ? 'audited data' : `${role} data`}.`);
    }
    return { fileName, loaded };
  } catch (error) {
    // Read errors (permissions, a file removed while read) come from the stream; the loader's own are typed.
    if (typeof (error as NodeJS.ErrnoException).code === 'string') throw fileError(error, path, role);
    throw error;
  }
}

/** The chunks of a stream, refused with `error()` once more than `cap` bytes have come. */
async function* capped(chunks: AsyncIterable<Uint8Array>, cap: number, error: () => Error): AsyncIterable<Uint8Array> {
  let bytes = 0;
  for await (const chunk of chunks) {
    bytes += chunk.length;
    if (bytes > cap) throw error();
    yield chunk;
  }
}

/** Reads a text file (config, policy, result). */
export async function readText(path: string, role: string): Promise<string> {
  return new TextDecoder().decode((await readInput(path, role)).bytes);
}

/** Node's native SHA-256 for the core's readers (several times faster than the pure-JavaScript default). */
export function nodeIncrementalSha256(): IncrementalHash {
  const hash = createHash('sha256');
  return { update: (bytes) => void hash.update(bytes), digestHex: () => hash.digest('hex') };
}

/**
 * The registry commands, loaded when a command uses the registry: their SQLite driver,
 * better-sqlite3, is an optional dependency (its install fetches a prebuilt binary or
 * compiles SQLite), so an install without it still audits, explains and checks.
 */
export async function registryModule(): Promise<typeof import('./registry-command.ts')> {
  try {
    return await import('./registry-command.ts');
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && /better-sqlite3|bindings/.test(message)) {
      throw new UsageError('the audit registry needs better-sqlite3, an optional dependency that is not installed here (its install downloads a prebuilt SQLite binary, or compiles one with Python and a C compiler). Run npm install better-sqlite3 where that works, or audit without --registry.');
    }
    throw error;
  }
}

/** The flags that say how a CSV file is read (the config's data.delimiter, missing_values, dtypes, skip_bad_lines, encoding), shared by audit, explain and check-data. */
export const CSV_FLAGS = {
  delimiter: { type: 'string' },
  'missing-values': { type: 'string' },
  dtypes: { type: 'string' },
  'skip-bad-lines': { type: 'boolean' },
  encoding: { type: 'string' },
} as const;

/** Their lines in a command's --help. */
export const CSV_FLAGS_USAGE = `  --delimiter D           the CSV delimiter: , ; | or tab (default: detected among them)
  --missing-values A,B    cell texts read as missing, in place of NA, N/A, NaN, nan, null,
                          NULL (an empty cell is always missing), e.g. --missing-values '?,NA'
  --dtypes C:T,...        column types over the inferred ones: numeric, categorical, boolean,
                          date, e.g. --dtypes zip:categorical,opened:date
  --skip-bad-lines        skip rows with the wrong number of fields (counted) instead of failing
  --encoding E            the CSV files' encoding (default utf-8), e.g. windows-1252 for Excel's
                          "CSV (Comma delimited)" on Windows`;

const DECLARED_TYPES = ['numeric', 'categorical', 'boolean', 'date'] as const;

/** The CSV flags given, as the audit's options name them (checked; a bad value is a UsageError naming the flag). */
export function csvFlags(values: { delimiter?: string; 'missing-values'?: string; dtypes?: string; 'skip-bad-lines'?: boolean; encoding?: string }): Pick<AuditOverrides, 'delimiter' | 'missingValues' | 'dtypes' | 'skipBadLines' | 'encoding'> {
  const out: ReturnType<typeof csvFlags> = {};
  if (values.delimiter !== undefined) {
    const delimiter = values.delimiter === 'tab' || values.delimiter === '\\t' ? '\t' : values.delimiter;
    if (![',', ';', '\t', '|'].includes(delimiter)) throw new UsageError(`--delimiter ${JSON.stringify(values.delimiter)} is not one of: , ; | tab.`);
    out.delimiter = delimiter;
  }
  if (values['missing-values'] !== undefined) out.missingValues = values['missing-values'].split(',').map((s) => s.trim());
  if (values.dtypes !== undefined) {
    const dtypes: Record<string, (typeof DECLARED_TYPES)[number]> = {};
    out.dtypes = dtypes;
    for (const pair of values.dtypes.split(',').map((s) => s.trim()).filter(Boolean)) {
      const at = pair.lastIndexOf(':');
      const [column, type] = at > 0 ? [pair.slice(0, at).trim(), pair.slice(at + 1).trim()] : [pair, ''];
      if (!(DECLARED_TYPES as readonly string[]).includes(type)) throw new UsageError(`--dtypes ${JSON.stringify(pair)}: give COLUMN:TYPE, TYPE one of ${DECLARED_TYPES.join(', ')} (e.g. --dtypes zip:categorical).`);
      dtypes[column] = type as (typeof DECLARED_TYPES)[number];
    }
  }
  if (values['skip-bad-lines']) out.skipBadLines = true;
  if (values.encoding !== undefined) {
    const label = encodingName(values.encoding);
    if (!label) throw new UsageError(`--encoding ${JSON.stringify(values.encoding)} is not one a CSV file can be read in here: utf-8, or a single-byte encoding (${TEXT_ENCODINGS.filter((e) => e !== 'utf-8').join(', ')}).`);
    out.encoding = label;
  }
  return out;
}

/** The CSV flags as a loader's options (check-data, which has no config). */
export function csvLoadOptions(flags: ReturnType<typeof csvFlags>): LoadOptions {
  return {
    ...(flags.delimiter ? { delimiter: flags.delimiter } : {}),
    ...(flags.missingValues ? { missingValues: flags.missingValues } : {}),
    ...(flags.dtypes ? { dtypes: flags.dtypes } : {}),
    ...(flags.skipBadLines ? { skipBadRows: true } : {}),
    ...(flags.encoding ? { encoding: flags.encoding } : {}),
  };
}
