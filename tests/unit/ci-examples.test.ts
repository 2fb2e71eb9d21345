import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { expected, fixture, projectRoot } from '../fixtures';

// The documented CI examples are run as written, with `npx plumbline` pointing at this
// checkout, in a repository laid out as the examples expect (audit/audit.yaml, audit/policy.yaml).
const want = expected('compas/rf.expected.json');

function repository(policyThreshold: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'plumbline-ci-'));
  mkdirSync(join(dir, 'audit'));
  writeFileSync(
    join(dir, 'audit', 'audit.yaml'),
    `model:\n  path: ${fixture('compas/rf.onnx')}\n  features: [${want.features!.join(', ')}]\ndata:\n  test: ${fixture('compas/test.csv')}\n  target: two_year_recid\n  positive_label: 1\n  protected_attributes: [race, sex]\nrandom_seed: 42\naudit_profile: quickstart\n`,
  );
  writeFileSync(join(dir, 'audit', 'policy.yaml'), `policy_name: CI\ngates:\n  - name: AUC\n    metric: roc_auc\n    threshold: ${policyThreshold}\n    comparison: greater_than\n    severity: error\n`);
  execFileSync('git', ['init', '-q'], { cwd: dir });
  return dir;
}

/** Runs a shell command from the docs with `npx plumbline` bound to this checkout. */
function runDocumented(command: string, cwd: string) {
  const bin = join(projectRoot, 'bin', 'plumbline.js');
  return spawnSync('sh', ['-c', command.replaceAll('npx plumbline', `node ${bin}`)], { cwd, encoding: 'utf8', env: { ...process.env, GIT_COMMIT: 'ci-test' } });
}

describe('documented CI examples', () => {
  const workflow = parse(readFileSync(join(projectRoot, 'docs/ci/github-actions.yml'), 'utf8'));
  const steps: string[] = workflow.jobs.audit.steps.map((s: { run?: string }) => s.run).filter((r: string | undefined) => r?.includes('plumbline') && !r.includes('npm install'));

  it('GitHub Actions steps pass for a model that meets the policy, and block one that does not', () => {
    expect(steps).toHaveLength(2);
    const passing = repository(0.7);
    for (const step of steps) expect(runDocumented(step, passing).status, step).toBe(0);
    const failing = repository(0.8);
    expect(runDocumented(steps[0], failing).status).toBe(0);
    const blocked = runDocumented(steps[1], failing);
    expect(blocked.status).toBe(1);
    expect(blocked.stderr).toContain('FAIL          AUC: roc_auc = 0.7441, needs > 0.8');
  });

  it('the pre-commit hook passes and blocks the same way', () => {
    const hook = readFileSync(join(projectRoot, 'docs/ci/pre-commit-hook.sh'), 'utf8');
    expect(runDocumented(hook, repository(0.7)).status).toBe(0);
    expect(runDocumented(hook, repository(0.8)).status).toBe(1);
  });
});
