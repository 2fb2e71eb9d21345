/**
 * The parts of a policy that are about when and to what it applies, and its exceptions:
 * `effective_date`, `applies_to`, `citation`, `review_cycle.next_review` and `waivers`.
 * Dates are compared with the audit's own date (SOURCE_DATE_EPOCH when given), so the same
 * inputs give the same decision in the app and the CLI.
 */
import { ConfigError, quote } from '../base/errors';

/** A time-limited exception to one gate, for the models its glob matches. */
export interface Waiver {
  /** The gate's name, exactly as in `gates`. */
  gate: string;
  /** A glob (`*`, `?`) matched against the audit's model id (metadata.model_id, else the model file's name). */
  model: string;
  reason: string;
  approved_by: string;
  /** The last day the waiver holds (YYYY-MM-DD). */
  expires: string;
}

/** A waiver as the decision reports it: in use, expired (and so doing nothing), or unused. */
export interface WaiverStatus extends Waiver {
  status: 'in_use' | 'expired' | 'not_needed' | 'other_model';
}

/** What the decision echoes of the policy's terms, and whether they let it apply. */
export interface PolicyTerms {
  effective_date: string | null;
  applies_to: string[] | null;
  citation: string | null;
  next_review: string | null;
  /** review_cycle.frequency and owner as the policy writes them (recorded for the reader; nothing is decided on them). */
  review_frequency?: string;
  review_owner?: string;
  /** The audit's date is on or after `effective_date` (true without one). */
  in_effect: boolean;
  /** The model id matches `applies_to` (true without one). */
  applies: boolean;
  /** Applied although not in effect or not applying (--force-policy / force). */
  forced: boolean;
  /** The model id the policy and its waivers were matched against. */
  model_id: string | null;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Whether `text` is a real calendar date written YYYY-MM-DD. */
export function isCalendarDate(text: string): boolean {
  const match = DATE.exec(text);
  if (!match) return false;
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
  return date.toISOString().slice(0, 10) === text;
}

/** The UTC calendar date (YYYY-MM-DD) of a time in seconds since 1970. */
export function dateOf(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().slice(0, 10);
}

/** Days from date `a` to date `b` (both YYYY-MM-DD). */
export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}

/** Whether `text` matches the glob (`*` any run of characters, `?` one character; case-sensitive). */
export function globMatch(glob: string, text: string): boolean {
  const pattern = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${pattern}$`, 's').test(text);
}

/** A YAML date may arrive as a string or (unquoted, by some parsers) a Date: one spelling. */
function dateText(value: unknown): string {
  return value instanceof Date ? value.toISOString().slice(0, 10) : String(value);
}

/**
 * Checks the dates and waivers of a parsed policy: every date a real YYYY-MM-DD, every
 * waiver naming a gate of the policy. Errors name the file, the entry and the fix.
 */
export function checkPolicyTerms(policy: { gates: { name: string }[]; effective_date?: unknown; review_cycle?: Record<string, unknown>; waivers?: Waiver[] }, fileName: string): void {
  const dates: [string, unknown][] = [
    ['effective_date', policy.effective_date],
    ['review_cycle.next_review', policy.review_cycle?.next_review],
  ];
  for (const [key, value] of dates) {
    if (value !== undefined && !isCalendarDate(dateText(value))) throw new ConfigError(`${fileName}: ${key} must be a date written YYYY-MM-DD, got ${quote(dateText(value))}.`);
  }
  const names = policy.gates.map((g) => g.name);
  (policy.waivers ?? []).forEach((waiver, i) => {
    if (!names.includes(waiver.gate)) throw new ConfigError(`${fileName}: waivers[${i}].gate ${quote(waiver.gate)} names no gate of this policy (gates: ${names.map((x) => quote(x)).join(', ')}).`);
    const expires = dateText(waiver.expires);
    if (!isCalendarDate(expires)) throw new ConfigError(`${fileName}: waivers[${i}].expires must be a date written YYYY-MM-DD, got ${quote(expires)}.`);
    waiver.expires = expires;
  });
  if (policy.effective_date !== undefined) policy.effective_date = dateText(policy.effective_date);
  if (policy.review_cycle?.next_review !== undefined) policy.review_cycle.next_review = dateText(policy.review_cycle.next_review);
}

/** The policy's terms for this audit: whether it is in effect and applies to the model. */
export function policyTerms(policy: { effective_date?: string; applies_to?: string[]; citation?: string; review_cycle?: Record<string, unknown> }, today: string, modelId: string | null, force: boolean): PolicyTerms {
  const effective = policy.effective_date ?? null;
  const appliesTo = policy.applies_to ?? null;
  return {
    effective_date: effective,
    applies_to: appliesTo,
    citation: policy.citation ?? null,
    next_review: policy.review_cycle?.next_review === undefined ? null : String(policy.review_cycle.next_review),
    ...(policy.review_cycle?.frequency !== undefined ? { review_frequency: String(policy.review_cycle.frequency) } : {}),
    ...(policy.review_cycle?.owner !== undefined ? { review_owner: String(policy.review_cycle.owner) } : {}),
    in_effect: effective === null || effective <= today,
    applies: appliesTo === null || (modelId !== null && appliesTo.some((glob) => modelMatches(glob, modelId))),
    forced: force,
    model_id: modelId,
  };
}

/**
 * Whether a policy's model pattern (applies_to, a waiver's model) names the audited model: its
 * id, or — an id that is the model file's name, as without metadata.model_id — the file's
 * name without its extension too, the id the registry files the model under ("rf" for rf.onnx).
 */
export function modelMatches(glob: string, modelId: string): boolean {
  if (globMatch(glob, modelId)) return true;
  const stem = /^(.+)\.(onnx|json|ubj|txt|model)$/i.exec(modelId)?.[1];
  return stem !== undefined && globMatch(glob, stem);
}

/** Notices every output prints about the terms: not in effect, not applying, review overdue. */
export function termNotices(policyName: string, terms: PolicyTerms, today: string): string[] {
  const notices: string[] = [];
  const applied = terms.forced ? 'applied because forced' : 'its gates are shown for information and not applied (force it with --force-policy)';
  if (!terms.in_effect) notices.push(`Policy ${quote(policyName)} takes effect on ${terms.effective_date} (this audit is dated ${today}): ${applied}.`);
  if (!terms.applies) notices.push(`Policy ${quote(policyName)} applies to ${terms.applies_to!.map((x) => quote(x)).join(', ')}, not to model ${quote(terms.model_id ?? '(no model id)')}: ${applied}.`);
  if (terms.next_review !== null && terms.next_review < today) notices.push(`Policy ${quote(policyName)} was due for review on ${terms.next_review} (${daysBetween(terms.next_review, today)} day${daysBetween(terms.next_review, today) === 1 ? '' : 's'} before this audit): it may be out of date.`);
  return notices;
}

/** The waiver that covers a failing gate for this model today, and the expired ones that would have. */
export function findWaiver(waivers: Waiver[], gate: string, modelId: string | null, today: string): { valid: Waiver | null; expired: Waiver[] } {
  const matching = waivers.filter((w) => w.gate === gate && modelId !== null && modelMatches(w.model, modelId));
  return { valid: matching.find((w) => w.expires >= today) ?? null, expired: matching.filter((w) => w.expires < today) };
}
