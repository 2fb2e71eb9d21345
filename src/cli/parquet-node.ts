/**
 * Node's Parquet reader for the core: parquet-wasm's Node build (its .wasm read from disk),
 * loaded on the first Parquet file (CommonJS, so `require` loads it where the core's reader
 * is synchronous): a command that reads no Parquet never pays its start-up.
 */
import { createRequire } from 'node:module';
import { useParquetDecoder } from '../core/index.ts';

const require = createRequire(import.meta.url);
useParquetDecoder((bytes) => (require('parquet-wasm') as typeof import('parquet-wasm')).readParquet(bytes).intoIPCStream());
