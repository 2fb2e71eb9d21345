/**
 * The registry's SQL schema and opening a file with it: the identifying header values, the
 * append-only guard (triggers that keep any SQLite client from changing or removing what
 * was appended), the migrations that build the schema version by version, the checks that
 * a database is a registry this code can read, and the chain head the file recorded.
 */
import { RegistryError } from '../base/errors';
import { TOOL_VERSION } from '../base/version';
import { scalar, transaction, type SqlDatabase } from './sql';
import { asRegistryError, damagedRegistry, notSqlite, sqliteProblem } from './sqlite-errors';

/** `PRAGMA application_id` of a Plumbline registry: "PLMB". */
export const REGISTRY_APPLICATION_ID = 0x504c4d42;

/** The schema version this code writes (`PRAGMA user_version`). */
export const REGISTRY_SCHEMA_VERSION = 4;

/** `prev_hash` of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** What an append-only trigger answers to a change it refuses (any SQLite client sees it). */
const APPEND_ONLY = 'this is a Plumbline audit registry: it is append-only, its entries, stored results, kept files and chain head cannot be changed or deleted (plumbline registry verify would report the file as tampered)';
const AT_THE_END = 'this is a Plumbline audit registry: an entry can only be added at the end of the chain, by plumbline audit --registry';

/**
 * The append-only guard: triggers on every table, so that no SQLite client (the sqlite3
 * shell, a dashboard, a script) can change or remove what was appended, nor set the chain
 * head to anything but the last entry. Appends (`appendEntry`) pass them unchanged.
 */
const GUARD = `CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY}'); END;
CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY}'); END;
CREATE TRIGGER entries_at_end BEFORE INSERT ON entries WHEN NEW.seq IS NOT (SELECT coalesce(max(seq), 0) + 1 FROM entries) BEGIN SELECT RAISE(ABORT, '${AT_THE_END}'); END;
CREATE TRIGGER results_no_update BEFORE UPDATE ON results BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY}'); END;
CREATE TRIGGER results_no_delete BEFORE DELETE ON results BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY}'); END;
CREATE TRIGGER results_no_replace BEFORE INSERT ON results WHEN EXISTS (SELECT 1 FROM results WHERE seq = NEW.seq) BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY}'); END;
CREATE TRIGGER blobs_no_update BEFORE UPDATE ON blobs BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY}'); END;
CREATE TRIGGER blobs_no_delete BEFORE DELETE ON blobs BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY}'); END;
CREATE TRIGGER blobs_no_replace BEFORE INSERT ON blobs WHEN EXISTS (SELECT 1 FROM blobs WHERE seq = NEW.seq AND name = NEW.name) BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY}'); END;
CREATE TRIGGER meta_no_delete BEFORE DELETE ON meta BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY}'); END;
CREATE TRIGGER meta_no_replace BEFORE INSERT ON meta WHEN EXISTS (SELECT 1 FROM meta WHERE key = NEW.key) BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY}'); END;
CREATE TRIGGER meta_head_follows_chain BEFORE UPDATE ON meta WHEN NOT (
  (OLD.key = 'entries' AND NEW.key = 'entries' AND NEW.value IS CAST((SELECT count(*) FROM entries) AS TEXT))
  OR (OLD.key = 'head_hash' AND NEW.key = 'head_hash' AND NEW.value IS coalesce((SELECT entry_hash FROM entries ORDER BY seq DESC LIMIT 1), '${'0'.repeat(64)}'))
) BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY}'); END;`;

/** The guard's triggers by name, with the SQL SQLite keeps for each (`sqlite_master.sql`). */
export const GUARD_TRIGGERS = new Map(GUARD.split(/;\n(?=CREATE TRIGGER)/).map((sql) => sql.replace(/;$/, '')).map((sql) => [/^CREATE TRIGGER (\w+)/.exec(sql)![1], sql]));

/** Schema migrations, applied in order, in one transaction. */
export const MIGRATIONS: { version: number; description: string; sql: string }[] = [
  {
    version: 1,
    description: 'hash-chained audit entries and the chain head',
    sql: `CREATE TABLE entries (
  seq INTEGER PRIMARY KEY,
  created TEXT NOT NULL,
  model_id TEXT NOT NULL,
  model_version TEXT,
  team TEXT,
  owner TEXT,
  data_sha256 TEXT NOT NULL,
  model_sha256 TEXT,
  decision TEXT,
  failed_gates TEXT NOT NULL,
  metrics TEXT NOT NULL,
  manifest TEXT NOT NULL,
  result_gz BLOB NOT NULL,
  result_sha256 TEXT NOT NULL,
  blob_hashes TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  entry_hash TEXT NOT NULL UNIQUE
);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('entries', '0'), ('head_hash', '${GENESIS_HASH}');`,
  },
  {
    version: 2,
    description: 'stored reports and evidence packs; entries indexed by model and time',
    sql: `CREATE TABLE blobs (
  seq INTEGER NOT NULL REFERENCES entries(seq),
  name TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  bytes BLOB NOT NULL,
  PRIMARY KEY (seq, name)
);
CREATE INDEX entries_by_model ON entries (model_id, created);`,
  },
  {
    version: 3,
    description: 'the full results move to their own table, so listing reads only the small entry rows',
    sql: `CREATE TABLE results (
  seq INTEGER PRIMARY KEY REFERENCES entries(seq),
  result_gz BLOB NOT NULL
);
INSERT INTO results (seq, result_gz) SELECT seq, result_gz FROM entries;
ALTER TABLE entries DROP COLUMN result_gz;`,
  },
  {
    version: 4,
    description: 'the append-only guard: no SQLite client can change or remove appended entries',
    sql: GUARD,
  },
];

