/**
 * The audit registry in a PostgreSQL database, for a team whose CI jobs all append to one
 * registry: `--registry postgresql://user@host:port/db`. It holds what a registry file
 * holds (the same columns, in a schema `plumbline`), hashed by the same core functions, so
 * entries, chain and Merkle root are those a SQLite registry would have; `registry export
 * --sqlite` writes them to a file the app opens.
 *
 * - Appends are one transaction that first locks the chain head (`SELECT … FOR UPDATE` on
 *   the head rows of `plumbline.meta`): concurrent appends from any number of machines wait
 *   for one another in the database, never on a lock file. A client that dies mid-append
 *   leaves an open transaction the server rolls back when the connection drops: no partial
 *   entry. Say "appended" only after COMMIT returned.
 * - Reads (verify, export, show, summary) run in one REPEATABLE READ transaction: they see
 *   one state, never half of an append. Verify has the server hash the stored results
 *   (`sha256(bytea)`), so it reads a few KB per entry rather than the results themselves.
 * - The append-only guard is the same as the file's: triggers refuse UPDATE, DELETE and
 *   TRUNCATE on every table and any head that is not the chain's; verify checks they are
 *   Plumbline's, present and enabled. A superuser can still step around triggers
 *   (`session_replication_role = replica`): as with the file, only a checkpoint recorded
 *   elsewhere (`verify --root N:ROOT`) finds a chain rewritten consistently.
 * - Credentials come from the URL, PGPASSWORD or ~/.pgpass (PGPASSFILE), and the other PG*
 *   variables fill what the URL leaves out. The password is never part of a message: the
 *   registry is named by its URL without it (`redactUrl`).
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import pg from 'pg';
import { RegistryError, quote } from '../core/errors.ts';
import {
  GENESIS_HASH,
  HASHED,
  REGISTRY_BUSY_SECONDS,
  REGISTRY_SCHEMA_VERSION,
  appendedRow,
  changedOutside,
  checkChain,
  merkleRoot,
  prepareEntry,
  rechainEntry,
  registryRow,
  type EntryColumns,
  type KeptFileCheck,
  type PreparedEntry,
  type ReadEntry,
  type RegistryCheckpoint,
  type RegistryFilter,
  type RegistryInfo,
  type RegistryProblem,
  type RegistryRow,
  type Sha256,
  type SqlValue,
  type StoredEntry,
  type VerifyOptions,
  type VerifyReport,
} from '../core/registry/registry.ts';
import type { Appended, RegistryReader, RegistryStore } from '../core/registry/store.ts';

const sha256: Sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** Whether a `--registry` value is a PostgreSQL URL rather than a file path. */
export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/**
 * The URL as messages show it: without the password (and without any query parameter
 * that could hold one), e.g. `postgresql://ci@db.internal:5432/model_registry`.
 */
export function redactUrl(target: string): string {
  try {
    const url = new URL(target);
    url.password = '';
    for (const key of [...url.searchParams.keys()]) if (/pass|key|secret|token/i.test(key)) url.searchParams.delete(key);
    return url.toString();
  } catch {
    return target.replace(/:\/\/([^/@:]*):[^/@]*@/, '://$1@');
  }
}

/** The schema the registry lives in, inside whatever database the URL names. */
const SCHEMA = 'plumbline';
const FORMAT = 'plumbline-registry';

const APPEND_ONLY = 'this is a Plumbline audit registry: it is append-only, its entries, stored results, kept files and chain head cannot be changed or deleted (plumbline registry verify would report the database as tampered)';
const AT_THE_END = 'this is a Plumbline audit registry: an entry can only be added at the end of the chain, by plumbline audit --registry';

/** The guard's functions by name, with their bodies as PostgreSQL keeps them (`pg_proc.prosrc`). */
const GUARD_FUNCTIONS = new Map([
  ['refuse_change', `\nBEGIN\n  RAISE EXCEPTION '${APPEND_ONLY}';\nEND\n`],
  ['entry_at_end', `\nBEGIN\n  IF NEW.seq IS DISTINCT FROM (SELECT coalesce(max(seq), 0) + 1 FROM ${SCHEMA}.entries) THEN\n    RAISE EXCEPTION '${AT_THE_END}';\n  END IF;\n  RETURN NEW;\nEND\n`],
  [
    'head_follows_chain',
    `\nBEGIN\n  IF NOT ((OLD.key = 'entries' AND NEW.key = 'entries' AND NEW.value = (SELECT count(*) FROM ${SCHEMA}.entries)::text)\n    OR (OLD.key = 'head_hash' AND NEW.key = 'head_hash' AND NEW.value = coalesce((SELECT entry_hash FROM ${SCHEMA}.entries ORDER BY seq DESC LIMIT 1), '${GENESIS_HASH}'))) THEN\n    RAISE EXCEPTION '${APPEND_ONLY}';\n  END IF;\n  RETURN NEW;\nEND\n`,
  ],
]);

