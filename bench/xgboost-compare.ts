/**
 * Writes the treeshap-path bench model (XGBoost JSON) and its 1,000 rows to bench/out, with
 * this project's path-dependent TreeSHAP values, for bench/xgboost_compare.py: xgboost's own
 * pred_contribs on the same model, timed on one thread and compared value by value.
 * Optional (needs Python with xgboost); nothing in the tests depends on it.
 *   npx tsx bench/xgboost-compare.ts && python3 bench/xgboost_compare.py
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pathDependentTreeShap } from '../src/core/analyses/explain/treeshap';
import { toXgboostJson } from '../src/core/model/export';
import { syntheticAudit, syntheticEnsemble } from './synthetic';

const out = join(dirname(fileURLToPath(import.meta.url)), 'out');
mkdirSync(out, { recursive: true });
const ensemble = syntheticEnsemble(300, 6, 14);
const { table } = syntheticAudit(1000, 2, 14);
const columns = ensemble.featureNames.map((n) => (table.columns.find((c) => c.name === n) as { values: Float64Array }).values);
const rows = Array.from({ length: table.rowCount }, (_, i) => Float64Array.from(columns, (c) => c[i]));
writeFileSync(join(out, 'treeshap-model.json'), toXgboostJson(ensemble));
writeFileSync(join(out, 'treeshap-rows.csv'), rows.map((r) => Array.from(r, (v) => (Number.isNaN(v) ? 'nan' : String(v))).join(',')).join('\n'));
const start = performance.now();
const shap = pathDependentTreeShap(ensemble, rows);
const ms = performance.now() - start;
writeFileSync(join(out, 'treeshap-values.json'), JSON.stringify({ ms, values: shap.values.map((v) => Array.from(v)) }));
console.log(`plumbline path-dependent TreeSHAP: ${rows.length} rows in ${ms.toFixed(0)} ms (first run, 1 thread)`);
