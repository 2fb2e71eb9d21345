import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { unzipSync } from 'fflate';
import { runAudit, type AuditRequest } from '../../src/core/audit';
import { parsePolicy } from '../../src/core/config/policy';
import { sha256Hex } from '../../src/core/base/hash';
import { auditOutputs } from '../../src/core/outputs/bundle';
import { expected, fixtureBytes } from '../support/fixtures';
import { FIXTURE_CASES } from '../support/fixture-cases';

/**
 * Every output of every fixture audit — the result, the manifest, the decision, the PDF (as
 * pdftotext reads it), the HTML report, the model card and every file of the evidence pack
 * — is free of the words a broken formatter leaves ("undefined", "NaN", "[object"), and every
 * interval in the result contains its own estimate.
 */

const POLICY = `policy_name: clean-outputs
gates:
  - name: auc
    metric: roc_auc
    threshold: 0.6
    comparison: greater_equal
    severity: error
    clause: "Model risk standard 4.2.1: a scoring model discriminates at least as well as the incumbent rule it replaces"
  - name: parity
    metric: demographic_parity_ratio
    threshold: 0.8
    comparison: greater_equal
    severity: warning
  - name: slices
    metric: max_slice_auc_gap
    threshold: 0.1
    comparison: less_equal
    severity: warning
  - name: drift
    metric: max_psi
    threshold: 0.25
    comparison: less_than
    severity: warning
  - name: shift
    metric: max_shift_degradation
    threshold: 0.05
    comparison: less_than
    severity: warning
`;

