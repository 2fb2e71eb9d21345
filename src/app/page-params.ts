/** What the page's address sets: the dating of outputs and the stages' memory budget. */
import { ConfigError } from '../core';

/** The time outputs are dated with: ?source_date_epoch= when given (as the CLI's SOURCE_DATE_EPOCH), else now. */
export function epochSeconds(): number {
  const epoch = new URLSearchParams(globalThis.location?.search ?? '').get('source_date_epoch');
  return epoch !== null && /^\d+$/.test(epoch) ? Number(epoch) : Math.floor(Date.now() / 1000);
}

/**
 * The page's `?memory_budget_mb=N`: the memory budget of every stage in MiB (null when not
 * given), replacing the config's limits.stage_memory_mb.
 */
export function memoryBudgetFromUrl(): number | null {
  const value = new URLSearchParams(globalThis.location?.search ?? '').get('memory_budget_mb');
  if (value === null) return null;
  // The config's limits.stage_memory_mb range: the pack records the budget there, and the CLI must read it back.
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 1048576) throw new ConfigError(`?memory_budget_mb= in the page address must be a whole number of MiB from 1 to 1048576, got ${JSON.stringify(value)}: fix the address and run again.`);
  return Number(value);
}
