import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { sha256Hex } from '../base/hash';
import { resultDigest } from './manifest';

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

/** Unix file types in the high 16 bits of a central-directory entry's external attributes (what `unzip` creates). */
const UNIX_TYPES: Record<number, string> = {
  0o120000: 'a symbolic link',
  0o020000: 'a character device',
  0o060000: 'a block device',
  0o010000: 'a FIFO (named pipe)',
  0o140000: 'a socket',
};

const u16 = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8);
const u32 = (b: Uint8Array, at: number) => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
const u64 = (b: Uint8Array, at: number) => u32(b, at) + u32(b, at + 4) * 2 ** 32;

/**
 * Entries of a zip that are not plain files, read from its central directory (fflate does
 * not expose the attributes): a Unix mode of a symbolic link, a device, a FIFO or a socket,
 * and an entry carrying PKWARE's Unix extra field (0x000d) with a link target, the zip way
 * of marking a hard or symbolic link. `unzip` would create such entries as links or device
 * nodes, and `sha256sum -c` would then read something else than the pack's bytes.
 */
export function specialEntries(bytes: Uint8Array): string[] {
  const problems: string[] = [];
  // End of central directory: 22 bytes plus a comment of at most 65,535.
  let eocd = -1;
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - 0xffff); at--) {
    if (u32(bytes, at) === 0x06054b50) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) return problems;
  let entries = u16(bytes, eocd + 10);
  let offset = u32(bytes, eocd + 16);
  if ((offset === 0xffffffff || entries === 0xffff) && eocd >= 20 && u32(bytes, eocd - 20) === 0x07064b50) {
    const record = u64(bytes, eocd - 20 + 8);
    if (record + 56 <= bytes.length && u32(bytes, record) === 0x06064b50) {
      entries = u64(bytes, record + 32);
      offset = u64(bytes, record + 48);
    }
  }
  const decoder = new TextDecoder();
  for (let k = 0, at = offset; k < entries && at + 46 <= bytes.length && u32(bytes, at) === 0x02014b50; k++) {
    const host = bytes[at + 5];
    const nameLength = u16(bytes, at + 28);
    const extraLength = u16(bytes, at + 30);
    const commentLength = u16(bytes, at + 32);
    const mode = u32(bytes, at + 38) >>> 16;
    const name = JSON.stringify(decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength)));
    // Unix (3) and macOS (19) hosts keep the file's mode in the high bits.
    const kind = host === 3 || host === 19 ? UNIX_TYPES[mode & 0o170000] : undefined;
    let link = false;
    for (let e = at + 46 + nameLength, end = e + extraLength; e + 4 <= end; e += 4 + u16(bytes, e + 2)) {
      if (u16(bytes, e) === 0x000d && u16(bytes, e + 2) > 12) link = true;
    }
    if (kind) problems.push(`the entry ${name} is ${kind}, not a file: an evidence pack holds only plain files`);
    else if (link) problems.push(`the entry ${name} is a link (hard or symbolic), not a file: an evidence pack holds only plain files`);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return problems;
}

/**
 * The result in a pack against the result digest its manifest records (`<base>.json` and
 * `<base>.manifest.json`): SHA256SUMS can be rewritten along with a result, the manifest's
 * `result_sha256` ties the result to the audit that made it. Nothing to check in a pack
 * without a manifest.
 */
function resultProblems(files: Record<string, Uint8Array>): string[] {
  const manifests = Object.keys(files).filter((name) => name.endsWith('.manifest.json'));
  if (manifests.length !== 1) return manifests.length > 1 ? [`the pack holds ${manifests.length} manifests (${manifests.join(', ')}); it should hold one`] : [];
  const manifestName = manifests[0];
  const resultName = `${manifestName.slice(0, -'.manifest.json'.length)}.json`;
  const parse = (name: string): unknown => {
    try {
      return JSON.parse(strFromU8(files[name]));
    } catch {
      return undefined;
    }
  };
  const manifest = parse(manifestName) as { result_sha256?: unknown } | undefined;
  if (typeof manifest?.result_sha256 !== 'string') return [`${manifestName} is not a manifest with a result digest (result_sha256)`];
  if (!files[resultName]) return [`${resultName} is missing: the result the manifest describes is not in the pack`];
  const result = parse(resultName);
  if (result === undefined) return [`${resultName} is not valid JSON`];
  if (resultDigest(result) !== manifest.result_sha256) {
    return [`${resultName} does not match the result digest in ${manifestName} (result_sha256 ${manifest.result_sha256.slice(0, 12)}…): the result was changed after the audit`];
  }
  return [];
}

/**
 * Checks an evidence pack: every file listed in SHA256SUMS is present with that hash, no
 * file is unlisted, no entry name escapes the pack ("..", absolute paths, duplicates), no
 * entry is a link or a device, the declared sizes stay under the bomb limits before
 * anything is inflated, and the result matches the digest its manifest records.
 */
export function verifyEvidencePack(bytes: Uint8Array): PackCheck {
  const problems: string[] = specialEntries(bytes);
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
    return { ok: false, files: [], problems: [...problems, `not a readable evidence pack: ${(error as Error).message}`] };
  }
  const sums = files.SHA256SUMS;
  if (!sums) return { ok: false, files: Object.keys(files), problems: [...problems, 'SHA256SUMS is missing'] };
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
  problems.push(...resultProblems(files));
  return { ok: problems.length === 0, files: Object.keys(files).sort(), problems };
}
