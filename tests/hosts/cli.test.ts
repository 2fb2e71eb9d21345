import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-in-process';
import { expected, fixture, projectRoot } from '../support/fixtures';

const want = expected('compas/rf.expected.json');
const work = mkdtempSync(join(tmpdir(), 'plumbline-cli-'));

/** Runs the package's bin exactly as `npx plumbline` would: a real process, for the first test only. */
function plumblineProcess(...args: string[]) {
  const run = spawnSync(process.execPath, [join(projectRoot, 'bin', 'plumbline.js'), ...args], { encoding: 'utf8', cwd: work });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Runs the command in this process (main(argv, io)): the same code, without a Node start-up per command. */
const plumbline = (...args: string[]) => runCli(args, { cwd: work });

const auditArgs = ['audit', '--model', fixture('compas/rf.onnx'), '--data', fixture('compas/test.csv'), '--target', 'two_year_recid', '--protected', 'race,sex', '--features', want.features!.join(',')];

describe('plumbline audit', () => {
  it('writes the fixture numbers as JSON with the fixtures’ key names', async () => {
    const output = join(work, 'result.json');
    const run = plumblineProcess(...auditArgs, '--seed', '7', '--output', output);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const result = JSON.parse(readFileSync(output, 'utf8'));
    expect(result.settings.seed).toBe(7);
    for (const [key, value] of Object.entries(want.performance)) expect(Math.abs(result.performance[key] - value), key).toBeLessThan(1e-6);
    // A fixture without protected groups would make this loop assert nothing.
    expect(Object.keys(want.fairness).length, 'protected attributes in the reference').toBeGreaterThan(0);
    for (const [attribute, fairness] of Object.entries(want.fairness)) {
      for (const [group, metrics] of Object.entries(fairness.groups)) {
        const rate = metrics.selection_rate as number;
        expect(Math.abs(result.fairness[attribute].groups[group].selection_rate - rate), `${attribute}.${group}`).toBeLessThan(1e-6);
      }
    }
  });

  it('writes p(positive) per row with --predictions', async () => {
    const run = await plumbline(...auditArgs, '--predictions');
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    const worst = Math.max(...result.predictions_p1.map((p: number, i: number) => Math.abs(p - want.predictions_p1[i])));
    expect(worst).toBeLessThan(1e-6);
  });

  it('exits 2 with a one-line reason for a CSV without the target column', async () => {
    const csv = join(work, 'no-target.csv');
    writeFileSync(csv, 'age,priors_count,juv_fel_count,juv_misd_count,juv_other_count,race,sex\n30,1,0,0,0,Asian,Male\n');
    const run = await plumbline('audit', '--model', fixture('compas/rf.onnx'), '--data', csv, '--target', 'two_year_recid', '--protected', 'race', '--features', want.features!.join(','));
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('plumbline: no-target.csv: no target column "two_year_recid". Choose the column that holds the true outcome, or, for a batch scored before any outcome is known, audit it without labels (--no-labels / data.unlabelled: true).\n');
  });

  it('names the flag, not the config key it sets, when its value is refused (with or without a config)', async () => {
    const run = await plumbline(...auditArgs, '--bootstrap', '5');
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("plumbline: command line: --bootstrap (bootstrap.resamples): 5 draws cannot place an interval's tails (the ECE interval needs 20 at least, and was left out without a word). Use 0 to leave the bootstrap intervals out, or 20 or more (1000 by default).\n");
    writeFileSync(join(work, 'flags.yaml'), `model:\n  path: ${fixture('compas/rf.onnx')}\n  features: [${want.features!.join(', ')}]\ndata:\n  test: ${fixture('compas/test.csv')}\n  target: two_year_recid\n  protected_attributes: [race]\n`);
    const configured = await plumbline('audit', '--config', join(work, 'flags.yaml'), '--threshold', '5');
    expect(configured.code).toBe(2);
    expect(configured.stderr).toMatch(/^plumbline: command line: --threshold \(threshold\): 5 is outside 0 to 1, but a model's score is a probability\./);
  });

  it('exits 2 for a file that is not ONNX, without a stack trace', async () => {
    const run = await plumbline('audit', '--model', fixture('compas/test.csv'), '--data', fixture('compas/test.csv'), '--target', 'two_year_recid', '--protected', 'race');
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('plumbline: test.csv: not a model file (text, 94 KB). Choose an ONNX model (.onnx), an XGBoost JSON model (save_model("model.json")) or a LightGBM text model (save_model("model.txt")).\n');
  });

  it('exits 2 when the chosen columns do not fit the model, and shows the stack only with --verbose', async () => {
    const args = ['audit', '--model', fixture('compas/rf.onnx'), '--data', fixture('compas/test.csv'), '--target', 'two_year_recid', '--protected', 'race', '--features', 'age,priors_count'];
    const run = await plumbline(...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('plumbline: rf.onnx: input "float_input" takes 5 columns, but 2 were chosen (age, priors_count). Choose exactly 5 columns in the order the model was trained on.\n');
    const verbose = await plumbline(...args, '--verbose');
    expect(verbose.code).toBe(2);
    expect(verbose.stderr).toMatch(/AuditConfigError: rf\.onnx: input "float_input"[\s\S]*\n\s+at /);
  });

  it('exits 2 for a missing flag, an unknown flag, a missing file and an unknown command', async () => {
    expect((await plumbline('audit', '--model', 'm.onnx')).stderr).toBe('plumbline: missing --data. Run plumbline audit --help for usage.\n');
    expect((await plumbline('audit', '--data', 'd.csv')).stderr).toBe('plumbline: missing --model (or --score COLUMN for a score-only audit). Run plumbline audit --help for usage.\n');
    const unknown = await plumbline('audit', '--modle', 'm.onnx');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^plumbline: Unknown option '--modle'/);
    const missing = await plumbline(...auditArgs.map((a) => (a === fixture('compas/rf.onnx') ? 'nope.onnx' : a)));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('plumbline: cannot read the model file nope.onnx: no such file.\n');
    expect((await plumbline('audti')).stderr).toBe('plumbline: unknown command "audti". The commands are: audit, explain, check-data, validate-config, inspect, inspect-model, diff, verify-pack, list, registry.\n');
  });
});
