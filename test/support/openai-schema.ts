/**
 * Validates response bodies and stream chunks against OpenAI's official schemas: openai-responses.json,
 * extracted from the spec (and committed) by scripts/gen-openai-schemas.mjs, so a clean clone runs the
 * suites without the spec beside it. A schema not yet extracted is added to that script's RESPONSES.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import responses from './openai-responses.json' with { type: 'json' };

let ajv: Ajv2020 | undefined;

function load(): Ajv2020 {
  if (ajv) return ajv;
  ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  (addFormats as unknown as (a: Ajv2020) => void)(ajv);
  ajv.addKeyword({ keyword: 'discriminator' });
  ajv.addFormat('unixtime', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= 0 });
  ajv.addSchema({ $id: 'openai', components: responses.components }, 'openai');
  return ajv;
}

/** Throws with every violation listed if `value` does not match components.schemas[name]. */
export function assertMatchesSchema(name: string, value: unknown): void {
  const validate = load().getSchema(`openai#/components/schemas/${name}`);
  if (!validate) throw new Error(`no schema ${name} in openai-responses.json: add it to RESPONSES in scripts/gen-openai-schemas.mjs and run it`);
  if (!validate(value)) {
    const errors = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`).join('\n');
    throw new Error(`response does not match ${name}:\n${errors}\n${JSON.stringify(value).slice(0, 2000)}`);
  }
}
