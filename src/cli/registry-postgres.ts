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
 *
 * This file only re-exports the modules under registry/postgres/: naming and connection
 * settings (url.ts), error messages (errors.ts), the schema and guard (schema.ts), the store
 * (store.ts) and connecting (open.ts).
 */
export { isPostgresUrl, pgpassPassword, redactUrl } from './registry/postgres/url.ts';
export { openPostgresRegistry } from './registry/postgres/open.ts';
