import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli-in-process';
import { parseAuditConfig } from '../../src/core/config/audit-config';
import { expandVariables, registrySubmission } from '../../src/core/config/registry-block';
import { planAudit } from '../../src/core/config/plan';
import { fixture } from '../support/fixtures';

// The `registry:` block of the MLOps guides: every audit with the config is appended, with
// the team and other labels taken from the environment.
const work = mkdtempSync(join(tmpdir(), 'plumbline-registry-block-'));

/** The command in this process, in the work folder. */
function plumbline(args: string[], env: Record<string, string> = {}) {
  return runCli(args, { cwd: work, env });
}

const config = (registry: string) =>
  `data:\n  test: ${fixture('compas/test.csv')}\n  target: two_year_recid\n  protected_attributes: [race, sex]\n  score_column: decile_score\nthreshold: 5\nbootstrap: {resamples: 0}\nmetadata:\n  model_id: compas-deciles\n  team: placeholder\n${registry}`;

describe('the registry: config block', () => {
  it('expands {{ NAME }} and ${NAME} from the environment, and names an unset one', async () => {
    expect(expandVariables('{{ TEAM_NAME }}/${CC}/{{X}}', { TEAM_NAME: 'risk', CC: '42', X: 'x' }, 'where')).toBe('risk/42/x');
    expect(() => expandVariables('{{ TEAM_NAME }}', {}, 'audit.yaml: registry.metadata.team')).toThrow(
      'audit.yaml: registry.metadata.team uses the environment variable TEAM_NAME, which is not set. Set TEAM_NAME (for example in the CI job\'s env:), or write the value into the config.',
    );
    const parsed = parseAuditConfig('registry:\n  enabled: true\n  auto_submit: false\n  database: x.db\n', 'audit.yaml');
    expect(registrySubmission(parsed, {}, 'audit.yaml')).toBeNull();
    expect(() => registrySubmission(parseAuditConfig('registry:\n  enabled: true\n', 'audit.yaml'), {}, 'audit.yaml')).toThrow(/registry\.database is not set/);
  });

  it('appends every audit run with the config to its database, with the team from the environment', async () => {
    expect((await plumbline(['registry', 'init', '--database', 'team.db'])).code).toBe(0);
    writeFileSync(join(work, 'audit.yaml'), config('registry:\n  enabled: true\n  database: team.db\n  auto_submit: true\n  metadata:\n    team: "{{ TEAM_NAME }}"\n    owner: "${MODEL_OWNER}"\n'));
    const unset = (await plumbline(['audit', '--config', 'audit.yaml', '--output', 'a.json']));
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('registry.metadata.team uses the environment variable TEAM_NAME, which is not set.');
    const run = (await plumbline(['audit', '--config', 'audit.yaml', '--output', 'a.json'], { TEAM_NAME: 'credit-risk', MODEL_OWNER: 'ana' }));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/appended entry 1/);
    const entries = JSON.parse((await plumbline(['registry', 'list', 'team.db', '--json'])).stdout);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ model_id: 'compas-deciles', team: 'credit-risk', owner: 'ana' });
    // A label no entry keeps is refused before the audit runs (a cost centre was required from the environment, then kept nowhere).
    writeFileSync(join(work, 'cc.yaml'), config('registry:\n  enabled: true\n  database: team.db\n  metadata:\n    team: risk\n    cost_centre: "${COST_CENTRE}"\n'));
    expect(await plumbline(['audit', '--config', 'cc.yaml', '--output', 'cc.json'], { COST_CENTRE: 'CC-7' })).toMatchObject({
      code: 2,
      stderr: 'plumbline: cc.yaml: registry.metadata "cost_centre": a registry entry keeps the labels model_id, model_version, team, owner and no other, so this one would be kept nowhere. Remove it, or put it in the config\'s metadata (the model card lists every label).\n',
    });
    expect(JSON.stringify(entries)).not.toContain('{{');
  }, 120_000);

  it('refuses a password written into registry.database, which the evidence pack would keep with the config (it did), and takes one from a variable', async () => {
    const refused = "uses.yaml: registry.database writes a password into the config (URL), which is kept as written in the evidence pack and in the registry's kept reports. Give the password in PGPASSWORD or ~/.pgpass, or as an environment variable in the URL (postgresql://user:${PGPASS}@host/db).";
    for (const [url, shown] of [
      ['postgresql://ci:Sup3rSecretPw@127.0.0.1:55432/reg', 'postgresql://ci:…@127.0.0.1:55432/reg'],
      ['postgres://db.internal/reg?user=ci&password=Sup3rSecretPw', 'postgres://db.internal/reg?user=ci&password=…'],
      // Written raw, a password may hold / or # (the URL cannot connect, but the pack keeps it); a malformed escape is no internal error.
      ['postgresql://ci:Sup3r/Secret#Pw@db/reg', 'postgresql://ci:…@db/reg'],
      ['postgresql://ci@db/reg?password=Sup3r%ZZ', 'postgresql://ci@db/reg?password=…'],
      ['postgresql://ci:Sup3r?Secret@db/reg', 'postgresql://ci:…@db/reg'],
      ['postgresql://ci@db/reg?password=#Sup3rSecret', 'postgresql://ci@db/reg?password=…'],
      ['postgresql://ci@db/reg?password=ab#Sup3r', 'postgresql://ci@db/reg?password=…'],
    ]) {
      writeFileSync(join(work, 'uses.yaml'), config(`registry:\n  enabled: false\n  database: ${url}\n`));
      const run = await plumbline(['audit', '--config', 'uses.yaml', '--output', 'out/report.pdf']);
      expect(run.code).toBe(2);
      expect(run.stderr).toBe(`plumbline: ${refused.replace('URL', shown)}\n`);
      expect(run.stderr).not.toContain('Sup3r');
    }
    // A variable in the password's place is not written in the file: the config is read (the audit then needs the server).
    const parsed = parseAuditConfig('data:\n  test: t.csv\n  target: y\n  protected_attributes: [g]\n  score_column: s\nregistry:\n  enabled: false\n  database: "postgresql://ci:${PGPASS}@db/reg"\n', 'audit.yaml');
    expect(() => planAudit(parsed, 'audit.yaml')).not.toThrow();
    // An @ in the query is the query's, not a user part with a password.
    const query = parseAuditConfig('data:\n  test: t.csv\n  target: y\n  protected_attributes: [g]\n  score_column: s\nregistry:\n  enabled: false\n  database: "postgresql://ci@db:5432/reg?application_name=audit@ci"\n', 'audit.yaml');
    expect(() => planAudit(query, 'audit.yaml')).not.toThrow();
  });
});
