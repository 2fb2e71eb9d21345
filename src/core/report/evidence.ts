import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { sha256Hex } from '../hash';

/** Limits on reading a pack: no zip bomb, no path escaping the pack. */
export const PACK_LIMITS = { maxEntries: 64, maxTotalBytes: 512 * 1024 * 1024, maxRatio: 200 } as const;

/**
 * An evidence pack: the given files plus `SHA256SUMS` (the format `sha256sum -c` reads),
 * zipped with fixed entry times (from `epochSeconds`) in name order, so the same files
 * give the same bytes.
 */
export function buildEvidencePack(files: Record<string, Uint8Array>, epochSeconds: number): Uint8Array {
  const names = Object.keys(files).sort();
  const sums = names.map((name) => `${sha256Hex(files[name])}  ${name}\n`).join('');
  const mtime = new Date(Math.max(315532800, epochSeconds) * 1000);
  const entries: Record<string, [Uint8Array, { mtime: Date; level: 6 }]> = {};
  for (const name of [...names, 'SHA256SUMS']) entries[name] = [name === 'SHA256SUMS' ? strToU8(sums) : files[name], { mtime, level: 6 }];
  return zipSync(entries);
}

/** What checking a pack found. */
export interface PackCheck {
  ok: boolean;
  files: string[];
  problems: string[];
}

/**
 * Checks an evidence pack: every file listed in SHA256SUMS is present with that hash, no
 * file is unlisted, no entry name escapes the pack ("..", absolute paths, duplicates), and
 * the declared sizes stay under the bomb limits before anything is inflated.
 */
export function verifyEvidencePack(bytes: Uint8Array): PackCheck {
  const problems: string[] = [];
  let declared = 0;
  let count = 0;
  const names = new Set<string>();
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      filter: (entry) => {
        count++;
        declared += entry.originalSize;
        if (count > PACK_LIMITS.maxEntries) throw new Error(`more than ${PACK_LIMITS.maxEntries} entries`);
        if (declared > PACK_LIMITS.maxTotalBytes) throw new Error(`more than ${PACK_LIMITS.maxTotalBytes / 1024 / 1024} MB when inflated`);
        if (entry.size > 0 && entry.originalSize / entry.size > PACK_LIMITS.maxRatio) throw new Error(`${entry.name} inflates ${Math.round(entry.originalSize / entry.size)}× (a zip bomb?)`);
        if (entry.name.startsWith('/') || entry.name.split(/[\\/]/).includes('..')) throw new Error(`the entry name ${JSON.stringify(entry.name)} points outside the pack`);
        // Two entries of one name: tools disagree on which one is "the" file, so the pack is refused.
        if (names.has(entry.name)) throw new Error(`the entry name ${JSON.stringify(entry.name)} appears twice`);
        names.add(entry.name);
        return true;
      },
    });
  } catch (error) {
    return { ok: false, files: [], problems: [`not a readable evidence pack: ${(error as Error).message}`] };
  }
  const sums = files.SHA256SUMS;
  if (!sums) return { ok: false, files: Object.keys(files), problems: ['SHA256SUMS is missing'] };
  const listed = new Set<string>();
  for (const line of strFromU8(sums).split('\n').filter(Boolean)) {
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!match) {
      problems.push(`SHA256SUMS has an unreadable line: ${JSON.stringify(line.slice(0, 80))}`);
      continue;
    }
    const [, hash, name] = match;
    if (listed.has(name)) problems.push(`${name} is listed twice in SHA256SUMS`);
    listed.add(name);
    if (!files[name]) problems.push(`${name} is listed in SHA256SUMS but missing from the pack`);
    else if (sha256Hex(files[name]) !== hash) problems.push(`${name} was changed (its SHA-256 no longer matches SHA256SUMS)`);
  }
  for (const name of Object.keys(files)) if (name !== 'SHA256SUMS' && !listed.has(name)) problems.push(`${name} is in the pack but not in SHA256SUMS`);
  return { ok: problems.length === 0, files: Object.keys(files).sort(), problems };
}
