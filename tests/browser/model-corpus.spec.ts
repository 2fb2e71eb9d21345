import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { CORPUS, corpusExpected, corpusPath, corpusRequest, worstDifference } from '../support/model-corpus';

// The model corpus through the app's worker in Chromium, as the Node test runs it: the same
// request, the data read by the worker's streaming loader (with the entry's CSV options) and
// the model scored by onnxruntime-web's WASM build or the project's tree evaluator. Every
// entry gives the training library's predictions within its tolerance, or the exact error.
const APP = 'http://127.0.0.1:4173/';

type Outcome = { ok: true; predictions: number[] } | { ok: false; message: string };

test('every model of the corpus scores in the browser like its training library, or stops with its error', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto(APP);
  await page.waitForFunction(() => 'plumbline' in globalThis);
  for (const entry of CORPUS) {
    const file = (path: string) => ({ fileName: path.split('/').pop()!, base64: readFileSync(corpusPath(path)).toString('base64') });
    const outcome: Outcome = await page.evaluate(
      async ({ model, data, request, runId }) => {
        const decode = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const worker = (globalThis as unknown as { plumbline: { worker(): Record<string, (...args: unknown[]) => Promise<{ ok: boolean; value?: unknown; error?: { message: string } }>> } }).plumbline.worker();
        const csv = (request as { csv?: object }).csv ?? {};
        const loaded = await worker.loadData(`corpus-${runId}`, new Blob([decode(data.base64)]), data.fileName, -runId, undefined, csv);
        if (!loaded.ok) return { ok: false as const, message: loaded.error!.message };
        const audited = await worker.audit(runId, { ...request, model: { fileName: model.fileName, bytes: decode(model.base64) }, data: { fileName: data.fileName, dataId: `corpus-${runId}` } });
        await worker.releaseData([]);
        if (!audited.ok) return { ok: false as const, message: audited.error!.message };
        return { ok: true as const, predictions: (audited.value as { predictions_p1: number[] }).predictions_p1 };
      },
      { model: file(entry.model), data: file(entry.data), request: corpusRequest(entry), runId: 7000 + CORPUS.indexOf(entry) },
    );
    if ('refuse' in entry.expected) {
      expect(outcome.ok ? 'audited' : outcome.message, entry.id).toBe(entry.expected.error);
      continue;
    }
    expect(outcome.ok ? 'audited' : outcome.message, entry.id).toBe('audited');
    if (!outcome.ok) continue;
    expect(worstDifference(outcome.predictions, corpusExpected(entry)!.p_positive), entry.id).toBeLessThan(entry.expected.tolerance);
  }
});
