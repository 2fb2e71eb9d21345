// The Node hosts register parquet-wasm with the core; the unit tests run the core as the CLI does.
import '../../src/cli/parquet-node';
// One thread unless a test asks for more (tests/hosts/threads.test.ts): the forks already share
// this machine's cores, and the pool's threads would only contend with them. The processes the
// tests start inherit it.
process.env.PLUMBLINE_THREADS ??= '1';
