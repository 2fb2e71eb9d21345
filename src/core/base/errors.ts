/**
 * Error classes, one per area of the audit. Every message names the file, the row or
 * column, the bad value and the fix, so a user can act on it without a stack trace.
 * Errors cross the worker boundary as `{name, message}` and are rebuilt with
 * {@link reviveError}.
 */

/** Base class of every error Plumbline raises on purpose (as opposed to a bug). */
export class PlumblineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A data file (CSV) that cannot be read as a table. */
export class CsvError extends PlumblineError {}

/** A model file that cannot be opened or scored. */
export class ModelLoadError extends PlumblineError {}

/** Columns, target or options that do not fit the data or the model. */
export class AuditConfigError extends PlumblineError {}

/** An explainer asked for a model it cannot explain. */
export class ExplainerCompatibilityError extends PlumblineError {}

/** An audit config or policy file that is not valid YAML or breaks its schema. */
export class ConfigError extends PlumblineError {}

/** An audit registry file that cannot be opened, appended to or verified. */
export class RegistryError extends PlumblineError {}

/** A report, result or evidence file that cannot be read back, or that was altered. */
export class ReportError extends PlumblineError {}

/** A stage of the audit that would not fit its memory or time budget. */
export class ResourceLimitError extends PlumblineError {}

const errorClasses: Record<string, new (message: string) => PlumblineError> = {
  PlumblineError,
  CsvError,
  ModelLoadError,
  AuditConfigError,
  ConfigError,
  ExplainerCompatibilityError,
  RegistryError,
  ReportError,
  ResourceLimitError,
};

/** Plain-data form of an error, safe to post between threads. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
}

/** Turns any thrown value into plain data (structured clone drops Error subclasses). */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) return { name: error.name, message: error.message, stack: error.stack };
  return { name: 'Error', message: String(error) };
}

/** Rebuilds an error of the right class from its plain-data form. */
export function reviveError(data: SerializedError): Error {
  const Class = errorClasses[data.name];
  const error = Class ? new Class(data.message) : new Error(data.message);
  if (!Class) error.name = data.name;
  if (data.stack) error.stack = data.stack;
  return error;
}

/** Whether an error was raised on purpose by Plumbline (a user-facing problem, not a bug). */
export function isPlumblineError(error: unknown): error is PlumblineError {
  return error instanceof PlumblineError || (error instanceof Error && error.name in errorClasses);
}

/**
 * Up to `limit` names from `candidates` closest to `name` (case-insensitive edit distance),
 * for "did you mean" hints in error messages.
 */
export function closeMatches(name: string, candidates: readonly string[], limit = 3): string[] {
  const target = name.toLowerCase();
  return candidates
    .map((candidate) => ({ candidate, distance: editDistance(target, candidate.toLowerCase()) }))
    .filter(({ candidate, distance }) => distance <= Math.max(2, Math.floor(candidate.length / 3)) || candidate.toLowerCase().includes(target) || target.includes(candidate.toLowerCase()))
    .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate))
    .slice(0, limit)
    .map(({ candidate }) => candidate);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** Quotes a value for an error message, shortened so a huge cell cannot flood the screen. */
export function quote(value: string, max = 60): string {
  const shown = value.length > max ? `${value.slice(0, max)}…` : value;
  return JSON.stringify(shown);
}
