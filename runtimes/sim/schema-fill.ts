/**
 * Builds a deterministic JSON value that satisfies a JSON Schema — the stand-in for vLLM's guided
 * decoding of tool-call arguments and `response_format: json_schema` outputs.
 *
 * Supported: type (incl. type arrays), enum, const, properties/required, additionalProperties,
 * minProperties, items/prefixItems, minItems/maxItems, uniqueItems (best effort), minLength/
 * maxLength, common string formats, minimum/maximum/exclusive bounds (both drafts), multipleOf,
 * anyOf/oneOf (first branch), allOf (merged), local $ref (#/$defs/..., #/definitions/...), default.
 * Not supported: `pattern` (ignored), `not`, if/then/else, dependent schemas.
 */
import { pick, randInt, type Rng } from './rng.js';

export type JsonSchema = boolean | { [key: string]: unknown };

const WORDS = ['alpha', 'bravo', 'cedar', 'delta', 'ember', 'falcon', 'granite', 'harbor', 'iris', 'juniper', 'kestrel', 'lumen', 'meadow', 'nectar', 'orbit', 'pebble', 'quartz', 'river', 'summit', 'tundra', 'umber', 'violet', 'willow', 'xenon', 'yarrow', 'zephyr'];
const MAX_DEPTH = 8;

export function sampleFromSchema(schema: JsonSchema, rng: Rng): unknown {
  return new SchemaSampler(schema, rng).sample(schema, 0);
}

type Obj = { [key: string]: unknown };

class SchemaSampler {
  constructor(
    private readonly root: JsonSchema,
    private readonly rng: Rng,
  ) {}

  sample(input: JsonSchema, depth: number): unknown {
    if (depth > 4 * MAX_DEPTH) return null; // runaway recursion through required $refs
    const schema = this.resolve(input);
    if (schema === true || schema === false) return schema ? 'value' : null;
    if ('const' in schema) return schema.const;
    if (Array.isArray(schema.enum) && schema.enum.length > 0) return pick(this.rng, schema.enum);
    const branches = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
    if (Array.isArray(branches) && branches.length > 0) {
      // First branch, merged with sibling keywords (e.g. a shared `type` or `properties`).
      const { anyOf: _a, oneOf: _o, ...rest } = schema;
      return this.sample(mergeSchemas(rest, this.resolve(branches[0]) as Obj), depth);
    }
    if (Array.isArray(schema.allOf) && schema.allOf.length > 0) {
      const { allOf, ...rest } = schema;
      let merged: Obj = rest;
      for (const part of allOf as JsonSchema[]) merged = mergeSchemas(merged, this.resolve(part) as Obj);
      return this.sample(merged, depth);
    }
    if ('default' in schema && schema.default !== undefined && this.rng() < 0.5) return schema.default;
    switch (this.typeOf(schema)) {
      case 'object':
        return this.object(schema, depth);
      case 'array':
        return this.array(schema, depth);
      case 'string':
        return this.string(schema);
      case 'integer':
        return this.number(schema, true);
      case 'number':
        return this.number(schema, false);
      case 'boolean':
        return this.rng() < 0.5;
      case 'null':
        return null;
      default:
        return this.string(schema);
    }
  }

  private typeOf(schema: Obj): string {
    const t = schema.type;
    if (typeof t === 'string') return t;
    if (Array.isArray(t) && t.length > 0) return (t.find((x) => x !== 'null') ?? t[0]) as string;
    if (schema.properties || schema.required || schema.additionalProperties !== undefined) return 'object';
    if (schema.items || schema.prefixItems) return 'array';
    if (schema.minimum !== undefined || schema.maximum !== undefined) return 'number';
    return 'string';
  }

