/** Node's Parquet reader for the core: parquet-wasm's Node build (its .wasm read from disk). */
import { readParquet } from 'parquet-wasm';
import { useParquetDecoder } from '../core/index.ts';

useParquetDecoder((bytes) => readParquet(bytes).intoIPCStream());
