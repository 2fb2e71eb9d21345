/**
 * The `registry:` block of an audit config, as the MLOps guides write it:
 *
 *   registry:
 *     enabled: true
 *     database: postgresql://ci@db.internal/model_registry   # or a registry file's path
 *     auto_submit: true                                       # every audit with this config is appended
 *     metadata: {team: "{{ TEAM_NAME }}", owner: "${MODEL_OWNER}"}
 *
 * `{{ NAME }}` and `${NAME}` in `database` and in the metadata values are taken from the
 * environment; an unset variable is an error naming it (never stored as its own text).
 */
import { ConfigError, quote } from '../base/errors';
import type { AuditConfig } from './audit-config';

/** What a config's registry block asks of an audit. */
export interface RegistrySubmission {
  /** The registry: a file path or a postgresql:// URL, variables expanded. */
  database: string;
  /** Labels added to the entry's metadata (over the config's own `metadata`), variables expanded. */
  metadata: Record<string, string | number | boolean>;
}

/** The labels a registry entry keeps, each in a column of its own. */
export const ENTRY_LABELS = ['model_id', 'model_version', 'team', 'owner'] as const;

const VARIABLE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** `{{ NAME }}` and `${NAME}` in `text` replaced from `env`; an unset one is an error naming the key and the variable. */
export function expandVariables(text: string, env: Record<string, string | undefined>, where: string): string {
  return text.replace(VARIABLE, (_, a: string | undefined, b: string | undefined) => {
    const name = (a ?? b)!;
    const value = env[name];
    if (value === undefined) throw new ConfigError(`${where} uses the environment variable ${name}, which is not set. Set ${name} (for example in the CI job's env:), or write the value into the config.`);
    return value;
  });
}

/**
 * Refuses a password written into `registry.database` (a postgresql:// URL's `user:password@`
 * or `?password=`): the config is kept as written in the evidence pack, and with it in a
 * registry's kept reports. A password given by a variable (`${PGPASS}`, taken from the
 * environment when the audit runs) is not written in the file, and passes.
 */
export function refuseWrittenPassword(config: AuditConfig, fileName: string): void {
  const url = config.registry?.database;
  if (typeof url !== 'string' || !writtenPassword(url)) return;
  throw new ConfigError(
    `${fileName}: registry.database writes a password into the config (${withoutPassword(url)}), which is kept as written in the evidence pack and in the registry's kept reports. Give the password in PGPASSWORD or ~/.pgpass, or as an environment variable in the URL (postgresql://user:\${PGPASS}@host/db).`,
  );
}

/** Whether a postgresql:// URL writes a password (`user:password@`, `?password=`) other than by a variable. */
function writtenPassword(url: string): boolean {
  const parts = urlParts(url);
  if (!parts) return false;
  const variable = (text: string) => text.replace(VARIABLE, '') === '';
  const decoded = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text; // a malformed escape is written as it stands
    }
  };
  const inQuery = /[?&]password=([^&]*)/i.exec(url);
  return Boolean(parts.password && !variable(decoded(parts.password))) || Boolean(inQuery && inQuery[1] !== '' && !variable(decoded(inQuery[1])));
}

/**
 * A postgresql:// URL's scheme, user part and the rest after it (null for another kind of
 * registry). The user part ends at the last @ before the path, or — a password written raw
 * may hold a / — at the first @ before any query; an @ in the query (application_name=audit@ci)
 * is the query's.
 */
function urlParts(url: string): { scheme: string; user: string; password: string | null; host: string } | null {
  const scheme = /^postgres(ql)?:\/\//i.exec(url)?.[0];
  if (!scheme) return null;
  const rest = url.slice(scheme.length);
  const authority = rest.split('/')[0];
  const at = authority.includes('@') ? authority.lastIndexOf('@') : rest.split('?')[0].indexOf('@');
  const userinfo = at >= 0 ? rest.slice(0, at) : '';
  const colon = userinfo.indexOf(':');
  return { scheme, user: colon >= 0 ? userinfo.slice(0, colon) : userinfo, password: colon >= 0 ? userinfo.slice(colon + 1) : null, host: at >= 0 ? rest.slice(at + 1) : rest };
}

/** A registry's URL as messages and the app show it: any password written in it as "…". */
export function withoutPassword(url: string): string {
  const parts = urlParts(url);
  if (!parts) return url;
  const shown = parts.password !== null ? `${parts.scheme}${parts.user}:…@${parts.host}` : url;
  return shown.replace(/([?&]password=)[^&]*/i, '$1…');
}

/**
 * What a config's registry block must hold whatever the environment: a database when it
 * submits, and only the labels an entry keeps. Checked by the plan (so the app and
 * validate-config refuse what the CLI's append would).
 */
export function checkRegistryBlock(config: AuditConfig, fileName: string): void {
  const block = config.registry;
  if (!block || block.enabled === false || block.auto_submit === false) return;
  if (block.database === undefined) throw new ConfigError(`${fileName}: the registry block (enabled, auto_submit) appends every audit and its metadata to a registry, but registry.database is not set. Set registry.database to a registry file or a postgresql:// URL, or set registry.auto_submit: false.`);
  // An entry keeps these labels in columns of its own; another (a cost centre) would be asked for, expanded and kept nowhere.
  const other = Object.keys(block.metadata ?? {}).filter((key) => !(ENTRY_LABELS as readonly string[]).includes(key));
  if (other.length) {
    throw new ConfigError(`${fileName}: registry.metadata ${other.map((key) => quote(key)).join(', ')}: a registry entry keeps the labels ${ENTRY_LABELS.join(', ')} and no other, so ${other.length === 1 ? 'this one' : 'these'} would be kept nowhere. Remove ${other.length === 1 ? 'it' : 'them'}, or put ${other.length === 1 ? 'it' : 'them'} in the config's metadata (the model card lists every label).`);
  }
}

/**
 * The append a config's registry block asks for: null when there is no block, it is
 * disabled, or `auto_submit` is false. A block that submits without a database is an error.
 */
export function registrySubmission(config: AuditConfig, env: Record<string, string | undefined>, fileName: string): RegistrySubmission | null {
  const block = config.registry;
  if (!block || block.enabled === false || block.auto_submit === false) return null;
  checkRegistryBlock(config, fileName);
  const metadata: RegistrySubmission['metadata'] = {};
  for (const [key, value] of Object.entries(block.metadata ?? {})) metadata[key] = typeof value === 'string' ? expandVariables(value, env, `${fileName}: registry.metadata.${key}`) : value;
  return { database: expandVariables(block.database!, env, `${fileName}: registry.database`), metadata };
}
