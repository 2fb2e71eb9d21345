/// <reference lib="dom" />
import { expect, test } from '@playwright/test';
import { download, dropFiles } from './app-files';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { expected, fixture, projectRoot } from '../support/fixtures';
import { corpusPath } from '../support/model-corpus';

// One audit, any host: the same model, test data, reference, config and policy dropped into
// the app (plain static host and cross-origin isolated) give the CLI's result JSON, manifest
// and decision field by field (so the same digest), and the same evidence pack to the byte
// for the same SOURCE_DATE_EPOCH (the app's ?source_date_epoch=).
const EPOCH = 1767225600;
const HOSTS = [
  ['plain', 'http://127.0.0.1:4173/'],
  ['isolated', 'http://127.0.0.1:4174/'],
] as const;

interface HostCase {
  name: string;
  dir: string;
  model?: string;
  config: string;
  /** Other files than the fixture folder's model, test.csv and train.csv. */
  files?: string[];
}

const rf = expected('compas/rf.expected.json');
const common = 'random_seed: 42\nbootstrap:\n  resamples: 100\nexplainer:\n  rows: 10\n  background_samples: 20\nrecourse:\n  max_rows: 5\n';
const CASES: HostCase[] = [
  { name: 'compas forest (one [N, F] input)', dir: 'compas', model: 'compas/rf.onnx', config: `model:\n  path: rf.onnx\n  features: [${rf.features!.join(', ')}]\ndata:\n  test: test.csv\n  train: train.csv\n  target: two_year_recid\n  protected_attributes: [race, sex]\n${common}` },
  { name: 'compas forest, TreeEnsemble v5 layout', dir: 'compas', model: 'compas/rf_v5.onnx', config: `model:\n  path: rf_v5.onnx\n  features: [${rf.features!.join(', ')}]\ndata:\n  test: test.csv\n  train: train.csv\n  target: two_year_recid\n  protected_attributes: [race, sex]\n${common}` },
  { name: 'compas neural network (KernelSHAP)', dir: 'compas', model: 'compas/mlp.onnx', config: `model:\n  path: mlp.onnx\n  features: [${rf.features!.join(', ')}]\ndata:\n  test: test.csv\n  train: train.csv\n  target: two_year_recid\n  protected_attributes: [race, sex]\n${common}` },
  { name: 'german xgboost ONNX (one-hot inside the graph)', dir: 'german_credit', model: 'german_credit/xgb.onnx', config: `model:\n  path: xgb.onnx\ndata:\n  test: test.csv\n  train: train.csv\n  target: good_credit\n  protected_attributes: [gender, age_group]\n${common}` },
  {
    name: 'german xgboost JSON on cells blanked at random',
    dir: 'german_credit',
    files: [fixture('german_credit/xgb_numeric.json'), fixture('german_credit/test_missing.csv'), fixture('german_credit/train.csv')],
    config: `model:\n  path: xgb_numeric.json\ndata:\n  test: test_missing.csv\n  train: train.csv\n  target: good_credit\n  protected_attributes: [gender, age_group]\n${common}`,
  },
  { name: 'german logistic regression (per-column inputs, ZipMap)', dir: 'german_credit', model: 'german_credit/logreg_zipmap.onnx', config: `model:\n  path: logreg_zipmap.onnx\ndata:\n  test: test.csv\n  train: train.csv\n  target: good_credit\n  protected_attributes: [gender, age_group]\n${common}` },
  { name: 'german xgboost JSON (tree evaluator)', dir: 'german_credit', model: 'german_credit/xgb_numeric.json', config: `model:\n  path: xgb_numeric.json\ndata:\n  test: test.csv\n  train: train.csv\n  target: good_credit\n  protected_attributes: [gender, age_group]\n${common}` },
  {
    name: 'adult pipeline on cells with unseen values, "NA" and blanks, read with the config\'s missing_values',
    dir: 'adult',
    files: [corpusPath('adult_logreg.onnx'), corpusPath('adult_unseen.csv')],
    config: `model:\n  path: adult_logreg.onnx\ndata:\n  test: adult_unseen.csv\n  target: high_income\n  protected_attributes: [sex]\n  missing_values: ['', 'NA']\n${common}`,
  },
  { name: 'compas decile score (score-only, threshold 5)', dir: 'compas', config: `data:\n  test: test.csv\n  train: train.csv\n  target: two_year_recid\n  score_column: decile_score\n  protected_attributes: [race, sex]\nthreshold: 5\n${common}` },
];
const policy = `policy_name: Host parity\nversion: "1"\ngates:\n  - name: Minimum AUC\n    metric: roc_auc\n    threshold: 0.5\n    comparison: greater_than\n    severity: error\nreproducibility:\n  seed_required: true\n`;

