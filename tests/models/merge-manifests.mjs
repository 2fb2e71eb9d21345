#!/usr/bin/env node
// Writes tests/models/models.json: the entries of manifest.onnx.json (build_onnx.py) and
// manifest.trees.json (build_trees.py), in that order, with the exact errors of the
// refusal entries kept from the last models.json (the engineers write those by hand).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const read = (name) => JSON.parse(readFileSync(join(here, name), 'utf8'));
const previous = existsSync(join(here, 'models.json')) ? new Map(read('models.json').map((e) => [e.id, e])) : new Map();
const entries = [...read('manifest.onnx.json'), ...read('manifest.trees.json')].map((entry) => {
  const error = previous.get(entry.id)?.expected?.error;
  return 'refuse' in entry.expected && error ? { ...entry, expected: { ...entry.expected, error } } : entry;
});
writeFileSync(join(here, 'models.json'), `${JSON.stringify(entries, null, 2)}\n`);
console.log(`models.json: ${entries.length} entries`);