/** The guard's triggers by name, as `pg_get_triggerdef` prints them. */
const GUARD_TRIGGERS = new Map(
  [
    ['entries_no_change', 'BEFORE DELETE OR UPDATE ON plumbline.entries FOR EACH ROW', 'refuse_change'],
    ['entries_no_truncate', 'BEFORE TRUNCATE ON plumbline.entries FOR EACH STATEMENT', 'refuse_change'],
    ['entries_at_end', 'BEFORE INSERT ON plumbline.entries FOR EACH ROW', 'entry_at_end'],
    ['results_no_change', 'BEFORE DELETE OR UPDATE ON plumbline.results FOR EACH ROW', 'refuse_change'],
    ['results_no_truncate', 'BEFORE TRUNCATE ON plumbline.results FOR EACH STATEMENT', 'refuse_change'],
    ['blobs_no_change', 'BEFORE DELETE OR UPDATE ON plumbline.blobs FOR EACH ROW', 'refuse_change'],
    ['blobs_no_truncate', 'BEFORE TRUNCATE ON plumbline.blobs FOR EACH STATEMENT', 'refuse_change'],
    ['meta_no_delete', 'BEFORE DELETE ON plumbline.meta FOR EACH ROW', 'refuse_change'],
    ['meta_no_truncate', 'BEFORE TRUNCATE ON plumbline.meta FOR EACH STATEMENT', 'refuse_change'],
    ['meta_head_follows_chain', 'BEFORE UPDATE ON plumbline.meta FOR EACH ROW', 'head_follows_chain'],
  ].map(([name, when, fn]) => [name, `CREATE TRIGGER ${name} ${when} EXECUTE FUNCTION ${SCHEMA}.${fn}()`]),
);

/**
 * The registry's tables: those of a version-4 registry file, in PostgreSQL's types
 * (text with the "C" collation, so `created` compares as the file's ISO strings do).
 */
const SCHEMA_SQL = `CREATE SCHEMA ${SCHEMA};
COMMENT ON SCHEMA ${SCHEMA} IS 'Plumbline audit registry (hash-chained, append-only): use plumbline registry verify';
CREATE TABLE ${SCHEMA}.meta (key text COLLATE "C" PRIMARY KEY, value text COLLATE "C" NOT NULL);
INSERT INTO ${SCHEMA}.meta VALUES ('format', '${FORMAT}'), ('schema_version', '${REGISTRY_SCHEMA_VERSION}'), ('entries', '0'), ('head_hash', '${GENESIS_HASH}');
CREATE TABLE ${SCHEMA}.entries (
  seq integer PRIMARY KEY,
  created text COLLATE "C" NOT NULL,
  model_id text COLLATE "C" NOT NULL,
  model_version text COLLATE "C",
  team text COLLATE "C",
  owner text COLLATE "C",
  data_sha256 text COLLATE "C" NOT NULL,
  model_sha256 text COLLATE "C",
  decision text COLLATE "C",
  failed_gates text COLLATE "C" NOT NULL,
  metrics text COLLATE "C" NOT NULL,
  manifest text COLLATE "C" NOT NULL,
  result_sha256 text COLLATE "C" NOT NULL,
  blob_hashes text COLLATE "C" NOT NULL,
  prev_hash text COLLATE "C" NOT NULL,
  entry_hash text COLLATE "C" NOT NULL UNIQUE
);
CREATE INDEX entries_by_model ON ${SCHEMA}.entries (model_id, created);
CREATE TABLE ${SCHEMA}.results (seq integer PRIMARY KEY REFERENCES ${SCHEMA}.entries (seq), result_gz bytea NOT NULL);
CREATE TABLE ${SCHEMA}.blobs (
  seq integer NOT NULL REFERENCES ${SCHEMA}.entries (seq),
  name text COLLATE "C" NOT NULL,
  sha256 text COLLATE "C" NOT NULL,
  bytes bytea NOT NULL,
  PRIMARY KEY (seq, name)
);
${[...GUARD_FUNCTIONS].map(([name, body]) => `CREATE FUNCTION ${SCHEMA}.${name}() RETURNS trigger LANGUAGE plpgsql AS $body$${body}$body$;`).join('\n')}
${[...GUARD_TRIGGERS.values()].map((sql) => `${sql};`).join('\n')}`;

// ---------------------------------------------------------------------------------------
// Connecting

