/**
 * The registry's schema in PostgreSQL: the tables (`SCHEMA_SQL`), and the append-only
 * guard's functions and triggers exactly as PostgreSQL keeps them, so verify can tell
 * Plumbline's guard from one taken off or changed.
 */
import { GENESIS_HASH, REGISTRY_SCHEMA_VERSION } from '../../../core/index.ts';

/** The schema the registry lives in, inside whatever database the URL names. */
export const SCHEMA = 'plumbline';
/** The `format` record in `plumbline.meta` that marks the schema as a Plumbline registry. */
export const FORMAT = 'plumbline-registry';

const APPEND_ONLY = 'this is a Plumbline audit registry: it is append-only, its entries, stored results, kept files and chain head cannot be changed or deleted (plumbline registry verify would report the database as tampered)';
const AT_THE_END = 'this is a Plumbline audit registry: an entry can only be added at the end of the chain, by plumbline audit --registry';

/** The guard's functions by name, with their bodies as PostgreSQL keeps them (`pg_proc.prosrc`). */
export const GUARD_FUNCTIONS = new Map([
  ['refuse_change', `\nBEGIN\n  RAISE EXCEPTION '${APPEND_ONLY}';\nEND\n`],
  ['entry_at_end', `\nBEGIN\n  IF NEW.seq IS DISTINCT FROM (SELECT coalesce(max(seq), 0) + 1 FROM ${SCHEMA}.entries) THEN\n    RAISE EXCEPTION '${AT_THE_END}';\n  END IF;\n  RETURN NEW;\nEND\n`],
  [
    'head_follows_chain',
    `\nBEGIN\n  IF NOT ((OLD.key = 'entries' AND NEW.key = 'entries' AND NEW.value = (SELECT count(*) FROM ${SCHEMA}.entries)::text)\n    OR (OLD.key = 'head_hash' AND NEW.key = 'head_hash' AND NEW.value = coalesce((SELECT entry_hash FROM ${SCHEMA}.entries ORDER BY seq DESC LIMIT 1), '${GENESIS_HASH}'))) THEN\n    RAISE EXCEPTION '${APPEND_ONLY}';\n  END IF;\n  RETURN NEW;\nEND\n`,
  ],
]);

/** The guard's triggers by name, as `pg_get_triggerdef` prints them. */
export const GUARD_TRIGGERS = new Map(
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
export const SCHEMA_SQL = `CREATE SCHEMA ${SCHEMA};
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

