/**
 * SQLite on a real file for the CLI: the official SQLite WASM build with a small VFS over
 * node:fs, so SQLite reads only the pages a query needs (listing 10,000 audits reads the
 * entry rows, not the 470 MB of stored results) and writes in place under its rollback
 * journal. The file format is SQLite's own, the same the app reads with sql.js.
 */
import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import type { SqlDatabase, SqlStatement, SqlValue } from '../core/registry/registry.ts';

const VFS_NAME = 'plumbline-node';

// The package's type declarations do not describe the struct fields the VFS API sets
// ($iVersion, $xRandomness…) nor the C-style return codes, so this file uses it untyped.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Sqlite3 = any;
let ready: Promise<Sqlite3> | undefined;

/** Loads SQLite and installs the node:fs VFS (once per process). */
function sqlite(): Promise<Sqlite3> {
  // SQLite's own diagnostics would go to the console; errors reach the caller as exceptions.
  const quiet = { print: () => undefined, printErr: () => undefined };
  ready ??= ((sqlite3InitModule as (config?: object) => Promise<Sqlite3>)(quiet)).then((sqlite3: Sqlite3) => {
    sqlite3.config.warn = () => undefined;
    installNodeVfs(sqlite3);
    return sqlite3;
  });
  return ready;
}

function installNodeVfs(sqlite3: Sqlite3): void {
  const { capi, wasm } = sqlite3;
  const files = new Map<number, number>();
  const fdOf = (pFile: number) => files.get(Number(pFile))!;
  // Read-ahead: SQLite reads a stored result page by page along its overflow chain, which
  // mostly runs forward through the file; one 1 MB read serves many page reads. Only reads
  // that go on where the last one ended fill the buffer: the small entry rows lie scattered
  // between stored results, and reading 1 MB for each of their pages read ~1.3 GB to list
  // or verify 10,000 audits.
  const CHUNK = 1 << 20;
  const chunks = new Map<number, { offset: number; bytes: Buffer; length: number }>();
  const lastEnd = new Map<number, number>();
  const io = new capi.sqlite3_io_methods();
  io.$iVersion = 1;
  const vfs = new capi.sqlite3_vfs();
  const fallback = new capi.sqlite3_vfs(capi.sqlite3_vfs_find(null));
  vfs.$iVersion = 2;
  vfs.$szOsFile = capi.sqlite3_file.structInfo.sizeof;
  vfs.$mxPathname = 1024;
  // Randomness, time and sleep as the built-in VFS does them.
  vfs.$xRandomness = fallback.$xRandomness;
  vfs.$xSleep = fallback.$xSleep;
  vfs.$xCurrentTime = fallback.$xCurrentTime;
  vfs.$xCurrentTimeInt64 = fallback.$xCurrentTimeInt64;
  vfs.$xGetLastError = fallback.$xGetLastError;
  const guard = (work: () => number) => {
    try {
      return work();
    } catch {
      return capi.SQLITE_IOERR;
    }
  };
  sqlite3.vfs.installVfs({
    io: {
      struct: io,
      methods: {
        xClose: (pFile: number) =>
          guard(() => {
            closeSync(fdOf(pFile));
            files.delete(Number(pFile));
            chunks.delete(Number(pFile));
            lastEnd.delete(Number(pFile));
            return 0;
          }),
        xRead: (pFile: number, pDest: number, n: number, offset: bigint | number) =>
          guard(() => {
            const heap = wasm.heap8u();
            const at = Number(offset);
            let chunk = chunks.get(Number(pFile));
            const inChunk = chunk !== undefined && at >= chunk.offset && at + n <= chunk.offset + chunk.length;
            const sequential = at === lastEnd.get(Number(pFile));
            lastEnd.set(Number(pFile), at + n);
            if (n <= CHUNK && !inChunk && sequential) {
              const bytes = chunk?.bytes ?? Buffer.allocUnsafe(CHUNK);
              chunk = { offset: at, bytes, length: readSync(fdOf(pFile), bytes, 0, CHUNK, at) };
              chunks.set(Number(pFile), chunk);
            }
            let got: number;
            if (chunk && n <= CHUNK && at >= chunk.offset && at + n <= chunk.offset + chunk.length) {
              got = Math.max(0, Math.min(n, chunk.offset + chunk.length - at));
              heap.set(chunk.bytes.subarray(at - chunk.offset, at - chunk.offset + got), Number(pDest));
            } else got = readSync(fdOf(pFile), heap, Number(pDest), n, at);
            if (got < n) {
              heap.fill(0, Number(pDest) + got, Number(pDest) + n);
              return capi.SQLITE_IOERR_SHORT_READ;
            }
            return 0;
          }),
        xWrite: (pFile: number, pSource: number, n: number, offset: bigint | number) =>
          guard(() => {
            chunks.delete(Number(pFile));
            writeSync(fdOf(pFile), wasm.heap8u(), Number(pSource), n, Number(offset));
            return 0;
          }),
        xTruncate: (pFile: number, size: bigint | number) => guard(() => (chunks.delete(Number(pFile)), ftruncateSync(fdOf(pFile), Number(size)), 0)),
        xSync: (pFile: number) => guard(() => (fsyncSync(fdOf(pFile)), 0)),
        xFileSize: (pFile: number, pSize: number) => guard(() => (wasm.poke64(pSize, BigInt(fstatSync(fdOf(pFile)).size)), 0)),
        // Writers are serialised by the registry's lock file; SQLite's own locks are not needed.
        xLock: () => 0,
        xUnlock: () => 0,
        xCheckReservedLock: (_pFile: number, pOut: number) => (wasm.poke32(pOut, 0), 0),
        xFileControl: () => capi.SQLITE_NOTFOUND,
        xSectorSize: () => 4096,
        xDeviceCharacteristics: () => 0,
      },
    },
    vfs: {
      struct: vfs,
      name: VFS_NAME,
      methods: {
        xOpen: (_pVfs: number, zName: number, pFile: number, flags: number, pOutFlags: number) => {
          const name = wasm.cstrToJs(zName);
          let fd: number;
          try {
            fd = openSync(name, flags & capi.SQLITE_OPEN_READONLY ? 'r' : 'r+');
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || !(flags & capi.SQLITE_OPEN_CREATE)) return capi.SQLITE_CANTOPEN;
            fd = openSync(name, 'w+');
          }
          files.set(Number(pFile), fd);
          const file = new capi.sqlite3_file(pFile);
          file.$pMethods = io.pointer;
          file.dispose();
          if (pOutFlags) wasm.poke32(pOutFlags, flags);
          return 0;
        },
        xDelete: (_pVfs: number, zName: number) => {
          try {
            unlinkSync(wasm.cstrToJs(zName));
          } catch {
            // Already gone.
          }
          return 0;
        },
        xAccess: (_pVfs: number, zName: number, _flags: number, pOut: number) => (wasm.poke32(pOut, existsSync(wasm.cstrToJs(zName)) ? 1 : 0), 0),
        xFullPathname: (_pVfs: number, zName: number, nOut: number, pOut: number) => (wasm.cstrncpy(pOut, zName, nOut), 0),
      },
    },
  });
}

