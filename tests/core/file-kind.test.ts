/**
 * What a dropped file is (core/outputs/file-kind.ts, used by the app): told from its bytes
 * on the committed fixtures and on the reports and pack an audit writes, not from its name.
 */
import * as ort from 'onnxruntime-web';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileKind, loadPdfWriter } from '../../src/core';
import { runAudit } from '../../src/core/audit';
import { renderHtml } from '../../src/core/outputs/html';
import { buildEvidencePack } from '../../src/core/outputs/evidence';
import { dataFormatOf } from '../../src/core/data/read';
import { fixtureBytes, projectRoot } from '../support/fixtures';

describe('fileKind', () => {
  it('knows models of every format by their bytes, whatever their name', () => {
    expect(fileKind('rf.onnx', fixtureBytes('compas/rf.onnx'))).toBe('model');
    expect(fileKind('model.bin', fixtureBytes('compas/rf.onnx'))).toBe('model');
    expect(fileKind('m.json', fixtureBytes('german_credit/xgb_numeric.json'))).toBe('model');
    expect(fileKind('m.txt', readFileSync(join(projectRoot, 'tests/models/lgbm_decision_types.txt')))).toBe('model');
  });

  it('knows data, configs, packs and the result inside a report', async () => {
    expect(fileKind('test.csv', fixtureBytes('compas/test.csv'))).toBe('data');
    expect(fileKind('audit.yaml', new TextEncoder().encode('model:\n  path: m.onnx\n'))).toBe('yaml');
    expect(fileKind('pack.zip', buildEvidencePack({ 'a.json': new TextEncoder().encode('{}') }, 1700000000))).toBe('pack');
    ort.env.wasm.numThreads = 1;
    const result = await runAudit(ort, { scoreColumn: 'decile_score', data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') }, target: 'two_year_recid', protectedAttributes: ['race'], bootstrapResamples: 0 });
    const { renderPdf } = await loadPdfWriter();
    expect(fileKind('report.pdf', renderPdf({ result, createdAt: '2026-01-01T00:00:00.000Z' }))).toBe('result');
    expect(fileKind('report.html', new TextEncoder().encode(renderHtml({ result, createdAt: '2026-01-01T00:00:00.000Z' })))).toBe('result');
    expect(fileKind('result.json', new TextEncoder().encode(JSON.stringify(result, null, 2)))).toBe('result');
  });

  it('tells the data formats apart by their first bytes', () => {
    expect(dataFormatOf(fixtureBytes('compas/test.csv'))).toBe('csv');
    expect(dataFormatOf(new TextEncoder().encode('ARROW1\0\0'))).toBe('arrow');
    expect(dataFormatOf(new TextEncoder().encode('PAR1\0\0\0\0'))).toBe('parquet');
  });
});
