import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { runAudit, type AuditResult } from '../../src/core/audit';
import { projectRoot } from '../support/fixtures';

// A protected attribute and a slice column written as codes ("01" beside "1", "007"): each
// code is its own group, named as the file writes it, against pandas reading the columns as
// text and scikit-learn's metrics per group (tests/statistics/build_coded_groups.py).
interface GroupReference {
  n: number;
  selection_rate: number;
  tpr: number | null;
  fpr: number | null;
  roc_auc: number | null;
}
const reference = JSON.parse(readFileSync(join(projectRoot, 'tests/statistics/coded_groups.json'), 'utf8')) as { threshold: number; branch: Record<string, GroupReference>; zone: Record<string, GroupReference> };
const bytes = readFileSync(join(projectRoot, 'tests/statistics/coded_groups.csv'));

describe('groups of a column written as codes', () => {
  let result: AuditResult;
  beforeAll(async () => {
    result = await runAudit(ort, { scoreColumn: 'p', threshold: reference.threshold, data: { fileName: 'coded_groups.csv', bytes }, target: 'approved', protectedAttributes: ['branch'], slices: ['branch', 'zone'], bootstrapResamples: 0, seed: 1 });
  });

  it('keeps "01" and "1" apart as groups, named as written, with the rates pandas and scikit-learn give', () => {
    const groups = result.fairness.branch.groups;
    expect(Object.keys(groups).sort()).toEqual(Object.keys(reference.branch).sort());
    for (const [name, want] of Object.entries(reference.branch)) {
      const got = groups[name];
      expect(got.n, name).toBe(want.n);
      for (const key of ['selection_rate', 'tpr', 'fpr', 'roc_auc'] as const) {
        if (want[key] === null) expect(got[key], `${name}.${key}`).toBeNull();
        else expect(Math.abs((got[key] as number) - want[key]!), `${name}.${key}`).toBeLessThan(1e-12);
      }
    }
  });

  it('slices a code column by its codes, not by quartiles of their numbers', () => {
    for (const column of ['branch', 'zone'] as const) {
      const got = result.slices[column].slices;
      expect(Object.keys(got).sort(), column).toEqual(Object.keys(reference[column]).sort());
      for (const [name, want] of Object.entries(reference[column])) {
        expect(got[name].n, `${column}=${name}`).toBe(want.n);
        if (want.roc_auc === null) expect(got[name].roc_auc).toBeNull();
        else expect(Math.abs(got[name].roc_auc! - want.roc_auc), `${column}=${name}`).toBeLessThan(1e-12);
      }
    }
  });
});

describe('a protected attribute of two codes, "01" and "1"', () => {
  it('is two groups, not "every row holds the same value"', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => `${i % 2 ? '01' : '1'},${(i % 10) / 10},${i % 3 === 0 ? 1 : 0}`);
    const result = await runAudit(ort, { scoreColumn: 'p', threshold: 0.5, data: { fileName: 'two.csv', bytes: new TextEncoder().encode(`branch,p,y\n${rows.join('\n')}\n`) }, target: 'y', protectedAttributes: ['branch'], bootstrapResamples: 0, seed: 1 });
    expect(Object.keys(result.fairness.branch.groups).sort()).toEqual(['01', '1']);
  });
});

describe('the proxy check of a protected attribute written as codes', () => {
  it('tells "01" from "1" as fairness does: a column that follows them exactly is a proxy (merged, it was none)', async () => {
    const { parseCsv } = await import('../../src/core/data/csv');
    const { profileTable } = await import('../../src/core/analyses/profile/profile');
    const rows = Array.from({ length: 80 }, (_, i) => `${i % 2 ? '01' : '1'},${i % 2 ? 'north' : 'south'},${i % 3 === 0 ? 1 : 0}`);
    const table = parseCsv(`branch,region,y\n${rows.join('\n')}\n`, { fileName: 'p.csv' });
    const proxy = profileTable(table, 'y', new Uint8Array(80), ['branch']).proxies.find((p) => p.feature === 'region')!;
    expect(proxy.measure).toBe('cramers_v');
    expect(proxy.value).toBeGreaterThan(0.9);
  });
});

describe('a protected attribute whose texts are written with and without surrounding spaces', () => {
  // "Female", " Female", "Female ": three groups, as pandas reads them (tests/statistics/build_spaced_groups.py); they were merged into one.
  const spaced = JSON.parse(readFileSync(join(projectRoot, 'tests/statistics/spaced_groups.json'), 'utf8')) as { threshold: number; groups: Record<string, { n: number; selection_rate: number }>; demographic_parity_difference: number };
  it('keeps each written form a group, with the sizes and selection rates pandas gives, and warns', async () => {
    const result = await runAudit(ort, { scoreColumn: 'p', threshold: spaced.threshold, data: { fileName: 'spaced_groups.csv', bytes: readFileSync(join(projectRoot, 'tests/statistics/spaced_groups.csv')) }, target: 'approved', protectedAttributes: ['sex'], bootstrapResamples: 0, seed: 1, missingSections: { explainer: 'off', robustness: 'off' } });
    // A form with spaces is named quoted, so a report shows its spaces.
    const named = (text: string) => (text === text.trim() ? text : JSON.stringify(text));
    const groups = result.fairness.sex.groups;
    expect(Object.keys(groups).sort()).toEqual(Object.keys(spaced.groups).map(named).sort());
    for (const [text, want] of Object.entries(spaced.groups)) {
      expect(groups[named(text)].n, text).toBe(want.n);
      expect(Math.abs((groups[named(text)].selection_rate as number) - want.selection_rate), text).toBeLessThan(1e-12);
    }
    expect(Math.abs((result.fairness.sex.demographic_parity_difference as number) - spaced.demographic_parity_difference)).toBeLessThan(1e-12);
    expect(result.data.findings.find((f) => f.check === 'group_spellings')?.message).toBe('sex holds groups that differ only in surrounding spaces (" Female", "Female", "Female "): each is audited as a group of its own, as pandas reads them and a model that reads the text is fed them. If they are one group, write them alike in the data.');
  });
});

describe('an identifier column with one name written with a space', () => {
  it('is still refused as a protected attribute (the spaced form sent it past the limits: 3,001 groups)', async () => {
    const names = Array.from({ length: 3000 }, (_, i) => `P${String(i).padStart(5, '0')}`);
    const lines = [...names, ' P00001'].map((name, i) => `"${name}",${(i % 10) / 10},${i % 2}`);
    const audit = runAudit(ort, { scoreColumn: 'score', threshold: 0.5, data: { fileName: 'ids.csv', bytes: new TextEncoder().encode(`name,score,y\n${lines.join('\n')}\n`) }, target: 'y', protectedAttributes: ['name'], bootstrapResamples: 0 });
    await expect(audit).rejects.toThrow(/^ids\.csv, column "name": a protected attribute needs a few groups to compare, but this column has 3,001 distinct values in 3,001 rows/);
  });
});
