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
    const result = await runAudit(ort, { scoreColumn: 'decile_score', threshold: 5, data: { fileName: 'test.csv', bytes: fixtureBytes('compas/test.csv') }, target: 'two_year_recid', protectedAttributes: ['race'], bootstrapResamples: 0 });
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

describe('an XGBoost model in UBJSON', () => {
  it('is named as such, with the one-line fix, where any other binary file is "binary"', async () => {
    const { describeContent } = await import('../../src/core/base/limits-inputs');
    const { describeBytes } = await import('../../src/core/model/sniff');
    // The first bytes xgboost 1.7's save_model("model.ubj") writes: { L <int64 7> learner { L <int64 10> attributes …
    const ubj = Uint8Array.from([0x7b, 0x4c, 0, 0, 0, 0, 0, 0, 0, 7, ...new TextEncoder().encode('learner'), 0x7b, 0x4c, 0, 0, 0, 0, 0, 0, 0, 10, ...new TextEncoder().encode('attributes')]);
    const said = 'an XGBoost model in UBJSON (.ubj, XGBoost 2.1\'s default): save it as JSON, booster.save_model("model.json")';
    expect(describeContent(ubj)).toBe(said);
    expect(describeBytes(ubj)).toBe(said);
    expect(describeContent(Uint8Array.from([0x7b, 0x4c, 0, 0, 1, 2, 0, 0]))).toBe('binary');
    expect(describeContent(new TextEncoder().encode('{"learner": {}}'))).toBe('text');
  });
});
