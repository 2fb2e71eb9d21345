import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEPENDENCY_VERSIONS } from '../../src/core/outputs/dependencies';
import { projectRoot } from '../support/fixtures';

describe('the dependency versions every manifest records', () => {
  it('are the installed ones (edit src/core/outputs/dependencies.ts after an upgrade)', () => {
    for (const [name, version] of Object.entries(DEPENDENCY_VERSIONS)) {
      expect(JSON.parse(readFileSync(join(projectRoot, 'node_modules', name, 'package.json'), 'utf8')).version, name).toBe(version);
    }
  });
});
