/**
 * Node's Parquet reader for the core: parquet-wasm's Node build (its .wasm read from disk),
 * loaded on the first Parquet file (CommonJS, so `require` loads it where the core's reader
 * is synchronous): a command that reads no Parquet never pays its start-up.
 *
 * In a checkout it is the npm package; the installed package carries the Node build beside
 * its bundle (dist-node/vendor/parquet-wasm), whose path the build defines as
 * PLUMBLINE_PARQUET_WASM (scripts/build-package.mjs).
 */
import { createRequire } from 'node:module';
import { useParquetDecoder } from '../core/index.ts';

declare const PLUMBLINE_PARQUET_WASM: string | undefined;
const PARQUET_WASM = typeof PLUMBLINE_PARQUET_WASM === 'string' ? PLUMBLINE_PARQUET_WASM : 'parquet-wasm';

const require = createRequire(import.meta.url);
useParquetDecoder((bytes) => (require(PARQUET_WASM) as typeof import('parquet-wasm')).readParquet(bytes).intoIPCStream());
