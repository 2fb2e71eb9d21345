import { createHash } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { loadTableBytes } from '../../src/core/data/read';

// A CSV of 8 MB or more dropped into the app is read in slices over the audit worker's pool
// of Web Workers and hashed in the audit worker as it is read. The table must be the one a
// single pass makes (here: the summary the page shows, against the core's one pass in Node)
// and the SHA-256 the file's (node:crypto) — also when slicing does not work out (a stray
// quote) and the file is read, and hashed, again.
const APP = 'http://127.0.0.1:4173/';

/** A seeded CSV of about 10 MB: numbers, decimals to fixed places, codes, quoted categories with commas and newlines, blanks. */
function bigCsv(stray: boolean): string {
  let state = 12345;
  const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const labels = ['alpha', '"Smith, J."', '"two\nlines"', 'NA', '', 'beta', '?'];
  const lines = ['id,amount,code,label,flag'];
  for (let row = 0; row < 360_000; row++) {
    const u = next();
    const label = stray && row === 300_000 ? '5" tall' : labels[Math.floor(next() * labels.length)];
    lines.push(`${row},${u < 0.3 ? (u * 100).toFixed(2) : String(Math.round(u * 1e6) / 1e3)},${['01', '02', '007'][row % 3]},${label},${u < 0.5 ? 'yes' : 'no'}`);
  }
  return lines.join('\n') + '\n';
}

type Summary = { rows: number; sha256: string; columns: { name: string; kind: string; missing: number; distinct: number | null; sample: string[] }[] };

for (const stray of [false, true]) {
  test(`a large CSV read over the pool gives the one-pass table and the file's SHA-256${stray ? ' (a stray quote: a slice cut inside quotes is refused, the file read and hashed again)' : ''}`, async ({ page }) => {
    test.setTimeout(120_000);
    const text = bigCsv(stray);
    const bytes = new TextEncoder().encode(text);
    expect(bytes.length).toBeGreaterThan(8 << 20);
    const { table } = loadTableBytes(bytes, 'big.csv');
    await page.goto(APP);
    await page.waitForFunction(() => 'plumbline' in globalThis);
    const summary: Summary = await page.evaluate(async (csv) => {
      const worker = (globalThis as unknown as { plumbline: { worker(): { loadData(...args: unknown[]): Promise<{ ok: boolean; value?: unknown; error?: { message: string } }> } } }).plumbline.worker();
      const loaded = await worker.loadData('big', new Blob([csv]), 'big.csv', -1);
      if (!loaded.ok) throw new Error(loaded.error!.message);
      return loaded.value as Summary;
    }, text);
    expect(summary.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(summary.rows).toBe(table.rowCount);
    expect(summary.columns).toEqual(
      table.columns.map((column) => ({
        name: column.name,
        kind: column.kind,
        missing: column.missing,
        distinct: column.kind === 'categorical' ? column.dictionary.length : null,
        sample: column.kind === 'categorical' ? column.dictionary.slice(0, 12) : [],
      })),
    );
  });
}
