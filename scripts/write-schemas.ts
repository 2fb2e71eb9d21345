/** Writes the published JSON Schemas (schema/*.schema.json) from the core's specs. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AUDIT_CONFIG_SPEC, POLICY_SPEC, toJsonSchema } from '../src/core/index.ts';

export const SCHEMAS = {
  'audit-config.schema.json': { title: 'Plumbline audit config', spec: AUDIT_CONFIG_SPEC },
  'policy.schema.json': { title: 'Plumbline policy gates', spec: POLICY_SPEC },
};

/** The schema file's text. */
export function schemaText(title: string, spec: typeof AUDIT_CONFIG_SPEC): string {
  return `${JSON.stringify({ $schema: 'https://json-schema.org/draft/2020-12/schema', title, ...toJsonSchema(spec) }, null, 2)}\n`;
}

if (process.argv[1]?.endsWith('write-schemas.ts')) {
  for (const [file, { title, spec }] of Object.entries(SCHEMAS)) writeFileSync(join(import.meta.dirname, '..', 'schema', file), schemaText(title, spec));
}