const BAD_WORDS = /undefined|NaN|\[object/;

interface Case {
  name: string;
  request: AuditRequest;
}

const dataset = (path: string) => path.split('/')[0];

const cases: Case[] = [
  ...FIXTURE_CASES.map((c): Case => {
    const want = expected(c.expected);
    const german = dataset(c.data) === 'german_credit';
    return {
      name: c.name,
      request: {
        model: { fileName: c.model.split('/').pop()!, bytes: fixtureBytes(c.model) },
        data: { fileName: c.data.split('/').pop()!, bytes: fixtureBytes(c.data) },
        reference: { fileName: 'train.csv', bytes: fixtureBytes(`${dataset(c.data)}/train.csv`) },
        target: c.target,
        protectedAttributes: c.protected.length ? c.protected : german ? ['gender', 'age_group'] : ['race', 'sex'],
        ...(c.matrix ? { features: want.features } : {}),
        seed: 7,
        bootstrapResamples: 200,
        explainer: { rows: 12, backgroundRows: 30 },
        recourse: { maxRows: 20 },
      },
    };
  }),
  {
    name: 'compas decile_score (score column, not a probability)',
    request: {
      scoreColumn: 'decile_score',
      data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') },
      target: 'two_year_recid',
      protectedAttributes: ['race', 'sex'],
      seed: 7,
      bootstrapResamples: 200,
      thresholdPolicy: { policy: 'fixed', threshold: 5 },
      ll144: { sex: 'sex', race_ethnicity: 'race', rate: 'scoring' },
    },
  },
];

const work = mkdtempSync(join(tmpdir(), 'plumbline-clean-'));

/** Every `[path, estimate, interval]` of a result: `intervals.<id>` beside `<id>`, `<x>_interval` beside `<x>`, `interval` beside `share`. */
function intervalsOf(value: unknown, path = ''): [string, number, { low: number; high: number }][] {
  if (value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap((v, i) => intervalsOf(v, `${path}[${i}]`));
  const o = value as Record<string, unknown>;
  const found: [string, number, { low: number; high: number }][] = [];
  const isInterval = (x: unknown): x is { low: number; high: number } => !!x && typeof x === 'object' && typeof (x as { low?: unknown }).low === 'number' && typeof (x as { high?: unknown }).high === 'number';
  if (o.intervals && typeof o.intervals === 'object') {
    for (const [id, i] of Object.entries(o.intervals as Record<string, unknown>)) if (isInterval(i) && typeof o[id] === 'number') found.push([`${path}.${id}`, o[id] as number, i]);
  }
  for (const [key, i] of Object.entries(o)) {
    if (!key.endsWith('_interval') || !isInterval(i)) continue;
    const base = key.slice(0, -'_interval'.length);
    const estimate = typeof o[base] === 'number' ? o[base] : typeof o[`${base}_share`] === 'number' ? o[`${base}_share`] : undefined;
    if (typeof estimate === 'number') found.push([`${path}.${base}`, estimate, i]);
  }
  if (isInterval(o.interval) && typeof o.share === 'number') found.push([`${path}.share`, o.share, o.interval]);
  for (const [key, v] of Object.entries(o)) if (key !== 'intervals') found.push(...intervalsOf(v, `${path}.${key}`));
  return found;
}

describe.each(cases)('the outputs of the $name audit', ({ name, request }) => {
  it('never print "undefined", "NaN" or "[object", and every interval contains its estimate', async () => {
    const result = await runAudit(ort, request);
    const policyText = POLICY;
    const policy = parsePolicy(policyText, 'clean.yaml');
    const outputs = auditOutputs(result, {
      base: 'audit',
      files: { data: { file: request.data.fileName, sha256: result.inputs.data.sha256 }, policy: { file: 'clean.yaml', sha256: sha256Hex(new TextEncoder().encode(policyText)) } },
      policy,
      seedExplicit: true,
      strict: false,
      gitCommit: null,
      epochSeconds: 1_700_000_000,
      fromSourceDateEpoch: true,
      backend: request.model ? 'wasm' : 'none (score column)',
      metadata: { intended_use: 'Illustrative audit of a public data set', training_data: 'the fixture’s train.csv' },
      reports: { pdf: true, html: true, modelCard: true, pack: true },
    });
    const texts: Record<string, string> = {};
    for (const [file, bytes] of Object.entries(outputs.files)) {
      if (file.endsWith('.pdf')) {
        const path = join(work, `${name.replace(/\W+/g, '-')}.pdf`);
        writeFileSync(path, bytes);
        texts[file] = execFileSync('pdftotext', ['-layout', path, '-'], { encoding: 'utf8' });
      } else if (file.endsWith('.zip')) {
        for (const [inner, content] of Object.entries(unzipSync(bytes))) if (!inner.endsWith('.pdf')) texts[`${file}/${inner}`] = new TextDecoder().decode(content);
      } else texts[file] = new TextDecoder().decode(bytes);
    }
    expect(Object.keys(texts)).toEqual(expect.arrayContaining(['audit.json', 'audit.manifest.json', 'policy_decision.json', 'audit.pdf', 'audit.html', 'audit.model_card.md']));
    for (const [file, text] of Object.entries(texts)) {
      const hit = BAD_WORDS.exec(text);
      expect(hit ? `${file}: …${text.slice(Math.max(0, hit.index - 80), hit.index + 40)}…` : null, file).toBeNull();
    }
    // A long gate clause is printed whole (wrapped), not cut off.
    expect(texts['audit.pdf'].replace(/\s+/g, ' ')).toContain('at least as well as the incumbent rule it replaces');

    const intervals = intervalsOf(outputs.result);
    expect(intervals.length).toBeGreaterThan(10);
    // An interval may lie beside its estimate only when it says why, and the PDF prints that reason.
    const explained = intervals.filter(([, , i]) => typeof (i as { note?: unknown }).note === 'string');
    for (const [path, , i] of explained) expect(texts['audit.pdf'].replace(/\s+/g, ' '), path).toContain((i as unknown as { note: string }).note);
    const outside = intervals
      .filter(([, estimate, i]) => !(i.low <= estimate + 1e-12 && estimate <= i.high + 1e-12) && !explained.some(([, , j]) => j === i))
      .map(([path, estimate, i]) => `${path}: ${estimate} outside ${i.low}–${i.high}`);
    expect(outside).toEqual([]);
  }, 240_000);
});
