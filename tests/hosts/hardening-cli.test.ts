/**
 * Hostile and careless inputs through the CLI: each once crashed (exit 134, a V8 fatal
 * error), overflowed the stack, read without bound or leaked a file's bytes. Each must now
 * end with exit 2 and a one-line message, within 30 s. The command runs in this process;
 * the input that once ran V8 out of memory runs it as a process of its own under a 2 GB heap.
 * The inputs are made here, never committed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { expected, fixture } from '../support/fixtures';
import { sha256Hex } from '../../src/core/base/hash';
import { runCli } from '../support/cli-in-process';
import { BUNDLED_CLI } from '../support/cli-process';

const work = mkdtempSync(join(tmpdir(), 'plumbline-hardening-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Runs the command in this process (main with captured streams); returns exit code, stderr, stdout and seconds taken. */
async function plumbline(...args: string[]) {
  const started = Date.now();
  const run = await runCli(args, { cwd: work });
  return { code: run.code, signal: null as NodeJS.Signals | null, stderr: run.stderr, stdout: run.stdout, seconds: (Date.now() - started) / 1000 };
}

/** Runs the command as a process of its own under a 2 GB heap, where running out of memory shows as a V8 crash (exit 134). */
function plumblineProcess(...args: string[]) {
  const started = Date.now();
  const run = spawnSync(process.execPath, ['--max-old-space-size=2048', BUNDLED_CLI, ...args], { encoding: 'utf8', cwd: work, timeout: 60_000, maxBuffer: 64 * 2 ** 20 });
  return { code: run.status, signal: run.signal, stderr: run.stderr, stdout: run.stdout, seconds: (Date.now() - started) / 1000 };
}

/** Expects exit 2 with exactly `message` on stderr, in under 30 s, with no crash. */
function refused(run: ReturnType<typeof plumblineProcess>, message: string) {
  expect(run.signal).toBeNull();
  expect(run.stderr).toBe(`plumbline: ${message}\n`);
  expect(run.code).toBe(2);
  expect(run.seconds).toBeLessThan(30);
}

