/**
 * Settings of a section that does not run (turned off by the config or its profile): refused,
 * not carried along unread. The plan (so validate-config) and every audit check them.
 */
import { AuditConfigError } from '../base/errors';
import type { AuditRequest } from './request';
import { recourseKeysOf } from './result';

/**
 * Refuses recourse settings beside recourse.enabled: false (the config says both to search
 * and not to), as multiclass and regression audits refuse them. A score column's recourse
 * settings are left (its config may serve a model's audit too): they are recorded in the
 * result's settings, and its missing sections say no recourse was searched and why.
 */
export function refuseIdleRecourse(request: Pick<AuditRequest, 'recourse' | 'missingSections'>): void {
  const off = request.missingSections?.recourse;
  const keys = recourseKeysOf(request.recourse);
  if (!off?.startsWith('turned off') || keys.length === 0) return;
  throw new AuditConfigError(`${keys.join(', ')} ${keys.length > 1 ? 'are' : 'is'} set, but no recourse is searched: ${off}. Remove ${keys.length > 1 ? 'them' : 'it'}, or turn recourse on.`);
}

/**
 * Refuses robustness.shift or robustness.noise where robustness is turned off (robustness:
 * {enabled: false}, or a profile without it): they were dropped without a word.
 * robustness.proxies is read by recourse too, and stays.
 */
export function refuseIdleRobustness(request: Pick<AuditRequest, 'robustness' | 'missingSections'>): void {
  const off = request.missingSections?.robustness;
  const keys = (['shift', 'noise'] as const).filter((key) => request.robustness?.[key] !== undefined).map((key) => `robustness.${key}`);
  if (!off?.startsWith('turned off') || keys.length === 0) return;
  throw new AuditConfigError(`${keys.join(', ')} ${keys.length > 1 ? 'are' : 'is'} set, but robustness is not measured: ${off}. Remove ${keys.length > 1 ? 'them' : 'it'}, or turn robustness on.`);
}

