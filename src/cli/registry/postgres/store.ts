/**
 * The registry in a PostgreSQL database, open on one connection: its transactions (a write
 * that locks the chain head first, a read in one snapshot), opening and creating the schema,
 * appends, listing, verifying (the server hashes the stored results) and reading entries.
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type pg from 'pg';
import { appendedRow, AUDIT_IDENTITY, changedOutside, hasFailedGates, HeldAudits, checkChain, GENESIS_HASH, HASHED, merkleRoot, prepareEntry, quote, rechainEntry, REGISTRY_BUSY_SECONDS, REGISTRY_SCHEMA_VERSION, RegistryError, registryRow, type Appended, type EntryColumns, type KeptFileCheck, type PreparedEntry, type ReadEntry, type RegistryCheckpoint, type RegistryFilter, type RegistryInfo, type RegistryProblem, type RegistryReader, type RegistryRow, type RegistryStore, type Sha256, type SqlValue, type StoredEntry, type VerifyOptions, type VerifyReport } from '../../../core/index.ts';
import { postgresError } from './errors.ts';
import { FORMAT, GUARD_FUNCTIONS, GUARD_TRIGGERS, SCHEMA, SCHEMA_SQL } from './schema.ts';
import type { Target } from './url.ts';

const sha256: Sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** Parameters as node-postgres binds them (BLOBs as Buffers over the same bytes). */
function bindable(values: SqlValue[]): unknown[] {
  return values.map((v) => (v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v));
}

const LIST_COLUMNS = `seq, created, model_id, model_version, team, owner, decision, failed_gates, metrics, data_sha256, model_sha256, result_sha256, entry_hash, (SELECT string_agg(name, E'\\n' ORDER BY name) FROM ${SCHEMA}.blobs b WHERE b.seq = e.seq)`;
const STORED = HASHED.filter((c) => c !== 'result_gz');
const columnOf = (c: (typeof HASHED)[number]) => (c === 'result_gz' ? 'r.result_gz' : `e.${c}`);

/** A registry in a PostgreSQL database, open on one connection. */
export class PostgresRegistry implements RegistryStore {
  info: RegistryInfo = { schema_version: REGISTRY_SCHEMA_VERSION, entries: 0, head_hash: GENESIS_HASH, migrated: [] };
  readonly name: string;

  constructor(
    private readonly client: pg.Client,
    private readonly target: Target,
  ) {
    this.name = target.name;
  }

