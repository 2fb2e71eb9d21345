/** Which role a dropped data file takes in the app by its name (src/app/file-routing.ts, used by table-roles.ts). */
import { describe, expect, it } from 'vitest';
import { namedReference } from '../../src/app/file-routing';

describe('a data file’s role by its name', () => {
  it('is the reference when a word of the name says train or reference, else the test set', () => {
    for (const name of ['train.csv', 'credit_train.parquet', 'Train-2024.csv', 'training_data.arrow', 'reference.csv', 'ref.csv', 'refData.csv', 'X_train.csv']) expect(namedReference(name), name).toBe(true);
    // "train" inside a word is not a training file (constrained_test.csv was taken for the reference, leaving no test set).
    for (const name of ['test.csv', 'constrained_test.csv', 'strain_measurements.csv', 'restraint.csv', 'preferences.csv', 'trainee_scores.csv']) expect(namedReference(name), name).toBe(false);
  });
});
