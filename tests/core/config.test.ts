import { describe, expect, it } from 'vitest';
import { parseAuditConfig } from '../../src/core/config/audit-config';
import { planAudit } from '../../src/core/config/plan';
import { parseYaml } from '../../src/core/config/yaml';
import { ConfigError } from '../../src/core/base/errors';

const minimal = 'model:\n  path: m.onnx\ndata:\n  test: t.csv\n  target: y\n  protected_attributes: [race]\n';

describe('audit config', () => {
  it('accepts the shape practitioners write and maps it to a request', () => {
    const config = parseAuditConfig(`${minimal}random_seed: 42\nthreshold: 0.4\nexplainer:\n  type: treeshap\n  background_samples: 100\nrecourse:\n  enabled: false\n`, 'a.yaml');
    const plan = planAudit(config, 'a.yaml');
    expect(plan.files).toEqual({ model: 'm.onnx', data: 't.csv', reference: undefined });
    expect(plan.request).toMatchObject({ target: 'y', protectedAttributes: ['race'], seed: 42, thresholdPolicy: { policy: 'fixed', threshold: 0.4 } });
    expect(plan.seedExplicit).toBe(true);
    expect(plan.missingSections).toEqual({ recourse: 'turned off (recourse.enabled: false)' });
    // What that shape asks and Plumbline cannot honour is refused, naming the keys (tests/core/config-keys.test.ts walks every key).
    const asked = parseAuditConfig(`${minimal}calibration:\n  enabled: false\nfairness:\n  metrics: [demographic_parity, equalized_odds]\n`, 'a.yaml');
    expect(() => planAudit(asked, 'a.yaml')).toThrow(/^a\.yaml: 2 settings Plumbline cannot honour: fairness\.metrics — .*; calibration\.enabled: false — /);
  });

  it('applies a profile under the config (the config wins)', () => {
    const config = parseAuditConfig(`${minimal}audit_profile: quickstart\nbootstrap:\n  resamples: 50\n`, 'a.yaml');
    expect(config.bootstrap?.resamples).toBe(50);
    expect(config.explainer?.background_samples).toBe(100);
    const custom = parseAuditConfig(`${minimal}audit_profile: mine\nprofiles:\n  mine:\n    bootstrap:\n      resamples: 7\n`, 'a.yaml');
    expect(custom.bootstrap?.resamples).toBe(7);
    expect(() => parseAuditConfig(`${minimal}audit_profile: fast\n`, 'a.yaml')).toThrow(new ConfigError('a.yaml: audit_profile: unknown profile "fast"; profiles: quickstart, full.'));
    // A profile naming another was read nowhere (bootstrap stayed at 1,000 for a quickstart profile's 200).
    expect(() => parseAuditConfig(`${minimal}audit_profile: mine\nprofiles:\n  mine:\n    audit_profile: quickstart\n`, 'a.yaml')).toThrow(new ConfigError('a.yaml: profiles.mine.audit_profile: a profile cannot name another profile; profiles are not stacked. Copy the settings it should take into profiles.mine.'));
  });

  it('refuses unknown keys with close matches and wrong types with the path', () => {
    expect(() => parseAuditConfig(`${minimal}fairnes:\n  enabled: true\n`, 'a.yaml')).toThrow(/^a\.yaml: fairnes: unknown key \(did you mean fairness\?\); known keys: model, data, threshold/);
    expect(() => parseAuditConfig(minimal.replace('protected_attributes: [race]', 'protected_attributes: race'), 'a.yaml')).toThrow(new ConfigError('a.yaml: data.protected_attributes: expected a list, got the text "race"'));
    expect(() => parseAuditConfig(`${minimal}random_seed: 4.5\n`, 'a.yaml')).toThrow(new ConfigError('a.yaml: random_seed: expected a whole number, got 4.5'));
    expect(() => planAudit(parseAuditConfig(`${minimal}threshold: 1.5\n`, 'a.yaml'), 'a.yaml')).toThrow(
      new ConfigError("a.yaml: threshold: 1.5 is outside 0 to 1, but a model's score is a probability. Set a threshold from 0 to 1 (a score column on its own scale, data.score_column, may take any number; a regression's decision on the prediction's scale takes positive_when: above|below)."),
    );
  });

  it('checks a config a host built as it checks a file (the app ran a cleared threshold at 0.5 and a selection rate of 1.5)', () => {
    const built = parseAuditConfig(minimal, 'a.yaml');
    expect(() => planAudit({ ...built, threshold: null as unknown as number }, 'the set-up')).toThrow(new ConfigError('the set-up: threshold: expected a number, got null'));
    expect(() => planAudit({ ...built, threshold: { policy: 'selection_rate', target: 1.5 } }, 'the set-up')).toThrow(new ConfigError('the set-up: threshold.target: must be at most 1, got 1.5'));
    expect(() => planAudit({ ...built, threshold: { policy: 'cost', cost_fp: Number.NaN, cost_fn: 5 } } as never, 'the set-up')).toThrow(/^the set-up: threshold\.cost_fp: expected /);
    // Unset fields (undefined) are absent, as in a file.
    expect(planAudit({ ...built, random_seed: undefined }, 'the set-up').request.target).toBe('y');
  });

  it('refuses threshold settings no policy reads (each ran at another threshold than asked, exit 0)', () => {
    const plan = (extra: string) => planAudit(parseAuditConfig(`${minimal}${extra}`, 'a.yaml'), 'a.yaml');
    expect(() => parseAuditConfig(`${minimal}threshold: 0.5\nfairness:\n  threshold: 0.3\n`, 'a.yaml')).toThrow(new ConfigError('a.yaml: threshold and fairness.threshold are both set (0.5, 0.3): an audit has one decision threshold. Keep threshold and remove fairness.threshold.'));
    expect(() => plan('threshold:\n  policy: fixed\n  target: 0.3\n')).toThrow(new ConfigError('a.yaml: threshold: target is not read by policy fixed, which reads value. Remove it, or set the policy it belongs to.'));
    expect(() => plan('threshold:\n  policy: youden\n  value: 0.3\n')).toThrow(new ConfigError('a.yaml: threshold: value is not read by policy youden, which reads no other key. Remove it, or set the policy it belongs to.'));
    expect(() => plan('threshold:\n  policy: selection_rate\n  target: 0.3\n  cost_fp: 1\n  cost_fn: 9\n')).toThrow(new ConfigError('a.yaml: threshold: cost_fp, cost_fn are not read by policy selection_rate, which reads target. Remove them, or set the policy they belong to.'));
    expect(() => plan('threshold:\n  policy: cost\n  cost_fp: 0\n  cost_fn: 0\n')).toThrow(new ConfigError('a.yaml: threshold: policy cost with cost_fp and cost_fn both 0 makes every threshold cost nothing; give the cost of at least one kind of error (e.g. cost_fp: 1, cost_fn: 5).'));
    expect(() => plan('threshold:\n  policy: selection_rate\n  target: 1\n')).toThrow(new ConfigError('a.yaml: threshold.target: 1 selects every row; a selection rate is between 0 and 1 (e.g. target: 0.3).'));
    // The config's threshold replaces a profile's whole (a profile's cost keys under the config's youden were refused as "not read").
    const profiled = (profile: string, own: string) => planAudit(parseAuditConfig(`${minimal}audit_profile: mine\nprofiles:\n  mine:\n${profile}${own}`, 'a.yaml'), 'a.yaml').request.thresholdPolicy;
    expect(profiled('    threshold:\n      policy: cost\n      cost_fp: 1\n      cost_fn: 5\n', 'threshold:\n  policy: youden\n')).toEqual({ policy: 'youden' });
    expect(profiled('    fairness:\n      threshold: 0.4\n', 'threshold: 0.3\n')).toEqual({ policy: 'fixed', threshold: 0.3 });
    // …and the config's fairness.threshold replaces a profile's threshold (the profile's 0.3 won), as its data.train a profile's data.reference.
    expect(profiled('    threshold: 0.3\n', 'fairness:\n  threshold: 0.6\n')).toEqual({ policy: 'fixed', threshold: 0.6 });
    const referenced = (profile: string, own: string) => planAudit(parseAuditConfig(`${minimal}${own}audit_profile: mine\nprofiles:\n  mine:\n${profile}`, 'a.yaml'), 'a.yaml').files.reference;
    expect(referenced('    data:\n      reference: all.csv\n', '  train: train.csv\n')).toBe('train.csv');
    expect(referenced('    data:\n      train: train.csv\n', '  reference: ref.csv\n')).toBe('ref.csv');
    expect(referenced('    data:\n      train: train.csv\n', '')).toBe('train.csv');
    // The same file named as train and reference is one reference.
    expect(parseAuditConfig(`${minimal}  train: t.csv\n  reference: t.csv\n`, 'a.yaml').data?.reference).toBe('t.csv');
    // An explicit fixed threshold is the request's (a raw score at an explicit {policy: fixed, value: 0.5} was refused as the default).
    expect(plan('threshold:\n  policy: fixed\n  value: 0.5\n').request.threshold).toBe(0.5);
    // fairness.threshold alone is the threshold (a multiclass audit refuses it as it refuses threshold; it ignored it).
    expect(plan('fairness:\n  threshold: 0.3\n').request).toMatchObject({ threshold: 0.3, thresholdPolicy: { policy: 'fixed', threshold: 0.3 } });
    // …on a score column's own scale too, as the top-level threshold (it was refused above 1).
    expect(planAudit(parseAuditConfig('data:\n  test: t.csv\n  score_column: decile_score\n  target: y\n  protected_attributes: [race]\nfairness:\n  threshold: 5\n', 'a.yaml'), 'a.yaml').request).toMatchObject({ threshold: 5 });
  });

  it('refuses a reference named twice and a column listed twice (train.csv was never read; race × race intersections)', () => {
    const plan = (text: string) => planAudit(parseAuditConfig(text, 'a.yaml'), 'a.yaml');
    expect(() => parseAuditConfig(`${minimal}  train: train.csv\n  reference: ref.csv\n`, "a.yaml")).toThrow(new ConfigError('a.yaml: data.train (train.csv) and data.reference (ref.csv) both name the reference, and an audit compares with one. Keep one of them.'));
    expect(() => plan(minimal.replace('[race]', '[race, sex, race]'))).toThrow(new ConfigError('a.yaml: data.protected_attributes lists race more than once. List each column once.'));
    expect(() => plan(`${minimal}fairness:\n  intersections: [[race, race]]\n`)).toThrow(new ConfigError('a.yaml: fairness.intersections[0] lists race more than once. List each column once.'));
    expect(() => plan('model:\n  features: [age]\n  class_labels: [no, yes]\ndata:\n  test: t.csv\n  target: y\n  score_column: s\n  protected_attributes: [race]\n')).toThrow(
      new ConfigError('a.yaml: model.features, model.class_labels apply to a model file, and this audit reads its scores from data.score_column (s). Remove the model block.'),
    );
    expect(() => plan(`${minimal}  score_column: s\n`)).toThrow(new ConfigError('a.yaml: model.path (m.onnx) and data.score_column (s) both give the scores. Use one: remove data.score_column to audit the model, or the model block for a score-only audit.'));
    expect(() => plan(`${minimal}bootstrap:\n  resamples: 10\n`)).toThrow(new ConfigError("a.yaml: bootstrap.resamples: 10 draws cannot place an interval's tails (the ECE interval needs 20 at least, and was left out without a word). Use 0 to leave the bootstrap intervals out, or 20 or more (1000 by default)."));
    expect(() => plan(`${minimal}drift:\n  psi_minor: 0.5\n  psi_major: 0.1\n`)).toThrow(new ConfigError('a.yaml: drift.psi_minor (0.5) must be below drift.psi_major (0.1): a PSI is minor drift from psi_minor and major from psi_major. Set psi_minor below psi_major.'));
    expect(() => plan(`${minimal}drift:\n  psi_major: 0.0001\n`)).toThrow(new ConfigError('a.yaml: drift.psi_minor (0.1) must be below drift.psi_major (0.0001): a PSI is minor drift from psi_minor and major from psi_major. Set psi_minor below psi_major (psi_minor defaults to 0.1).'));
    expect(() => plan(`${minimal}fairness:\n  ll144: {sex: sex, race_ethnicity: sex}\n`)).toThrow(new ConfigError('a.yaml: fairness.ll144 names sex as both sex and race_ethnicity. Name the column of each.'));
  });

  it('names what an audit is missing, and what --strict requires', () => {
    expect(() => planAudit(parseAuditConfig('data:\n  test: t.csv\n', 'a.yaml'), 'a.yaml')).toThrow(
      new ConfigError('a.yaml: missing data.protected_attributes, model.path (or data.score_column). An audit needs a test file, protected attributes and a model or score column (and a target, unless it audits without labels).'),
    );
    expect(() => planAudit(parseAuditConfig(minimal, 'a.yaml'), 'a.yaml', true)).toThrow(
      new ConfigError('a.yaml: --strict needs an explicit random_seed (--seed) and data.positive_label (--positive-label), so the audit cannot depend on defaults.'),
    );
  });
});