  /** Runs `body` with the driver's and server's errors turned into RegistryErrors. */
  async guard<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (error) {
      throw postgresError(this.target, error);
    }
  }

  private query(text: string, values: SqlValue[] = []) {
    return this.client.query({ text, values: bindable(values), rowMode: 'array' }).then((r) => r.rows as SqlValue[][]);
  }

  /** Runs `body` in one transaction (`begin` says which), rolled back on any error. */
  private async transaction<T>(begin: string, body: () => Promise<T>): Promise<T> {
    return this.guard(async () => {
      await this.client.query(begin);
      try {
        const value = await body();
        await this.client.query('COMMIT');
        return value;
      } catch (error) {
        await this.client.query('ROLLBACK').catch(() => undefined);
        throw error;
      }
    });
  }

  /** A write transaction that gives up on a lock held too long and on a client that stops mid-way. */
  private write<T>(body: () => Promise<T>): Promise<T> {
    return this.transaction('BEGIN', async () => {
      await this.client.query(`SET LOCAL lock_timeout = '${REGISTRY_BUSY_SECONDS}s'`);
      await this.client.query(`SET LOCAL idle_in_transaction_session_timeout = '${REGISTRY_BUSY_SECONDS}s'`);
      return body();
    });
  }

  /** A read transaction: one snapshot for every query in it. */
  private read<T>(body: () => Promise<T>): Promise<T> {
    return this.transaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', body);
  }

  /** Whether the database holds a registry, and which; creates one with `create`. */
  async open(create: boolean): Promise<void> {
    await this.guard(async () => {
      const found = await this.inspect();
      if (found === 'none' && create) {
        await this.write(async () => {
          // Two `registry init` at once: the second waits here and then finds the first's schema.
          await this.client.query("SELECT pg_advisory_xact_lock(hashtext('plumbline registry init'))");
          if ((await this.inspect()) !== 'none') return;
          await this.client.query(SCHEMA_SQL);
          this.info.migrated = [1, 2, 3, 4]; // a new database gets the whole version-4 schema at once, as a new file does
        });
      } else if (found === 'none') {
        throw new RegistryError(`${this.name} holds no Plumbline registry (the database has no schema ${SCHEMA}). Create one with: plumbline registry init ${this.name}.`);
      }
      const head = await this.head();
      this.info = { ...this.info, entries: head.entries, head_hash: head.head_hash };
    });
  }

  private async inspect(): Promise<'none' | 'registry'> {
    const [[schema, meta]] = await this.query(`SELECT to_regnamespace('${SCHEMA}') IS NOT NULL, to_regclass('${SCHEMA}.meta') IS NOT NULL`);
    if (!schema) return 'none';
    const rows = meta ? await this.query(`SELECT key, value FROM ${SCHEMA}.meta WHERE key IN ('format', 'schema_version')`) : [];
    const values = new Map(rows.map(([k, v]) => [String(k), String(v)]));
    if (values.get('format') !== FORMAT) {
      throw new RegistryError(`${this.name} has a schema ${SCHEMA} that is not a Plumbline registry (it holds no registry format record). Use another database for the registry, or drop that schema if it is left over.`);
    }
    const version = Number(values.get('schema_version'));
    if (!(version <= REGISTRY_SCHEMA_VERSION)) {
      throw new RegistryError(`${this.name} has registry schema version ${values.get('schema_version')}; this Plumbline reads versions up to ${REGISTRY_SCHEMA_VERSION}. Use a newer Plumbline.`);
    }
    this.info.schema_version = version;
    return 'registry';
  }

  private async head(lock = false): Promise<{ entries: number; head_hash: string }> {
    const rows = await this.query(`SELECT key, value FROM ${SCHEMA}.meta WHERE key IN ('entries', 'head_hash') ORDER BY key${lock ? ' FOR UPDATE' : ''}`);
    const meta = new Map(rows.map(([k, v]) => [String(k), String(v)]));
    return { entries: Number(meta.get('entries') ?? 0), head_hash: meta.get('head_hash') ?? GENESIS_HASH };
  }

  /**
   * Locks the chain head (every other append waits here until this transaction ends) and
   * returns it, refused when it does not match the last entry.
   */
  private async lockedHead(): Promise<{ seq: number; hash: string; count: number }> {
    const head = await this.head(true);
    const [[count, lastSeq, lastHash]] = await this.query(`SELECT count(*)::integer, (SELECT seq FROM ${SCHEMA}.entries ORDER BY seq DESC LIMIT 1), (SELECT entry_hash FROM ${SCHEMA}.entries ORDER BY seq DESC LIMIT 1) FROM ${SCHEMA}.entries`);
    const last = lastHash === null ? GENESIS_HASH : String(lastHash);
    if (head.head_hash !== last || head.entries !== Number(count)) throw changedOutside(this.name, head, Number(count), last);
    return { seq: lastSeq === null ? 1 : Number(lastSeq) + 1, hash: last, count: Number(count) };
  }

  private async insert(seq: number, entry: PreparedEntry): Promise<void> {
    await this.query(`INSERT INTO ${SCHEMA}.entries (seq, ${STORED.join(', ')}, entry_hash) VALUES (${Array.from({ length: STORED.length + 2 }, (_, i) => `$${i + 1}`).join(', ')})`, [seq, ...STORED.map((c) => entry.columns[c]), entry.hash]);
    await this.query(`INSERT INTO ${SCHEMA}.results (seq, result_gz) VALUES ($1, $2)`, [seq, entry.columns.result_gz]);
    for (const blob of entry.blobs) await this.query(`INSERT INTO ${SCHEMA}.blobs (seq, name, sha256, bytes) VALUES ($1, $2, $3, $4)`, [seq, blob.name, blob.sha256, blob.bytes]);
  }

  private async setHead(entries: number, hash: string): Promise<void> {
    await this.query(`UPDATE ${SCHEMA}.meta SET value = $1 WHERE key = 'entries'`, [String(entries)]);
    await this.query(`UPDATE ${SCHEMA}.meta SET value = $1 WHERE key = 'head_hash'`, [hash]);
  }

  /** The checkpoint over entries 1–`entries` (they never change once appended). */
  private async checkpoint(entries: number): Promise<RegistryCheckpoint> {
    const hashes = (await this.query(`SELECT entry_hash FROM ${SCHEMA}.entries WHERE seq <= $1 ORDER BY seq`, [entries])).map(([h]) => String(h));
    return { entries: hashes.length, merkle_root: merkleRoot(hashes, sha256) };
  }

  async append(input: Parameters<RegistryStore['append']>[0]): Promise<Appended> {
    const entry = await this.write(async () => {
      const { seq, hash, count } = await this.lockedHead();
      const prepared = prepareEntry(input, hash, sha256);
      await this.insert(seq, prepared);
      await this.setHead(count + 1, prepared.hash);
      return appendedRow(seq, prepared);
    });
    // Committed: from here on the entry is in the registry whatever happens to this process.
    return { entry, checkpoint: await this.guard(() => this.checkpoint(entry.seq)) };
  }

  async appendStored(sourceName: string, entries: readonly StoredEntry[]): Promise<{ appended: number; skipped: number; checkpoint: RegistryCheckpoint }> {
    const counts = await this.write(async () => {
      let { seq, hash, count } = await this.lockedHead();
      const held = new HeldAudits(await this.query(`SELECT ${AUDIT_IDENTITY.join(', ')} FROM ${SCHEMA}.entries`));
      let appended = 0;
      let skipped = 0;
      for (const entry of entries) {
        if (held.take(entry.columns)) {
          skipped++;
          continue;
        }
        const moved = rechainEntry(sourceName, entry, hash, sha256);
        await this.insert(seq, moved);
        seq++;
        hash = moved.hash;
        appended++;
      }
      if (appended) await this.setHead(count + appended, hash);
      return { appended, skipped, entries: count + appended };
    });
    return { appended: counts.appended, skipped: counts.skipped, checkpoint: await this.guard(() => this.checkpoint(counts.entries)) };
  }

  private async listRows(filter: RegistryFilter = {}): Promise<RegistryRow[]> {
    const where: string[] = [];
    const params: SqlValue[] = [];
    if (filter.model !== undefined) where.push(`model_id = $${params.push(filter.model)}`);
    if (filter.since !== undefined) where.push(`created >= $${params.push(filter.since)}`);
    if (filter.until !== undefined) where.push(`created < $${params.push(filter.until)}`);
    const rows = (await this.query(`SELECT ${LIST_COLUMNS} FROM ${SCHEMA}.entries e${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq`, params)).map(registryRow);
    return filter.failedGates ? rows.filter(hasFailedGates) : rows;
  }

  list(filter?: RegistryFilter): Promise<RegistryRow[]> {
    return this.guard(() => this.listRows(filter));
  }

  /** Verify's reading: every entry's columns with its stored result hashed by the server, the kept files' hashes, the head, the guard. */
  private async verify(options: VerifyOptions): Promise<VerifyReport> {
    const entries: ReadEntry[] = [];
    const columns = HASHED.map((c) => (c === 'result_gz' ? "encode(sha256(r.result_gz), 'hex')" : columnOf(c)));
    for (const values of await this.query(`SELECT e.seq, ${columns.join(', ')}, e.entry_hash FROM ${SCHEMA}.entries e LEFT JOIN ${SCHEMA}.results r ON r.seq = e.seq ORDER BY e.seq`)) {
      entries.push({ seq: Number(values[0]), columns: Object.fromEntries(HASHED.map((c, k) => [c, values[k + 1]])) as EntryColumns, recorded: String(values[HASHED.length + 1]) });
    }
    const keptFiles = new Map<number, KeptFileCheck[]>();
    for (const [seq, name, recorded, actual] of await this.query(`SELECT seq, name, sha256, encode(sha256(bytes), 'hex') FROM ${SCHEMA}.blobs ORDER BY seq, name`)) {
      const list = keptFiles.get(Number(seq)) ?? [];
      list.push({ name: String(name), recorded: String(recorded), actual: String(actual) });
      keptFiles.set(Number(seq), list);
    }
    return checkChain({ entries, keptFiles, head: await this.head(), schemaVersion: this.info.schema_version, guard: await this.guardProblems() }, sha256, options);
  }

  /** The append-only guard as Plumbline made it: its triggers there, enabled, unchanged, over its own functions. */
  private async guardProblems(): Promise<RegistryProblem[]> {
    const triggers = new Map(
      (await this.query(`SELECT t.tgname, pg_get_triggerdef(t.oid), t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '${SCHEMA}' AND NOT t.tgisinternal`)).map(([name, sql, enabled]) => [String(name), { sql: String(sql), enabled: String(enabled) }]),
    );
    const functions = new Map((await this.query(`SELECT p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = '${SCHEMA}'`)).map(([name, body]) => [String(name), String(body)]));
    const changed = [
      ...[...GUARD_TRIGGERS].filter(([name]) => !triggers.has(name)).map(([name]) => `trigger ${name} was dropped`),
      ...[...GUARD_TRIGGERS].filter(([name, sql]) => triggers.has(name) && triggers.get(name)!.sql !== sql).map(([name]) => `trigger ${name} was changed`),
      ...[...GUARD_TRIGGERS].filter(([name]) => triggers.has(name) && triggers.get(name)!.enabled !== 'O').map(([name]) => `trigger ${name} was disabled`),
      ...[...triggers.keys()].filter((name) => !GUARD_TRIGGERS.has(name)).map((name) => `trigger ${name} was added`),
      ...[...GUARD_FUNCTIONS].filter(([name, body]) => functions.get(name) !== body).map(([name]) => `function ${SCHEMA}.${name} was ${functions.has(name) ? 'changed' : 'dropped'}`),
    ];
    if (!changed.length) return [];
    return [{ seq: 0, kind: 'unguarded', message: `the registry's append-only guard was taken off (${changed.join(', ')}): entries may have been removed or rewritten with the chain head fixed. Check the database against a checkpoint recorded elsewhere (plumbline registry verify ${this.name} --root N:ROOT), or restore it from a backup.` }];
  }

  async readVerified<T>(options: VerifyOptions, body: (report: VerifyReport, reader: RegistryReader) => T | Promise<T>): Promise<T> {
    return this.read(async () => {
      const report = await this.verify(options);
      return body(report, this.reader());
    });
  }

  /** Reads inside the current read transaction. */
  private reader(): RegistryReader {
    return {
      list: (filter) => this.listRows(filter),
      entryResult: async (seq) => {
        const [row] = await this.query(`SELECT result_gz FROM ${SCHEMA}.results WHERE seq = $1`, [seq]);
        if (!row) throw new RegistryError(`${this.name} has no entry ${seq} (see plumbline registry list ${this.name}).`);
        return JSON.parse(gunzipSync(row[0] as Uint8Array).toString('utf8'));
      },
      entryBlob: async (seq, name) => {
        const [row] = await this.query(`SELECT bytes FROM ${SCHEMA}.blobs WHERE seq = $1 AND name = $2`, [seq, name]);
        if (row) return row[0] as Uint8Array;
        const names = (await this.query(`SELECT name FROM ${SCHEMA}.blobs WHERE seq = $1 ORDER BY name`, [seq])).map(([n]) => String(n));
        throw new RegistryError(`${this.name} entry ${seq} keeps no file ${quote(name)} (it keeps: ${names.join(', ') || 'none'}).`);
      },
      storedEntries: () => this.storedEntries(),
    };
  }

  private async *storedEntries(): AsyncIterable<StoredEntry[]> {
    for (let after = 0; ; ) {
      const rows = await this.query(`SELECT e.seq, ${HASHED.map(columnOf).join(', ')}, e.entry_hash FROM ${SCHEMA}.entries e LEFT JOIN ${SCHEMA}.results r ON r.seq = e.seq WHERE e.seq > $1 ORDER BY e.seq LIMIT 200`, [after]);
      if (!rows.length) return;
      const batch: StoredEntry[] = rows.map((values) => ({ seq: Number(values[0]), columns: Object.fromEntries(HASHED.map((c, k) => [c, values[k + 1]])) as EntryColumns, hash: String(values[HASHED.length + 1]), blobs: [] }));
      const bySeq = new Map(batch.map((e) => [e.seq, e]));
      for (const [seq, name, sha, bytes] of await this.query(`SELECT seq, name, sha256, bytes FROM ${SCHEMA}.blobs WHERE seq > $1 AND seq <= $2 ORDER BY seq, name`, [after, batch.at(-1)!.seq])) {
        bySeq.get(Number(seq))?.blobs.push({ name: String(name), sha256: String(sha), bytes: bytes as Uint8Array });
      }
      after = batch.at(-1)!.seq;
      yield batch;
    }
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => undefined);
  }
}
