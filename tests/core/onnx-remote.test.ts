/**
 * onnxruntime on a thread of its own (src/core/model/onnx-remote.ts), as the app's audit
 * worker uses it: the oracle is onnxruntime in the calling thread, on the same files and
 * rows. The sessions behind a message port give its scores to the bit (a tree model, an MLP,
 * a pipeline with text inputs and a ZipMap), the same audit result, and its refusals in the
 * same words; a released session and a stopped thread fail in words, never hang.
 */
import * as ort from 'onnxruntime-web';
import { MessageChannel } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { runAudit } from '../../src/core/audit';
import { ModelLoadError } from '../../src/core/base/errors';
import { readTable } from '../../src/core/data/read';
import { allRows } from '../../src/core/data/table';
import { openModel } from '../../src/core/model/classifier';
import { OrtRuntimeError, remoteOrt, serveOrt, type OrtAnswer, type OrtEndpoint, type OrtRequest } from '../../src/core/model/onnx-remote';
import { canonicalJson } from '../../src/core/outputs/manifest';
import { expected, fixtureBytes } from '../support/fixtures';
import { floats, onnx, op } from '../support/hostile-onnx';
import { toOnnx } from '../../src/core/model/export';
import { syntheticEnsemble } from '../../bench/synthetic';
import { auditCsv } from '../../bench/e2e';

ort.env.wasm.numThreads = 1;

const channels: MessageChannel[] = [];
afterAll(() => channels.forEach((c) => (c.port1.close(), c.port2.close())));

/** onnxruntime served on one end of a message channel (structured clones, as between threads), the runtime on the other. */
function served(): { runtime: ReturnType<typeof remoteOrt>; requests: OrtRequest[]; fail: (message: string) => void; threads: { started: number; closed: number } } {
  const requests: OrtRequest[] = [];
  const threads = { started: 0, closed: 0 };
  let failed: (error: Error) => void = () => {};
  // Each connection a thread of its own: a channel and a session server.
  const runtime = remoteOrt(ort.Tensor, (): OrtEndpoint => {
    const channel = new MessageChannel();
    channels.push(channel);
    threads.started++;
    const answer = serveOrt(ort, (message: OrtAnswer) => channel.port2.postMessage(message));
    channel.port2.on('message', (request: OrtRequest) => {
      requests.push(request);
      void answer(request);
    });
    return {
      post: (message) => channel.port1.postMessage(message),
      listen(onMessage, onError) {
        channel.port1.on('message', onMessage);
        failed = onError;
      },
      close: () => {
        threads.closed++;
        channel.port1.close();
        channel.port2.close();
      },
    };
  });
  return { runtime, requests, fail: (message) => failed(new Error(message)), threads };
}

const cases = [
  { name: 'compas/rf.onnx (a forest: below the kernel check rows, so onnxruntime scores)', model: 'compas/rf.onnx', data: 'compas/test.csv', features: expected('compas/rf.expected.json').features, rows: 999 },
  { name: 'compas/mlp.onnx (an MLP)', model: 'compas/mlp.onnx', data: 'compas/test.csv', features: expected('compas/mlp.expected.json').features, rows: null },
  { name: 'german_credit/logreg_zipmap.onnx (text inputs, a ZipMap output)', model: 'german_credit/logreg_zipmap.onnx', data: 'german_credit/test.csv', features: undefined, rows: null },
];

