/**
 * `plumbline registry <command>`: the usage text, the arguments, and each subcommand
 * (init, list, verify, export, import, show, summary) on an opened registry.
 */
import { parseArgs } from 'node:util';
import { stdout } from '../io.ts';
import { entryProblem, formatCheckpoint, loadRegistrySummary, parseCheckpoint, parseRegistryDate, refuseTamperedRegistry, refuseUntrustedEntry, registryCsv, type RegistryFilter, type VerifyReport } from '../../core/index.ts';
import { EXIT, UsageError } from '../shared.ts';
import { allStoredEntries, exportSqlite } from './export-sqlite.ts';
import { latestByModel, listTable, table } from './list-table.ts';
import { registryLabel, withRegistry } from './open-store.ts';
import { writeOutputFile } from './output.ts';

const USAGE = `Usage: plumbline registry <command> REGISTRY [options]

The audit registry: every audit, hash-chained (tamper-evident), in one SQLite file or in a
PostgreSQL database shared by a team. REGISTRY is a file path or a URL
postgresql://USER@HOST:PORT/DATABASE (password from PGPASSWORD or ~/.pgpass; --registry R
may stand for the positional argument). Both hold the same entries, chain and Merkle root.

Commands (FILE below may be either):
  init FILE                     create a registry (an existing one is left as is, upgraded if old);
                                --database URL is the same as the positional argument
  list FILE                     audits in order; --failed-gates, --model ID, --since DATE, --json;
                                --latest: one row per model (team, last audit, status
                                PASS/REVIEW/BLOCKED, failed gates, waivers in use); verified
                                first: entries verify names are marked TAMPERED (exit 1);
                                --no-verify lists without (faster on a large registry)
  verify FILE                   recompute every hash and check the append-only guard; exit 1
                                naming the first altered, removed or reordered entry;
                                --root N:ROOT also checks a checkpoint an append printed; --json
  export FILE --csv             one row per audit (key metrics, failed gates, hashes); --output F
  show FILE N                   the result JSON of entry N; --file NAME writes a kept file
                                (report PDF, evidence pack) to --output instead
  summary FILE --month YYYY-MM  monthly summary for management; --output F.md or F.pdf
  export FILE --sqlite OUT      a registry file with the same entries and Merkle root (the app's
                                Portfolio page opens it); OUT must not exist yet
  import SOURCE --registry R    verify the registry file (or database) SOURCE, then append its
                                entries to R in one transaction; entries R already holds at the
                                same place are skipped

list, show, export, import and summary verify the registry first (against --root N:ROOT too when given) and
refuse a tampered entry or registry.

Append an audit with: plumbline audit ... --registry FILE|URL [--registry-keep-report]`;

/** The registry a command works on: the positional argument, or `--registry` (`--database`) standing for it. */
function registryArgument(positionals: string[], command: string, named: string | undefined): { target: string; rest: string[] } {
  if (named !== undefined) return { target: named, rest: positionals };
  if (!positionals[0]) throw new UsageError(`plumbline registry ${command} needs the registry: plumbline registry ${command} FILE (or a postgresql:// URL).`);
  return { target: positionals[0], rest: positionals.slice(1) };
}

/** The verify report as `registry verify` prints it. */
function verifyLines(shown: string, report: VerifyReport, checkpoint: { entries: number | null } | undefined): string {
  const lines = [`${shown}: ${report.entries} entries, schema version ${report.schema_version}`, `merkle root ${report.merkle_root}`, `checkpoint ${report.checkpoint}`];
  if (report.problems.length) lines.push(`TAMPERED: ${report.problems[0].message}`, ...report.problems.slice(1).map((p) => `  also: ${p.message}`));
  else lines.push(`ok: every entry matches its hash, the chain is whole and the append-only guard is in place${checkpoint ? `; entries 1–${checkpoint.entries ?? report.entries} are those the checkpoint recorded` : ''}.`);
  return `${lines.join('\n')}\n`;
}