/** An open SQLite file with the interface the registry core uses (sql.js's shape). */
export interface SqliteFile extends SqlDatabase {
  close(): void;
}

/** Opens (or, with `create`, creates) a SQLite file on disk. */
export async function openSqliteFile(path: string, options: { create?: boolean; readonly?: boolean } = {}): Promise<SqliteFile> {
  const sqlite3 = await sqlite();
  const { capi, wasm } = sqlite3;
  const db = new sqlite3.oo1.DB({ filename: path, flags: options.readonly ? 'r' : options.create ? 'c' : 'w', vfs: VFS_NAME });
  const bindable = (params?: SqlValue[]) => (params && params.length ? (params as (string | number | Uint8Array | null)[]) : undefined);
  return {
    exec(sql, params) {
      const columns: string[] = [];
      const values: SqlValue[][] = [];
      db.exec({ sql, bind: bindable(params), rowMode: 'array', resultRows: values as unknown[][], columnNames: columns });
      return columns.length ? [{ columns, values }] : [];
    },
    run(sql, params) {
      db.exec({ sql, bind: bindable(params) });
    },
    prepare(sql): SqlStatement {
      const statement = db.prepare(sql);
      return {
        bind(params) {
          if (params && params.length) statement.bind(params as (string | number | Uint8Array | null)[]);
          return true;
        },
        step: () => statement.step(),
        get: () => statement.get([]) as SqlValue[],
        // BLOBs as views into SQLite's memory (sqlite3_column_blob), valid until the next
        // step: verify hashes every stored result without copying it out first.
        getTransient(): SqlValue[] {
          const values: SqlValue[] = [];
          for (let i = 0, n = statement.columnCount; i < n; i++) {
            if (capi.sqlite3_column_type(statement.pointer, i) === capi.SQLITE_BLOB) {
              const at = capi.sqlite3_column_blob(statement.pointer, i);
              values.push(wasm.heap8u().subarray(at, at + capi.sqlite3_column_bytes(statement.pointer, i)));
            } else values.push(statement.get(i) as SqlValue);
          }
          return values;
        },
        free: () => (statement.finalize(), true),
      };
    },
    close: () => db.close(),
  };
}