describe('onnxruntime on its own thread', () => {
  for (const c of cases) {
    it(`scores ${c.name} to the bit as onnxruntime here does`, async () => {
      const bytes = fixtureBytes(c.model);
      const table = readTable(fixtureBytes(c.data), c.data);
      const rows = c.rows === null ? allRows(table.rowCount) : allRows(c.rows);
      const { runtime, requests } = served();
      const here = await openModel(ort, bytes, c.model);
      const there = await openModel(runtime, bytes, c.model);
      const want = await here.score(table, { features: c.features ?? undefined, rows });
      const got = await there.score(table, { features: c.features ?? undefined, rows });
      expect(got.length).toBe(rows.length);
      for (let i = 0; i < want.length; i++) if (!Object.is(got[i], want[i])) throw new Error(`row ${i}: ${got[i]} against ${want[i]} here`);
      // The scores came from the thread's session, batch by batch.
      expect(requests.filter((r) => r.op === 'run').length).toBe(Math.ceil(rows.length / 8192));
      await Promise.all([here.release(), there.release()]);
      expect(requests.at(-1)!.op).toBe('release');
    });
  }

  it('gives the same audit result, byte for byte, for a pipeline with text inputs', async () => {
    const request = () => ({ model: { fileName: 'logreg_zipmap.onnx', bytes: fixtureBytes('german_credit/logreg_zipmap.onnx') }, data: { fileName: 'test.csv', bytes: fixtureBytes('german_credit/test.csv') }, target: 'good_credit', protectedAttributes: ['gender', 'age_group'], bootstrapResamples: 50 });
    const here = await runAudit(ort, request());
    const there = await runAudit(served().runtime, request());
    expect(canonicalJson(there)).toBe(canonicalJson(here));
  });

  it("refuses a model onnxruntime cannot open in onnxruntime's words, named as here", async () => {
    const bytes = onnx(floats('x', ['N', 5]), [op('FancyNewOp', ['x'], 'r', undefined, { name: 'fancy_1' })]);
    const refusal = new ModelLoadError('hostile.onnx: node "fancy_1" uses the operator FancyNewOp of domain ai.onnx, which this onnxruntime-web does not have. Export the model with standard ONNX operators (ai.onnx, ai.onnx.ml).');
    await expect(openModel(ort, bytes, 'hostile.onnx')).rejects.toThrow(refusal);
    await expect(openModel(served().runtime, bytes, 'hostile.onnx')).rejects.toThrow(refusal);
  });

  it("ends a cancelled audit at once while onnxruntime is still starting: the kernel's check is not waited for", async () => {
    // A thread that holds every session it is asked for: onnxruntime still starting.
    const channel = new MessageChannel();
    channels.push(channel);
    const held: OrtRequest[] = [];
    channel.port2.on('message', (request: OrtRequest) => held.push(request));
    const runtime = remoteOrt(ort.Tensor, () => ({ post: (message) => channel.port1.postMessage(message), listen: (onMessage) => void channel.port1.on('message', onMessage) }));
    const ensemble = syntheticEnsemble(20, 4, 8, 2);
    const controller = new AbortController();
    const stages: string[] = [];
    const audit = runAudit(runtime, { model: { fileName: 'forest.onnx', bytes: toOnnx(ensemble) }, data: { fileName: 'rows.csv', bytes: new TextEncoder().encode(auditCsv(3000, 4, 8)) }, target: 'y', protectedAttributes: ['race'], features: ensemble.featureNames, bootstrapResamples: 0 }, {
      signal: controller.signal,
      onProgress: (p) => {
        if (stages.at(-1) !== p.stage) stages.push(p.stage);
        if (p.stage === 'metrics') controller.abort(new Error('cancelled by the user'));
      },
    });
    await expect(audit).rejects.toThrow('cancelled by the user');
    // The kernel scored the table; the session it is checked against was never created.
    expect(stages).toContain('score');
    await expect.poll(() => held.map((r) => r.op)).toEqual(['create']);
  }, 20_000);

  it('fails in words for a run on a released session and for calls to a thread that stopped, which the next session replaces', async () => {
    const { runtime, fail, threads } = served();
    const session = await runtime.InferenceSession.create(fixtureBytes('compas/mlp.onnx'));
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', new Float32Array(5), [1, 5]) };
    expect((await session.run(feeds, [session.outputNames[0]]))[session.outputNames[0]].dims[0]).toBe(1);
    await session.release();
    await expect(session.run(feeds, [session.outputNames[0]])).rejects.toThrow(/^session 1 is not open on onnxruntime's thread$/);
    // The thread stops while a model is being opened: the runtime's failure, not the model's.
    const opening = openModel(runtime, fixtureBytes('compas/mlp.onnx'), 'mlp.onnx');
    await expect.poll(() => threads.started).toBe(1);
    fail('out of memory');
    const stopped = new OrtRuntimeError("onnxruntime's worker stopped (out of memory): its sessions are gone. Run the audit again; if this repeats, reload the page.");
    await expect(opening).rejects.toThrow(stopped);
    await expect(opening).rejects.toBeInstanceOf(OrtRuntimeError);
    expect(threads).toEqual({ started: 1, closed: 1 });
    // The next session starts another thread, which scores.
    const again = await runtime.InferenceSession.create(fixtureBytes('compas/mlp.onnx'));
    expect((await again.run(feeds, [again.outputNames[0]]))[again.outputNames[0]].dims[0]).toBe(1);
    expect(threads.started).toBe(2);
    // A request that cannot be sent fails alone, and the thread goes on.
    await expect(runtime.InferenceSession.create(fixtureBytes('compas/mlp.onnx'), { extra: () => 1 } as never)).rejects.toThrow(/could not be cloned/);
    expect((await again.run(feeds, [again.outputNames[0]]))[again.outputNames[0]].dims[0]).toBe(1);
    await again.release();
  });

  it('gives the same audit result, byte for byte, for a forest its kernel scores while onnxruntime checks it on the thread', async () => {
    const ensemble = syntheticEnsemble(30, 4, 8, 3);
    const request = () => ({ model: { fileName: 'forest.onnx', bytes: toOnnx(ensemble) }, data: { fileName: 'rows.csv', bytes: new TextEncoder().encode(auditCsv(4000, 6, 8)) }, target: 'y', protectedAttributes: ['race', 'sex'], features: ensemble.featureNames, bootstrapResamples: 50, includePredictions: true });
    const here = await runAudit(ort, request());
    const { runtime, requests } = served();
    const there = await runAudit(runtime, request());
    expect(canonicalJson(there)).toBe(canonicalJson(here));
    // The thread opened the model and scored the check's rows alone: the kernel scored the table.
    await expect.poll(() => requests.map((r) => r.op)).toEqual(['create', 'run', 'release']);
  });
});
