import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { Table as WasmTable, writeParquet } from 'parquet-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadArrow, tableToArrow } from '../../src/core/data/arrow';
import { parseCsv } from '../../src/core/data/csv';
import { expected, fixture, projectRoot } from '../support/fixtures';
import { installedPackage, npmEnv, type InstalledPackage } from '../support/installed-package';

// The package as npm installs it: the tarball `npm pack` makes, installed offline into an
// empty folder, run with `npx plumbline` (Node and the tarball only: no dev dependencies,
// no TypeScript, no build at install).
const want = expected('compas/rf.expected.json');
let installed: InstalledPackage;
beforeAll(() => {
  installed = installedPackage();
}, 600_000);

const npx = (args: string[], cwd: string) => spawnSync('npx', ['--no-install', 'plumbline', ...args], { cwd, encoding: 'utf8', env: npmEnv({ SOURCE_DATE_EPOCH: '1700000000', GIT_COMMIT: 'package-test' }) });

describe('the packed package', () => {
  it('is named plumbline-audit (plumbline is an unrelated package on npm) and installs the plumbline command', () => {
    const manifest = JSON.parse(readFileSync(join(installed.app, 'node_modules/plumbline-audit/package.json'), 'utf8'));
    expect(manifest.name).toBe('plumbline-audit');
    expect(manifest.bin).toEqual({ plumbline: 'bin/plumbline.js' });
    expect(existsSync(join(installed.app, 'node_modules/.bin/plumbline'))).toBe(true);
    const version = npx(['--version'], installed.app);
    expect(version.stdout).toMatch(/^plumbline \d+\.\d+\.\d+/);
  });

  it('ships its JavaScript bundled, with the WebAssembly Node loads beside it: no TypeScript sources, no dependency to install', () => {
    const listing = execFileSync('tar', ['tzvf', installed.tarball], { encoding: 'utf8', maxBuffer: 64 << 20 }).trim().split('\n');
    const paths = listing.map((line) => line.split(/\s+/).at(-1)!);
    for (const file of ['dist-node/main.js', 'dist-node/node.js', 'dist-node/browser-node.js', 'dist-node/browser/browser.js', 'dist-node/pool-thread.js', 'dist-node/types/api/node.d.ts', 'dist-node/types/api/browser.d.ts', 'dist-node/vendor/onnxruntime-web/ort.node.min.mjs', 'dist-node/vendor/onnxruntime-web/ort-wasm-simd-threaded.wasm', 'dist-node/vendor/parquet-wasm/parquet_wasm_bg.wasm']) expect(paths, file).toContain(`package/${file}`);
    expect(paths.filter((path) => path.startsWith('package/src/') || path.includes('/node_modules/'))).toEqual([]);
    // The licences of what it carries: its own, and every bundled or vendored library's as published.
    expect(paths).toContain('package/LICENSE');
    const notices = execFileSync('tar', ['xzOf', installed.tarball, 'package/dist-node/THIRD_PARTY_NOTICES.md'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    for (const library of ['apache-arrow', 'jspdf', 'yaml', 'pg', 'papaparse', 'onnxruntime-web', 'parquet-wasm', '@bufbuild/protobuf']) expect(notices, library).toContain(`## ${library} `);
    expect(notices).toContain('Apache Arrow'); // apache-arrow's NOTICE, which Apache-2.0 asks to pass on
    // Nothing for npm to fetch: an air-gapped install needs the tarball alone.
    const manifest = JSON.parse(readFileSync(join(installed.app, 'node_modules/plumbline-audit/package.json'), 'utf8'));
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(Object.keys(manifest.optionalDependencies)).toEqual(['better-sqlite3']);
    // onnxruntime-web's 139 MB of builds for every backend are not shipped: the tarball was 65 MB until 4 Dec, 8 MB since.
    expect(statSync(installed.tarball).size).toBeLessThan(12 << 20);
  });

  it('runs a fixture audit with npx plumbline audit, giving the fixture numbers (TreeSHAP on the thread pool of the package)', () => {
    const work = mkdtempSync(join(tmpdir(), 'plumbline-package-audit-'));
    // --threads 2: the forest's TreeSHAP goes to worker threads running the package's dist-node/pool-thread.js.
    const run = npx(['audit', '--model', fixture('compas/rf.onnx'), '--data', fixture('compas/test.csv'), '--target', 'two_year_recid', '--protected', 'race,sex', '--features', want.features!.join(','), '--threads', '2', '--output', join(work, 'report.pdf')], installed.app);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('not run');
    const result = JSON.parse(readFileSync(join(work, 'report.json'), 'utf8'));
    expect(result.explanations.method).toBe('tree (interventional)');
    expect(result.performance.roc_auc).toBeCloseTo(want.performance.roc_auc, 6);
    expect(readFileSync(join(work, 'report.pdf')).subarray(0, 5).toString()).toBe('%PDF-');
    expect(JSON.parse(readFileSync(join(work, 'report.manifest.json'), 'utf8')).git_commit).toBe('package-test');
  });

  it('reads Arrow and Parquet data files: apache-arrow, loaded only when such a file comes, is a chunk of the bundle', async () => {
    const work = mkdtempSync(join(tmpdir(), 'plumbline-package-arrow-'));
    await loadArrow();
    const csv = parseCsv(readFileSync(fixture('german_credit/test_missing.csv'), 'utf8'), { fileName: 'test_missing.csv' });
    const arrow = tableToArrow(csv);
    writeFileSync(join(work, 'german.arrow'), arrow);
    writeFileSync(join(work, 'german.parquet'), writeParquet(WasmTable.fromIPCStream(tableToIPC(tableFromIPC(arrow), 'stream'))));
    for (const file of ['german.arrow', 'german.parquet']) {
      const run = npx(['check-data', '--data', join(work, file), '--target', 'good_credit', '--protected', 'gender', '--json'], installed.app);
      expect(run.status, `${file}: ${run.stderr}`).toBe(0);
      expect(JSON.parse(run.stdout).metrics.n_rows, file).toBe(csv.rowCount);
    }
  });

  it('says what to install when the registry is used without better-sqlite3', () => {
    const run = npx(['registry', 'init', join(mkdtempSync(join(tmpdir(), 'plumbline-package-registry-')), 'audits.sqlite')], installed.app);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('better-sqlite3');
    expect(run.stderr).not.toContain('internal error');
  });

  it('gives TypeScript users typed exports (not any) under NodeNext resolution, without skipLibCheck (the bundled libraries are not installed)', () => {
    const consumer = join(installed.app, 'consumer.mts');
    writeFileSync(
      consumer,
      [
        "import { audit, explain, checkData, isTaskResult, renderPdf, type AuditRun } from 'plumbline-audit';",
        "import { audit as auditBytes } from 'plumbline-audit/browser';",
        'type IsAny<T> = 0 extends 1 & T ? true : false;',
        "const notAny: [IsAny<AuditRun['result']>, IsAny<Awaited<ReturnType<typeof checkData>>>, IsAny<Awaited<ReturnType<typeof explain>>>, IsAny<typeof auditBytes>] = [false, false, false, false];",
        "const run: AuditRun = await audit({ config: 'audit.yaml' });",
        // A result is binary, multiclass or regression: isTaskResult narrows it to the binary keys.
        'const auc: number | null = isTaskResult(run.result) ? null : run.result.performance.roc_auc;',
        "const mae: number | null = isTaskResult(run.result) && run.result.task === 'regression' ? run.result.performance.mae : null;",
        'const pdf: Uint8Array = renderPdf(run);',
        'export { notAny, auc, mae, pdf };',
      ].join('\n'),
    );
    const tsc = join(projectRoot, 'node_modules/typescript/bin/tsc');
    const check = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--lib', 'es2022,dom', '--types', 'node', '--typeRoots', join(projectRoot, 'node_modules/@types'), consumer], { cwd: installed.app, encoding: 'utf8' });
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
  });
});