describe('settings of a section turned off', () => {
  it('are refused by the plan (so by validate-config, the app and a run alike), naming the profile that turned it off', () => {
    const base = 'model:\n  path: m.onnx\ndata:\n  test: t.csv\n  target: y\n  protected_attributes: [g]\n';
    expect(() => planAudit(parseAuditConfig(`${base}audit_profile: quickstart\nrobustness:\n  shift: 0.3\n  proxies: {g: zip}\n`, 'q.yaml'), 'q.yaml')).toThrow(
      new ConfigError('q.yaml: robustness.shift is set, but robustness is not measured: turned off (robustness.enabled: false, by the config or its audit_profile quickstart). Remove it, or turn robustness on.'),
    );
    expect(() => planAudit(parseAuditConfig(`${base}recourse:\n  enabled: false\n  max_rows: 10\n`, 'r.yaml'), 'r.yaml')).toThrow(
      new ConfigError('r.yaml: recourse.max_rows is set, but no recourse is searched: turned off (recourse.enabled: false). Remove it, or turn recourse on.'),
    );
    // Proxies are read by recourse too: they stay.
    expect(planAudit(parseAuditConfig(`${base}robustness:\n  enabled: false\n  proxies: {g: zip}\n`, 'p.yaml'), 'p.yaml').missingSections.robustness).toBe('turned off (robustness.enabled: false)');
  });
});

