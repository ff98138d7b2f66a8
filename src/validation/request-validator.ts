/**
 * Parses and validates inference request bodies. Errors name the exact `param` the way OpenAI does
 * (`messages[2].content`).
 */
import { Injectable } from '@nestjs/common';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { ApiError } from '../errors/api-error.js';
import { ErrorCode } from '../errors/error-codes.js';
import type { InferenceEndpoint } from '../runtimes/runtime-adapter.js';
import { chatCompletionSchema, completionSchema, embeddingSchema } from './request.schemas.js';

export type RequestBody = Record<string, unknown> & { model: string };

/** "/messages/2/content" → "messages[2].content" */
export function toParam(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').slice(1);
  if (extra) parts.push(extra);
  return parts.reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

/** The most specific error: anyOf/nullable wrappers report several; prefer the deepest path. */
function pickError(errors: ErrorObject[]): ErrorObject {
  return errors.reduce((best, e) => (e.instancePath.length > best.instancePath.length ? e : best), errors[0]!);
}

function describe(error: ErrorObject, param: string): ApiError {
  switch (error.keyword) {
    case 'required': {
      const missing = (error.params as { missingProperty: string }).missingProperty;
      const name = toParam(error.instancePath, missing);
      return new ApiError(ErrorCode.MissingRequiredParameter, `Missing required parameter: '${name}'.`, name);
    }
    case 'type':
      return new ApiError(ErrorCode.InvalidValue, `Invalid type for '${param}': expected ${(error.params as { type: string }).type}.`, param);
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return new ApiError(ErrorCode.InvalidValue, `Invalid '${param}': ${error.message}.`, param);
    case 'enum':
    case 'const':
      return new ApiError(
        ErrorCode.InvalidValue,
        `Invalid value for '${param}': expected one of ${JSON.stringify((error.params as { allowedValues?: unknown[] }).allowedValues ?? (error.params as { allowedValue?: unknown }).allowedValue)}.`,
        param,
      );
    default:
      return new ApiError(ErrorCode.InvalidValue, `Invalid '${param}': ${error.message}.`, param);
  }
}

@Injectable()
export class RequestValidator {
  private readonly validators: Record<InferenceEndpoint, ValidateFunction>;

  constructor() {
    const ajv = new Ajv({ allErrors: false, strict: false });
    this.validators = {
      'chat.completions': ajv.compile(chatCompletionSchema),
      completions: ajv.compile(completionSchema),
      embeddings: ajv.compile(embeddingSchema),
    };
  }

  /** `raw` is the unparsed body: parsing here gives malformed JSON the same error shape as the rest. */
  parse(endpoint: InferenceEndpoint, raw: Buffer | string | undefined): RequestBody {
    let body: unknown;
    const text = raw === undefined ? '' : raw.toString();
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new ApiError(
        ErrorCode.InvalidJson,
        `We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.) ${(err as Error).message}`,
      );
    }
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw new ApiError(ErrorCode.InvalidRequest, 'The request body must be a JSON object.');
    }
    const validate = this.validators[endpoint];
    if (!validate(body)) {
      const error = pickError(validate.errors!);
      throw describe(error, toParam(error.instancePath) || 'body');
    }
    const request = body as RequestBody;
    if (request.stream_options != null && request.stream !== true) {
      throw new ApiError(ErrorCode.InvalidValue, "The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options');
    }
    if (request.top_logprobs != null && request.logprobs !== true) {
      throw new ApiError(ErrorCode.InvalidValue, "'top_logprobs' requires 'logprobs' to be true.", 'top_logprobs');
    }
    return request;
  }
}
