/**
 * A gate's threshold checked against what its metric can be: outside its range (a
 * percentage for a share) or reading as a percentage where the range cannot tell.
 */
import { ConfigError, quote } from '../base/errors';
import type { Gate } from './policy';

/** The comparisons of a relative gate: a change against the baseline, not a value. */
export const RELATIVE_COMPARISONS: readonly string[] = ['max_drop', 'max_increase'];

/**
 * Refuses a threshold outside the values its metric can take — a percentage for a share
 * (`roc_auc >= 75`, `demographic_parity_difference <= 10`): such a gate can never pass, or
 * never fail, whatever the model. A change (max_drop, max_increase) can be at most the range's width.
 */
export function checkInRange(gate: Gate, i: number, fileName: string, range: readonly [number, number] | undefined): void {
  if (!range) return;
  const [low, high] = range;
  const relative = RELATIVE_COMPARISONS.includes(gate.comparison);
  // roc_auc > 1 and a difference < 0 can never pass either.
  const above = relative ? gate.threshold > high - low : gate.threshold > high || (gate.comparison === 'greater_than' && gate.threshold === high);
  const below = !relative && (gate.threshold < low || (gate.comparison === 'less_than' && gate.threshold === low));
  if (!above && !below) return;
  const atLeast = gate.comparison === 'greater_than' || gate.comparison === 'greater_equal';
  const never = relative || atLeast === below ? 'fail' : 'pass';
  const span = Number.isFinite(high) ? `from ${low} to ${high}` : `from ${low} up`;
  // 75 for 0.75 reads as a percentage; 1.25 (a ratio the wrong way up?) need not.
  const percent = high - low === 1 && gate.threshold >= 2 && gate.threshold <= 100;
  const fix = percent ? `Write it as a share: ${gate.threshold / 100} for ${gate.threshold}%.` : "Give a threshold in the metric's units.";
  if (gate.threshold === high || gate.threshold === low) {
    throw new ConfigError(`${fileName}: gates[${i}] (${quote(gate.name)}): ${gate.metric} cannot be ${gate.threshold === high ? 'more' : 'less'} than ${gate.threshold} (it runs ${span}), so the gate could never pass. Use ${gate.threshold === high ? 'greater_equal' : 'less_equal'}, or another threshold.`);
  }
  throw new ConfigError(
    `${fileName}: gates[${i}] (${quote(gate.name)}): threshold ${gate.threshold} is outside what ${gate.metric} can ${relative ? 'change by' : 'be'} (${relative ? `at most ${high - low}: it runs ${span}` : span}), so the gate could never ${never}. ${fix}`,
  );
}

/**
 * Shares with no upper bound that are often written in percent: from this threshold up a
 * bound reads as a percentage (MAPE 0.6 is 60%; `mape <= 20` would pass an error of 2,000%).
 */
const PERCENT_LIKE: Readonly<Record<string, number>> = { mape: 2 };

/** Refuses an absolute gate on a {@link PERCENT_LIKE} metric at a threshold that reads as a percentage. */
export function checkNotPercent(gate: Gate, i: number, fileName: string): void {
  const from = PERCENT_LIKE[gate.metric];
  if (from === undefined || RELATIVE_COMPARISONS.includes(gate.comparison) || gate.threshold < from) return;
  throw new ConfigError(
    `${fileName}: gates[${i}] (${quote(gate.name)}): ${gate.metric} is a share of the outcome (0.2 is 20%), so threshold ${gate.threshold} is ${(gate.threshold * 100).toLocaleString('en-US')}%, a percentage written as a share? Write it as a share: ${gate.threshold / 100} for ${gate.threshold}% (thresholds of ${from * 100}% and more are refused as percentages).`,
  );
}
