/**
 * Opening the registry a command names, a PostgreSQL URL or a file path, and how messages
 * name it.
 */
import { basename } from 'node:path';
import type { RegistryStore } from '../../core/index.ts';
import { openPostgresRegistry } from './postgres/open.ts';
import { isPostgresUrl, redactUrl } from './postgres/url.ts';
import { SqliteRegistry, openRegistryFile } from './sqlite-store.ts';

/** How messages and output lines name a registry: the path as given, or the URL without its password. */
export function registryLabel(target: string): string {
  return isPostgresUrl(target) ? redactUrl(target) : target;
}

/**
 * Opens the registry a command names: a PostgreSQL URL or a file path (created when
 * `create` and missing; an old file's schema is brought up to date).
 */
export async function openRegistryStore(target: string, options: { create?: boolean } = {}): Promise<RegistryStore> {
  if (isPostgresUrl(target)) return openPostgresRegistry(target, options);
  const { db, info } = await openRegistryFile(target, options);
  return new SqliteRegistry(db, basename(target), info);
}

/** Runs a command on an open registry. */
export async function withRegistry<T>(target: string, body: (store: RegistryStore) => Promise<T>, options: { create?: boolean } = {}): Promise<T> {
  const store = await openRegistryStore(target, options);
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}
