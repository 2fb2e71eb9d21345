/**
 * What every call of the audit worker answers: a value, or the error that prevented it as
 * plain data (errors do not cross a worker boundary with their class).
 */
import { serializeError, type SerializedError } from '../src/core';

/** Either a value or the error that prevented it, as plain data. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: SerializedError };

/** Runs `work`, answering its value or its error as an {@link Outcome}. */
export async function outcome<T>(work: () => Promise<T> | T): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, error: serializeError(error) };
  }
}
