/**
 * The manifest of fixture models: which file, which data, which columns, and which
 * `.expected.json` holds its reference numbers. Tests iterate over it.
 */
export interface FixtureCase {
  name: string;
  model: string;
  data: string;
  expected: string;
  target: string;
  protected: string[];
  /** Column order for models with one [N, F] input (from the expected file's `features`). */
  matrix: boolean;
  format: 'onnx' | 'xgboost-json';
}

export const FIXTURE_CASES: FixtureCase[] = [
  { name: 'compas rf', model: 'compas/rf.onnx', data: 'compas/test.csv', expected: 'compas/rf.expected.json', target: 'two_year_recid', protected: ['race', 'sex'], matrix: true, format: 'onnx' },
  { name: 'compas rf (TreeEnsemble v5)', model: 'compas/rf_v5.onnx', data: 'compas/test.csv', expected: 'compas/rf.expected.json', target: 'two_year_recid', protected: ['race', 'sex'], matrix: true, format: 'onnx' },
  { name: 'compas mlp', model: 'compas/mlp.onnx', data: 'compas/test.csv', expected: 'compas/mlp.expected.json', target: 'two_year_recid', protected: ['race', 'sex'], matrix: true, format: 'onnx' },
  { name: 'german logreg (ZipMap)', model: 'german_credit/logreg_zipmap.onnx', data: 'german_credit/test.csv', expected: 'german_credit/logreg_zipmap.expected.json', target: 'good_credit', protected: ['gender', 'age_group'], matrix: false, format: 'onnx' },
  { name: 'german xgb', model: 'german_credit/xgb.onnx', data: 'german_credit/test.csv', expected: 'german_credit/xgb.expected.json', target: 'good_credit', protected: ['gender', 'age_group'], matrix: false, format: 'onnx' },
  { name: 'german xgb numeric (JSON)', model: 'german_credit/xgb_numeric.json', data: 'german_credit/test.csv', expected: 'german_credit/xgb_numeric.expected.json', target: 'good_credit', protected: [], matrix: false, format: 'xgboost-json' },
  { name: 'german xgb numeric, missing cells (JSON)', model: 'german_credit/xgb_numeric.json', data: 'german_credit/test_missing.csv', expected: 'german_credit/xgb_numeric.test_missing.expected.json', target: 'good_credit', protected: ['gender', 'age_group'], matrix: false, format: 'xgboost-json' },
];
