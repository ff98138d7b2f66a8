/**
 * Parameters the model's runtime cannot honour are refused, never silently dropped. The catalogue's
 * capability table says what each model supports; absent entries take the defaults below (what vLLM
 * offers every text model; vision, audio and embedding `dimensions` only where a model declares them).
 */
import type { CatalogModel } from '../catalog/index.js';
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';
import type { InferenceEndpoint } from '../runtimes/index.js';
import type { RequestBody } from './request-validator.js';

export const CAPABILITY_DEFAULTS: Record<string, boolean> = {
  tools: true,
  logprobs: true,
  json_schema: true,
  vision: false,
  audio: false,
  dimensions: false,
};

/** Content part types and the capability each needs. */
const PART_CAPABILITY: Record<string, string> = { image_url: 'vision', input_audio: 'audio', file: 'vision' };

function supports(model: CatalogModel, capability: string): boolean {
  return model.capabilities[capability] ?? CAPABILITY_DEFAULTS[capability] ?? false;
}

function unsupportedParameter(name: string, model: CatalogModel): ApiError {
  return new ApiError(ErrorCode.UnsupportedParameter, `Unsupported parameter: '${name}' is not supported with model \`${model.name}\`.`, name);
}

export function assertSupported(endpoint: InferenceEndpoint, body: RequestBody, model: CatalogModel): void {
  if (endpoint === 'embeddings') {
    if (body.dimensions !== undefined && !supports(model, 'dimensions')) throw unsupportedParameter('dimensions', model);
    return;
  }
  if (endpoint === 'completions') {
    if (body.logprobs != null && !supports(model, 'logprobs')) throw unsupportedParameter('logprobs', model);
    return;
  }
  if (body.logprobs === true && !supports(model, 'logprobs')) throw unsupportedParameter('logprobs', model);
  if (Array.isArray(body.tools) && body.tools.length > 0 && !supports(model, 'tools')) throw unsupportedParameter('tools', model);
  const format = body.response_format as { type?: string } | undefined;
  if ((format?.type === 'json_schema' || format?.type === 'json_object') && !supports(model, 'json_schema')) {
    throw new ApiError(ErrorCode.UnsupportedValue, `Unsupported value: 'response_format.type' ${format.type} is not supported with model \`${model.name}\`.`, 'response_format.type');
  }
  (body.messages as Array<{ content?: unknown }>).forEach((message, i) => {
    if (!Array.isArray(message.content)) return;
    message.content.forEach((part: { type?: string }, j: number) => {
      const needs = part?.type ? PART_CAPABILITY[part.type] : undefined;
      if (needs && !supports(model, needs)) {
        throw new ApiError(
          ErrorCode.UnsupportedValue,
          `Invalid content type. ${part.type} is not supported with model \`${model.name}\`.`,
          `messages[${i}].content[${j}].type`,
        );
      }
    });
  });
}
