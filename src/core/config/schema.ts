import { ConfigError, closeMatches, quote } from '../base/errors';

/**
 * A small schema language for configs and policies: one definition validates input
 * (unknown keys and wrong types are errors naming the path and the close matches) and
 * publishes a JSON Schema.
 */
export type Spec =
  | { type: 'object'; description?: string; properties: Record<string, Spec>; required?: string[]; values?: Spec; open?: boolean }
  | { type: 'string'; description?: string; enum?: readonly string[] }
  | { type: 'number'; description?: string; minimum?: number; maximum?: number; integer?: boolean }
  | { type: 'boolean'; description?: string }
  | { type: 'array'; description?: string; items: Spec; minItems?: number }
  | { type: 'oneOf'; description?: string; options: Spec[] };

const describe = (value: unknown) =>
  value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'a mapping' : typeof value === 'string' ? `the text ${quote(value)}` : `${typeof value} ${String(value)}`;

function expected(spec: Spec): string {
  switch (spec.type) {
    case 'object':
      return 'a mapping';
    case 'array':
      return 'a list';
    case 'string':
      return spec.enum ? `one of ${spec.enum.join(', ')}` : 'text';
    case 'number':
      return spec.integer ? 'a whole number' : 'a number';
    case 'boolean':
      return 'true or false';
    case 'oneOf':
      return spec.options.map(expected).join(' or ');
  }
}

/** Problems found in a value, each `path: what is wrong`. */
export function validate(value: unknown, spec: Spec, path = ''): string[] {
  const at = path || '(top level)';
  switch (spec.type) {
    case 'object': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${at}: expected a mapping, got ${describe(value)}`];
      const problems: string[] = [];
      const record = value as Record<string, unknown>;
      if (spec.open) return [];
      for (const key of Object.keys(record)) {
        // Own properties only: a key such as __proto__ must not find Object.prototype.
        const child = Object.hasOwn(spec.properties, key) ? spec.properties[key] : spec.values;
        const childPath = path ? `${path}.${key}` : key;
        if (!child) {
          const close = closeMatches(key, Object.keys(spec.properties));
          problems.push(`${childPath}: unknown key${close.length ? ` (did you mean ${close.join(', ')}?)` : ''}; known keys: ${Object.keys(spec.properties).join(', ')}`);
          continue;
        }
        problems.push(...validate(record[key], child, childPath));
      }
      for (const key of spec.required ?? []) if (!(key in record)) problems.push(`${path ? `${path}.` : ''}${key}: required`);
      return problems;
    }
    case 'array': {
      if (!Array.isArray(value)) return [`${at}: expected a list, got ${describe(value)}`];
      if (spec.minItems && value.length < spec.minItems) return [`${at}: needs at least ${spec.minItems} item${spec.minItems === 1 ? '' : 's'}`];
      return value.flatMap((item, i) => validate(item, spec.items, `${path}[${i}]`));
    }
    case 'string':
      if (typeof value !== 'string') return [`${at}: expected ${expected(spec)}, got ${describe(value)}`];
      if (spec.enum && !spec.enum.includes(value)) {
        const close = closeMatches(value, spec.enum);
        return [`${at}: ${quote(value)} is not one of ${spec.enum.join(', ')}${close.length ? ` (did you mean ${close[0]}?)` : ''}`];
      }
      return [];
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) return [`${at}: expected ${expected(spec)}, got ${describe(value)}`];
      if (spec.integer && !Number.isInteger(value)) return [`${at}: expected a whole number, got ${value}`];
      if (spec.minimum !== undefined && value < spec.minimum) return [`${at}: must be at least ${spec.minimum}, got ${value}`];
      if (spec.maximum !== undefined && value > spec.maximum) return [`${at}: must be at most ${spec.maximum}, got ${value}`];
      return [];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${at}: expected true or false, got ${describe(value)}`];
    case 'oneOf': {
      const attempts = spec.options.map((option) => validate(value, option, path));
      if (attempts.some((problems) => problems.length === 0)) return [];
      // Report against the option of the same shape, if any.
      const sameShape = spec.options.findIndex((option) => (option.type === 'object') === (value !== null && typeof value === 'object' && !Array.isArray(value)));
      return sameShape >= 0 ? attempts[sameShape] : [`${at}: expected ${expected(spec)}, got ${describe(value)}`];
    }
  }
}

/** Throws a {@link ConfigError} listing every problem, or returns the value typed. */
export function check<T>(value: unknown, spec: Spec, fileName: string): T {
  const problems = validate(value, spec);
  if (problems.length > 0) {
    throw new ConfigError(`${fileName}: ${problems.length === 1 ? problems[0] : `${problems.length} problems: ${problems.join('; ')}`}`);
  }
  return value as T;
}

/** The spec as a JSON Schema (draft 2020-12). */
export function toJsonSchema(spec: Spec): Record<string, unknown> {
  const base = spec.description ? { description: spec.description } : {};
  switch (spec.type) {
    case 'object':
      return {
        ...base,
        type: 'object',
        properties: Object.fromEntries(Object.entries(spec.properties).map(([k, v]) => [k, toJsonSchema(v)])),
        ...(spec.required ? { required: spec.required } : {}),
        additionalProperties: spec.open ? true : spec.values ? toJsonSchema(spec.values) : false,
      };
    case 'array':
      return { ...base, type: 'array', items: toJsonSchema(spec.items), ...(spec.minItems ? { minItems: spec.minItems } : {}) };
    case 'string':
      return { ...base, type: 'string', ...(spec.enum ? { enum: [...spec.enum] } : {}) };
    case 'number':
      return { ...base, type: spec.integer ? 'integer' : 'number', ...(spec.minimum !== undefined ? { minimum: spec.minimum } : {}), ...(spec.maximum !== undefined ? { maximum: spec.maximum } : {}) };
    case 'boolean':
      return { ...base, type: 'boolean' };
    case 'oneOf':
      return { ...base, oneOf: spec.options.map(toJsonSchema) };
  }
}
