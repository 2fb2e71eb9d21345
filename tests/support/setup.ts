// The Node hosts register parquet-wasm with the core; the unit tests run the core as the CLI does.
import '../../src/cli/parquet-node';
