import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import { ConfigError } from '../base/errors';

/** Largest YAML file read (a config or policy is a few KB). */
export const MAX_YAML_BYTES = 1024 * 1024;

/**
 * Parses YAML safely: a size cap, an alias cap (no "billion laughs"), duplicate keys and
 * custom tags refused, and errors reported as `file:line:column: what`. The result is
 * plain JSON data (objects without prototypes are rebuilt as plain objects; `__proto__`
 * keys are kept as data, never as prototypes).
 */
export function parseYaml(text: string, fileName: string): unknown {
  if (text.length > MAX_YAML_BYTES) {
    throw new ConfigError(`${fileName}: ${(text.length / 1024 / 1024).toFixed(1)} MB is too large for a config or policy file (limit 1 MB).`);
  }
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, customTags: [], strict: true });
  const where = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `${fileName}:${line}:${col}`;
  };
  const problem = document.errors[0];
  if (problem) {
    const message = problem.message.split('\n')[0].replace(/ at line \d+, column \d+.*$/, '');
    throw new ConfigError(`${where(problem.pos[0])}: ${message}`);
  }
  const tagged = findTag(document.contents);
  if (tagged) throw new ConfigError(`${where(tagged.range?.[0] ?? 0)}: the tag ${tagged.tag} is not allowed; write plain values.`);
  try {
    return toPlain(document.toJS({ maxAliasCount: 100 }));
  } catch (error) {
    throw new ConfigError(`${fileName}: ${(error as Error).message}`);
  }
}

function findTag(node: Node | null | undefined): Node | null {
  if (!node) return null;
  if (node.tag && !/^tag:yaml\.org,2002:(str|int|float|bool|null|map|seq)$/.test(node.tag)) return node;
  if (isMap(node)) {
    for (const pair of node.items) {
      const found = findTag(pair.key as Node) ?? findTag(pair.value as Node);
      if (found) return found;
    }
  }
  if (isSeq(node)) for (const item of node.items) {
    const found = findTag(item as Node);
    if (found) return found;
  }
  return isScalar(node) ? null : null;
}

/** Rebuilds parsed data as plain objects, defining every key as an own property. */
function toPlain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toPlain);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) {
      Object.defineProperty(out, key, { value: toPlain(inner), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}
