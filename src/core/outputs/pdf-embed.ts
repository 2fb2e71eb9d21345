/**
 * The result JSON a Plumbline PDF carries in its XMP metadata: how it is written and read
 * back (without jsPDF, so reading a report back loads no PDF writer).
 */
/** XMP namespace under which the result JSON travels inside the PDF. */
export const RESULT_NAMESPACE = 'https://plumbline.invalid/ns/result/1.0/';

/** Standard base64 of bytes. */
export function base64(bytes: Uint8Array): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += alphabet[(n >> 18) & 63] + alphabet[(n >> 12) & 63] + (i + 1 < bytes.length ? alphabet[(n >> 6) & 63] : '=') + (i + 2 < bytes.length ? alphabet[n & 63] : '=');
  }
  return out;
}

/** Reads the result JSON back out of a Plumbline PDF report, or null when it holds none. */
export function resultFromPdf(bytes: Uint8Array): unknown {
  const embedded = embeddedInPdf(bytes);
  return embedded ? JSON.parse(embedded.json) : null;
}

/**
 * The result JSON text embedded in a Plumbline PDF (in its XMP metadata, base64) and the
 * result digest its keywords record, or null when the PDF holds none.
 */
export function embeddedInPdf(bytes: Uint8Array): { json: string; digest: string | null } | null {
  const text = new TextDecoder('latin1').decode(bytes);
  const match = /<plumbline:result[^>]*>([A-Za-z0-9+/=\s]+)<\/plumbline:result>/.exec(text);
  if (!match) return null;
  const clean = match[1].replace(/\s+/g, '');
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const out: number[] = [];
  for (let i = 0; i < clean.length; i += 4) {
    const n = (alphabet.indexOf(clean[i]) << 18) | (alphabet.indexOf(clean[i + 1]) << 12) | ((alphabet.indexOf(clean[i + 2]) & 63) << 6) | (alphabet.indexOf(clean[i + 3]) & 63);
    out.push((n >> 16) & 255);
    if (clean[i + 2] !== '=') out.push((n >> 8) & 255);
    if (clean[i + 3] !== '=') out.push(n & 255);
  }
  return { json: new TextDecoder().decode(Uint8Array.from(out)), digest: /result-sha256:([0-9a-f]{64})/.exec(text)?.[1] ?? null };
}
