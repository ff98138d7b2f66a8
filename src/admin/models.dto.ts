/**
 * Request bodies of /admin/v1/models (snake_case). Shapes and ranges are checked here; the rules
 * between models (names and aliases unique, the pool served, fallbacks known) by the catalogue, under
 * its lock.
 */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsNumber, IsObject, IsOptional, IsString, Length, Matches, Max, Min, ValidateBy, ValidateIf } from 'class-validator';
import { TOKENIZER_IDS } from '../config/index.js';

/** Names clients send as `model`: letters, digits and . _ : / @ + - (Hugging Face ids included). */
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]*$/;
const NAME_MESSAGE = '$property must start with a letter or digit and contain only letters, digits and . _ : / @ + -';
/** The price columns are NUMERIC(12, 6). */
const MAX_PRICE = 999_999;
const KINDS = ['chat', 'embedding'] as const;

function IsBooleanMap(): PropertyDecorator {
  return ValidateBy({
    name: 'isBooleanMap',
    validator: {
      validate: (value: unknown) =>
        !!value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length <= 64 && Object.values(value).every((v) => typeof v === 'boolean'),
      defaultMessage: () => '$property must be an object of at most 64 boolean flags, e.g. {"tools": true, "vision": false}',
    },
  });
}

/** Fields that are optional whether a model is created or changed. */
class ModelFieldsDto {
  @ApiPropertyOptional({ enum: KINDS })
  @IsOptional()
  @IsIn(KINDS)
  kind?: 'chat' | 'embedding';

  @ApiPropertyOptional({ type: [String], maxItems: 32, description: 'Other names clients may use; one namespace with model names.' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(32)
  @IsString({ each: true })
  @Length(1, 128, { each: true })
  @Matches(MODEL_NAME, { each: true, message: NAME_MESSAGE })
  aliases?: string[];

  @ApiPropertyOptional({ type: Number, nullable: true, minimum: 1, description: 'Output bound applied when a request sets none; null: the context window.' })
  @ValidateIf((_, v) => v !== undefined && v !== null)
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  max_output_tokens?: number | null;

  @ApiPropertyOptional({ minimum: 0, maximum: MAX_PRICE, description: 'Price per million prompt tokens.' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false, maxDecimalPlaces: 6 })
  @Min(0)
  @Max(MAX_PRICE)
  input_price_per_mtok?: number;

  @ApiPropertyOptional({ minimum: 0, maximum: MAX_PRICE, description: 'Price per million output tokens.' })
  @IsOptional()
  @IsNumber({ allowNaN: false, allowInfinity: false, maxDecimalPlaces: 6 })
  @Min(0)
  @Max(MAX_PRICE)
  output_price_per_mtok?: number;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'boolean' }, example: { tools: true, json_schema: true, logprobs: true, vision: false } })
  @IsOptional()
  @IsObject()
  @IsBooleanMap()
  capabilities?: Record<string, boolean>;

  @ApiPropertyOptional({ type: [String], maxItems: 16, description: 'Models (names or aliases) tried in order when this one cannot serve.' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(16)
  @IsString({ each: true })
  @Length(1, 128, { each: true })
  fallbacks?: string[];

  @ApiPropertyOptional({ minLength: 1, maxLength: 200 })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  owned_by?: string;
}

/** A change to a model: any field but its name. */
export class UpdateModelDto extends ModelFieldsDto {
  @ApiPropertyOptional({ description: 'The pool of runtime pods that serves it (a pool this gateway serves).' })
  @IsOptional()
  @IsString()
  @Length(1, 128)
  pool?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 10_000_000, description: 'Prompt + output tokens, at most.' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  context_window?: number;

  @ApiPropertyOptional({ enum: TOKENIZER_IDS })
  @IsOptional()
  @IsIn(TOKENIZER_IDS)
  tokenizer?: string;
}

export class CreateModelDto extends ModelFieldsDto {
  @ApiProperty({ example: 'llama-3.1-8b-instruct', minLength: 1, maxLength: 128 })
  @IsString()
  @Length(1, 128)
  @Matches(MODEL_NAME, { message: NAME_MESSAGE })
  name!: string;

  @ApiProperty({ description: 'The pool of runtime pods that serves it (a pool this gateway serves).' })
  @IsString()
  @Length(1, 128)
  pool!: string;

  @ApiProperty({ minimum: 1, maximum: 10_000_000 })
  @IsInt()
  @Min(1)
  @Max(10_000_000)
  context_window!: number;

  @ApiProperty({ enum: TOKENIZER_IDS })
  @IsIn(TOKENIZER_IDS)
  tokenizer!: string;
}
