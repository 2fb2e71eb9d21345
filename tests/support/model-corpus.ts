/**
 * The model corpus (tests/models/models.json, Netron's test-manifest idea): real exports
 * from scikit-learn (hand-written ONNX as sklearn-onnx lays it out), xgboost 1.7 and
 * hand-written LightGBM text models, each with the predictions the training library itself
 * (or, for LightGBM, an independent evaluator) gives, or the exact error the audit must
 * stop with. tests/models/build_*.py write them; no test runs Python.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, projectRoot } from './fixtures';

/** One entry of the manifest. */
export interface CorpusEntry {
  id: string;
  /** The issue-20 case it reproduces, when it does. */
  regression?: string;
  description: string;
  model: string;
  data: string;
  settings: { target: string; positive_label?: string | number | null; protected: string[]; features: string[] | null; missing_values: string[] | null };
  expected: { predictions: string; tolerance: number; tolerance_reason: string } | { refuse: string; error?: string };
}

/** What the training library predicted, as build_*.py wrote it. */
export interface CorpusExpected {
  library: string;
  how: string;
  p_positive: number[];
  metrics: { roc_auc: number; n: number };
}

export const corpusDir = join(projectRoot, 'tests', 'models');

/** The manifest's entries. */
export const CORPUS: CorpusEntry[] = JSON.parse(readFileSync(join(corpusDir, 'models.json'), 'utf8'));

/** A corpus path: `fixtures:…` is in the shared fixtures, anything else in tests/models. */
export function corpusPath(path: string): string {
  return path.startsWith('fixtures:') ? fixture(path.slice('fixtures:'.length)) : join(corpusDir, path);
}

export function corpusBytes(path: string): Uint8Array {
  return new Uint8Array(readFileSync(corpusPath(path)));
}

export function corpusExpected(entry: CorpusEntry): CorpusExpected | null {
  return 'predictions' in entry.expected ? (JSON.parse(readFileSync(corpusPath(entry.expected.predictions), 'utf8')) as CorpusExpected) : null;
}

/**
 * The audit settings of an entry as an audit config would give them (the same in Node and
 * in the worker): only the score stage matters here, so the slow optional sections are off.
 */
export function corpusRequest(entry: CorpusEntry) {
  const s = entry.settings;
  return {
    // The corpus checks binary scoring (p_positive): a multiclass model without a positive label is refused there, not audited over every class.
    task: 'binary' as const,
    target: s.target,
    protectedAttributes: s.protected,
    ...(s.features ? { features: s.features } : {}),
    ...(s.positive_label !== null && s.positive_label !== undefined ? { positiveLabel: String(s.positive_label) } : {}),
    ...(s.missing_values ? { csv: { missingValues: s.missing_values } } : {}),
    includePredictions: true,
    bootstrapResamples: 0,
    missingSections: { explainer: 'off in the corpus test', robustness: 'off in the corpus test', recourse: 'off in the corpus test' },
  };
}

/** The largest difference between two prediction lists (Infinity when their lengths differ). */
export function worstDifference(got: readonly number[], want: readonly number[]): number {
  if (got.length !== want.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
  return worst;
}
