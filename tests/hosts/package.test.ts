import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
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

  it('ships built JavaScript and no TypeScript sources, dev dependencies or better-sqlite3 binary', () => {
    const listing = execFileSync('tar', ['tzf', installed.tarball], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n');
    const own = listing.filter((path) => !path.includes('/node_modules/'));
    expect(own).toContain('package/dist-node/cli/main.js');
    expect(own).toContain('package/dist-node/api/node.js');
    expect(own).toContain('package/dist-node/api/node.d.ts');
    expect(own.filter((path) => path.startsWith('package/src/'))).toEqual([]);
    const bundled = new Set(listing.map((path) => /^package\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)?.[1]).filter(Boolean));
    for (const dev of ['tsx', 'typescript', 'vite', 'vitest', 'svelte', '@playwright/test', 'better-sqlite3']) expect(bundled.has(dev), dev).toBe(false);
    for (const runtime of ['onnxruntime-web', 'jspdf', 'yaml', 'parquet-wasm', 'pg']) expect(bundled.has(runtime), runtime).toBe(true);
  });

  it('runs a fixture audit with npx plumbline audit, giving the fixture numbers (TreeSHAP on the thread pool of the package)', () => {
    const work = mkdtempSync(join(tmpdir(), 'plumbline-package-audit-'));
    // --threads 2: the forest's TreeSHAP goes to worker threads running the package's dist-node/api/pool-thread.js.
    const run = npx(['audit', '--model', fixture('compas/rf.onnx'), '--data', fixture('compas/test.csv'), '--target', 'two_year_recid', '--protected', 'race,sex', '--features', want.features!.join(','), '--threads', '2', '--output', join(work, 'report.pdf')], installed.app);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('not run');
    const result = JSON.parse(readFileSync(join(work, 'report.json'), 'utf8'));
    expect(result.explanations.method).toBe('tree (interventional)');
    expect(result.performance.roc_auc).toBeCloseTo(want.performance.roc_auc, 6);
    expect(readFileSync(join(work, 'report.pdf')).subarray(0, 5).toString()).toBe('%PDF-');
    expect(JSON.parse(readFileSync(join(work, 'report.manifest.json'), 'utf8')).git_commit).toBe('package-test');
  });

  it('says what to install when the registry is used without better-sqlite3', () => {
    const run = npx(['registry', 'init', join(mkdtempSync(join(tmpdir(), 'plumbline-package-registry-')), 'audits.sqlite')], installed.app);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('better-sqlite3');
    expect(run.stderr).not.toContain('internal error');
  });

  it('gives TypeScript users typed exports (not any) under NodeNext resolution', () => {
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
    const check = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--lib', 'es2022,dom', '--types', 'node', '--typeRoots', join(projectRoot, 'node_modules/@types'), '--skipLibCheck', consumer], { cwd: installed.app, encoding: 'utf8' });
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
  });
});