/** Runs `plumbline registry …` and returns the exit code. */
export async function registryCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      'failed-gates': { type: 'boolean' },
      latest: { type: 'boolean' },
      model: { type: 'string' },
      since: { type: 'string' },
      json: { type: 'boolean' },
      root: { type: 'string' },
      csv: { type: 'boolean' },
      sqlite: { type: 'string' },
      output: { type: 'string', short: 'o' },
      file: { type: 'string' },
      month: { type: 'string' },
      registry: { type: 'string' },
      database: { type: 'string' },
      verbose: { type: 'boolean' },
      'no-verify': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help || sub === undefined || sub === '--help' || sub === '-h') {
    stdout.write(`${USAGE}\n`);
    return sub === undefined ? EXIT.cannotAudit : EXIT.ok;
  }
  if (values.registry !== undefined && values.database !== undefined && values.registry !== values.database) throw new UsageError('give the registry once: --registry and --database name the same thing.');
  const named = values.registry ?? values.database;
  const checkpoint = values.root === undefined ? undefined : parseCheckpoint(values.root, '--root');
  switch (sub) {
    case 'init': {
      const { target } = registryArgument(positionals, 'init', named);
      return withRegistry(
        target,
        async ({ info }) => {
          const what = info.migrated[0] === 1 ? 'created an empty registry' : info.migrated.length ? `upgraded the registry to schema version ${info.schema_version} (${info.entries} entries kept)` : `already a registry (${info.entries} entries, schema version ${info.schema_version}); left as is`;
          stdout.write(`${registryLabel(target)}: ${what}.\n`);
          return EXIT.ok;
        },
        { create: true },
      );
    }
    case 'list': {
      const { target } = registryArgument(positionals, 'list', named);
      const filter: RegistryFilter = { failedGates: values['failed-gates'], model: values.model, since: values.since === undefined ? undefined : parseRegistryDate(values.since, '--since') };
      if (values['no-verify'] && checkpoint) throw new UsageError('--root checks a checkpoint by verifying the registry: leave out --no-verify.');
      return withRegistry(target, async (store) => {
        // Verified first, as the app's Portfolio page does: an entry verify names is marked, never listed as a clean audit.
        const { rows, report } = values['no-verify'] ? { rows: await store.list(filter), report: null } : await store.readVerified({ checkpoint }, async (report, reader) => ({ rows: await reader.list(filter), report }));
        const problemOf = (seq: number) => (report ? entryProblem(report, seq) : null);
        const footer = report ? (report.ok ? '' : `\n${registryLabel(target)} failed verification: TAMPERED: ${report.problems[0].message}${report.problems.length > 1 ? ` (and ${report.problems.length - 1} more problem${report.problems.length > 2 ? 's' : ''})` : ''}; the entries it makes untrustworthy are marked TAMPERED. plumbline registry verify ${registryLabel(target)} lists every problem.\n`) : `\nnot verified (--no-verify): plumbline registry verify ${registryLabel(target)} checks every entry's hash.\n`;
        if (values.latest) {
          const models = latestByModel(rows).map((m) => {
            const problem = problemOf(m.seq);
            return problem ? { ...m, status: 'TAMPERED', failed_gates: null, waivers: [], tampered: problem.message } : m;
          });
          stdout.write(values.json ? `${JSON.stringify(models, null, 2)}\n` : models.length ? `${table(models.map((m) => [m.model_id, m.team ?? '–', m.last_audit, m.status, m.failed_gates === null ? '–' : String(m.failed_gates), m.waivers.map((w) => `${w.gate} (${w.approved_by}, until ${w.expires})`).join(', ') || '–']), ['model', 'team', 'last audit (UTC)', 'status', 'failed gates', 'waivers in use'])}\n${footer}` : `no audits match.\n${footer}`);
        } else {
          const marked = rows.map((row) => {
            const problem = problemOf(row.seq);
            return problem ? { ...row, tampered: problem.message } : row;
          });
          stdout.write(values.json ? `${JSON.stringify(marked, null, 2)}\n` : rows.length ? `${listTable(marked)}\n${footer}` : `no audits match.\n${footer}`);
        }
        return report && !report.ok ? EXIT.gateFailed : EXIT.ok;
      });
    }
    case 'verify': {
      const { target } = registryArgument(positionals, 'verify', named);
      return withRegistry(target, async (store) => {
        const report = await store.readVerified({ checkpoint }, (r) => r);
        if (values.json) stdout.write(`${JSON.stringify({ ...report, expected_checkpoint: values.root ?? null }, null, 2)}\n`);
        else stdout.write(verifyLines(registryLabel(target), report, checkpoint));
        return report.ok ? EXIT.ok : EXIT.gateFailed;
      });
    }
    case 'export': {
      const { target } = registryArgument(positionals, 'export', named);
      if (values.sqlite !== undefined) {
        return withRegistry(target, async (store) => {
          const copied = await exportSqlite(store, checkpoint, values.sqlite!);
          stdout.write(`${values.sqlite}: ${copied.entries} entries of ${registryLabel(target)}, verified and copied with their hashes; merkle root ${copied.merkle_root}\n`);
          return EXIT.ok;
        });
      }
      if (!values.csv && !values.json) throw new UsageError('plumbline registry export needs a format: --csv (or --json).');
      const filter = { failedGates: values['failed-gates'], model: values.model, since: values.since === undefined ? undefined : parseRegistryDate(values.since, '--since') };
      return withRegistry(target, async (store) => {
        const rows = await store.readVerified({ checkpoint }, (report, reader) => {
          refuseTamperedRegistry(store.name, report, values.csv ? 'CSV' : 'JSON export');
          return reader.list(filter);
        });
        const text = values.csv ? registryCsv(rows) : `${JSON.stringify(rows, null, 2)}\n`;
        if (values.output) await writeOutputFile(values.output, text);
        else stdout.write(text);
        return EXIT.ok;
      });
    }
    case 'import': {
      const source = positionals[0];
      if (!source || !named) throw new UsageError('plumbline registry import needs the registry to read and the one to append to: plumbline registry import FILE --registry postgresql://USER@HOST:PORT/DATABASE.');
      const entries = await withRegistry(source, (from) =>
        from.readVerified({ checkpoint }, (report, reader) => {
          refuseTamperedRegistry(from.name, report, 'import');
          return allStoredEntries(reader);
        }),
      );
      return withRegistry(named, async (store) => {
        const done = await store.appendStored(registryLabel(source), entries);
        const text = formatCheckpoint(done.checkpoint);
        stdout.write(`${registryLabel(named)}: appended ${done.appended} entr${done.appended === 1 ? 'y' : 'ies'} of ${registryLabel(source)}${done.skipped ? ` (${done.skipped} it already held were skipped)` : ''}; ${done.checkpoint.entries} entries now.\nregistry checkpoint ${text}: record it outside the registry; plumbline registry verify ${registryLabel(named)} --root ${text} proves entries 1–${done.checkpoint.entries} later.\n`);
        return EXIT.ok;
      });
    }
    case 'show': {
      const { target, rest: more } = registryArgument(positionals, 'show', named);
      const seq = Number(more[0]);
      if (!Number.isInteger(seq) || seq < 1) throw new UsageError(`plumbline registry show needs an entry number (see plumbline registry list ${registryLabel(target)}), got ${JSON.stringify(more[0] ?? '')}.`);
      const file = values.file;
      if (file && !values.output) throw new UsageError('--file writes a kept file: give --output FILE too.');
      return withRegistry(target, async (store) => {
        const out = await store.readVerified({ checkpoint }, async (report, reader) => {
          refuseUntrustedEntry(store.name, report, seq);
          return file ? reader.entryBlob(seq, file) : `${JSON.stringify(await reader.entryResult(seq), null, 2)}\n`;
        });
        if (values.output) await writeOutputFile(values.output, out);
        else stdout.write(out);
        return EXIT.ok;
      });
    }
    case 'summary': {
      const { target } = registryArgument(positionals, 'summary', named);
      const month = values.month;
      if (!month) throw new UsageError('plumbline registry summary needs --month YYYY-MM.');
      const { monthlySummaryMarkdown, monthlySummaryPdf, monthRange } = await loadRegistrySummary();
      monthRange(month);
      return withRegistry(target, async (store) => {
        const rows = await store.readVerified({ checkpoint }, (report, reader) => {
          refuseTamperedRegistry(store.name, report, 'monthly summary');
          return reader.list();
        });
        const output = values.output;
        if (output?.endsWith('.pdf')) {
          const epoch = process.env.SOURCE_DATE_EPOCH;
          const createdAt = new Date(epoch && /^\d+$/.test(epoch) ? Number(epoch) * 1000 : Date.now()).toISOString();
          await writeOutputFile(output, monthlySummaryPdf(rows, month, store.name, createdAt));
        } else {
          const markdown = monthlySummaryMarkdown(rows, month, store.name);
          if (output) await writeOutputFile(output, markdown);
          else stdout.write(markdown);
        }
        return EXIT.ok;
      });
    }
    default:
      throw new UsageError(`unknown registry command ${JSON.stringify(sub)}. The registry commands are: init, list, verify, export, import, show, summary.`);
  }
}
