/**
 * SHA-256 for the registry commands: node:crypto on this thread, and a worker thread that
 * hashes stored results while SQLite reads the next ones.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { Sha256, Sha256Async } from '../../core/index.ts';

/** SHA-256 with node:crypto (verify hashes every stored result; this is ~15× noble's speed). */
export const nodeSha256: Sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

// The hashing thread: plain JavaScript (no TypeScript loader to start), node:crypto.
const HASHER = `const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
parentPort.on('message', (jobs) => parentPort.postMessage(jobs.map(([id, bytes]) => [id, createHash('sha256').update(bytes).digest('hex')])));`;

/**
 * SHA-256 on a worker thread: bytes are copied out (the caller's may be a view into
 * SQLite's memory), sent in batches, and hashed while this thread reads the next ones.
 * (WebCrypto's `digest` would be the obvious tool, but Node 20 spends as long on its
 * calling thread as hashing takes.) `close()` ends the thread.
 */
export function threadSha256(): { digest: Sha256Async; close(): Promise<void> } {
  const worker = new Worker(HASHER, { eval: true });
  const waiting = new Map<number, { resolve(hex: string): void; reject(error: unknown): void }>();
  let batch: [number, Uint8Array][] = [];
  let next = 0;
  worker.on('message', (answers: [number, string][]) => {
    for (const [id, hex] of answers) {
      waiting.get(id)?.resolve(hex);
      waiting.delete(id);
    }
  });
  worker.on('error', (error) => {
    for (const job of waiting.values()) job.reject(error);
    waiting.clear();
  });
  const flush = () => {
    if (!batch.length) return;
    worker.postMessage(batch, batch.map(([, bytes]) => bytes.buffer as ArrayBuffer));
    batch = [];
  };
  return {
    digest: (bytes) =>
      new Promise<string>((resolve, reject) => {
        const id = next++;
        waiting.set(id, { resolve, reject });
        // Sent when this thread next waits (the verify loop awaits every few dozen results).
        if (batch.push([id, bytes.slice()]) === 1) queueMicrotask(flush);
      }),
    close: async () => void (await worker.terminate()),
  };
}
