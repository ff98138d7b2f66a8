/**
 * The rules a model definition must satisfy against the rest of the catalogue, checked inside the
 * transaction that writes it (so two replicas cannot both take one alias): names and aliases form one
 * namespace, the pool must be one this gateway serves, fallbacks must name other models, and the
 * output bound fits the context window. Shape checks (types, ranges) are the admin DTO's.
 */
import { ApiError, ErrorCode } from '../errors/index.js';
import type { ModelDefinition } from './catalog.types.js';

export function checkModelDefinition(model: ModelDefinition, others: readonly ModelDefinition[], servedPools: ReadonlySet<string>): void {
  if (!servedPools.has(model.pool)) {
    throw new ApiError(ErrorCode.InvalidValue, `The pool \`${model.pool}\` does not exist or is not served by this gateway.`, 'pool');
  }
  const taken = new Map<string, string>();
  for (const other of others) for (const n of [other.name, ...other.aliases]) taken.set(n, other.name);
  const clash = taken.get(model.name);
  if (clash !== undefined) {
    throw new ApiError(ErrorCode.Conflict, `The name \`${model.name}\` is already used by the model \`${clash}\`.`, 'name');
  }
  const seen = new Set([model.name]);
  model.aliases.forEach((alias, i) => {
    const owner = taken.get(alias);
    if (owner !== undefined) throw new ApiError(ErrorCode.Conflict, `The alias \`${alias}\` is already used by the model \`${owner}\`.`, `aliases[${i}]`);
    if (seen.has(alias)) throw new ApiError(ErrorCode.InvalidValue, `The alias \`${alias}\` is given twice or repeats the model's name.`, `aliases[${i}]`);
    seen.add(alias);
  });
  model.fallbacks.forEach((fallback, i) => {
    if (fallback === model.name || model.aliases.includes(fallback)) {
      throw new ApiError(ErrorCode.InvalidValue, 'A model cannot fall back to itself.', `fallbacks[${i}]`);
    }
    if (!taken.has(fallback)) throw new ApiError(ErrorCode.InvalidValue, `The fallback \`${fallback}\` is not a model of the catalogue.`, `fallbacks[${i}]`);
  });
  if (model.maxOutputTokens !== null && model.maxOutputTokens > model.contextWindow) {
    throw new ApiError(ErrorCode.InvalidValue, `max_output_tokens (${model.maxOutputTokens}) cannot exceed context_window (${model.contextWindow}).`, 'max_output_tokens');
  }
}

/** The models whose fallback chain names `model` (by name or alias): they keep it from being deleted. */
export function referencesTo(model: ModelDefinition, others: readonly ModelDefinition[]): string[] {
  const names = new Set([model.name, ...model.aliases]);
  return others.filter((o) => o.fallbacks.some((f) => names.has(f))).map((o) => o.name);
}
