/**
 * Connecting to a PostgreSQL registry: the client for a URL, its password asked for only
 * when the server wants one, and the registry opened (or created) on it.
 */
import pg from 'pg';
import type { RegistryStore } from '../../../core/index.ts';
import { PostgresRegistry } from './store.ts';
import { parseTarget, pgpassPassword } from './url.ts';

/**
 * Connects to the registry at a PostgreSQL URL and checks it is one (with `create`, an
 * empty database becomes one). Every failure is a RegistryError naming the URL without its
 * password, the problem and the fix.
 */
export async function openPostgresRegistry(url: string, options: { create?: boolean } = {}): Promise<RegistryStore> {
  const target = parseTarget(url);
  const fromUrl = target.password;
  const client: pg.Client = new pg.Client({
    ...target.config,
    // Asked only when the server wants a password: the URL's, else PGPASSWORD, else
    // ~/.pgpass. None is `undefined` (the driver's types say string): the driver then
    // fails with "client password must be a string", which postgresError explains.
    password: (async () => fromUrl || process.env.PGPASSWORD || pgpassPassword({ host: client.host, port: client.port, database: String(client.database), user: String(client.user) })) as () => Promise<string>,
  });
  // An idle connection the server drops must not end the process with an unhandled 'error'.
  client.on('error', () => undefined);
  const registry = new PostgresRegistry(client, target);
  try {
    await registry.guard(() => client.connect());
    await registry.open(options.create === true);
    return registry;
  } catch (error) {
    await registry.close();
    throw error;
  }
}