  private object(schema: Obj, depth: number): Obj {
    const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
    const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
    const out: Obj = {};
    const minProps = typeof schema.minProperties === 'number' ? schema.minProperties : 0;
    const maxProps = typeof schema.maxProperties === 'number' ? schema.maxProperties : Infinity;
    for (const [key, sub] of Object.entries(props)) {
      const include = required.has(key) || (depth < MAX_DEPTH && this.rng() < 0.5);
      if (include && Object.keys(out).length < maxProps) out[key] = this.sample(sub, depth + 1);
    }
    // Required keys without a property schema, and filler keys to reach minProperties.
    for (const key of required) if (!(key in out)) out[key] = this.extraValue(schema, depth);
    for (const [key, sub] of Object.entries(props)) {
      if (Object.keys(out).length >= minProps) break;
      if (!(key in out)) out[key] = this.sample(sub, depth + 1);
    }
    let i = 0;
    while (Object.keys(out).length < minProps && schema.additionalProperties !== false) {
      out[`${pick(this.rng, WORDS)}_${i++}`] = this.extraValue(schema, depth);
    }
    return out;
  }

  private extraValue(schema: Obj, depth: number): unknown {
    const extra = schema.additionalProperties;
    return extra && typeof extra === 'object' ? this.sample(extra as JsonSchema, depth + 1) : pick(this.rng, WORDS);
  }

  private array(schema: Obj, depth: number): unknown[] {
    const prefix = Array.isArray(schema.prefixItems) ? (schema.prefixItems as JsonSchema[]) : [];
    const items = (Array.isArray(schema.items) ? undefined : schema.items) as JsonSchema | undefined;
    const tuple = Array.isArray(schema.items) ? (schema.items as JsonSchema[]) : prefix;
    const min = typeof schema.minItems === 'number' ? schema.minItems : 0;
    const max = typeof schema.maxItems === 'number' ? schema.maxItems : Math.max(min, 3);
    const lo = Math.max(min, tuple.length > 0 ? Math.min(tuple.length, max) : depth >= MAX_DEPTH ? 0 : 1);
    const count = randInt(this.rng, lo, Math.max(lo, Math.min(max, lo + 2)));
    const out: unknown[] = [];
    const seen = new Set<string>();
    for (let i = 0, attempts = 0; out.length < count && attempts < count * 20; attempts++) {
      const sub = i < tuple.length ? tuple[i] : (items ?? true);
      const value = this.sample(sub, depth + 1);
      if (schema.uniqueItems === true) {
        const key = JSON.stringify(value);
        if (seen.has(key)) continue;
        seen.add(key);
      }
      out.push(value);
      i++;
    }
    return out;
  }

  private string(schema: Obj): string {
    const minLength = typeof schema.minLength === 'number' ? schema.minLength : 0;
    const maxLength = typeof schema.maxLength === 'number' ? schema.maxLength : Infinity;
    const formatted = this.formatted(schema.format);
    let s = formatted ?? Array.from({ length: randInt(this.rng, 1, 3) }, () => pick(this.rng, WORDS)).join(' ');
    while ([...s].length < minLength) s += ` ${pick(this.rng, WORDS)}`;
    if ([...s].length > maxLength) s = [...s].slice(0, maxLength).join('');
    return s;
  }

  private formatted(format: unknown): string | undefined {
    const r = this.rng;
    const two = (n: number) => String(n).padStart(2, '0');
    const date = `20${two(randInt(r, 20, 29))}-${two(randInt(r, 1, 12))}-${two(randInt(r, 1, 28))}`;
    const time = `${two(randInt(r, 0, 23))}:${two(randInt(r, 0, 59))}:${two(randInt(r, 0, 59))}`;
    switch (format) {
      case 'date-time':
        return `${date}T${time}Z`;
      case 'date':
        return date;
      case 'time':
        return `${time}Z`;
      case 'email':
        return `${pick(r, WORDS)}@example.com`;
      case 'uri':
      case 'url':
      case 'uri-reference':
        return `https://example.com/${pick(r, WORDS)}`;
      case 'hostname':
        return `${pick(r, WORDS)}.example.com`;
      case 'ipv4':
        return `10.${randInt(r, 0, 255)}.${randInt(r, 0, 255)}.${randInt(r, 1, 254)}`;
      case 'ipv6':
        return `fd00::${randInt(r, 1, 0xffff).toString(16)}`;
      case 'uuid': {
        const hex = () => Math.floor(r() * 16).toString(16);
        const part = (n: number) => Array.from({ length: n }, hex).join('');
        return `${part(8)}-${part(4)}-4${part(3)}-a${part(3)}-${part(12)}`;
      }
      default:
        return undefined;
    }
  }

