/**
 * Where the shared reference fixtures live: `../shared/fixtures` beside the project root,
 * or PLUMBLINE_FIXTURES. Tests read expected numbers from these files, never copies.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root. */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function locateFixtures(): string {
  const candidates = [process.env.PLUMBLINE_FIXTURES, join(projectRoot, '..', 'shared', 'fixtures'), '/work/shared/fixtures'].filter(Boolean) as string[];
  const found = candidates.find((dir) => existsSync(join(dir, 'README.md')));
  if (!found) throw new Error(`The shared fixtures were not found (looked in ${candidates.join(', ')}). Set PLUMBLINE_FIXTURES to the fixtures folder.`);
  return found;
}

/** Absolute path of the fixtures folder. */
export const fixturesDir = locateFixtures();

/** Absolute path of a fixture file, e.g. `fixture('compas/rf.onnx')`. */
export function fixture(path: string): string {
  return join(fixturesDir, path);
}

/** A fixture's bytes, as a plain Uint8Array (not a Buffer). */
export function fixtureBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(fixture(path)));
}

/** A fixture's `.expected.json`, parsed. */
export function expected(path: string): Expected {
  return JSON.parse(readFileSync(fixture(path), 'utf8')) as Expected;
}

/** The parts of a fixture's `.expected.json` the tests read. */
export interface Expected {
  threshold: number;
  n: number;
  features?: string[];
  predictions_p1: number[];
  performance: Record<string, number>;
  calibration: {
    expected_calibration_error: number;
    maximum_calibration_error: number;
    bins: number;
    binning: string;
    table: { bin: number; n: number; mean_predicted?: number; fraction_positive?: number }[];
  };
  fairness: Record<string, { groups: Record<string, Record<string, number | null>> } & Record<string, unknown>>;
  drift_train_vs_test?: { values: Record<string, number> };
}
