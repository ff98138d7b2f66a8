/**
 * class-validator DTO validation for the admin API, with failures in OpenAI's error shape: the first
 * failing field becomes `param`, unknown fields are `unsupported_parameter`, absent required ones
 * `missing_required_parameter`.
 */
import { type ArgumentMetadata, Injectable, ValidationPipe } from '@nestjs/common';
import * as classTransformer from 'class-transformer';
import * as classValidator from 'class-validator';
import type { ValidationError } from 'class-validator';
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';

function firstError(errors: ValidationError[], path = ''): { param: string; error: ValidationError } | undefined {
  for (const error of errors) {
    const param = path ? (/^\d+$/.test(error.property) ? `${path}[${error.property}]` : `${path}.${error.property}`) : error.property;
    if (error.constraints && Object.keys(error.constraints).length) return { param, error };
    const nested = firstError(error.children ?? [], param);
    if (nested) return nested;
  }
  return undefined;
}

export function validationApiError(errors: ValidationError[]): ApiError {
  const found = firstError(errors);
  if (!found) return new ApiError(ErrorCode.InvalidRequest, 'The request is not valid.');
  const { param, error } = found;
  const constraints = error.constraints!;
  if (constraints.whitelistValidation) return new ApiError(ErrorCode.UnsupportedParameter, `Unrecognized request argument supplied: ${param}`, param);
  if (error.value === undefined) return new ApiError(ErrorCode.MissingRequiredParameter, `Missing required parameter: '${param}'.`, param);
  // Report the type check (isInt, isString, isIn…) before range checks: "limit must be an integer" beats "…not greater than 100" for "abc".
  const names = Object.keys(constraints);
  const first = names.find((n) => n.startsWith('is')) ?? names[0]!;
  return new ApiError(ErrorCode.InvalidValue, constraints[first]!, param);
}

@Injectable()
export class AdminValidationPipe extends ValidationPipe {
  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      validatorPackage: classValidator,
      transformerPackage: classTransformer,
      exceptionFactory: validationApiError,
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body') {
      // Action endpoints (rotate) accept an empty body; anything sent must be a JSON object.
      if (value === undefined || value === null) value = {};
      else if (typeof value !== 'object' || Array.isArray(value)) throw new ApiError(ErrorCode.InvalidRequest, 'The request body must be a JSON object.');
    }
    return super.transform(value, metadata);
  }
}
