/** Inputs for benchmarks that need files: a seeded synthetic CSV, and the fixtures folder. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Random } from '../src/core/random';

/** A fixture's path, or null when the shared fixtures are not beside the project. */
export function fixturesPath(path: string): string | null {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  for (const dir of [process.env.PLUMBLINE_FIXTURES, join(root, '..', 'shared', 'fixtures'), '/work/shared/fixtures']) {
    if (dir && existsSync(join(dir, path))) return join(dir, path);
  }
  return null;
}

/**
 * A seeded CSV: `columns` columns cycling numeric (6 decimals), integer, categorical
 * (12 values, some quoted with commas) and boolean-like, with `missingPercent`% blanks.
 */
export function syntheticCsv(rows: number, columns: number, missingPercent: number): string {
  const random = new Random(11, 'synthetic-csv');
  const categories = ['alpha', 'beta', 'gamma', 'delta', '"east, north"', 'zeta', 'eta', 'theta', 'iota', 'kappa', 'lambda', 'mu'];
  const header = Array.from({ length: columns }, (_, j) => `c${j}`).join(',');
  const lines: string[] = [header];
  const cells: string[] = new Array(columns);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < columns; j++) {
      if (random.next() * 100 < missingPercent) {
        cells[j] = '';
        continue;
      }
      switch (j % 4) {
        case 0:
          cells[j] = (random.normal() * 100).toFixed(6);
          break;
        case 1:
          cells[j] = String(random.int(1000));
          break;
        case 2:
          cells[j] = categories[random.int(categories.length)];
          break;
        default:
          cells[j] = random.next() < 0.5 ? 'true' : 'false';
      }
    }
    lines.push(cells.join(','));
  }
  return `${lines.join('\n')}\n`;
}
