/** Reading a Blob in the workers: its chunks as its stream gives them, and its SHA-256. */
import { createSHA256 } from 'hash-wasm';

/** The chunks of a Blob, as its stream gives them. */
export async function* chunksOf(blob: Blob): AsyncGenerator<Uint8Array> {
  const reader = blob.stream().getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** A Blob's SHA-256 (hash-wasm's WASM SHA-256), read chunk by chunk. */
export async function blobSha256(blob: Blob): Promise<string> {
  const sha = await createSHA256();
  sha.init();
  for await (const chunk of chunksOf(blob)) sha.update(chunk);
  return sha.digest('hex');
}
