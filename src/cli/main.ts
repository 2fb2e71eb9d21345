/**
 * The `plumbline` command line: a thin Node host around the core. Exit codes:
 * 0 audited (no error gate failed), 1 audited and an error gate failed, 2 could not audit.
 */
import { stderr, stdout, withIo, type CliIo } from './io.ts';
import './parquet-node.ts';
import { isPlumblineError, TOOL_VERSION } from '../core/index.ts';
import { auditCommand } from './audit-command.ts';
import { explainCommand } from './explain-command.ts';
import { diffCommand, inspectCommand, inspectModelCommand, listCommand, validateConfigCommand, verifyPackCommand } from './commands.ts';
import { EXIT, registryModule, UsageError } from './shared.ts';

export { EXIT };

const USAGE = `Usage: plumbline <command> [options]

Commands:
  audit              audit a model (or a score column) on a CSV; see plumbline audit --help
  explain            SHAP values of rows (TreeSHAP, path-dependent TreeSHAP, exact KernelSHAP)
  validate-config F  check an audit config or a policy file
  inspect R          summarise a result JSON
  inspect-model M    a model's signature: inputs (with the categories each knows), outputs, class labels, how the score is read (--json)
  check-data         check a data file without a model (missing values, groups, proxies, personal data, freshness, drift), gated by a policy; see plumbline check-data --help
  diff A B           metric and gate differences between two results with the change's interval; --policy-gates P gates B against A (exit 1 on FAIL; --strict: unevaluated error gates fail)
  verify-pack P      check an evidence pack against its SHA256SUMS (exit 1 if anything changed)
  list metrics|profiles|explainers
  registry           the audit registry (a file or a postgresql:// URL): init, list, verify, export, import, show, summary; see plumbline registry --help

Exit codes: 0 audited (no error gate failed), 1 an error gate failed, 2 could not audit.`;

/**
 * Runs the command with its arguments and returns the exit code. Output goes to the
 * process's stdout and stderr, or to `io` (the tests run the CLI in-process this way).
 */
export async function main(argv: string[], io?: CliIo): Promise<number> {
  return withIo(io, () => run(argv));
}

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const verbose = rest.includes('--verbose');
  try {
    switch (command) {
      case '--version':
        stdout.write(`plumbline ${TOOL_VERSION}\n`);
        return EXIT.ok;
      case undefined:
      case '-h':
      case '--help':
        stdout.write(`${USAGE}\n`);
        return command === undefined ? EXIT.cannotAudit : EXIT.ok;
      case 'audit':
        return await auditCommand(rest);
      case 'explain':
        return await explainCommand(rest);
      case 'validate-config':
        return await validateConfigCommand(rest);
      case 'inspect':
        return await inspectCommand(rest);
      case 'inspect-model':
        return await inspectModelCommand(rest);
      case 'diff':
        return await diffCommand(rest);
      case 'check-data':
        return await (await import('./check-data-command.ts')).checkDataCommand(rest);
      case 'verify-pack':
        return await verifyPackCommand(rest);
      case 'list':
        return listCommand(rest);
      case 'registry':
        // Loaded only here: its SQLite driver (better-sqlite3) is an optional dependency.
        return await (await registryModule()).registryCommand(rest);
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}. The commands are: audit, explain, check-data, validate-config, inspect, inspect-model, diff, verify-pack, list, registry.`);
    }
  } catch (error) {
    const known = isPlumblineError(error) || error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    const message = error instanceof Error ? error.message : String(error);
    stderr.write(`plumbline: ${known ? '' : 'internal error: '}${message.replace(/\s*\n\s*/g, ' ')}${known || verbose ? '' : ' (run with --verbose for details)'}\n`);
    if (verbose && error instanceof Error && error.stack) stderr.write(`${error.stack}\n`);
    return EXIT.cannotAudit;
  }
}
