/**
 * Naming a PostgreSQL registry: whether a `--registry` value is a URL, the URL as messages
 * show it (never with its password), the password from ~/.pgpass, and the connection
 * settings a URL gives.
 */
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { RegistryError } from '../../../core/index.ts';

/** Whether a `--registry` value is a PostgreSQL URL rather than a file path. */
export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//i.test(target);
}

/**
 * The URL as messages show it: without the password (and without any query parameter
 * that could hold one), e.g. `postgresql://ci@db.internal:5432/model_registry`.
 */
export function redactUrl(target: string): string {
  try {
    const url = new URL(target);
    url.password = '';
    for (const key of [...url.searchParams.keys()]) if (/pass|key|secret|token/i.test(key)) url.searchParams.delete(key);
    return url.toString();
  } catch {
    return target.replace(/:\/\/([^/@:]*):[^/@]*@/, '://$1@');
  }
}


/**
 * A password from a .pgpass file (PGPASSFILE or ~/.pgpass) in libpq's format: lines
 * `host:port:database:user:password`, `*` matching anything, `\` escaping `:` and `\`.
 * As libpq does, a file others may read is ignored.
 */
export function pgpassPassword(params: { host: string; port: number; database: string; user: string }, file = process.env.PGPASSFILE ?? join(homedir(), '.pgpass')): string | undefined {
  let text: string;
  try {
    const info = statSync(file);
    if (!info.isFile() || (info.mode & 0o077) !== 0) return undefined;
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  // A unix socket folder matches the host `localhost`, as in libpq.
  const host = params.host.startsWith('/') ? 'localhost' : params.host;
  const wanted = [host, String(params.port), params.database, params.user];
  for (const line of text.split(/\r?\n/)) {
    if (!line || line.startsWith('#')) continue;
    const fields: string[] = [''];
    for (let i = 0; i < line.length; i++) {
      if (line[i] === '\\' && i + 1 < line.length) fields[fields.length - 1] += line[++i];
      else if (line[i] === ':' && fields.length < 5) fields.push('');
      else fields[fields.length - 1] += line[i];
    }
    if (fields.length === 5 && wanted.every((value, k) => fields[k] === '*' || fields[k] === value)) return fields[4];
  }
  return undefined;
}

/** What the URL says, with the password kept apart (it goes only to the server). */
export interface Target {
  /** The URL without the password: the registry's name in every message. */
  name: string;
  config: pg.ClientConfig;
  password: string | undefined;
}

/** The connection settings of a PostgreSQL URL; the password kept apart, the name without it. */
export function parseTarget(target: string): Target {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new RegistryError(`${redactUrl(target)} is not a valid PostgreSQL URL: write it as postgresql://USER@HOST:PORT/DATABASE (the password in PGPASSWORD or ~/.pgpass rather than in the URL).`);
  }
  const query = url.searchParams;
  const decode = (text: string) => (text ? decodeURIComponent(text) : undefined);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1') || query.get('host') || undefined;
  const port = url.port || query.get('port') || undefined;
  const sslmode = query.get('sslmode');
  const ssl = sslmode === null ? undefined : sslmode === 'disable' ? false : sslmode === 'verify-ca' || sslmode === 'verify-full' ? true : { rejectUnauthorized: false };
  return {
    name: redactUrl(target),
    password: decode(url.password) ?? query.get('password') ?? undefined,
    config: {
      host,
      port: port === undefined ? undefined : Number(port),
      database: decode(url.pathname.replace(/^\//, '')),
      user: decode(url.username) ?? query.get('user') ?? undefined,
      ...(ssl === undefined ? {} : { ssl }),
      application_name: 'plumbline',
      connectionTimeoutMillis: 15_000,
      // A network that drops without a word would otherwise keep the chain head locked.
      keepAlive: true,
    },
  };
}