/** What a registry file holds. */
export interface RegistryInfo {
  schema_version: number;
  entries: number;
  head_hash: string;
  /** Migrations applied while opening, e.g. `[2, 3, 4]` for a version-1 file. */
  migrated: number[];
}

/** The header fields that say what a database is. */
function fileKind(db: SqlDatabase, fileName: string): { applicationId: number; version: number; tables: number } {
  try {
    return {
      applicationId: Number(scalar(db, 'PRAGMA application_id')),
      version: Number(scalar(db, 'PRAGMA user_version')),
      tables: Number(scalar(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'")),
    };
  } catch (error) {
    const message = (error as Error).message;
    // SQLite's own header is there but the pages are not: a damaged (often truncated) file.
    if (/malformed|corrupt/i.test(message)) throw damagedRegistry(fileName, message);
    const problem = sqliteProblem(error as Error);
    if (problem !== 'damaged' && problem !== 'not-sqlite') throw asRegistryError(fileName, error);
    throw notSqlite(fileName, message);
  }
}

/** Refuses a database that is not a registry this code can open (`create`: an empty one becomes one). */
function checkKind(kind: { applicationId: number; version: number; tables: number }, fileName: string, create: boolean): void {
  if (kind.applicationId !== REGISTRY_APPLICATION_ID) {
    if (kind.tables > 0 || kind.applicationId !== 0) {
      throw new RegistryError(`${fileName} is an SQLite database but not a Plumbline registry (application_id ${kind.applicationId}, a registry has ${REGISTRY_APPLICATION_ID}). Create a registry in a new file with: plumbline registry init FILE.`);
    }
    if (!create) throw new RegistryError(`${fileName} is empty, not a Plumbline registry. Create one with: plumbline registry init ${fileName}.`);
  }
  if (kind.version > REGISTRY_SCHEMA_VERSION) {
    throw new RegistryError(`${fileName} has registry schema version ${kind.version}; this Plumbline (${TOOL_VERSION}) reads versions up to ${REGISTRY_SCHEMA_VERSION}. Open it with a newer Plumbline.`);
  }
}

/**
 * Checks that `db` is a Plumbline registry and brings its schema up to date. With
 * `create`, an empty database becomes a new registry. Anything else (another SQLite
 * database, a file that is not SQLite, a newer schema) is refused with what to do. With
 * `migrate: false` nothing is written: an older schema is reported as it is (the CLI checks
 * a registry that way before a long audit, and upgrades it when it appends).
 *
 * Creating and upgrading happen in one write transaction that reads the header again
 * under the lock, so two processes opening the same old (or new) file at once upgrade it once.
 */
export function openRegistry(db: SqlDatabase, fileName: string, options: { create?: boolean; migrate?: boolean } = {}): RegistryInfo {
  const kind = fileKind(db, fileName);
  checkKind(kind, fileName, options.create === true);
  const migrated: number[] = [];
  let version = kind.version;
  if (kind.version < REGISTRY_SCHEMA_VERSION && options.migrate !== false) {
    // 16 KB pages: a stored result (~50 KB gzipped) is a few page reads, not a dozen, with
    // little slack. SQLite takes the page size only before the first page is written, and
    // not inside a transaction; on a file that already has pages it changes nothing.
    if (kind.applicationId !== REGISTRY_APPLICATION_ID) db.run('PRAGMA page_size = 16384');
    transaction(db, () => {
      const now = fileKind(db, fileName);
      checkKind(now, fileName, options.create === true);
      version = now.version;
      if (now.applicationId !== REGISTRY_APPLICATION_ID) db.run(`PRAGMA application_id = ${REGISTRY_APPLICATION_ID}`);
      for (const migration of MIGRATIONS) {
        if (migration.version <= now.version) continue;
        db.exec(migration.sql);
        db.run(`PRAGMA user_version = ${migration.version}`);
        migrated.push(migration.version);
        version = migration.version;
      }
    });
  }
  return { ...registryHead(db), schema_version: version, migrated };
}

/** Brings a database up to one schema version only (tests use it to make old files). */
export function createRegistryAtVersion(db: SqlDatabase, version: number): void {
  db.run(`PRAGMA application_id = ${REGISTRY_APPLICATION_ID}`);
  for (const migration of MIGRATIONS.filter((m) => m.version <= version)) {
    transaction(db, () => {
      db.exec(migration.sql);
      db.run(`PRAGMA user_version = ${migration.version}`);
    });
  }
}

/** The chain head the registry recorded: its entry count and the hash of its last entry. */
export function registryHead(db: SqlDatabase): { entries: number; head_hash: string } {
  const meta = new Map((db.exec('SELECT key, value FROM meta')[0]?.values ?? []).map(([k, v]) => [String(k), String(v)]));
  return { entries: Number(meta.get('entries') ?? 0), head_hash: meta.get('head_hash') ?? GENESIS_HASH };
}
