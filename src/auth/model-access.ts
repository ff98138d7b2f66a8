/** Per-key model access on /v1: a model a key may not use is indistinguishable from one that does not exist. */
import type { CatalogModel } from '../catalog/index.js';
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';
import { type Principal, type Scope, canUseModel } from '../tenancy/index.js';

/** Scopes accepted on the /v1 model endpoints. */
export const INFERENCE: readonly Scope[] = ['inference'];

/** Throws the catalogue's own 404 (same message, same param) when the key may not use `model`. */
export function assertModelAllowed(principal: Principal, model: CatalogModel, requestedName: string): void {
  if (!canUseModel(principal, model.name)) {
    throw new ApiError(ErrorCode.ModelNotFound, `The model \`${requestedName}\` does not exist or you do not have access to it.`, 'model');
  }
}
