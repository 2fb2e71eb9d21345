/**
 * `plumbline registry`: the audit registry file from the command line. The file is opened
 * in place with SQLite itself (better-sqlite3, see sqlite-file.ts), under SQLite's own
 * locks: an append is one write transaction that reads the chain head under the write lock
 * and says "appended" only once the commit is on disk, so concurrent CI jobs all land, and
 * any other SQLite client on the file waits for it rather than rolling it back. Commands
 * that read do so in one read transaction, so they never see half of an append.
 *
 * This file only re-exports the modules under registry/, one job each: the subcommands
 * (command.ts), the list table, SQLite export, output files, opening a store (a file in
 * sqlite-store.ts, a database under postgres/), hashing, and what the audit command and the
 * Node API ask of a registry (append.ts).
 */
export { nodeSha256, threadSha256 } from './registry/hash.ts';
export { openRegistryFile, verifyRegistryFile } from './registry/sqlite-store.ts';
export { openRegistryStore, registryLabel } from './registry/open-store.ts';
export { appendToRegistry, appendedMessage, checkRegistryFile, registryBaseline, type Appended } from './registry/append.ts';
export { writeOutputFile } from './registry/output.ts';
export { allStoredEntries } from './registry/export-sqlite.ts';
export { registryCommand } from './registry/command.ts';