/**
 * A password from a .pgpass file (PGPASSFILE or ~/.pgpass) in libpq's format: lines
 * `host:port:database:user:password`, `*` matching anything, `\` escaping `:` and `\`.
 * As libpq does, a file others may read is ignored.
 */
export function pgpassPassword(params: { host: string; port: number; database: string; user: string }, file = process.env.PGPASSFILE ?? join(homedir(), '.pgpass')): string | undefined {
  let text: string;
  try {
    const info = statSync(file);
    if (!info.isFile() || (info.mode & 0o077) !== 0) return undefined;
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  // A unix socket folder matches the host `localhost`, as in libpq.
  const host = params.host.startsWith('/') ? 'localhost' : params.host;
  const wanted = [host, String(params.port), params.database, params.user];
  for (const line of text.split(/\r?\n/)) {
    if (!line || line.startsWith('#')) continue;
    const fields: string[] = [''];
    for (let i = 0; i < line.length; i++) {
      if (line[i] === '\\' && i + 1 < line.length) fields[fields.length - 1] += line[++i];
      else if (line[i] === ':' && fields.length < 5) fields.push('');
      else fields[fields.length - 1] += line[i];
    }
    if (fields.length === 5 && wanted.every((value, k) => fields[k] === '*' || fields[k] === value)) return fields[4];
  }
  return undefined;
}

/** What the URL says, with the password kept apart (it goes only to the server). */
interface Target {
  /** The URL without the password: the registry's name in every message. */
  name: string;
  config: pg.ClientConfig;
  password: string | undefined;
}

function parseTarget(target: string): Target {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new RegistryError(`${redactUrl(target)} is not a valid PostgreSQL URL: write it as postgresql://USER@HOST:PORT/DATABASE (the password in PGPASSWORD or ~/.pgpass rather than in the URL).`);
  }
  const query = url.searchParams;
  const decode = (text: string) => (text ? decodeURIComponent(text) : undefined);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1') || query.get('host') || undefined;
  const port = url.port || query.get('port') || undefined;
  const sslmode = query.get('sslmode');
  const ssl = sslmode === null ? undefined : sslmode === 'disable' ? false : sslmode === 'verify-ca' || sslmode === 'verify-full' ? true : { rejectUnauthorized: false };
  return {
    name: redactUrl(target),
    password: decode(url.password) ?? query.get('password') ?? undefined,
    config: {
      host,
      port: port === undefined ? undefined : Number(port),
      database: decode(url.pathname.replace(/^\//, '')),
      user: decode(url.username) ?? query.get('user') ?? undefined,
      ...(ssl === undefined ? {} : { ssl }),
      application_name: 'plumbline',
      connectionTimeoutMillis: 15_000,
      // A network that drops without a word would otherwise keep the chain head locked.
      keepAlive: true,
    },
  };
}

/** The registry's URL, the problem and the fix, for an error of the driver or the server. */
function postgresError(target: Target, error: unknown): unknown {
  if (error instanceof RegistryError || !(error instanceof Error)) return error;
  const scrub = (text: string) => (target.password ? text.split(target.password).join('***') : text);
  const code = String((error as { code?: unknown }).code ?? '');
  const message = scrub(error.message);
  const where = `${target.config.host ?? process.env.PGHOST ?? 'localhost'}:${target.config.port ?? process.env.PGPORT ?? 5432}`;
  const user = target.config.user ?? process.env.PGUSER ?? 'the current user';
  const database = target.config.database ?? process.env.PGDATABASE ?? user;
  const name = target.name;
  switch (code) {
    case 'ECONNREFUSED':
      return new RegistryError(`cannot reach the PostgreSQL server of ${name}: nothing accepts connections at ${where}. Start the server, or correct the host and port in the URL, and run again.`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new RegistryError(`cannot reach the PostgreSQL server of ${name}: the host name ${quote(String(target.config.host))} is not known here. Correct the host in the URL (or check this machine's DNS) and run again.`);
    case 'ENOENT':
      return new RegistryError(`cannot reach the PostgreSQL server of ${name}: there is no server socket in ${target.config.host} for port ${target.config.port ?? 5432}. Start the server, or correct the host and port in the URL, and run again.`);
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new RegistryError(`cannot reach the PostgreSQL server of ${name}: ${where} did not answer (${code}). Check the host, the port and any firewall between here and the server, and run again.`);
    case '28P01':
      return new RegistryError(`the PostgreSQL server of ${name} refused the password of user ${quote(user)}. Give the right one in PGPASSWORD, ~/.pgpass or the URL, and run again.`);
    case '28000':
      return new RegistryError(`the PostgreSQL server of ${name} refused the connection of user ${quote(user)} to database ${quote(database)}: ${message}. Ask its administrator for access (pg_hba.conf) and run again.`);
    case '3D000':
      return new RegistryError(`${name}: the PostgreSQL server has no database ${quote(database)}. Create it (createdb ${database}), then plumbline registry init ${name}.`);
    case '42501':
      return new RegistryError(`${name}: user ${quote(user)} may not do this: PostgreSQL reports ${quote(message)}. Grant the user the rights on the database (or schema plumbline) it needs, or use the user that ran plumbline registry init.`);
    case '55P03':
      return new RegistryError(`${name}: the chain head stayed locked by another append for ${REGISTRY_BUSY_SECONDS} s. Nothing was appended; run again when it is done.`);
    case '57P01':
    case '57P02':
    case '57P03':
    case '53300':
      return new RegistryError(`the PostgreSQL server of ${name} is not taking work now: it reports ${quote(message)}. Run again once it is up; nothing was appended unless plumbline said so.`);
    case '53100':
      return new RegistryError(`cannot write ${name}: the database server's disk is full (${quote(message)}). Nothing was appended; free space on the server and run again.`);
  }
  if (/client password must be a|no password|password authentication/i.test(error.message)) {
    return new RegistryError(`the PostgreSQL server of ${name} asks user ${quote(user)} for a password and none was given. Set PGPASSWORD, add a line for it to ~/.pgpass, or give it in the URL, and run again.`);
  }
  if (/timeout|terminated|ECONNRESET|EPIPE/i.test(`${code} ${error.message}`)) {
    return new RegistryError(`the connection to the PostgreSQL server of ${name} was lost (${message}). The server rolls back an unfinished append: nothing was appended unless plumbline said so. Check the server and run again.`);
  }
  if (/^[0-9A-Z]{5}$/.test(code)) return new RegistryError(`${name}: PostgreSQL reports ${quote(message)} (SQLSTATE ${code}). Check the server's log; nothing was appended unless plumbline said so.`);
  if (target.password && error.message.includes(target.password)) return new RegistryError(`${name}: ${message}`);
  return error;
}

// ---------------------------------------------------------------------------------------
// The registry

/** Parameters as node-postgres binds them (BLOBs as Buffers over the same bytes). */
function bindable(values: SqlValue[]): unknown[] {
  return values.map((v) => (v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v));
}

const LIST_COLUMNS = `seq, created, model_id, model_version, team, owner, decision, failed_gates, metrics, data_sha256, model_sha256, result_sha256, entry_hash, (SELECT string_agg(name, E'\\n' ORDER BY name) FROM ${SCHEMA}.blobs b WHERE b.seq = e.seq)`;
const STORED = HASHED.filter((c) => c !== 'result_gz');
const columnOf = (c: (typeof HASHED)[number]) => (c === 'result_gz' ? 'r.result_gz' : `e.${c}`);

/** A registry in a PostgreSQL database, open on one connection. */
class PostgresRegistry implements RegistryStore {
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
      const here = new Map((await this.query(`SELECT seq, entry_hash FROM ${SCHEMA}.entries`)).map(([s, h]) => [Number(s), String(h)]));
      let appended = 0;
      let skipped = 0;
      for (const entry of entries) {
        if (appended === 0 && here.get(entry.seq) === entry.hash) {
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
    if (filter.failedGates) where.push("(decision = 'FAIL' OR failed_gates <> '[]')");
    return (await this.query(`SELECT ${LIST_COLUMNS} FROM ${SCHEMA}.entries e${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY seq`, params)).map(registryRow);
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

/**
 * Connects to the registry at a PostgreSQL URL and checks it is one (with `create`, an
 * empty database becomes one). Every failure is a RegistryError naming the URL without its
 * password, the problem and the fix.
 */
export async function openPostgresRegistry(url: string, options: { create?: boolean } = {}): Promise<RegistryStore> {
  const target = parseTarget(url);
  const fromUrl = target.password;
  const client: pg.Client = new pg.Client({
    ...target.config,
    // Asked only when the server wants a password: the URL's, else PGPASSWORD, else
    // ~/.pgpass. None is `undefined` (the driver's types say string): the driver then
    // fails with "client password must be a string", which postgresError explains.
    password: (async () => fromUrl || process.env.PGPASSWORD || pgpassPassword({ host: client.host, port: client.port, database: String(client.database), user: String(client.user) })) as () => Promise<string>,
  });
  // An idle connection the server drops must not end the process with an unhandled 'error'.
  client.on('error', () => undefined);
  const registry = new PostgresRegistry(client, target);
  try {
    await registry.guard(() => client.connect());
    await registry.open(options.create === true);
    return registry;
  } catch (error) {
    await registry.close();
    throw error;
  }
}
