import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { AUDIT_CONFIG_SPEC, parseAuditConfig } from '../../src/core/config/audit-config';
import { planAudit } from '../../src/core/config/plan';
import { registrySubmission } from '../../src/core/config/registry-block';
import type { Spec } from '../../src/core/config/schema';
import { ConfigError } from '../../src/core/base/errors';
import { reportsOf } from '../../src/core/outputs/bundle';

/** Every leaf key of the audit config schema, as a dotted path. */
function schemaPaths(spec: Spec, path: string[] = []): string[] {
  if (spec.type === 'object' && Object.keys(spec.properties).length > 0 && !spec.values) return Object.entries(spec.properties).flatMap(([key, child]) => schemaPaths(child, [...path, key]));
  return [path.join('.')];
}

/** A value a user might give each key (the walk fails when the schema gains a key this table lacks). */
const SAMPLES: Record<string, unknown> = {
  'model.path': 'other.onnx',
  'model.type': 'xgboost',
  'model.features': ['a', 'b'],
  'model.max_unknown_category_share': 0.02,
  'model.class_labels': ['low', 'medium', 'high'],
  task: 'multiclass',
  positive_when: 'above',
  'data.test': 'other.csv',
  'data.train': 'train.csv',
  'data.reference': 'reference.csv',
  'data.validation': 'validation.csv',
  'data.target': 'outcome',
  'data.unlabelled': true,
  'data.positive_label': 'yes',
  'data.protected_attributes': ['race'],
  'data.score_column': 'score',
  'data.test_sample_size': 100,
  'data.dtypes': { zip: 'categorical' },
  'data.missing_values': ['', '-'],
  'data.delimiter': ';',
  'data.skip_bad_lines': true,
  'data.encoding': 'windows-1252',
  threshold: 0.3,
  random_seed: 42,
  audit_profile: 'full',
  profiles: { fast: { bootstrap: { resamples: 50 } } },
  metadata: { model_id: 'credit' },
  'bootstrap.resamples': 10,
  'bootstrap.confidence': 0.8,
  'explainer.enabled': false,
  'explainer.type': 'kernelshap',
  'explainer.background_samples': 20,
  'explainer.rows': 5,
  'explainer.cache': true,
  'fairness.enabled': false,
  'fairness.metrics': ['demographic_parity'],
  'fairness.threshold': 0.4,
  'fairness.min_group_size': 5,
  'fairness.intersections': [['sex', 'race']],
  'fairness.reference_groups': { sex: 'Male' },
  'fairness.power_difference': 0.1,
  'fairness.slice_columns': ['age'],
  'fairness.ll144.sex': 'sex',
  'fairness.ll144.race_ethnicity': 'race',
  'fairness.ll144.rate': 'scoring',
  'calibration.enabled': false,
  'calibration.bins': 5,
  'calibration.binning': 'equal-frequency',
  'robustness.enabled': false,
  'robustness.shift': 0.2,
  'robustness.noise': [0.5],
  'robustness.proxies': { race: 'zip' },
  'drift.enabled': false,
  'drift.psi_bins': 5,
  'drift.psi_minor': 0.05,
  'drift.psi_major': 0.3,
  'recourse.enabled': false,
  'recourse.immutable': ['age'],
  'recourse.monotone': { debt: 'decrease_only' },
  'recourse.costs': { debt: 2 },
  'recourse.adverse': 'positive',
  'recourse.max_counterfactuals': 1,
  'recourse.max_rows': 5,
  'recourse.actionable': ['hours_per_week'],
  'recourse.categorical_changes': { workclass: ['Private'] },
  'report.enabled': false,
  'report.format': 'html',
  'report.title': 'Credit model audit',
  'registry.enabled': true,
  'registry.database': 'team.db',
  'registry.auto_submit': true,
  'registry.metadata': { team: 'risk' },
  'limits.stage_memory_mb': 128,
  'limits.stage_seconds': 30,
};

const BASE = { model: { path: 'model.onnx' }, data: { test: 'test.csv', target: 'y', protected_attributes: ['sex'] } };

/** Everything a config decides, as the hosts see it: the plan (request, sections, files, metadata) and the outputs asked for. */
function effect(text: string): string {
  const config = parseAuditConfig(text, 'audit.yaml');
  return JSON.stringify({ plan: planAudit(config, 'audit.yaml'), reports: reportsOf(config.report), title: config.report?.title ?? null, registry: registrySubmission(config, {}, 'audit.yaml') });
}

