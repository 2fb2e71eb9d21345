/** Inputs for benchmarks that need files: a seeded synthetic CSV, and the fixtures folder. */
import { closeSync, existsSync, mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Random } from '../src/core/base/random';

/** A fixture's path, or null when the shared fixtures are not beside the project. */
export function fixturesPath(path: string): string | null {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  for (const dir of [process.env.PLUMBLINE_FIXTURES, join(root, '..', 'shared', 'fixtures'), '/work/shared/fixtures']) {
    if (dir && existsSync(join(dir, path))) return join(dir, path);
  }
  return null;
}

/**
 * A seeded CSV in pieces of 10,000 lines (to write a large file without holding it):
 * `columns` columns cycling numeric (6 decimals), integer, categorical (12 values, some
 * quoted with commas) and boolean-like, with `missingPercent`% blanks.
 */
export function* syntheticCsvPieces(rows: number, columns: number, missingPercent: number): Generator<string> {
  const random = new Random(11, 'synthetic-csv');
  const categories = ['alpha', 'beta', 'gamma', 'delta', '"east, north"', 'zeta', 'eta', 'theta', 'iota', 'kappa', 'lambda', 'mu'];
  yield `${Array.from({ length: columns }, (_, j) => `c${j}`).join(',')}\n`;
  const cells: string[] = new Array(columns);
  let lines: string[] = [];
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
    if (lines.length === 10_000) {
      yield `${lines.join('\n')}\n`;
      lines = [];
    }
  }
  if (lines.length) yield `${lines.join('\n')}\n`;
}

/** The synthetic CSV as a file under bench/out (written once, piece by piece; reused after). */
export function syntheticCsvFile(rows: number, columns: number, missingPercent: number): { path: string; bytes: number } {
  const dir = resolve(dirname(fileURLToPath(import.meta.url)), 'out');
  const path = join(dir, `synthetic-${rows}x${columns}-${missingPercent}.csv`);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    const fd = openSync(`${path}.part`, 'w');
    for (const piece of syntheticCsvPieces(rows, columns, missingPercent)) writeSync(fd, piece);
    closeSync(fd);
    renameSync(`${path}.part`, path);
  }
  return { path, bytes: statSync(path).size };
}