/** The paths where two JSON values differ (first 20), for a readable failure. */
function differences(a: unknown, b: unknown, path = '$', out: string[] = []): string[] {
  if (out.length >= 20) return out;
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) differences((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${path}.${key}`, out);
  } else if (!Object.is(a, b)) out.push(`${path}: ${JSON.stringify(a)?.slice(0, 80)} vs ${JSON.stringify(b)?.slice(0, 80)}`);
  return out;
}

for (const hostCase of CASES) {
  test(`the app gives the CLI's result, manifest, decision and evidence pack: ${hostCase.name}`, async ({ browser }) => {
    test.setTimeout(240_000);
    // The files as a user has them: one folder, the config naming them by file name.
    const work = mkdtempSync(join(tmpdir(), 'plumbline-hosts-'));
    const files = hostCase.files ?? [...(hostCase.model ? [fixture(hostCase.model)] : []), fixture(`${hostCase.dir}/test.csv`), fixture(`${hostCase.dir}/train.csv`)];
    for (const file of files) copyFileSync(file, join(work, basename(file)));
    writeFileSync(join(work, 'audit.yaml'), hostCase.config);
    writeFileSync(join(work, 'policy.yaml'), policy);
    mkdirSync(join(work, 'cli'));
    // Outside any git repository, so neither host has a commit to record.
    const env: NodeJS.ProcessEnv = { ...process.env, SOURCE_DATE_EPOCH: String(EPOCH) };
    delete env.GIT_COMMIT;
    const cli = spawnSync(process.execPath, [join(projectRoot, 'bin', 'plumbline.js'), 'audit', '--config', 'audit.yaml', '--policy-gates', 'policy.yaml', '--output', 'cli/report.pdf'], { cwd: work, env, encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    const cliFile = (name: string) => readFileSync(join(work, 'cli', name));

    for (const [host, url] of HOSTS) {
      const page = await browser.newPage();
      await page.goto(`${url}?source_date_epoch=${EPOCH}`);
      await dropFiles(page, [...files.map((f) => join(work, basename(f))), join(work, 'audit.yaml'), join(work, 'policy.yaml')]);
      await expect(page.getByTestId('config-card')).toContainText('audit.yaml');
      await page.getByTestId('run-audit').click();
      await expect(page.getByTestId('result-summary')).toBeVisible({ timeout: 120_000 });
      await expect(page.getByTestId('decision')).toHaveAttribute('data-value', 'PASS');
      if (hostCase.config.includes('path: xgb_numeric.json')) {
        // The recourse search went to the pool: its workers opened the XGBoost model again (and the result is still the CLI's, below).
        const pool = page.workers().filter((worker) => /pool\.worker/.test(worker.url()));
        const reopened = await Promise.all(pool.map((worker) => worker.evaluate(() => (globalThis as unknown as { plumblineRecourseModels?: number }).plumblineRecourseModels ?? 0)));
        expect(reopened.filter((n) => n === 1).length, `${host}: pool workers that searched recourse rows`).toBeGreaterThanOrEqual(2);
      }
      const appResult = JSON.parse((await download(page, 'export-json')).toString('utf8'));
      const cliResult = JSON.parse(cliFile('report.json').toString('utf8'));
      expect(differences(appResult, cliResult), `${host}: result`).toEqual([]);
      expect(JSON.parse((await download(page, 'export-manifest')).toString('utf8')), `${host}: manifest`).toEqual(JSON.parse(cliFile('report.manifest.json').toString('utf8')));
      expect(JSON.parse((await download(page, 'export-decision')).toString('utf8')), `${host}: decision`).toEqual(JSON.parse(cliFile('policy_decision.json').toString('utf8')));
      await expect(page.getByTestId('result-digest')).toHaveText(JSON.parse(cliFile('report.manifest.json').toString('utf8')).result_sha256);
      expect(Buffer.compare(await download(page, 'export-pack'), cliFile('report.evidence.zip')), `${host}: evidence pack bytes`).toBe(0);
      await page.close();
    }
  });
}