function withKey(path: string, value: unknown): Record<string, unknown> {
  const config = structuredClone(BASE) as Record<string, unknown>;
  const keys = path.split('.');
  let at = config;
  for (const key of keys.slice(0, -1)) at = (at[key] ??= {}) as Record<string, unknown>;
  at[keys[keys.length - 1]] = value;
  // A user profile takes effect when it is named.
  if (path === 'profiles') config.audit_profile = 'fast';
  return config;
}

describe('every audit config key takes effect or is refused', () => {
  const paths = schemaPaths(AUDIT_CONFIG_SPEC);

  it('has a sample value for every key of the schema', () => {
    expect(paths.filter((path) => !(path in SAMPLES))).toEqual([]);
  });

  for (const path of paths) {
    it(path, () => {
      const base = effect(stringify(BASE));
      let changed: string;
      try {
        changed = effect(stringify(withKey(path, SAMPLES[path])));
      } catch (error) {
        // Refused: the message names the key and says what to do.
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as Error).message).toContain(path.split('.').pop()!);
        expect((error as Error).message).toMatch(/remove the key|use |set /i);
        return;
      }
      expect(changed, `${path} was accepted and changed nothing`).not.toBe(base);
    });
  }

  it('refuses a registry model id other than the model id the policy judges', () => {
    // The registry filed the audit as "fromreg" while the policy judged "cfgmodel" (applies_to: [fromreg] → NOT_APPLIED, exit 0, a failed gate).
    expect(() => effect(stringify({ ...BASE, metadata: { model_id: 'cfgmodel' }, registry: { database: 'team.db', metadata: { model_id: 'fromreg' } } }))).toThrow(
      new ConfigError('audit.yaml: registry.metadata.model_id "fromreg" differs from metadata.model_id "cfgmodel", so the registry would file the audit under one id and the policy judge another. Set the model\'s id once, in metadata.model_id, and remove registry.metadata.model_id.'),
    );
    expect(() => effect(stringify({ ...BASE, registry: { database: 'team.db', metadata: { model_id: 'fromreg' } } }))).toThrow(/^audit\.yaml: registry\.metadata\.model_id "fromreg" differs from metadata\.model_id \(not set: the model file's name\)/);
    expect(() => effect(stringify({ ...BASE, metadata: { model_id: 'credit' }, registry: { database: 'team.db', metadata: { model_id: 'credit', team: 'risk' } } }))).not.toThrow();
  });

  it('refuses the settings it cannot honour with their exact messages', () => {
    expect(() => effect(stringify(withKey('calibration.enabled', false)))).toThrow(
      new ConfigError('audit.yaml: a setting Plumbline cannot honour: calibration.enabled: false — calibration is part of every audit (it takes milliseconds); remove the key.'),
    );
    expect(() => effect(stringify({ ...withKey('explainer.cache', true), fairness: { metrics: ['demographic_parity'] } }))).toThrow(
      new ConfigError(
        'audit.yaml: 2 settings Plumbline cannot honour: explainer.cache: true — Plumbline keeps no explanation cache (every audit computes its explanations from the files given); remove the key; fairness.metrics — every fairness metric is computed and reported; choose the ones that decide with policy gates (plumbline list metrics) and remove the key.',
      ),
    );
  });

  it('takes any threshold for a score column on its own scale, and only 0 to 1 with a model', () => {
    const scoreOnly = { data: { test: 'test.csv', target: 'y', protected_attributes: ['sex'], score_column: 'decile_score' }, threshold: 5 };
    expect(planAudit(parseAuditConfig(stringify(scoreOnly), 'compas.yaml'), 'compas.yaml').request.thresholdPolicy).toEqual({ policy: 'fixed', threshold: 5 });
    expect(() => planAudit(parseAuditConfig(stringify({ ...BASE, threshold: 5 }), 'audit.yaml'), 'audit.yaml')).toThrow(
      new ConfigError("audit.yaml: threshold: 5 is outside 0 to 1, but a model's score is a probability. Set a threshold from 0 to 1 (a score column on its own scale, data.score_column, may take any number; a regression's decision on the prediction's scale takes positive_when: above|below)."),
    );
  });
});
