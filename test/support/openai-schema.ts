/**
 * Validates response bodies and stream chunks against OpenAI's official OpenAPI spec
 * (../shared/openai/openapi.yaml beside the repo, or SWITCHYARD_OPENAPI_SPEC).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

const here = path.dirname(fileURLToPath(import.meta.url));
const SPEC = process.env.SWITCHYARD_OPENAPI_SPEC ?? path.resolve(here, '..', '..', '..', '..', 'shared', 'openai', 'openapi.yaml');

let ajv: Ajv2020 | undefined;

/**
 * The spec mixes OpenAPI 3.0's `nullable: true` into its 3.1 schemas, sometimes without `type`; rewrite
 * it into JSON Schema (`anyOf [schema, null]`) so a null where the spec allows one validates.
 */
function normaliseNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(normaliseNullable);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = normaliseNullable(v);
  if (!('nullable' in out)) return out;
  const nullable = out.nullable === true;
  delete out.nullable;
  return nullable ? { anyOf: [out, { type: 'null' }] } : out;
}

function load(): Ajv2020 {
  if (ajv) return ajv;
  const spec = parse(readFileSync(SPEC, 'utf8'), { maxAliasCount: -1 }) as { components: { schemas: Record<string, unknown> } };
  ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  ajv.addKeyword({ keyword: 'discriminator' });
  ajv.addFormat('unixtime', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= 0 });
  ajv.addSchema({ $id: 'openai', components: normaliseNullable(spec.components) }, 'openai');
  return ajv;
}

/** Throws with every violation listed if `value` does not match components.schemas[name]. */
export function assertMatchesSchema(name: string, value: unknown): void {
  const validate = load().getSchema(`openai#/components/schemas/${name}`);
  if (!validate) throw new Error(`no schema ${name} in the OpenAI spec`);
  if (!validate(value)) {
    const errors = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`).join('\n');
    throw new Error(`response does not match ${name}:\n${errors}\n${JSON.stringify(value).slice(0, 2000)}`);
  }
}
