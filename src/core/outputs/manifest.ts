import type { AuditResult } from '../audit';
import type { AnyAuditResult } from '../audit/run';
import type { TaskSettings } from '../task/result';
import { sha256Hex } from '../base/hash';
import { Random } from '../base/random';
import { TOOL_VERSION } from '../base/version';

/** JSON with object keys sorted at every level and no whitespace: the form that is hashed. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner && typeof inner === 'object' && !Array.isArray(inner)) {
      return Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return inner;
  });
}

/** SHA-256 of a result's canonical JSON: equal on every run, in Node and in the browser. */
export function resultDigest(result: unknown): string {
  return sha256Hex(new TextEncoder().encode(canonicalJson(result)));
}

/** Where the audit ran, as the host reports it. */
export interface RuntimeInfo {
  environment: string;
  platform: string;
  backend: string;
  threads: number;
}

/** One input file's fingerprint. */
export interface FileFingerprint {
  file: string;
  sha256: string;
}

/** The reproducibility manifest written beside every result. */
export interface Manifest {
  tool: { name: 'plumbline'; version: string };
  created: string;
  created_from: 'SOURCE_DATE_EPOCH' | 'clock';
  inputs: Record<string, FileFingerprint>;
  random_seed: number;
  random_seed_explicit: boolean;
  /** The seed of each named random stream the audit drew from. */
  derived_seeds: Record<string, number>;
  settings: AuditResult['settings'] | TaskSettings;
  dependencies: Record<string, string>;
  runtime: RuntimeInfo;
  strict: boolean;
  /** The commit the audited files come from: GIT_COMMIT, else the HEAD of the repository holding the config (or model); null outside one. */
  git_commit: string | null;
  /** Whether that repository's tree had uncommitted changes (or an audited file the commit does not hold); absent when git was not asked. */
  git_dirty?: boolean;
  result_sha256: string;
}

/** The random streams an audit with these settings draws from. */
export function randomStreams(settings: AuditResult['settings'] | TaskSettings): string[] {
  if ('task' in settings) {
    // Multiclass and regression audits (task/run.ts): bootstrap intervals, the regression permutation tests, the explainer's background.
    const streams = settings.bootstrap_resamples >= 2 ? [`${settings.task}/performance`] : [];
    if (settings.task === 'regression') streams.push(...settings.protected_attributes.map((a) => `regression-distribution:${a}`));
    return streams;
  }
  const streams = settings.test_sample_size ? ['sample/test'] : [];
  if (settings.bootstrap_resamples >= 20) streams.push('calibration/ece');
  return streams;
}

/**
 * Builds the manifest. `epochSeconds` comes from SOURCE_DATE_EPOCH when set (so two
 * runs give byte-identical manifests), else from the clock.
 */
export function buildManifest(
  result: AnyAuditResult,
  context: { files: Record<string, FileFingerprint>; seedExplicit: boolean; dependencies: Record<string, string>; runtime: RuntimeInfo; strict: boolean; gitCommit: string | null; gitDirty?: boolean; epochSeconds: number; fromSourceDateEpoch: boolean },
): Manifest {
  const seed = result.settings.seed;
  return {
    tool: { name: 'plumbline', version: TOOL_VERSION },
    created: new Date(context.epochSeconds * 1000).toISOString(),
    created_from: context.fromSourceDateEpoch ? 'SOURCE_DATE_EPOCH' : 'clock',
    inputs: context.files,
    random_seed: seed,
    random_seed_explicit: context.seedExplicit,
    derived_seeds: Object.fromEntries(randomStreams(result.settings).map((stream) => [stream, Random.streamSeed(seed, stream)])),
    settings: result.settings,
    dependencies: context.dependencies,
    runtime: context.runtime,
    strict: context.strict,
    git_commit: context.gitCommit,
    ...(context.gitDirty !== undefined ? { git_dirty: context.gitDirty } : {}),
    result_sha256: resultDigest(result),
  };
}
