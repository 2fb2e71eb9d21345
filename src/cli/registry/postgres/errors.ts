/**
 * The PostgreSQL driver's and server's errors as RegistryErrors: the registry's URL
 * (without its password), the problem and the fix.
 */
import { quote, REGISTRY_BUSY_SECONDS, RegistryError } from '../../../core/index.ts';
import type { Target } from './url.ts';

/** The registry's URL, the problem and the fix, for an error of the driver or the server. */
export function postgresError(target: Target, error: unknown): unknown {
  if (error instanceof RegistryError || !(error instanceof Error)) return error;
  const scrub = (text: string) => (target.password ? text.split(target.password).join('***') : text);
  const code = String((error as { code?: unknown }).code ?? '');
  const message = scrub(error.message);
  const where = `${target.config.host ?? process.env.PGHOST ?? 'localhost'}:${target.config.port ?? process.env.PGPORT ?? 5432}`;
  const user = target.config.user ?? process.env.PGUSER ?? 'the current user';
  const database = target.config.database ?? process.env.PGDATABASE ?? user;
  const name = target.name;
  switch (code) {
    case 'ECONNREFUSED':
      return new RegistryError(`cannot reach the PostgreSQL server of ${name}: nothing accepts connections at ${where}. Start the server, or correct the host and port in the URL, and run again.`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new RegistryError(`cannot reach the PostgreSQL server of ${name}: the host name ${quote(String(target.config.host))} is not known here. Correct the host in the URL (or check this machine's DNS) and run again.`);
    case 'ENOENT':
      return new RegistryError(`cannot reach the PostgreSQL server of ${name}: there is no server socket in ${target.config.host} for port ${target.config.port ?? 5432}. Start the server, or correct the host and port in the URL, and run again.`);
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new RegistryError(`cannot reach the PostgreSQL server of ${name}: ${where} did not answer (${code}). Check the host, the port and any firewall between here and the server, and run again.`);
    case '28P01':
      return new RegistryError(`the PostgreSQL server of ${name} refused the password of user ${quote(user)}. Give the right one in PGPASSWORD, ~/.pgpass or the URL, and run again.`);
    case '28000':
      return new RegistryError(`the PostgreSQL server of ${name} refused the connection of user ${quote(user)} to database ${quote(database)}: ${message}. Ask its administrator for access (pg_hba.conf) and run again.`);
    case '3D000':
      return new RegistryError(`${name}: the PostgreSQL server has no database ${quote(database)}. Create it (createdb ${database}), then plumbline registry init ${name}.`);
    case '42501':
      return new RegistryError(`${name}: user ${quote(user)} may not do this: PostgreSQL reports ${quote(message)}. Grant the user the rights on the database (or schema plumbline) it needs, or use the user that ran plumbline registry init.`);
    case '55P03':
      return new RegistryError(`${name}: the chain head stayed locked by another append for ${REGISTRY_BUSY_SECONDS} s. Nothing was appended; run again when it is done.`);
    case '57P01':
    case '57P02':
    case '57P03':
    case '53300':
      return new RegistryError(`the PostgreSQL server of ${name} is not taking work now: it reports ${quote(message)}. Run again once it is up; nothing was appended unless plumbline said so.`);
    case '53100':
      return new RegistryError(`cannot write ${name}: the database server's disk is full (${quote(message)}). Nothing was appended; free space on the server and run again.`);
  }
  if (/client password must be a|no password|password authentication/i.test(error.message)) {
    return new RegistryError(`the PostgreSQL server of ${name} asks user ${quote(user)} for a password and none was given. Set PGPASSWORD, add a line for it to ~/.pgpass, or give it in the URL, and run again.`);
  }
  if (/timeout|terminated|ECONNRESET|EPIPE/i.test(`${code} ${error.message}`)) {
    return new RegistryError(`the connection to the PostgreSQL server of ${name} was lost (${message}). The server rolls back an unfinished append: nothing was appended unless plumbline said so. Check the server and run again.`);
  }
  if (/^[0-9A-Z]{5}$/.test(code)) return new RegistryError(`${name}: PostgreSQL reports ${quote(message)} (SQLSTATE ${code}). Check the server's log; nothing was appended unless plumbline said so.`);
  if (target.password && error.message.includes(target.password)) return new RegistryError(`${name}: ${message}`);
  return error;
}

