import { proxy, wrap, type Remote } from 'comlink';
import { reviveError } from '../core';
import type { AuditApi, Outcome } from '../../workers/audit.worker';

/** The audit worker, started once per page. */
let worker: Remote<AuditApi> | undefined;

/** The worker's API (started on first use). */
export function auditWorker(): Remote<AuditApi> {
  worker ??= wrap<AuditApi>(new Worker(new URL('../../workers/audit.worker.ts', import.meta.url), { type: 'module', name: 'plumbline-audit' }));
  return worker;
}

/** The value of an outcome, or its error rebuilt with the right class. */
export function unwrap<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw reviveError(outcome.error);
}

export { proxy };
