/**
 * The tables' roles in the set-up: which role a data file plays (test or reference), and how
 * the set-up follows a new test file (its target, protected attributes and features).
 */
import type { AuditSession } from './audit-session.svelte';
import type { LoadedData } from './session-types';
import { namedReference } from './file-routing';

const TARGET_HINTS = /^(target|label|y|outcome|class|two_year_recid|default|good_credit|high_income)$/i;
const PROTECTED_HINTS = /^(race|sex|gender|age_group|ethnicity|religion|disability|marital_status|nationality)$/i;

/**
 * Which role a table plays: what the config names it as, else a name whose words include
 * train, training, reference or ref (train.csv, credit_train.parquet, refData.csv) makes it
 * the reference; anything else is the test set (constrained_test.csv is not a training file).
 */
export function roleOf(session: Pick<AuditSession, 'config'>, name: string): 'test' | 'reference' {
  if (session.config?.files.reference === name) return 'reference';
  if (session.config?.files.test === name) return 'test';
  return namedReference(name) ? 'reference' : 'test';
}

/** The set-up follows a new test file: target and protected attributes it has. */
export function adoptColumns(session: AuditSession, summary: LoadedData, replaced: string | null = null): void {
  session.result = null;
  session.outputs = null;
  const names = summary.columns.map((c) => c.name);
  const cleared: string[] = [];
  if (replaced !== null && replaced !== summary.name) {
    // A new test set: what belonged to the old one goes, unless the config names it.
    if (session.reference && session.config?.files.reference !== session.reference.name) {
      cleared.push(`the reference ${session.reference.name}`);
      session.reference = null;
    }
    if (session.target && !names.includes(session.target)) {
      cleared.push(`the target ${session.target}`);
      session.target = '';
    }
    if (session.scoreColumn && !names.includes(session.scoreColumn)) {
      cleared.push(`the score column ${session.scoreColumn}`);
      session.scoreColumn = '';
    }
    const gone = [...session.protectedAttributes, ...session.features].filter((c) => !names.includes(c));
    if (gone.length) cleared.push(`the columns ${[...new Set(gone)].join(', ')}`);
  }
  // Another data file replacing the audited one is always said (two dropped together: the first was set aside without a word);
  // otherwise a notice already shown (a config's registry block, a baseline) stays.
  if (replaced !== null && replaced !== summary.name) {
    const what = cleared.length ? `; ${cleared.join(', ')} ${cleared.length === 1 ? 'was cleared (it belonged' : 'were cleared (they belonged'} to the old file): drop the matching files or choose again` : '';
    session.notice = `${summary.name} replaced ${replaced} as the audited data${what}. To audit one against the other, name the reference train or reference, or use Swap test and reference.`;
  }
  // A target chosen earlier (for this file or by a config) is kept when the file lacks it: running then says so.
  if (session.target === '') session.target = names.find((n) => TARGET_HINTS.test(n)) ?? '';
  session.protectedAttributes = session.protectedAttributes.filter((a) => names.includes(a));
  if (session.protectedAttributes.length === 0) session.protectedAttributes = names.filter((n) => PROTECTED_HINTS.test(n));
  session.features = session.features.filter((f) => names.includes(f));
}
