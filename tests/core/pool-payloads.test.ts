import { describe, expect, it } from 'vitest';
import { Random } from '../../src/core/base/random';
import { keep, markSent, POOL_KEPT_PAYLOADS } from '../../src/core/pool';

describe('models kept by a pool worker', () => {
  it('a model the pool counts as sent is always still in the worker; older ones are let go', () => {
    const random = new Random(20261122, 'pool-payloads');
    const sent = new Set<number>();
    const worker = { trees: new Map<number, number>(), onnx: new Map<number, number>() };
    const released: number[] = [];
    let copies = 0;
    const ids: { id: number; kind: 'trees' | 'onnx' }[] = [];
    for (let step = 0; step < 5000; step++) {
      // A new model (an audit's own copy), or one used before (the same audit's next block).
      const payload = ids.length === 0 || random.next() < 0.3 ? { id: ids.length + 1, kind: random.next() < 0.5 ? ('trees' as const) : ('onnx' as const) } : ids[ids.length - 1 - random.int(Math.min(ids.length, 4))];
      if (payload.id > ids.length) ids.push(payload);
      const models = worker[payload.kind];
      // Each copy sent is a distinct value, so releases can be counted per copy.
      if (markSent(sent, payload.id)) keep(models, payload.id, ++copies, (old) => released.push(old));
      expect(models.has(payload.id), `step ${step}: model ${payload.id} is in the worker`).toBe(true);
      expect(sent.size).toBeLessThanOrEqual(POOL_KEPT_PAYLOADS);
      expect(models.size).toBeLessThanOrEqual(POOL_KEPT_PAYLOADS);
    }
    // Every copy let go was released once, none that is still kept, and nothing else is held.
    const kept = [...worker.trees.values(), ...worker.onnx.values()];
    expect(new Set(released).size).toBe(released.length);
    expect(released.filter((copy) => kept.includes(copy))).toEqual([]);
    expect(released.length + kept.length).toBe(copies);
  });

  it('a model sent again replaces (and releases) the copy kept', () => {
    const models = new Map<number, string>();
    const released: string[] = [];
    keep(models, 1, 'a', (old) => released.push(old));
    keep(models, 1, 'b', (old) => released.push(old));
    expect([...models]).toEqual([[1, 'b']]);
    expect(released).toEqual(['a']);
  });
});
