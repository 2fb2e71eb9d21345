import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { beforeAll, describe, it } from 'vitest';
import { parse } from 'yaml';
import { expected, fixture, projectRoot } from '../support/fixtures';
import { installedPackage, npmEnv } from '../support/installed-package';

// The documented CI examples are run as written, install step included: the tarball `npm pack`
// makes of this checkout is put under tools/ as the examples expect, in a repository laid out
// as they expect (audit/audit.yaml, audit/policy.yaml); npm runs offline, as on an air-gapped
// runner (the tarball carries its dependencies).
const want = expected('compas/rf.expected.json');
let tarball: string;
beforeAll(() => {
  tarball = installedPackage().tarball;
}, 600_000);

function writePolicy(dir: string, policyThreshold: number): void {
  writeFileSync(join(dir, 'audit', 'policy.yaml'), `policy_name: CI\ngates:\n  - name: AUC\n    metric: roc_auc\n    threshold: ${policyThreshold}\n    comparison: greater_than\n    severity: error\n`);
}

function repository(policyThreshold: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'plumbline-ci-'));
  mkdirSync(join(dir, 'audit'));
  mkdirSync(join(dir, 'tools'));
  copyFileSync(tarball, join(dir, 'tools', basename(tarball)));
  writeFileSync(
    join(dir, 'audit', 'audit.yaml'),
    `model:\n  path: ${fixture('compas/rf.onnx')}\n  features: [${want.features!.join(', ')}]\ndata:\n  test: ${fixture('compas/test.csv')}\n  target: two_year_recid\n  positive_label: 1\n  protected_attributes: [race, sex]\nrandom_seed: 42\naudit_profile: quickstart\n`,
  );
  writePolicy(dir, policyThreshold);
  execFileSync('git', ['init', '-q'], { cwd: dir });
  return dir;
}

/** Runs a documented command with sh, as a CI runner would (`npx plumbline` is the installed package's). */
function runDocumented(command: string, cwd: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn('sh', ['-c', command], { cwd, env: npmEnv({ GIT_COMMIT: 'ci-test' }) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

// Both examples run in one repository, as a team would keep them: the pre-commit hook first,
// which installs the tarball on its first run (so it is installed once); the workflow's
// install step is the same command.
describe('documented CI examples', () => {
  const workflow = parse(readFileSync(join(projectRoot, 'docs/ci/github-actions.yml'), 'utf8'));
  const runs: string[] = workflow.jobs.audit.steps.map((s: { run?: string }) => s.run).filter((r: string | undefined) => r !== undefined);
  const install = runs.filter((r) => r.includes('npm install'));
  const steps = runs.filter((r) => r.includes('plumbline') && !r.includes('npm install'));
  const hook = readFileSync(join(projectRoot, 'docs/ci/pre-commit-hook.sh'), 'utf8');

  it('the pre-commit hook installs the tarball on its first run and passes; the GitHub Actions steps pass for a model that meets the policy; both block one that does not', { timeout: 600_000 }, async ({ expect }) => {
    expect(install).toHaveLength(1);
    expect(install[0]).toContain('plumbline-audit');
    // The hook installs with the workflow's own command, when the package is not there yet.
    expect(hook).toContain(`[ -x node_modules/.bin/plumbline ] || ${install[0]}\n`);
    expect(steps).toHaveLength(2);
    const dir = repository(0.7);
    const first = await runDocumented(hook, dir);
    expect(first.status, first.stderr).toBe(0);
    expect(existsSync(join(dir, 'node_modules', '.bin', 'plumbline'))).toBe(true);
    for (const step of steps) {
      const run = await runDocumented(step, dir);
      expect(run.status, `${step}\n${run.stderr}`).toBe(0);
    }
    writePolicy(dir, 0.8);
    expect((await runDocumented(steps[0], dir)).status).toBe(0);
    const blocked = await runDocumented(steps[1], dir);
    expect(blocked.status).toBe(1);
    expect(blocked.stderr).toContain(`FAIL          AUC: roc_auc = ${want.performance.roc_auc.toFixed(4)}, needs > 0.8`);
    expect((await runDocumented(hook, dir)).status).toBe(1);
  });
});
