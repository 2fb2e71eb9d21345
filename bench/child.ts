/** Runs one benchmark entry in its own process (clean peak memory) and prints a JSON line. */
import { ENTRIES } from './entries';

const [name, scaleText = '1', runsText = '5'] = process.argv.slice(2);
const entry = ENTRIES.find((e) => e.name === name);
if (!entry) throw new Error(`unknown bench entry ${name}`);
const scale = Number(scaleText);
const WARM_UP_MS = 3000;
const work = await entry.setup(scale);
if (!work) {
  console.log(JSON.stringify({ name, skipped: true }));
  process.exit(0);
}
// Warm-up: one run, and more until 3 s have passed. V8 compiles WebAssembly (onnxruntime's,
// the tree kernel's) with its optimising tier in the background during the first seconds; a
// 30 ms entry warmed by one run was timed half in the baseline tier (bench/NOTES.md).
const warming = performance.now();
do await work();
while (performance.now() - warming < WARM_UP_MS);
const times: number[] = [];
for (let k = 0; k < Number(runsText); k++) {
  const start = performance.now();
  const done = await work();
  // An entry timed elsewhere (another program) returns its own time.
  times.push(done && typeof done === 'object' && typeof (done as { ms?: unknown }).ms === 'number' ? (done as { ms: number }).ms : performance.now() - start);
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ name, times, medianMs: times[Math.floor(times.length / 2)], peakRssMb: process.resourceUsage().maxRSS / 1024 }));
// An entry may leave handles open (a database pool, a throw-away server stopped on exit): end here.
process.exit(0);
