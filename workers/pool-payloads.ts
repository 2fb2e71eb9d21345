/**
 * The models a pool worker keeps. Every audit sends its own copy of its model, so a worker
 * lets go of the oldest beyond {@link POOL_KEPT_PAYLOADS} of each kind (tree models, ONNX
 * sessions), and the pool forgets the oldest it sent, of all kinds together, beyond the same
 * number: a model the pool still counts as sent is then always among the newest of its kind
 * in the worker, and one it forgot is sent again when it is needed again.
 */
export const POOL_KEPT_PAYLOADS = 2;

/** Pool side: whether payload `id` must go with the job (and notes it as sent, forgetting the oldest). */
export function markSent(sent: Set<number>, id: number): boolean {
  if (sent.has(id)) return false;
  sent.add(id);
  for (const old of sent) {
    if (sent.size <= POOL_KEPT_PAYLOADS) break;
    sent.delete(old);
  }
  return true;
}

/** Worker side: adds a model sent with a job and lets go (`release`) of the oldest of its kind. */
export function keep<T>(models: Map<number, T>, id: number, model: T, release?: (old: T) => void): void {
  if (models.has(id)) {
    release?.(models.get(id)!);
    models.delete(id);
  }
  models.set(id, model);
  for (const [old, value] of models) {
    if (models.size <= POOL_KEPT_PAYLOADS) break;
    models.delete(old);
    release?.(value);
  }
}
