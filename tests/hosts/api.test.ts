import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { audit, checkData } from '../../src/api/node';
import { audit as auditBytes } from '../../src/api/browser';
import { expected, fixture, fixtureBytes, projectRoot } from '../support/fixtures';
import { runCli } from '../support/cli-in-process';
import { installedPackage, npmEnv, type InstalledPackage } from '../support/installed-package';

const want = expected('compas/rf.expected.json');
const config = (model: string, data: string) =>
  `model:\n  path: ${model}\n  features: [${want.features!.join(', ')}]\ndata:\n  test: ${data}\n  target: two_year_recid\n  positive_label: 1\n  protected_attributes: [race, sex]\nrandom_seed: 42\naudit_profile: quickstart\n`;
const POLICY = 'policy_name: API\ngates:\n  - name: AUC\n    metric: roc_auc\n    threshold: 0.7\n    comparison: greater_than\n    severity: error\n';

/** The README's API script: the first ```js block of the section "The API, for scripts and notebooks". */
function readmeScript(): string {
  const readme = readFileSync(join(projectRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### The API, for scripts and notebooks'));
  const script = /```js\n([\s\S]*?)```/.exec(section)?.[1];
  if (!script) throw new Error('README.md: no ```js block in "The API, for scripts and notebooks"');
  return script;
}

describe('the README API script, run as written against the installed package', () => {
  let installed: InstalledPackage;
  beforeAll(() => {
    installed = installedPackage();
  }, 600_000);

  it('is about ten lines, audits, prints the decision and writes the PDF the CLI writes', { timeout: 300_000 }, () => {
    const script = readmeScript();
    expect(script.trim().split('\n').length).toBeLessThanOrEqual(10);
    // A project folder beside the installed package's node_modules, laid out as the script expects.
    const dir = mkdtempSync(join(installed.app, 'script-'));
    mkdirSync(join(dir, 'audit'));
    writeFileSync(join(dir, 'audit', 'audit.yaml'), config(fixture('compas/rf.onnx'), fixture('compas/test.csv')));
    writeFileSync(join(dir, 'audit', 'policy.yaml'), POLICY);
    writeFileSync(join(dir, 'audit.mjs'), script);
    const env = npmEnv({ SOURCE_DATE_EPOCH: '1700000000', GIT_COMMIT: 'api-test' });
    const run = spawnSync(process.execPath, ['audit.mjs'], { cwd: dir, encoding: 'utf8', env });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`decision: PASS, AUC ${want.performance.roc_auc!.toFixed(3)}`);
    expect(run.stdout).toContain('PASS AUC');
    // The CLI on the same files: the same report, byte for byte.
    const cli = spawnSync('npx', ['--no-install', 'plumbline', 'audit', '--config', 'audit/audit.yaml', '--policy-gates', 'audit/policy.yaml', '--output', 'cli/report.pdf'], { cwd: dir, encoding: 'utf8', env });
    expect(cli.status, cli.stderr).toBe(0);
    expect(Buffer.compare(readFileSync(join(dir, 'audit-report.pdf')), readFileSync(join(dir, 'cli', 'report.pdf')))).toBe(0);
  });
});

describe('the API gives the CLI result objects', () => {
  it('audit() returns the result, decision and manifest the CLI writes for the same files', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'plumbline-api-'));
    writeFileSync(join(dir, 'audit.yaml'), config(fixture('compas/rf.onnx'), fixture('compas/test.csv')));
    writeFileSync(join(dir, 'policy.yaml'), POLICY);
    const cli = await runCli(['audit', '--config', 'audit.yaml', '--policy-gates', 'policy.yaml', '--output', 'cli/report.json'], { cwd: dir, env: { SOURCE_DATE_EPOCH: '1700000000', GIT_COMMIT: 'api-test' } });
    expect(cli.code, cli.stderr).toBe(0);
    const saved = { epoch: process.env.SOURCE_DATE_EPOCH, commit: process.env.GIT_COMMIT };
    Object.assign(process.env, { SOURCE_DATE_EPOCH: '1700000000', GIT_COMMIT: 'api-test' });
    try {
      const run = await audit({ config: join(dir, 'audit.yaml'), policy: join(dir, 'policy.yaml'), output: join(dir, 'api', 'report.json') });
      // Compared as JSON (the curve's first threshold is Infinity in memory, null in the file).
      expect(JSON.parse(JSON.stringify(run.result))).toEqual(JSON.parse(readFileSync(join(dir, 'cli', 'report.json'), 'utf8')));
      expect(run.decision).toEqual(JSON.parse(readFileSync(join(dir, 'cli', 'policy_decision.json'), 'utf8')));
      expect(run.manifest).toEqual(JSON.parse(readFileSync(join(dir, 'cli', 'report.manifest.json'), 'utf8')));
      for (const name of ['report.json', 'report.manifest.json', 'policy_decision.json']) expect(readFileSync(join(dir, 'api', name)).equals(readFileSync(join(dir, 'cli', name))), name).toBe(true);
    } finally {
      for (const [name, value] of [['SOURCE_DATE_EPOCH', saved.epoch], ['GIT_COMMIT', saved.commit]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('the browser entry audits bytes to the same result', { timeout: 120_000 }, async () => {
    const viaPaths = await audit({ model: fixture('compas/rf.onnx'), data: fixture('compas/test.csv'), target: 'two_year_recid', protected: ['race', 'sex'], features: want.features!, seed: 42 });
    const viaBytes = await auditBytes({ model: new Blob([new Uint8Array(fixtureBytes('compas/rf.onnx'))]), data: { name: 'test.csv', bytes: fixtureBytes('compas/test.csv') }, target: 'two_year_recid', protected: ['race', 'sex'], features: want.features!, seed: 42 });
    // A nameless Blob is named for its role.
    expect(viaBytes.manifest.inputs.model.file).toBe('model.onnx');
    expect({ ...viaBytes.result, inputs: viaPaths.result.inputs }).toEqual(viaPaths.result);
    expect(viaBytes.result.inputs.data.sha256).toBe(viaPaths.result.inputs.data.sha256);
    expect(viaBytes.files['report.pdf'].subarray(0, 5)).toEqual(new TextEncoder().encode('%PDF-'));
  });

  it('checkData() gives the data profile an audit holds, without a model', { timeout: 120_000 }, async () => {
    const profile = await checkData({ data: fixture('compas/test.csv'), target: 'two_year_recid', protected: ['race', 'sex'] });
    const run = await audit({ score: 'decile_score', threshold: 5, data: fixture('compas/test.csv'), target: 'two_year_recid', protected: ['race', 'sex'], bootstrap: 0 });
    expect(profile.rows).toBe(run.result.data.rows);
    expect(profile.columns).toEqual(run.result.data.columns);
    expect(profile.proxies).toEqual(run.result.data.proxies);
    expect(profile.target).toEqual(run.result.data.target);
    // The threshold option as the declared policy type and the result write it ({policy: fixed, threshold}) was refused as an unknown key.
    const policyShaped = await audit({ score: 'decile_score', threshold: { policy: 'fixed', threshold: 5 }, data: fixture('compas/test.csv'), target: 'two_year_recid', protected: ['race', 'sex'], bootstrap: 0 });
    expect((policyShaped.result.settings as { threshold_policy?: unknown }).threshold_policy).toEqual((run.result.settings as { threshold_policy?: unknown }).threshold_policy);
    expect(policyShaped.result.performance).toEqual(run.result.performance);
  });

  it('names a missing option in the API\'s words', async () => {
    await expect(audit({ model: fixture('compas/rf.onnx'), target: 'two_year_recid', protected: ['race'] })).rejects.toThrow('Missing the data option.');
    // A key audit() does not read is refused (a config's positive_label ran a multiclass audit instead of one class against the rest).
    const options = { model: fixture('compas/rf.onnx'), data: fixture('compas/test.csv'), target: 'two_year_recid', protected: ['race'], positive_label: '1' } as Parameters<typeof audit>[0];
    await expect(audit(options)).rejects.toThrow(/^Unknown option "positive_label" \(did you mean positiveLabel\?\): it would be ignored\. The options: model, score, data,/);
  });
});

describe('provenance: the commit of the repository holding the config', () => {
  const saved = process.env.GIT_COMMIT;
  afterEach(() => {
    if (saved === undefined) delete process.env.GIT_COMMIT;
    else process.env.GIT_COMMIT = saved;
  });
  const git = (cwd: string, ...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8' }).trim();

  /** A repository holding a config, model and data, committed; the audit runs from this checkout (another repository). */
  function auditedRepository(): { repo: string; head: string } {
    const repo = mkdtempSync(join(tmpdir(), 'plumbline-provenance-'));
    git(repo, 'init', '-q');
    copyFileSync(fixture('compas/rf.onnx'), join(repo, 'rf.onnx'));
    copyFileSync(fixture('compas/test.csv'), join(repo, 'test.csv'));
    writeFileSync(join(repo, 'audit.yaml'), config('rf.onnx', 'test.csv'));
    git(repo, 'add', '.');
    git(repo, 'commit', '-q', '-m', 'model');
    return { repo, head: git(repo, 'rev-parse', 'HEAD') };
  }

  it('records that repository\'s HEAD, not the working directory\'s, clean, then dirty after an edit or with an untracked input', { timeout: 180_000 }, async () => {
    delete process.env.GIT_COMMIT;
    const { repo, head } = auditedRepository();
    expect(process.cwd()).toBe(projectRoot);
    expect(head).not.toBe(git(projectRoot, 'rev-parse', 'HEAD'));
    const clean = await audit({ config: join(repo, 'audit.yaml'), bootstrap: 0 });
    expect(clean.manifest.git_commit).toBe(head);
    expect(clean.manifest.git_dirty).toBe(false);

    writeFileSync(join(repo, 'audit.yaml'), `${readFileSync(join(repo, 'audit.yaml'), 'utf8')}threshold: 0.6\n`);
    const edited = await audit({ config: join(repo, 'audit.yaml'), bootstrap: 0 });
    expect(edited.manifest.git_commit).toBe(head);
    expect(edited.manifest.git_dirty).toBe(true);

    git(repo, 'checkout', '--', 'audit.yaml');
    copyFileSync(fixture('compas/test.csv'), join(repo, 'new-test.csv'));
    const untracked = await audit({ config: join(repo, 'audit.yaml'), data: join(repo, 'new-test.csv'), bootstrap: 0 });
    expect(untracked.manifest.git_dirty).toBe(true);
  });

  it('uses the model\'s repository without a config, null outside any repository, and GIT_COMMIT when set', { timeout: 180_000 }, async () => {
    delete process.env.GIT_COMMIT;
    const { repo, head } = auditedRepository();
    const flags = { data: fixture('compas/test.csv'), target: 'two_year_recid', protected: ['race'], features: want.features!, bootstrap: 0 };
    const fromModel = await audit({ ...flags, model: join(repo, 'rf.onnx') });
    expect(fromModel.manifest.git_commit).toBe(head);
    // The data lies outside the model's repository: it does not make the tree dirty.
    expect(fromModel.manifest.git_dirty).toBe(false);
    const outside = mkdtempSync(join(tmpdir(), 'plumbline-no-git-'));
    copyFileSync(fixture('compas/rf.onnx'), join(outside, 'rf.onnx'));
    const none = await audit({ ...flags, model: join(outside, 'rf.onnx') });
    expect(none.manifest.git_commit).toBeNull();
    expect('git_dirty' in none.manifest).toBe(false);
    process.env.GIT_COMMIT = 'from-ci';
    const fromEnv = await audit({ ...flags, model: join(repo, 'rf.onnx') });
    expect(fromEnv.manifest.git_commit).toBe('from-ci');
    expect('git_dirty' in fromEnv.manifest).toBe(false);
  });
});