  private number(schema: Obj, integer: boolean): number {
    let lo = typeof schema.minimum === 'number' ? schema.minimum : -Infinity;
    let hi = typeof schema.maximum === 'number' ? schema.maximum : Infinity;
    let loOpen = false;
    let hiOpen = false;
    // Draft 6+: numeric exclusive bounds; draft 4: boolean flags on minimum/maximum.
    if (typeof schema.exclusiveMinimum === 'number' && schema.exclusiveMinimum >= lo) [lo, loOpen] = [schema.exclusiveMinimum, true];
    else if (schema.exclusiveMinimum === true) loOpen = true;
    if (typeof schema.exclusiveMaximum === 'number' && schema.exclusiveMaximum <= hi) [hi, hiOpen] = [schema.exclusiveMaximum, true];
    else if (schema.exclusiveMaximum === true) hiOpen = true;
    if (lo === -Infinity && hi === Infinity) [lo, hi] = [0, 100];
    else if (lo === -Infinity) lo = hi - 100;
    else if (hi === Infinity) hi = lo + 100;
    const step = typeof schema.multipleOf === 'number' && schema.multipleOf > 0 ? schema.multipleOf : integer ? 1 : 0;
    if (step > 0) {
      // Smallest and largest multiples of `step` inside the bounds.
      let first = Math.ceil(lo / step) * step;
      if (loOpen && first <= lo) first += step;
      let last = Math.floor(hi / step) * step;
      if (hiOpen && last >= hi) last -= step;
      if (last < first) return first;
      const k = randInt(this.rng, 0, Math.round((last - first) / step));
      return roundTo(first + k * step, step);
    }
    const span = hi - lo;
    let value = lo + span * (0.1 + 0.8 * this.rng());
    if (!Number.isFinite(value)) value = 0;
    value = Math.round(value * 100) / 100;
    if ((loOpen && value <= lo) || value < lo) value = lo + span / 2;
    if ((hiOpen && value >= hi) || value > hi) value = lo + span / 2;
    return value;
  }

  private resolve(schema: JsonSchema, seen = 0): JsonSchema {
    if (typeof schema !== 'object' || schema === null) return schema;
    const ref = schema.$ref;
    if (typeof ref !== 'string' || seen > 32) return schema;
    const target = this.pointer(ref);
    if (target === undefined) return { ...schema, $ref: undefined };
    const { $ref: _r, ...siblings } = schema;
    const resolved = this.resolve(target, seen + 1);
    return typeof resolved === 'object' ? mergeSchemas(resolved, siblings) : resolved;
  }

  private pointer(ref: string): JsonSchema | undefined {
    if (ref === '#') return this.root;
    if (!ref.startsWith('#/')) return undefined;
    let node: unknown = this.root;
    for (const raw of ref.slice(2).split('/')) {
      const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
      if (node === null || typeof node !== 'object') return undefined;
      node = (node as Obj)[key];
    }
    return node as JsonSchema | undefined;
  }
}

function mergeSchemas(a: Obj, b: Obj): Obj {
  const out: Obj = { ...a, ...b };
  if (a.properties || b.properties) out.properties = { ...(a.properties as Obj), ...(b.properties as Obj) };
  if (Array.isArray(a.required) || Array.isArray(b.required)) {
    out.required = [...new Set([...((a.required as string[]) ?? []), ...((b.required as string[]) ?? [])])];
  }
  return out;
}

function roundTo(value: number, step: number): number {
  const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 2);
  return Number(value.toFixed(Math.min(decimals, 12)));
}

/** JSON text the way Python's json.dumps prints it (", " and ": " separators), as vLLM returns. */
export function pyJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(pyJson).join(', ')}]`;
  const entries = Object.entries(value as Obj).filter(([, v]) => v !== undefined);
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}: ${pyJson(v)}`).join(', ')}}`;
}
