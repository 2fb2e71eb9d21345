/**
 * The portfolio's registry in the app: opened in the worker (sql.js), kept in the
 * browser's origin-private file system (IndexedDB where OPFS is missing), exported and
 * imported as the same SQLite file the CLI writes. Opening verifies every entry; an entry
 * that fails is not opened as an audit, and a registry that fails gives no CSV or summary
 * (each would pass forged numbers off as a clean audit), as in the CLI.
 */
import { entryProblem, refuseTamperedRegistry, refuseUntrustedEntry, type AnyAuditResult, type AuditResult, type Manifest, type RegistryProblem } from '../core';
import type { RegistryView } from '../../workers/registry-host';
import { auditWorker, unwrap } from './worker-client';

const FILE = 'plumbline-registry.sqlite';

/** Saves the registry bytes in browser storage (this origin only, this machine only). */
async function keep(bytes: Uint8Array): Promise<void> {
  if (navigator.storage?.getDirectory) {
    const dir = await navigator.storage.getDirectory();
    const handle = await dir.getFileHandle(FILE, { create: true });
    const writable = await handle.createWritable();
    await writable.write(bytes as unknown as BufferSource);
    await writable.close();
    return;
  }
  await idb('readwrite', (store) => store.put(bytes, FILE));
}

/** The registry kept in browser storage, or null. */
async function kept(): Promise<Uint8Array | null> {
  if (navigator.storage?.getDirectory) {
    const dir = await navigator.storage.getDirectory();
    try {
      const file = await (await dir.getFileHandle(FILE)).getFile();
      return new Uint8Array(await file.arrayBuffer());
    } catch {
      return null;
    }
  }
  return ((await idb('readonly', (store) => store.get(FILE))) as Uint8Array | undefined) ?? null;
}

function idb(mode: IDBTransactionMode, request: (store: IDBObjectStore) => IDBRequest): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('plumbline', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('files');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const tx = open.result.transaction('files', mode);
      const req = request(tx.objectStore('files'));
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    };
  });
}

/** The open registry and what the portfolio page shows of it. */
export class RegistryStore {
  view = $state.raw<RegistryView | null>(null);
  error = $state<string | null>(null);
  busy = $state(false);
  /** Where the open registry is kept: browser storage, or only in memory until saved. */
  kept = $state(false);

  async #do(work: () => Promise<void>): Promise<void> {
    this.busy = true;
    this.error = null;
    try {
      await work();
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    } finally {
      this.busy = false;
    }
  }

  /** Opens the registry kept in this browser, if there is one. */
  restore(): Promise<void> {
    return this.#do(async () => {
      const bytes = await kept();
      if (bytes) {
        this.view = unwrap(await auditWorker().registryOpen(bytes, FILE));
        this.kept = true;
      }
    });
  }

  /** Opens a registry file (from the CLI, a shared drive…) and keeps it in this browser. */
  openFile(name: string, bytes: Uint8Array): Promise<void> {
    return this.#do(async () => {
      this.view = unwrap(await auditWorker().registryOpen(bytes, name));
      await this.#save();
    });
  }

  /** Starts an empty registry. */
  create(): Promise<void> {
    return this.#do(async () => {
      this.view = unwrap(await auditWorker().registryOpen(null, FILE));
      await this.#save();
    });
  }

  /** Appends an audit (a new registry is started when none is open). */
  append(result: AnyAuditResult, manifest: Manifest, metadata: Record<string, string>): Promise<void> {
    return this.#do(async () => {
      if (!this.view) this.view = unwrap(await auditWorker().registryOpen((await kept()) ?? null, FILE));
      // The registry stores a result of any task (appendEntry keeps each task's key metrics); the worker's signature names the binary one.
      this.view = unwrap(await auditWorker().registryAppend(result as AuditResult, manifest, metadata));
      await this.#save();
    });
  }

  /** Why entry `seq` cannot be vouched for (verify's problem), or null when it verifies. */
  problem(seq: number): RegistryProblem | null {
    return this.view ? entryProblem(this.view.verify, seq) : null;
  }

  /** The full result stored with entry `seq`; refused for an entry that failed verification. */
  async result(seq: number): Promise<AuditResult> {
    if (this.view) refuseUntrustedEntry(this.view.name, this.view.verify, seq);
    return unwrap(await auditWorker().registryResult(seq));
  }

  /**
   * The registry file's bytes or CSV text, for a download. The file itself is always
   * given (it carries its own evidence); a CSV only of a registry that verifies.
   */
  async export(format: 'sqlite' | 'csv'): Promise<Uint8Array | string> {
    if (format === 'csv' && this.view) refuseTamperedRegistry(this.view.name, this.view.verify, 'CSV');
    return unwrap(await auditWorker().registryExport(format));
  }

  /** The monthly summary (`YYYY-MM`) as Markdown text or PDF bytes, of a registry that verifies. */
  async summary(month: string, format: 'md' | 'pdf'): Promise<string | Uint8Array> {
    if (this.view) refuseTamperedRegistry(this.view.name, this.view.verify, 'monthly summary');
    return unwrap(await auditWorker().registrySummary(month, format, new Date().toISOString()));
  }

  async #save(): Promise<void> {
    const bytes = unwrap(await auditWorker().registryExport('sqlite')) as Uint8Array;
    try {
      await keep(bytes);
      this.kept = true;
    } catch {
      // Storage refused (private mode, quota): the registry stays open in memory; export it.
      this.kept = false;
    }
  }
}
