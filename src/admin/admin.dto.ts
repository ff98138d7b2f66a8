/**
 * Admin API request bodies and query strings (snake_case, like OpenAI's API), validated by
 * AdminValidationPipe. Unknown fields are refused, not ignored.
 */
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsInt, IsNumber, IsOptional, IsString, Length, Matches, Max, Min, ValidateIf } from 'class-validator';
import { SCOPES, type Scope } from '../tenancy/index.js';
import { TIERS, type Tier } from '../config/index.js';
import { MAX_ROTATION_GRACE_SECONDS } from '../tenancy/index.js';

export const DEFAULT_PAGE_SIZE = 20;

const MODELS_DESCRIPTION = 'Catalogue model names or aliases (stored as canonical names). Empty or null: no restriction at this level.';

export class CreateOrganizationDto {
  @ApiProperty({ example: 'Acme Research', minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiPropertyOptional({ enum: TIERS, default: 'standard', description: 'Drives default quotas and scheduling priority.' })
  @IsOptional()
  @IsIn(TIERS)
  tier?: Tier;

  @ApiPropertyOptional({ type: [String], maxItems: 200, description: MODELS_DESCRIPTION })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  allowed_models?: string[];
}

export class UpdateOrganizationDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 200 })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  name?: string;

  @ApiPropertyOptional({ enum: TIERS, description: 'Platform administrators only.' })
  @IsOptional()
  @IsIn(TIERS)
  tier?: Tier;

  @ApiPropertyOptional({ type: [String], nullable: true, description: `${MODELS_DESCRIPTION} Platform administrators only.` })
  @ValidateIf((_, value) => value !== undefined && value !== null)
  @IsArray()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  allowed_models?: string[] | null;
}

export class CreateApiKeyDto {
  @ApiProperty({ example: 'batch pipeline', minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiPropertyOptional({ enum: SCOPES, isArray: true, default: ['inference'], description: 'platform_admin: system organization, platform administrators only.' })
  @IsOptional()
  @IsArray()
  @ArrayMinSize(1)
  @IsIn(SCOPES, { each: true })
  scopes?: Scope[];

  @ApiPropertyOptional({ type: [String], maxItems: 200, description: `${MODELS_DESCRIPTION} Must be within the organization's models.` })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(200)
  @IsString({ each: true })
  allowed_models?: string[];

  @ApiPropertyOptional({ type: Number, nullable: true, description: 'Unix time (seconds) after which the key stops working. Null: never.' })
  @ValidateIf((_, value) => value !== undefined && value !== null)
  @IsInt()
  @Min(0)
  expires_at?: number | null;
}

export class RotateApiKeyDto {
  @ApiPropertyOptional({ minimum: 0, maximum: MAX_ROTATION_GRACE_SECONDS, default: 0, description: 'How long the old key keeps working. 0: revoked at once.' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(MAX_ROTATION_GRACE_SECONDS)
  grace_seconds?: number;
}

export class ListQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional({ description: 'Id of the last item of the previous page.' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  after?: string;
}

export class ListApiKeysQueryDto extends ListQueryDto {
  @ApiPropertyOptional({ default: false })
  @IsOptional()
  @Transform(({ value }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  include_revoked?: boolean;
}

export class AuditLogQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;

  @ApiPropertyOptional({ description: 'Id of the last entry of the previous page (entries come newest first).' })
  @IsOptional()
  @Matches(/^\d{1,19}$/)
  after?: string;

  @ApiPropertyOptional({ description: 'Only this organization (an org admin always sees only its own).' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  org_id?: string;
}

export class PoolReplicasDto {
  @ApiProperty({ minimum: 0, maximum: 1000, description: "Desired replicas, written to the pool's workload (Kubernetes: the Deployment's scale subresource)." })
  @IsInt()
  @Min(0)
  @Max(1000)
  replicas!: number;
}

const limitField = (description: string, integer: boolean) => {
  const decorators = [
    ApiPropertyOptional({ type: Number, nullable: true, minimum: 0, description }),
    ValidateIf((_: object, value: unknown) => value !== undefined && value !== null),
    integer ? IsInt() : IsNumber({ allowInfinity: false, allowNaN: false, maxDecimalPlaces: 6 }),
    Min(0),
  ];
  return (target: object, key: string) => decorators.forEach((d) => d(target, key));
};

/**
 * A limit override for one scope. It replaces the scope's previous override: a field left out or null
 * inherits (the tier default for an organization; no limit for a key or a model). All fields left out
 * removes the override.
 */
export class LimitsDto {
  @limitField('Requests per minute.', true) requests_per_minute?: number | null;
  @limitField('Tokens (prompt + output) per minute; requests reserve prompt + max output up front.', true) tokens_per_minute?: number | null;
  @limitField('Requests in flight at once.', true) max_concurrent_requests?: number | null;
  @limitField('Hard daily spend budget in currency units (UTC day).', false) daily_spend?: number | null;
  @limitField('Hard monthly spend budget in currency units (UTC month).', false) monthly_spend?: number | null;
  @limitField('Soft daily budget: crossing it alerts (metric, log, audit event) without refusing.', false) soft_daily_spend?: number | null;
  @limitField('Soft monthly budget.', false) soft_monthly_spend?: number | null;
}
