/** Model allow-lists as admins write them: names or aliases from the catalogue, stored as canonical names. */
import type { CatalogService } from '../catalog/index.js';
import { ApiError } from '../errors/index.js';
import { ErrorCode } from '../errors/index.js';

export function canonicalModels(catalog: CatalogService, names: readonly string[], param: string): string[] {
  const out = new Set<string>();
  names.forEach((name, i) => {
    let canonical: string;
    try {
      canonical = catalog.resolve(name).name;
    } catch {
      throw new ApiError(ErrorCode.InvalidValue, `Unknown model '${name}': allow-lists name models (or aliases) from the catalogue.`, `${param}[${i}]`);
    }
    out.add(canonical);
  });
  return [...out];
}
