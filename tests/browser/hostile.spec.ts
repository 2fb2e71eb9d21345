/// <reference lib="dom" />
// A corpus of hostile and broken files dropped on the app: each gets the core's own message
// (computed here by the same functions the worker runs), nothing crashes or hangs, and the
// app still audits afterwards.
import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { zipSync } from 'fflate';
import { tableFromIPC, tableToIPC } from 'apache-arrow';
import { Table as WasmTable, writeParquet } from 'parquet-wasm';
import { parseYaml } from '../../src/core/config/yaml';
import { loadArrow, tableToArrow } from '../../src/core/data/arrow';
import { loadTableBytes, readTable } from '../../src/core/data/read';
import { inspectModel } from '../../src/core/model/classifier';
import { verifyEvidencePack } from '../../src/core/outputs/evidence';
import { readResultFile } from '../../src/core/outputs/read-result';
import { fixture } from '../support/fixtures';
import { hugeWeightOnnx } from '../support/hostile-onnx';
import '../../src/cli/parquet-node';

const PLAIN = 'http://127.0.0.1:4173/';

/** The message a core call fails with. */
function messageOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the call to fail');
}

const small = readTable(readFileSync(fixture('german_credit/test_missing.csv')), 'test_missing.csv');
await loadArrow();
const arrow = tableToArrow(small);
const parquet = writeParquet(WasmTable.fromIPCStream(tableToIPC(tableFromIPC(arrow), 'stream')));
const bytes = (text: string) => Buffer.from(text, 'utf8');

const DATA_CASES: { name: string; buffer: Buffer }[] = [
  { name: 'empty.csv', buffer: bytes('') },
  { name: 'header-only.csv', buffer: bytes('a,b,c\n') },
  { name: 'image.csv', buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 1, 0]) },
  { name: 'ragged.csv', buffer: bytes('a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n') },
  { name: 'twice.csv', buffer: bytes('a,b,a\n1,2,3\n') },
  { name: 'cut.arrow', buffer: Buffer.from(arrow.subarray(0, 300)) },
  { name: 'cut.parquet', buffer: Buffer.from(parquet.subarray(0, 300)) },
];

test('broken and hostile files each get the core’s message; the app still audits afterwards', async ({ page }) => {
  await page.goto(PLAIN);
  for (const file of DATA_CASES) {
    await page.getByTestId('file-input').setInputFiles([{ name: file.name, mimeType: 'application/octet-stream', buffer: file.buffer }]);
    await expect(page.getByTestId('error'), file.name).toContainText(messageOf(() => loadTableBytes(new Uint8Array(file.buffer), file.name)));
    await expect(page.getByTestId('data-card')).toHaveCount(0);
  }

  // A model cut short.
  const cutModel = readFileSync(fixture('compas/rf.onnx')).subarray(0, 300);
  await page.getByTestId('file-input').setInputFiles([{ name: 'rf.onnx', mimeType: 'application/octet-stream', buffer: cutModel }]);
  await expect(page.getByTestId('error')).toContainText(messageOf(() => inspectModel(new Uint8Array(cutModel), 'rf.onnx')));

  // A model whose weight tensor declares 5 × 1,000,000,000 floats over 20 bytes.
  const hugeModel = Buffer.from(hugeWeightOnnx());
  await page.getByTestId('file-input').setInputFiles([{ name: 'huge.onnx', mimeType: 'application/octet-stream', buffer: hugeModel }]);
  await expect(page.getByTestId('error')).toContainText(messageOf(() => inspectModel(new Uint8Array(hugeModel), 'huge.onnx')));

  // A report whose embedded result no longer matches the digest it shows (edited after it was made).
  const edited = bytes(`<!doctype html><html><body><p>Result digest (sha256 of the canonical result JSON): ${'0'.repeat(64)}</p><script type="application/json" id="plumbline-result">{"performance":{"roc_auc":0.99}}</script></body></html>`);
  await page.getByTestId('file-input').setInputFiles([{ name: 'edited.html', mimeType: 'text/html', buffer: edited }]);
  await expect(page.getByTestId('error')).toContainText(messageOf(() => readResultFile(new Uint8Array(edited), 'edited.html')));

  // A YAML alias bomb (a billion laughs) as a policy file.
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 8 }, (_, k) => `${String.fromCharCode(98 + k)}: &${String.fromCharCode(98 + k)} [${Array(10).fill(`*${String.fromCharCode(97 + k)}`).join(',')}]`), 'gates: *i'].join('\n');
  await page.getByTestId('file-input').setInputFiles([{ name: 'policy.yaml', mimeType: 'application/yaml', buffer: bytes(bomb) }]);
  await expect(page.getByTestId('error')).toContainText(messageOf(() => parseYaml(bomb, 'policy.yaml')));

  // A zip bomb as an evidence pack: the card says what is wrong, without inflating it.
  const zipBomb = zipSync({ 'big.txt': new Uint8Array(50 * 1024 * 1024) }, { level: 9 });
  await page.getByTestId('file-input').setInputFiles([{ name: 'evidence.zip', mimeType: 'application/zip', buffer: Buffer.from(zipBomb) }]);
  await expect(page.getByTestId('pack-card')).toHaveAttribute('data-ok', 'false');
  await expect(page.getByTestId('pack-card')).toContainText(verifyEvidencePack(zipBomb).problems[0]);

  // 5,000 columns: read, shown, and the page stays responsive.
  const columns = 5000;
  const wide = [Array.from({ length: columns }, (_, j) => `c${j}`).join(','), ...Array.from({ length: 50 }, (_, i) => Array.from({ length: columns }, (_, j) => String((i + j) % 7)).join(','))].join('\n');
  await page.getByTestId('file-input').setInputFiles([{ name: 'wide.csv', mimeType: 'text/csv', buffer: bytes(wide) }]);
  await expect(page.getByTestId('data-card')).toContainText(`50 rows × ${columns.toLocaleString('en')} columns`, { timeout: 30_000 });
  const start = Date.now();
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(resolve)));
  expect(Date.now() - start).toBeLessThan(2000);

  // The app still runs a whole audit.
  await page.getByTestId('run-demo').click();
  await expect(page.getByTestId('result-summary')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('error')).toHaveCount(0);
});
