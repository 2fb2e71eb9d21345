/**
 * The order test files start in: the longest first, so that no long file starts last on
 * a two-core machine and keeps the run waiting on it alone. The CI examples go first of
 * all: they pack and install the package (about ten seconds), which
 * the package and API tests then find ready. The rest keep vitest's order (the longest
 * of the last run first; on a clean checkout, the largest file first).
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Files that take longest (each well over ten seconds alone), in the order they start. */
const FIRST = ['hosts/ci-examples', 'hosts/registry-pg', 'core/model-contract', 'core/coverage', 'core/fuzz', 'hosts/registry-concurrency'];

export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (file: TestSpecification) => {
      const index = FIRST.findIndex((name) => file.moduleId.endsWith(`/tests/${name}.test.ts`));
      return index < 0 ? FIRST.length : index;
    };
    return sorted.map((file, i) => ({ file, i })).sort((a, b) => rank(a.file) - rank(b.file) || a.i - b.i).map(({ file }) => file);
  }
}
