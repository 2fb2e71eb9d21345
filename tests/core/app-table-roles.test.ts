/** Which role a dropped data file takes in the app by its name (src/app/table-roles.ts). */
import { describe, expect, it } from 'vitest';
import { roleOf } from '../../src/app/table-roles';

describe('a data file’s role by its name', () => {
  const none = { config: null };
  it('is the reference when a word of the name says train or reference, else the test set', () => {
    for (const name of ['train.csv', 'credit_train.parquet', 'Train-2024.csv', 'training_data.arrow', 'reference.csv', 'ref.csv', 'refData.csv', 'X_train.csv']) expect(roleOf(none, name), name).toBe('reference');
    // "train" inside a word is not a training file (constrained_test.csv was taken for the reference, leaving no test set).
    for (const name of ['test.csv', 'constrained_test.csv', 'strain_measurements.csv', 'restraint.csv', 'preferences.csv', 'trainee_scores.csv']) expect(roleOf(none, name), name).toBe('test');
  });
  it('follows the config where it names the file', () => {
    const config = { config: { files: { test: 'train.csv', reference: 'old.csv' } } } as unknown as Parameters<typeof roleOf>[0];
    expect(roleOf(config, 'train.csv')).toBe('test');
    expect(roleOf(config, 'old.csv')).toBe('reference');
  });
});