/** A score-column CSV: target y, score s, the protected column p from `value(row)`, and sex. */
function scoreCsv(name: string, rows: number, value: (row: number) => string): string {
  const lines = ['y,s,p,sex'];
  for (let i = 0; i < rows; i++) lines.push(`${(i * 7) % 3 === 0 ? 1 : 0},${((i * 37) % 100) / 100},${value(i)},${i % 2 ? 'F' : 'M'}`);
  const path = join(work, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const scoreAudit = (data: string, ...more: string[]) => plumbline('audit', '--score', 's', '--data', data, '--target', 'y', '--protected', 'p,sex', '--bootstrap', '0', ...more);

describe('careless protected attributes are refused, not passed', () => {
  it('an entirely blank protected column (was one "(missing)" group: disparities 0, gates NOT_EVALUATED, PASS)', async () => {
    refused(
      await scoreAudit(scoreCsv('blank.csv', 2000, () => '')),
      'blank.csv, column "p": the protected attribute holds no values (all 2,000 rows are missing), so there are no groups to compare and every fairness gate would pass unchecked. Choose the column that holds the attribute, or fill it in.',
    );
  });

  it('a column with one value', async () => {
    refused(await scoreAudit(scoreCsv('single.csv', 500, () => 'X')), 'single.csv, column "p": every row holds the same value "X" (500 rows), so there is a single group and no disparity to measure. Choose a protected attribute with at least two groups.');
  });

  it('an id column of 20,000 values (was exit 134, V8 out of memory)', () => {
    refused(
      plumblineProcess('audit', '--score', 's', '--data', scoreCsv('ids.csv', 20_000, (i) => `id${String(i).padStart(6, '0')}`), '--target', 'y', '--protected', 'p,sex', '--bootstrap', '0'),
      'ids.csv, column "p": a protected attribute needs a few groups to compare, but this column has 20,000 distinct values in 20,000 rows (every value is different: an id or a row number?). Choose the column that holds the groups, or group its values first (e.g. zip code → region): a protected attribute may have at most 1,000 groups, and fewer distinct values than half its rows.',
    );
  });

  it('zip codes (declared categorical, as zip codes should be)', async () => {
    const data = scoreCsv('zips.csv', 20_000, (i) => String((i * 7919) % 3000).padStart(5, '0'));
    const config = join(work, 'zips.yaml');
    writeFileSync(config, `data: {test: ${data}, target: y, protected_attributes: [p, sex], score_column: s, dtypes: {p: categorical}}\nbootstrap: {resamples: 0}\n`);
    refused(
      await plumbline('audit', '--config', config),
      'zips.csv, column "p": a protected attribute needs a few groups to compare, but this column has 3,000 distinct values in 20,000 rows (five-digit codes: a zip code?). Choose the column that holds the groups, or group its values first (e.g. zip code → region): a protected attribute may have at most 1,000 groups, and fewer distinct values than half its rows.',
    );
  });

  it('2,000 groups (was "Maximum call stack size exceeded", and power over two million pairs)', async () => {
    refused(
      await scoreAudit(scoreCsv('g2000.csv', 10_000, (i) => `g${i % 2000}`)),
      'g2000.csv, column "p": a protected attribute needs a few groups to compare, but this column has 2,000 distinct values in 10,000 rows (far more values than groups). Choose the column that holds the groups, or group its values first (e.g. zip code → region): a protected attribute may have at most 1,000 groups, and fewer distinct values than half its rows.',
    );
  });

  it('a numeric measurement', async () => {
    refused(
      await scoreAudit(scoreCsv('income.csv', 1000, (i) => String(1000 + i * 13.5))),
      'income.csv, column "p": a protected attribute needs groups, but this numeric column has more than 50 distinct values (numbers: a measurement, not groups?). Bin it into groups (e.g. an age_group column) first.',
    );
  });

  it('an intersection of two large attributes, named with its size', async () => {
    const path = join(work, 'cross.csv');
    const lines = ['y,s,a,b'];
    for (let i = 0; i < 4000; i++) lines.push(`${i % 2},${(i % 10) / 10},a${i % 350},b${Math.floor(i / 11) % 350}`);
    writeFileSync(path, `${lines.join('\n')}\n`);
    refused(
      await plumbline('audit', '--score', 's', '--data', path, '--target', 'y', '--protected', 'a,b', '--bootstrap', '0'),
      'The intersection a × b has 122,500 possible groups (350 × 350), more than the 100,000 an intersection may have. List fewer or smaller attributes in fairness.intersections (or [] for none).',
    );
  });
});

describe('every read is bounded before it happens', () => {
  it('--config /dev/zero and --model /dev/zero (were read until 9 GB)', async () => {
    refused(await plumbline('audit', '--config', '/dev/zero'), 'zero: not an audit config file (binary, from a character device). Choose the YAML file; a text file must be UTF-8.');
    refused(
      await plumbline('audit', '--model', '/dev/zero', '--data', fixture('compas/test.csv'), '--target', 'two_year_recid', '--protected', 'race'),
      'zero: not a model file (binary, from a character device). Choose an ONNX model (.onnx), an XGBoost JSON model (save_model("model.json")) or a LightGBM text model (save_model("model.txt")).',
    );
    refused(await plumbline('verify-pack', '/dev/zero'), 'zero: not an evidence pack (binary, from a character device). Choose the .evidence.zip an audit wrote.');
  });

  it('a 1.9 GB file that is not a model is refused from its first bytes', async () => {
    const path = join(work, 'huge.bin');
    const fd = openSync(path, 'w');
    writeSync(fd, Buffer.from('a log line of plain text\n'.repeat(400)));
    closeSync(fd);
    truncateSync(path, Math.round(1.9 * 2 ** 30)); // sparse: takes no disk
    refused(await plumbline('inspect-model', path), 'huge.bin: not a model file (text, 1.9 GB). Choose an ONNX model (.onnx), an XGBoost JSON model (save_model("model.json")) or a LightGBM text model (save_model("model.txt")).');
    rmSync(path);
  });

  it('a config larger than 1 MB is refused from its size; an endless pipe after 1 MB', async () => {
    const big = join(work, 'big.yaml');
    writeFileSync(big, `# ${'x'.repeat(2 * 2 ** 20)}\n`);
    refused(await plumbline('validate-config', big), `the config file ${big} is 2.0 MB, more than the 1.0 MB a config file may be: is it the right file?`);
    const fifo = join(work, 'endless.yaml');
    spawnSync('mkfifo', [fifo]);
    // A writer that never stops (like `--config <(yes)`): the read stops after 1 MB and one byte.
    const writer = spawn('sh', ['-c', `yes '# comment' > '${fifo}'`], { stdio: 'ignore' });
    try {
      refused(await plumbline('validate-config', fifo), `the config file ${fifo} holds more than 1.0 MB (read from a pipe): a config file may be at most 1.0 MB. Is it the right file?`);
    } finally {
      writer.kill();
    }
  });

  it('a CSV of 100,000 columns is refused with the count (was read in 452 s)', async () => {
    const path = join(work, 'wide.csv');
    const header = ['y', 's', 'p', ...Array.from({ length: 100_000 - 3 }, (_, j) => `c${j}`)].join(',');
    writeFileSync(path, `${header}\n${header.replace(/[a-z]\d*/g, '1')}\n`);
    refused(await scoreAudit(path), 'wide.csv: the header has 100,000 columns, more than the 20,000 a data file may have. Keep the columns the audit needs (target, protected attributes, model inputs) and load the file again.');
  });

  it('a 200 MB cell is refused after its first megabytes, naming row and column (was "Invalid string length" after minutes)', async () => {
    const path = join(work, 'cell.csv');
    const fd = openSync(path, 'w');
    writeSync(fd, 'y,s,p,sex,note\n1,0.5,a,F,short\n0,0.2,b,M,');
    const block = Buffer.alloc(8 * 2 ** 20, 'x');
    for (let k = 0; k < 25; k++) writeSync(fd, block);
    writeSync(fd, '\n');
    closeSync(fd);
    refused(await scoreAudit(path), 'cell.csv, row 2, column "note": the cell holds more than 1.0 MB of text (the most a cell may hold). Keep long texts out of the data file.');
    rmSync(path);
  });

  it('a quote never closed is named as such', async () => {
    const path = join(work, 'open.csv');
    writeFileSync(path, `y,s,p,sex\n1,0.5,a,F\n0,0.2,"b,M\n${'1,0.3,a,F\n'.repeat(2 * 2 ** 20)}`);
    refused(await scoreAudit(path), 'open.csv, row 2, column "p": a quote opens this cell and does not close within 16 MB (a cell may hold 1.0 MB), so the cell runs on over the lines that follow. Close the quote (a quote inside a quoted cell is written "") and load the file again.');
  });

  it('400 MB of unique text cannot make the result as large: category lists are capped', async () => {
    // 20,000 rows of 1 KB of unique text: 20 MB of text the result used to copy whole, twice.
    const path = join(work, 'text.csv');
    const lines = ['y,s,p,note'];
    for (let i = 0; i < 20_000; i++) lines.push(`${i % 2},${(i % 100) / 100},${i % 3 ? 'a' : 'b'},${String(i).padStart(8, '0')}${'t'.repeat(1016)}`);
    writeFileSync(path, `${lines.join('\n')}\n`);
    const run = await plumbline('audit', '--score', 's', '--data', path, '--target', 'y', '--protected', 'p', '--bootstrap', '0', '--output', join(work, 'text', 'result.json'));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const result = JSON.parse(readFileSync(join(work, 'text', 'result.json'), 'utf8'));
    expect(JSON.stringify(result).length).toBeLessThan(2 * 2 ** 20);
    const stored = result.data.distributions.note;
    expect(stored.categories.join('').length).toBeLessThanOrEqual(64 * 1024);
    expect(stored.other).toBeGreaterThan(0.9);
  });
});

describe('a path names the user\'s own file: nothing of a file of the wrong kind is quoted or kept', () => {
  const secret = 'root:$6$SECRETSALT$hashhashhash:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n';
  const shadow = join(work, 'shadow');
  writeFileSync(shadow, secret);
  const want = expected('compas/rf.expected.json');
  const features = want.features!.join(',');

  it('model.path: /etc/shadow says "not a model file (text, …)" without its first characters', async () => {
    const run = await plumbline('audit', '--model', shadow, '--data', fixture('compas/test.csv'), '--target', 'two_year_recid', '--protected', 'race');
    refused(run, 'shadow: not a model file (text, 79 bytes). Choose an ONNX model (.onnx), an XGBoost JSON model (save_model("model.json")) or a LightGBM text model (save_model("model.txt")).');
    expect(run.stderr).not.toContain('root');
  });

  it('data.train: /etc/shadow is an error, not a header line in missing_sections', async () => {
    const config = join(work, 'train-shadow.yaml');
    writeFileSync(config, `model: {path: ${fixture('compas/rf.onnx')}, features: [${features}]}\ndata: {test: ${fixture('compas/test.csv')}, train: ${shadow}, target: two_year_recid, protected_attributes: [race]}\n`);
    const run = await plumbline('audit', '--config', config, '--bootstrap', '0');
    refused(run, 'shadow: not a data table (text, 79 bytes): its first line holds no delimiter (, ; tab |), so it would be a single column. Choose the CSV, Parquet or Arrow file of the reference data.');
    expect(run.stdout).toBe('');
    // A text file that does split into columns (tabs) is not a reference for this data either.
    const hosts = join(work, 'hosts');
    writeFileSync(hosts, '127.0.0.1\tlocalhost\n10.0.0.7\tSECRETHOST\n');
    writeFileSync(config, `model: {path: ${fixture('compas/rf.onnx')}, features: [${features}]}\ndata: {test: ${fixture('compas/test.csv')}, train: ${hosts}, target: two_year_recid, protected_attributes: [race]}\n`);
    const tabs = await plumbline('audit', '--config', config, '--bootstrap', '0');
    refused(tabs, 'hosts: the reference file has no column of test.csv (it has 2 columns, none named as in the data), so it is not a reference table for this data. Choose the training data (CSV, Parquet or Arrow) with the same columns.');
    expect(tabs.stdout).toBe('');
  });
});

describe('verify-pack', () => {
  /** An evidence pack the CLI wrote for the COMPAS audit. */
  async function realPack(): Promise<Uint8Array> {
    const want = expected('compas/rf.expected.json');
    const out = join(work, 'pack');
    mkdirSync(out, { recursive: true });
    const run = await plumbline('audit', '--model', fixture('compas/rf.onnx'), '--data', fixture('compas/test.csv'), '--target', 'two_year_recid', '--protected', 'race,sex', '--features', want.features!.join(','), '--bootstrap', '20', '--no-pdf', '--output', join(out, 'audit.pdf'));
    expect(run.code).toBe(0);
    return new Uint8Array(readFileSync(join(out, 'audit.evidence.zip')));
  }

  it('says the result matches its manifest when it does, and names a result changed along with SHA256SUMS', async () => {
    const pack = await realPack();
    const path = join(work, 'pack', 'audit.evidence.zip');
    const intact = await plumbline('verify-pack', path);
    expect(intact.stdout).toMatch(/: intact \(\d+ files match SHA256SUMS, none is a link or a device, and the result matches the manifest's result digest\)\n$/);
    expect(intact.code).toBe(0);
    // Edit the result and rewrite SHA256SUMS to match: only the manifest's digest can tell.
    const files = unzipSync(pack);
    const result = JSON.parse(strFromU8(files['audit.json']));
    result.performance.roc_auc = 0.99;
    files['audit.json'] = strToU8(`${JSON.stringify(result, null, 2)}\n`);
    files.SHA256SUMS = strToU8(
      Object.keys(files)
        .filter((name) => name !== 'SHA256SUMS')
        .sort()
        .map((name) => `${sha256Hex(files[name])}  ${name}\n`)
        .join(''),
    );
    const forged = join(work, 'forged.zip');
    writeFileSync(forged, zipSync(files));
    const run = await plumbline('verify-pack', forged);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^.*forged\.zip: audit\.json does not match the result digest in audit\.manifest\.json \(result_sha256 [0-9a-f]{12}…\): the result was changed after the audit\n$/);
  });

  it('refuses a symlink entry that unzip would create (and sha256sum -c then reads elsewhere)', async () => {
    const target = strToU8('/etc/hostname');
    const files = { 'a.txt': strToU8('hello') };
    const sums = `${sha256Hex(files['a.txt'])}  a.txt\n${sha256Hex(target)}  link\n`;
    const pack = zipSync({ ...files, link: [target, { os: 3, attrs: (0o120777 << 16) >>> 0 }], SHA256SUMS: strToU8(sums) });
    const path = join(work, 'link.zip');
    writeFileSync(path, pack);
    // unzip itself makes it a link.
    const out = join(work, 'unzipped');
    spawnSync('unzip', ['-o', '-q', path, '-d', out]);
    expect(spawnSync('test', ['-L', join(out, 'link')]).status).toBe(0);
    const run = await plumbline('verify-pack', path);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(`${path}: the entry "link" is a symbolic link, not a file: an evidence pack holds only plain files\n`);
  });
});