describe('safe YAML', () => {
  it('refuses an alias bomb', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`)].join('\n');
    expect(() => parseYaml(bomb, 'bomb.yaml')).toThrow(ConfigError);
  });

  it('keeps __proto__ as data and pollutes nothing', () => {
    const value = parseYaml('__proto__:\n  polluted: true\nconstructor: x\n', 'p.yaml') as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(() => parseAuditConfig('__proto__:\n  polluted: true\n', 'p.yaml')).toThrow(/^p\.yaml: __proto__: unknown key/);
  });

  it('refuses custom tags', () => {
    expect(() => parseYaml('a: !!js/function "x"\n', 't.yaml')).toThrow(ConfigError);
  });

  it('refuses a 10 MB file before parsing it', () => {
    const big = `policy_name: p\nnotes: "${'x'.repeat(10 * 1024 * 1024)}"\n`;
    expect(() => parseYaml(big, 'big.yaml')).toThrow(new ConfigError('big.yaml: 10.0 MB is too large for a config or policy file (limit 1 MB).'));
  });
});

describe('published JSON Schemas', () => {
  it('are up to date with the specs (run npx tsx scripts/write-schemas.ts)', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { SCHEMAS, schemaText } = await import('../../scripts/write-schemas');
    const { projectRoot } = await import('../support/fixtures');
    for (const [file, { title, spec }] of Object.entries(SCHEMAS)) expect(readFileSync(join(projectRoot, 'schema', file), 'utf8')).toBe(schemaText(title, spec));
  });
});
